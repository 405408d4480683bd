"""Projects (工程): the registry of small construction projects, which site each watches, their safety
contact (encrypted), whether they are armed, and the district's map."""

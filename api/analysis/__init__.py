"""Recurring problems (类案): a period's violations counted per project, company, kind, camera and hour,
the findings with their evidence, and the issues supervisors take up."""

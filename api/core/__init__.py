"""What every part of the API stands on: its settings, the database, the keys for personal data at rest and
the base of every request schema."""

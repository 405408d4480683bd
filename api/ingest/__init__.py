"""Ingest: event updates from edge boxes stored exactly once, in group-committed batches, with their
files; arming by the project's dates; cases opened on start; silent events ended."""

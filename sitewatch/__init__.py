"""sitewatch: the glue. Configuration schema, the ``sitewatch`` command, orchestration."""

__version__ = "0.1.0"

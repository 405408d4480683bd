"""Figures and briefs: the statistics of dashboards, weekly and monthly briefs (HTML, charts, PDF) and
their schedule."""

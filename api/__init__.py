"""The central API: ingest, events, evidence, review, cases, officers, statistics, retention, auth,
storage, the web UI and the briefs (FastAPI, SQLAlchemy, Alembic).

Sub-packages: ``routes`` (the HTTP routes), ``jobs`` (the background jobs: retention, the orphan sweep,
silent events, the re-inspection sweep, scheduled briefs), ``outbox`` (the notification outbox's routing
and delivery, through the channels of :mod:`alerts`). ``api`` uses ``detector`` only to embed uploaded
officer photos and for the vocabulary it shares with the edge (``detector.kinds``, ``detector.wire``), and
``alerts`` only to speak to receivers; neither imports ``api``.
"""

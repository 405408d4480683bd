"""The central API: events, evidence, review, cases, officers, auth and storage.

Not built yet (issue: central API). ``api`` uses ``detector`` only to embed uploaded officer photos.
"""

"""Outbound integrations: case-management webhooks from an outbox, IM robots, on-site warnings.

Not built yet (issue: alerts and the case-management loop).
"""

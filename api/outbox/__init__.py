"""The notification outbox's delivery: notifications committed with their change are routed to the
configured channels (:mod:`alerts`) and delivered with retries, from the API's database.

Modules: ``notices`` (rows to the webhook contract), ``delivery`` (claiming, rate limits, backoff and
recording one channel's deliveries), ``dispatcher`` (the background loop that routes and delivers).
"""

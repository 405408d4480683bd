"""Delivering notifications to channels: the outbox's notifications, committed with their change, are routed
to the configured channels (:mod:`alerts`) and delivered with retries, from the API's database.

Modules: ``attempts`` (claiming, rate limits, backoff and recording one channel's deliveries),
``dispatcher`` (the background loop that routes and delivers), ``contacts`` and ``call_reports`` (calls and
texts to a project's safety contact, and what the voice provider reports of them), ``links`` (signed
evidence links) and ``evidence`` (the files they open), ``replay`` (the deliveries admins see, and their
replay), ``deps`` (the delivery of a path), ``router`` and ``call_reports_router`` (their routes).
"""

"""Outbound integrations: the case-management webhook, IM group robots and on-site warnings.

This package knows how each receiver is spoken to, not where notifications come from: the API's outbox
and its dispatcher (:mod:`api.delivery`) route notifications and hand the bodies rendered here to the
channels. Nothing here imports the API.

Modules: ``config`` (channels, routes and brief schedules), ``signing`` (HMAC signatures), ``contract``
(the webhook's JSON contract), ``channels`` (how each kind of receiver is spoken to), ``markdown`` (what
group chats read), ``demo_receiver`` (a case-management system for demos), ``prompts`` (the shipped voice
prompts).
"""

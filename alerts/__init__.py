"""Outbound integrations: the case-management webhook, IM group robots and on-site warnings, all delivered
by one dispatcher from the API's notification outbox.

Modules: ``config`` (channels and routes), ``signing`` (HMAC signatures), ``contract`` (the webhook's JSON
contract), ``channels`` (how each kind of receiver is spoken to), ``routing`` (which notification goes
where), ``dispatcher`` (delivery with retries), ``prompts`` (the shipped voice prompts).
"""

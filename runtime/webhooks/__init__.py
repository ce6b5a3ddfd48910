"""Webhooks: signed, durable notifications of what happened, per tenant.

``events`` names what is sent, ``signing``/``verify`` the signature, ``urls`` which endpoints
are allowed, ``dispatcher`` the delivery loop; the outbox lives in ``runtime/db/webhooks.py``.
"""

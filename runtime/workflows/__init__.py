"""Temporal workflows of voxflow: campaigns (``campaign``), a contact's attempt chain
(``contact``), inbound calls (``inbound``); their messages live in ``messages``."""

"""Providers: which AI providers this deployment can use, and each one's circuit breaker."""

from __future__ import annotations

import streamlit as st

from runtime.providers.registry import PROVIDERS, Providers
from studio import ui

STATES = {
    "closed": "closed: calls go to it",
    "open": "open: skipped, it failed for other calls a moment ago",
    "half_open": "half open: one trial call decides",
}

st.title("Providers")
cfg = ui.config()
api = ui.client()
providers = Providers(cfg.settings)
st.dataframe(
    [
        {
            "provider": info.label,
            "configured": "yes" if providers.configured(name) else "no (key not set)",
            "voice calls": "yes" if info.voice else "no",
            "text chat": "yes" if info.text else "no",
        }
        for name, info in PROVIDERS.items()
    ],
    hide_index=True,
    width="stretch",
)
st.subheader("Circuit breakers")
st.caption(
    f"A breaker opens after {cfg.settings.provider_breaker_failures} failures in a row; a session"
    f" counts as a success once it has lived {cfg.settings.provider_healthy_after_s:g} s."
)
breakers = ui.api_call(lambda: api.get("/providers/breakers"))
if breakers is not None:
    st.dataframe(
        [
            {
                "provider": b["provider"],
                "state": STATES.get(b["state"], b["state"]),
                "failures in a row": b["failures"],
                "opened at": b["opened_at"] or "",
            }
            for b in breakers
        ],
        hide_index=True,
        width="stretch",
    )

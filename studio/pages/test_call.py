"""Test call: talk to a flow by voice in the browser, or place a phone test call."""

from __future__ import annotations

import streamlit as st

from studio import ui

st.title("Test call")
ui.config()
st.warning(
    "Voice test calls need the provider and call APIs, not available in this installation yet."
)

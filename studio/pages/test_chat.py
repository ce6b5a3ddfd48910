"""Test chat: talk to a flow as the caller would, see node path, slots, tool calls."""

from __future__ import annotations

import streamlit as st

from studio import ui

st.title("Test chat")
ui.config()
st.warning("The engine's text session driver is not available in this installation yet.")

"""Test call: a phone test call through the API (``studio.phone``), with its live transcript;
and voice in the browser (``studio.voice``)."""

from __future__ import annotations

import streamlit as st

from studio import phone, ui
from studio.voice import section as voice_section

st.title("Test call")
cfg = ui.config()
api = ui.client()
phone.render(cfg, api)

voice_section.render(cfg)

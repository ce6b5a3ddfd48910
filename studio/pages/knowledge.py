"""Knowledge: upload documents, see their chunks, try a search — through the REST API."""

from __future__ import annotations

import streamlit as st

from studio import ui

st.title("Knowledge")
cfg = ui.config()
api = ui.client()
st.caption(f"REST API: {cfg.api_url}")

schema = ui.api_call(lambda: api.get("/openapi.json"))
if schema is None:
    st.stop()
paths = sorted(p for p in schema.get("paths", {}) if p.startswith("/knowledge"))
if not paths:
    st.warning(
        f"The API at {cfg.api_url} has no knowledge endpoints, so documents cannot be "
        "uploaded, listed or searched from the studio yet."
    )
    st.stop()

st.info("The API offers these knowledge endpoints; this studio version does not use them yet:")
st.code("\n".join(paths), language=None)

"""The voxflow studio: a Streamlit multipage app. Run it with ``voxflow studio``.

Each page is a script under ``studio/views/``; they hold no business logic and reach the flow
compiler, the engine and the REST API like any other client.
"""

from __future__ import annotations

from pathlib import Path

import streamlit as st

from studio import ui

_PAGES = Path(__file__).parent / "views"
# Not ``pages/``: Streamlit takes a ``pages/`` folder beside the entry script for its older
# multipage layout, and a first visit by a page's own URL then ran that page alone, listing
# file names ("test_chat") in the navigation instead of the titles below.

st.set_page_config(page_title="voxflow studio", layout="wide")
ui.config()  # with API keys, nothing below runs until the person has signed in
page = st.navigation(
    {
        "Design": [
            st.Page(_PAGES / "flows.py", title="Flows", default=True),
            st.Page(_PAGES / "test_chat.py", title="Test chat"),
            st.Page(_PAGES / "test_call.py", title="Test call"),
        ],
        "Operate": [
            st.Page(_PAGES / "campaigns.py", title="Campaigns"),
            st.Page(_PAGES / "calls.py", title="Calls"),
            st.Page(_PAGES / "heatmap.py", title="Heat map"),
            st.Page(_PAGES / "knowledge.py", title="Knowledge"),
            st.Page(_PAGES / "providers.py", title="Providers"),
        ],
    }
)
page.run()

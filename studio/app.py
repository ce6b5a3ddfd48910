"""The voxflow studio: a Streamlit multipage app. Run it with ``voxflow studio``.

Each page is a script under ``studio/pages/``; they hold no business logic and reach the flow
compiler, the engine and the REST API like any other client.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

import streamlit as st

from studio.config import FLOWS_ENV
from studio.launch import flows_dir_from_argv

_PAGES = Path(__file__).parent / "pages"

# ``studio.launch.command`` passes the flows folder as a script argument; pages read it from
# the environment so that each page script also runs on its own (AppTest, ``streamlit run``).
_flows = flows_dir_from_argv(sys.argv[1:])
if _flows is not None:
    os.environ[FLOWS_ENV] = _flows

st.set_page_config(page_title="voxflow studio", layout="wide")
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
            st.Page(_PAGES / "knowledge.py", title="Knowledge"),
        ],
    }
)
page.run()

"""Names of what pages share through ``st.session_state``, in one place.

Streamlit keeps ``st.session_state`` per browser session across pages; the Flows page and
the Test chat page use it to agree on the selected flow and the node a test chat is in.
"""

from __future__ import annotations

SELECTED_FLOW = "studio.selected_flow"
"""str: path of the flow file the Flows page has open (Test chat defaults to it)."""
CHAT = "studio.chat"
"""studio.chat.ChatState of the running test chat, or absent."""


def editor_key(path: str) -> str:
    """Widget key of the editor buffer of one flow file."""
    return f"studio.editor::{path}"

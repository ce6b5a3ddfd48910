"""The Flows page's file actions: new, duplicate, rename, delete (``studio.flowops``).

Each action names its target before it runs; delete asks for a confirmation that names the
files it removes. A refused name is shown with the reason, and nothing is written.
"""

from __future__ import annotations

from pathlib import Path

import streamlit as st

from studio import flowops, state
from studio.chat import tests_path_for

NOTICE = "studio.flows.notice"
"""A message shown once at the top of the Flows page after an action reruns it."""


def _done(selected: Path | None, message: str) -> None:
    if selected is None:
        st.session_state.pop(state.SELECTED_FLOW, None)
    else:
        st.session_state[state.SELECTED_FLOW] = str(selected)
    st.session_state[NOTICE] = message
    st.rerun()


def render_new(folder: Path) -> None:
    """The form that creates a flow file from a small flow that compiles."""
    with st.form("studio.flows.new", clear_on_submit=True, border=False):
        cols = st.columns([3, 2, 1], vertical_alignment="bottom")
        name = cols[0].text_input("New flow name", placeholder="billing_reminder")
        syntax = cols[1].radio("Syntax", ["flow", "yaml"], horizontal=True)
        if cols[2].form_submit_button("Create", width="stretch"):
            try:
                path = flowops.create(folder, name, syntax)
            except flowops.FlowFileError as exc:
                st.error(str(exc))
            else:
                _done(path, f"Created {path.relative_to(folder)}.")


def render(folder: Path, path: Path) -> None:
    """New, duplicate, rename and delete, in an expander above the editor."""
    with st.expander("New, duplicate, rename or delete a flow file"):
        render_new(folder)
        st.divider()
        cols = st.columns([3, 1, 1], vertical_alignment="bottom")
        name = cols[0].text_input(
            f"New name for {path.name}",
            placeholder=f"{flowops.stem_of(path)}_copy",
            key=f"studio.flows.other_name::{path}",
        )
        for col, label, action, verb in (
            (cols[1], "Duplicate", flowops.duplicate, "Duplicated"),
            (cols[2], "Rename", flowops.rename, "Renamed"),
        ):
            if col.button(label, width="stretch", disabled=not name.strip()):
                try:
                    target = action(folder, path, name)
                except (flowops.FlowFileError, OSError) as exc:
                    st.error(str(exc))
                else:
                    _done(target, f"{verb} {path.name} as {target.name}.")
        st.divider()
        files = [p.name for p in (path, tests_path_for(path)) if p.is_file()]
        confirm = st.checkbox(
            f"Yes, delete {' and '.join(files)}",
            key=f"studio.flows.confirm_delete::{path}",
        )
        if st.button("Delete", disabled=not confirm, key=f"studio.flows.delete::{path}"):
            try:
                gone = flowops.delete(folder, path)
            except (flowops.FlowFileError, OSError) as exc:
                st.error(str(exc))
            else:
                _done(None, f"Deleted {', '.join(p.name for p in gone)}.")

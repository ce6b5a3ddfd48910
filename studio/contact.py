"""The contact a designer tests a flow with, shared by Test chat and Test call.

One text per flow file (YAML of the contact's columns), kept in ``st.session_state``: what is
typed on one page is what the other page's next chat or call uses, with no restart needed.
It starts as the ``contact:`` of the flow's tests file. Before a chat or a call starts, the
values are checked against the flow's ``context`` types (``runtime.contacts.check``), so a
value that would leave the greeting empty is named with what to write instead.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import streamlit as st
import yaml

from dsl import ir
from runtime.contacts.check import ContactProblem, check_contact
from studio.chat import load_tests_file, tests_path_for

_TEXT = "studio.contact::{path}"


def text_of(path: Path) -> str:
    """The contact text last edited for ``path``, else its tests file's contact as YAML."""
    stored = st.session_state.get(_TEXT.format(path=path))
    if stored is not None:
        return stored
    try:
        spec = load_tests_file(tests_path_for(path))
    except Exception:  # a broken tests file only loses the prefilled contact
        spec = None
    return yaml.safe_dump(dict(spec.contact) if spec else {}, sort_keys=False)


def remember(path: Path, text: str) -> None:
    st.session_state[_TEXT.format(path=path)] = text


def parse(text: str) -> dict[str, Any]:
    """The contact's columns from its YAML text.

    Raises:
        ValueError: not YAML, or not a mapping of column: value.
    """
    try:
        contact = yaml.safe_load(text) or {}
    except yaml.YAMLError as exc:
        raise ValueError(f"the contact is not YAML: {exc}") from None
    if not isinstance(contact, dict):
        raise ValueError("the contact must be a mapping of column: value")
    return {str(k): v for k, v in contact.items()}


def values_of(path: Path) -> dict[str, Any]:
    """:func:`parse` of :func:`text_of`, or nothing when that text does not parse."""
    try:
        return parse(text_of(path))
    except ValueError:
        return {}


def problems(
    flow: ir.Flow, contact: dict[str, Any], supplied: Sequence[str] = ("id",)
) -> list[ContactProblem]:
    tz = str(contact.get("timezone") or "") or flow.agent.timezone
    return check_contact(flow.agent.context, contact, tz=tz, supplied=supplied)


def show(found: list[ContactProblem]) -> bool:
    """Show each problem (errors, then warnings); True when one of them blocks the call."""
    blocking = [p.message for p in found if p.blocking]
    if blocking:
        st.error("The contact cannot be used:\n\n" + "\n".join(f"- {m}" for m in blocking))
    for p in found:
        if not p.blocking:
            st.warning(p.message)
    return bool(blocking)

"""Test chat: talk to a flow as the caller would; see node path, slots, tool calls; save as test."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import streamlit as st

from runtime.providers.registry import Providers
from studio import contact as contact_form
from studio import flowfiles, state, ui
from studio.chat import ChatState, append_test, load_tests_file, tests_path_for
from studio.graph import flow_dot

st.title("Test chat")
cfg = ui.config()
paths = flowfiles.list_flows(cfg.flows_dir)
if not paths:
    st.info(f"No flow files in {cfg.flows_dir.resolve()}.")
    st.stop()

labels = [str(p.relative_to(cfg.flows_dir)) for p in paths]
selected = st.session_state.get(state.SELECTED_FLOW)
index = [str(p) for p in paths].index(selected) if selected in map(str, paths) else 0
top = st.columns([2, 1])
label = top[0].selectbox("Flow", labels, index=index)
providers = Providers(cfg.settings)
provider_name = top[1].radio("Provider", providers.available(voice=False), horizontal=True)
path: Path = paths[labels.index(label)]
st.session_state[state.SELECTED_FLOW] = str(path)

# The chat reads the flow being edited (unsaved edits included), like the graph does.
source = st.session_state.get(state.editor_key(str(path))) or path.read_text(encoding="utf-8")
compiled = flowfiles.compile_text(source, str(path))
if compiled.flow is None:
    st.error(f"{path.name} has {len(compiled.errors)} error(s); fix them on the Flows page.")
    ui.diagnostics_table(compiled.diagnostics, source)
    st.stop()

tests_path = tests_path_for(path)
try:
    spec = load_tests_file(tests_path)
except Exception as exc:  # a broken tests file must not block chatting
    st.warning(f"{tests_path.name} cannot be read ({exc}); starting without its contact.")
    spec = None
CONTACT_KEY = f"studio.chat.contact::{path}"
NOW_KEY = f"studio.chat.now::{path}"

chat: ChatState | None = st.session_state.get(state.CHAT)
if chat is not None and chat.flow_path != str(path):
    chat = None


def _start() -> None:
    """(Re)start the chat with the contact and clock as typed now (read from the widgets'
    state: a callback runs before the script, whose variables still hold the last run's)."""
    old = st.session_state.pop(state.CHAT, None)
    if old is not None:
        old.close()
    contact_text = st.session_state.get(CONTACT_KEY, contact_form.text_of(path))
    contact_form.remember(path, contact_text)
    try:
        contact = contact_form.parse(contact_text)
        found = contact_form.problems(compiled.flow, contact)
        now = datetime.fromisoformat(st.session_state.get(NOW_KEY, "").strip())
        provider = providers.text(provider_name)
    except Exception as exc:
        st.session_state["studio.chat_error"] = f"Cannot start the chat: {exc}"
        return
    st.session_state["studio.chat_problems"] = found
    if any(p.blocking for p in found):
        return
    st.session_state[state.CHAT] = ChatState.start(
        str(path),
        compiled.flow,
        provider=provider,
        provider_name=provider_name,
        contact=contact,
        now=now if now.tzinfo else now.replace(tzinfo=UTC),
        knowledge=spec.knowledge if spec else None,
    )


def _edited() -> None:
    """The contact or the clock changed: a running chat starts over with them at once."""
    contact_form.remember(path, st.session_state[CONTACT_KEY])
    if st.session_state.get(state.CHAT) is not None:
        _start()
        st.session_state["studio.chat_restarted"] = True


with st.expander("Contact and clock", expanded=False):
    st.text_area(
        "Contact (YAML: the contact's columns the flow reads)",
        value=contact_form.text_of(path),
        height=150,
        key=CONTACT_KEY,
        on_change=_edited,
    )
    st.text_input(
        "Start time (ISO 8601, UTC if no offset)",
        value=spec.now
        if spec and spec.now
        else datetime.now(UTC).replace(microsecond=0).isoformat(),
        key=NOW_KEY,
        on_change=_edited,
    )
    st.caption("A change restarts a running chat with it; Test call uses the same contact.")

st.button("Start chat" if chat is None else "Restart chat", on_click=_start, type="primary")
if error := st.session_state.pop("studio.chat_error", None):
    st.error(error)
contact_form.show(st.session_state.pop("studio.chat_problems", []))
if st.session_state.pop("studio.chat_restarted", False):
    st.info("The contact or start time changed: the chat started over with it.")
chat = st.session_state.get(state.CHAT)
if chat is not None and chat.flow_path != str(path):
    chat = None
if chat is None:
    st.stop()

talk_col, state_col = st.columns([3, 2])
with talk_col:
    for turn in chat.turns:
        if turn.kind == "caller":
            st.chat_message("user").write(turn.value)
        elif turn.kind != "start":
            st.chat_message("user").write(f"[{turn.kind} {turn.value}]".replace(" ]", "]"))
        with st.chat_message("assistant"):
            for line in turn.step.said:
                st.write(line)
            notes = []
            if turn.step.nodes:
                notes.append("node → " + " → ".join(turn.step.nodes))
            notes += [f"tool {c.name}" for c in turn.step.tool_calls]
            if turn.step.ended:
                notes.append(f"call ended: {turn.step.outcome}")
            if notes:
                st.caption(" · ".join(notes))
    if chat.ended:
        st.info(f"The call ended with outcome `{chat.outcome}`. Restart to talk again.")
    else:
        text = st.chat_input("What the caller says")
        # Two rows, so no button is squeezed to a cut label ("Sile…") beside the graph.
        keys = st.columns([3, 1], vertical_alignment="bottom")
        digits = keys[0].text_input("Keys", label_visibility="collapsed", placeholder="DTMF keys")
        press = keys[1].button("Press", width="stretch")
        quiet = st.columns([2, 1, 1], vertical_alignment="bottom")
        silence_s = quiet[0].number_input(
            "Silence (s)", min_value=1, value=7, label_visibility="collapsed"
        )
        wait = quiet[1].button("Silence", width="stretch")
        hang_up = quiet[2].button("Hang up", width="stretch")
        if text:
            chat.say(text)
            st.rerun()
        if press and digits.strip():
            chat.press(digits.strip())
            st.rerun()
        if wait:
            chat.silence(int(silence_s) * 1000)
            st.rerun()
        if hang_up:
            chat.hang_up()
            st.rerun()

with state_col:
    st.metric("Node", chat.current_node or "—")
    st.caption("Path: " + " → ".join(chat.node_path))
    st.graphviz_chart(flow_dot(chat.flow, current=chat.current_node, path=chat.node_path))
    st.markdown("**Slots**")
    st.json(chat.slots, expanded=True)
    st.markdown("**Tool calls**")
    calls = chat.tool_calls()
    if calls:
        st.dataframe(calls, hide_index=True)
    else:
        st.caption("none")
    if chat.outcome:
        st.metric("Outcome", chat.outcome)

st.subheader("Save as conversation test")
st.caption(
    f"Appends this chat to {tests_path.name} (the rest of the file is left as it is), run by "
    "`voxflow test` on the local provider; each turn expects the node, tool call and outcome "
    "seen here."
)
name = st.text_input(
    "Test name", value=f"studio chat {len(chat.turns) - 1} turn(s)", key="save-test-name"
)
exact = st.checkbox(
    "Also expect the exact scripted lines",
    help="Fails the test when a `say` line of the flow is reworded.",
)
if st.button("Save as test", disabled=not name.strip()):
    try:
        count = append_test(tests_path, chat.as_test(name.strip(), exact_lines=exact))
    except ValueError as exc:  # a test of that name exists, or the file cannot take one more
        st.error(str(exc))
    else:
        st.success(f"Saved test '{name.strip()}' to {tests_path} ({count} test(s) in the file).")

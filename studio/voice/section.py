"""The Test call page's "Voice in the browser" section.

Record a turn with ``st.audio_input`` (or type a line to be spoken as simulated speech), send
it down the live call's AudioSocket line, and play the agent's reply with its transcript,
node path and tool calls. The call lives in ``st.session_state`` between reruns and is hung
up when the designer hangs up or starts another call.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import streamlit as st
import yaml

from runtime.providers.registry import LOCAL, Providers
from studio import contact as contact_form
from studio import flowfiles, state
from studio.config import StudioConfig
from studio.voice.call import VoiceCall, VoiceCallError, VoiceTurn
from studio.voice.clip import VoiceInputError, clip_from_wav, simulated_speech

CALL = "studio.voice.call"
"""The live :class:`VoiceCall`, or absent."""
CALL_FLOW = "studio.voice.call_flow"
"""Path of the flow file the live call runs."""
SENT = "studio.voice.sent"
"""``file_id`` of the last recording sent (a recording stays in its widget across reruns)."""
ERROR = "studio.voice.error"
SAY = "studio.voice.say"
"""Widget key of the "speak this text as simulated speech" input."""

LOCAL_NOTE = (
    "The **local** provider is offline and hears only voxflow's *simulated speech* (a "
    "tone code that carries text), never a human voice: a recording is sent down the line "
    "all the same, and the local provider hears nothing in it (it never invents a "
    "transcript). To drive a voice turn offline through the same audio path, type a line "
    "under **Speak this text as simulated speech**. Set `OPENAI_API_KEY` or "
    "`ULTRAVOX_API_KEY` to talk with your own voice."
)


def render(cfg: StudioConfig) -> None:
    st.subheader("Voice in the browser")
    st.caption(
        "A live call: your turn goes down a real AudioSocket line (8 kHz, 20 ms frames) into "
        "the call bridge that runs the flow with its provider chain, as on a phone call. The "
        "flow's silence timers run while you record."
    )
    paths = flowfiles.list_flows(cfg.flows_dir)
    if not paths:
        st.info(f"No flow files in {cfg.flows_dir.resolve()}.")
        return
    providers = Providers(cfg.settings)
    if cfg.settings_error:
        st.warning("Provider settings are invalid, only the local provider is offered.")
    labels = [str(p.relative_to(cfg.flows_dir)) for p in paths]
    top = st.columns([2, 1])
    path = paths[labels.index(top[0].selectbox("Flow to call", labels, key="studio.voice.flow"))]
    offered = providers.available()
    provider = top[1].radio("Voice provider", offered, horizontal=True, key="studio.voice.provider")
    if provider == LOCAL:
        st.info(LOCAL_NOTE)
    # Like the test chat, the call runs the flow being edited (unsaved edits included).
    source = st.session_state.get(state.editor_key(str(path))) or path.read_text(encoding="utf-8")
    flow = flowfiles.compile_text(source, str(path)).flow
    if flow is None:
        st.error(f"{path.name} has errors; fix them on the Flows page to call it.")
        return
    with st.expander("Contact", expanded=False):
        contact_text = st.text_area(
            "Contact (YAML: the contact's columns the flow reads)",
            value=contact_form.text_of(path),
            height=120,
            key=f"studio.voice.contact::{path}",
            on_change=lambda: contact_form.remember(
                path, st.session_state[f"studio.voice.contact::{path}"]
            ),
        )

    call: VoiceCall | None = st.session_state.get(CALL)
    buttons = st.columns(2)
    if buttons[0].button("Start voice call" if call is None else "New voice call", type="primary"):
        _hang_up()
        try:
            contact = contact_form.parse(contact_text)
            if contact_form.show(contact_form.problems(flow, contact)):
                return
            chain = providers.chain(provider, flow.agent.provider.fallback)
            with st.spinner(f"Calling {path.name} ({' → '.join(chain)})…"):
                call = VoiceCall.start(flow, providers=providers, chain=chain, contact=contact)
        except (VoiceCallError, ValueError, yaml.YAMLError) as exc:
            st.error(f"The call could not start: {exc}")
            return
        st.session_state[CALL] = call
        st.session_state[CALL_FLOW] = str(path)
        st.rerun()
    if call is not None and buttons[1].button("Hang up"):
        _hang_up()
        st.rerun()
    if call is None:
        return
    if st.session_state.get(CALL_FLOW) != str(path):
        st.caption(f"The call in progress runs {Path(st.session_state[CALL_FLOW]).name}.")

    if not call.ended:
        _turn_inputs(call)
    if error := st.session_state.pop(ERROR, None):
        st.error(error)
    _show(call)


def _turn_inputs(call: VoiceCall) -> None:
    recording = st.audio_input("Record what the caller says", key="studio.voice.recording")
    with st.form("studio.voice.speak", clear_on_submit=True, border=False):
        cols = st.columns([4, 1])
        text = cols[0].text_input(
            "Speak this text as simulated speech",
            placeholder="yes I'll be there",
            key=SAY,
        )
        speak = cols[1].form_submit_button("Speak")
    try:
        if recording is not None and recording.file_id != st.session_state.get(SENT):
            st.session_state[SENT] = recording.file_id
            clip = clip_from_wav(recording.getvalue())
            _send(call, clip, f"recording, {clip.duration_ms / 1000:.1f} s")
        elif speak:
            _send(call, simulated_speech(text), f"simulated speech: “{text.strip()}”")
    except (VoiceInputError, VoiceCallError) as exc:
        st.session_state[ERROR] = str(exc)


def _send(call: VoiceCall, clip: Any, caller: str) -> None:
    with st.spinner("Sending your turn at 20 ms pace and waiting for the agent…"):
        call.send(clip, caller)
    st.rerun()  # redraw the inputs for the call's new state (gone once it ended)


def _show(call: VoiceCall) -> None:
    talk, side = st.columns([3, 2])
    with talk:
        last = len(call.turns) - 1
        for i, turn in enumerate(call.turns):
            if turn.caller:
                st.chat_message("user").write(turn.caller)
            with st.chat_message("assistant"):
                _show_turn(turn, autoplay=i == last)
        if call.ended:
            st.info(
                f"The call ended with outcome `{call.outcome}`. Start a new call to talk again."
            )
        for problem in (call.result.error if call.result else None, call.error):
            if problem:
                st.warning(problem)
    with side:
        st.metric("Node", call.node_path[-1] if call.node_path else "—")
        st.caption("Path: " + " → ".join(call.node_path))
        if call.result is not None:
            st.caption(f"Providers: {', '.join(call.result.providers) or 'none'}")
        st.markdown("**Tool calls**")
        tools = call.tool_calls()
        if tools:
            st.dataframe(
                [
                    {"tool": c["name"], "arguments": str(c["arguments"]), "ok": c["ok"]}
                    for c in tools
                ],
                hide_index=True,
            )
        else:
            st.caption("none")


def _show_turn(turn: VoiceTurn, *, autoplay: bool) -> None:
    if turn.reply.pcm:
        st.audio(turn.reply_wav, format="audio/wav", autoplay=autoplay)
    else:
        st.caption("(no agent audio in this turn)")
    if turn.caller and not any(line["role"] == "caller" for line in turn.lines):
        st.caption("The provider heard no words in this turn.")
    for line in turn.lines:  # in the order they happened: a reprompt may come before the words
        if line["role"] == "caller":
            st.caption(f"heard: “{line['text']}”")
        elif line["role"] == "agent":
            st.write(line["text"])
    notes = [
        line["text"].removeprefix("entered ")
        for line in turn.lines
        if line["role"] == "event" and line["text"].startswith("entered ")
    ]
    parts = ["node → " + " → ".join(notes)] if notes else []
    parts += [f"tool {c['name']}" for c in turn.tool_calls]
    if turn.ended:
        parts.append(f"call ended: {turn.outcome}")
    if parts:
        st.caption(" · ".join(parts))


def _hang_up() -> None:
    call: VoiceCall | None = st.session_state.pop(CALL, None)
    st.session_state.pop(CALL_FLOW, None)
    if call is not None:
        call.hang_up()

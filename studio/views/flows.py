"""Flows: browse the flow files; create, duplicate, rename or delete one; edit it full width,
see its diagnostics and graph (the last graph that compiled, failing nodes marked, while the
text has errors); save, convert."""

from __future__ import annotations

from pathlib import Path

import streamlit as st

from studio import flowfile_actions, flowfiles, state, ui
from studio.graph import failing_nodes, flow_dot

st.title("Flows")
cfg = ui.config()
notice = st.container()  # always there: the expander below keeps its place (and stays open)
if message := st.session_state.pop(flowfile_actions.NOTICE, None):
    notice.success(message)
paths = flowfiles.list_flows(cfg.flows_dir)
if not paths:
    st.info(f"No flow files (*.flow, *.flow.yaml) in {cfg.flows_dir.resolve()}.")
    flowfile_actions.render_new(cfg.flows_dir)
    st.stop()

labels = [str(p.relative_to(cfg.flows_dir)) for p in paths]
selected = st.session_state.get(state.SELECTED_FLOW)
index = [str(p) for p in paths].index(selected) if selected in map(str, paths) else 0
label = st.selectbox("Flow file", labels, index=index)
path: Path = paths[labels.index(label)]
st.session_state[state.SELECTED_FLOW] = str(path)
flowfile_actions.render(cfg.flows_dir, path)
key = state.editor_key(str(path))
generation = f"{key}::generation"  # bumped by "Reload from file": a fresh editor mounts


def _reload() -> None:
    st.session_state[key] = path.read_text(encoding="utf-8")
    st.session_state[generation] = st.session_state.get(generation, 0) + 1


if key not in st.session_state:
    _reload()

ace = flowfiles.ace_editor()
ace_key = f"{key}::ace{st.session_state[generation]}"
if ace is not None:
    # The component's last event, as the browser sent it, is applied before compiling so the
    # annotations drawn below describe the text the designer is looking at.
    event = flowfiles.EditorEvent.of(st.session_state.get(ace_key))
    if event is not None and event.id != st.session_state.get(f"{key}::applied"):
        st.session_state[f"{key}::applied"] = event.id
        st.session_state[key] = event.text
        if event.submitted:
            # At once, with the save's own text, before anything is drawn: the browser's next
            # event (more typing, a click elsewhere) makes Streamlit end this run at the next
            # element it draws, and a save left until after the editor would be lost.
            flowfiles.save(path, event.text, cfg.flows_dir)
            st.toast(f"Saved {path.name}")
source: str = st.session_state[key]
compiled = flowfiles.compile_text(source, str(path))

# The editor, and the diagnostics under it, take the page's full width: long lines and
# messages stay readable; the graph and the conversion follow below.
st.caption(f"{path} · {flowfiles.syntax_of(path)} syntax · the file is the source of truth")
if ace is not None:
    ace(
        source,
        lang=flowfiles.editor_mode(path),
        height=[24, 32],
        response_mode=["debounce", "blur"],
        completions=flowfiles.completions(path, compiled.flow),
        props={
            "theme": flowfiles.EDITOR_THEME,  # no web font (see its docstring)
            "annotations": flowfiles.annotations(compiled.diagnostics),
            "markers": flowfiles.markers(compiled.diagnostics, source),
            # the component's default top margin leaves the text out of step with the
            # gutter's line numbers once the editor has scrolled
            "scrollMargin": [0, 0, 0, 0],
        },
        # Tab indents inside the editor; Esc hands the focus back to the page, so that a
        # keyboard user can then Tab on (Ace's keyboard accessibility mode).
        options={
            "showLineNumbers": True,
            "tabSize": 2,
            "useSoftTabs": True,
            "enableKeyboardAccessibility": True,
        },
        component_props={"globalCSS": flowfiles.MARKER_CSS},
        # Saving from inside the editor sends the text with the request in one message; a
        # Streamlit button outside it could save before the last keystrokes arrived.
        buttons=[flowfiles.SAVE_BUTTON],
        key=ace_key,
    )
    st.caption(
        "Save (or Ctrl+Enter) in the editor writes the file. Problems are marked in the gutter."
        " Tab indents; press Esc, then Tab, to leave the editor (Enter goes back in)."
    )
    saved = False  # the editor's Save was written above, as soon as it was read
    st.button("Reload from file", on_click=_reload)
else:
    source = st.text_area("Source", key=key, height=520, label_visibility="collapsed")
    save_col, reload_col = st.columns(2)
    saved = save_col.button("Save", type="primary", width="stretch")
    reload_col.button("Reload from file", on_click=_reload, width="stretch")

if saved:
    flowfiles.save(path, source, cfg.flows_dir)
    st.toast(f"Saved {path.name}")

st.subheader("Diagnostics")
ui.diagnostics_table(compiled.diagnostics, source)

last_good = f"{key}::last_good"
if compiled.flow is not None:
    st.session_state[last_good] = compiled.flow
graph_col, side_col = st.columns([3, 2])
with graph_col:
    st.subheader("Graph")
    chat = st.session_state.get(state.CHAT)
    current = chat.current_node if chat is not None and chat.flow_path == str(path) else None
    shown = compiled.flow or st.session_state.get(last_good)
    if shown is not None:
        failing = failing_nodes(source, compiled.errors) if compiled.flow is None else set()
        path_taken = chat.node_path if current is not None else ()
        st.graphviz_chart(flow_dot(shown, current=current, path=path_taken, failing=failing))
        if compiled.flow is None:
            marked = sorted(failing & {n.name for n in shown.agent.nodes})
            st.warning(
                "The text has errors: this is the last graph that compiled"
                + (f"; nodes with errors are red: {', '.join(marked)}." if marked else ".")
            )
        if current:
            st.caption(f"Highlighted: node `{current}` of the running test chat.")
    else:
        st.info("The graph appears when the flow compiles without errors.")

with side_col:
    st.subheader("Convert")
    if compiled.flow is None:
        st.info("Fix the errors to convert this flow to the other syntax.")
    else:
        other = "yaml" if flowfiles.syntax_of(path) == "flow" else "flow"
        target = flowfiles.converted_path(path, other)
        converted = flowfiles.convert(source, path, other)
        with st.expander(f"As {target.name}"):
            st.code(converted, language="yaml" if other == "yaml" else None)
        if target.exists():
            st.caption(f"{target.name} already exists; it is not overwritten from here.")
        elif st.button(f"Write {target.name}"):
            flowfiles.save(target, converted, cfg.flows_dir)
            st.session_state[state.SELECTED_FLOW] = str(target)
            st.rerun()

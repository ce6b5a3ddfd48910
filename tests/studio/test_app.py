"""The multipage app: every page is reachable, and pages share the running test chat."""

from __future__ import annotations

import shutil
from pathlib import Path

from streamlit.testing.v1 import AppTest

from tests.studio.conftest import REPO

APP = str(REPO / "studio" / "app.py")
PAGES = ["flows", "test_chat", "test_call", "campaigns", "calls", "knowledge"]


def test_every_page_opens_from_the_navigation(flows_dir: Path, closed_api: str) -> None:
    at = AppTest.from_file(APP, default_timeout=60).run()
    titles = []
    for page in PAGES:
        at.switch_page(f"views/{page}.py").run()
        assert not at.exception, page
        titles.append(at.title[0].value)

    assert titles == ["Flows", "Test chat", "Test call", "Campaigns", "Calls", "Knowledge"]


def test_flows_graph_lights_the_node_the_test_chat_is_in(flows_dir: Path) -> None:
    for name in ("reminder.flow", "reminder.tests.yaml"):
        shutil.copy(REPO / "flows" / name, flows_dir / name)
    at = AppTest.from_file(APP, default_timeout=60).run()
    at.switch_page("views/test_chat.py").run()
    next(b for b in at.button if b.label == "Start chat").click().run()
    at.chat_input[0].set_value("I can't make it on Wednesday").run()

    at.switch_page("views/flows.py").run()

    assert not at.exception
    dot = at.get("graphviz_chart")[0].proto.spec
    assert 'reschedule [label="reschedule\\nend rescheduled" fillcolor="#f59e0b"' in dot
    assert 'greet -> reschedule [label=reschedule color="#b45309" penwidth=3]' in dot
    assert "Highlighted: node `reschedule` of the running test chat." in [
        c.value for c in at.caption
    ]

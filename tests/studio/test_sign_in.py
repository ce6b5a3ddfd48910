"""The studio signs each person in with their own API key and acts with its role; it refuses
to serve beyond loopback without keys, and never follows a link out of the flows folder."""

from __future__ import annotations

import importlib
import shutil
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest
from typer.testing import CliRunner

from runtime.cli import COMMAND_MODULES, app
from studio import flowfiles
from studio.api import ApiClient
from studio.config import load_config
from tests.studio.conftest import PAGES, REPO

KEYS = "admin:adm-0123456789,operator:ops-0123456789,designer:des-0123456789"


@pytest.fixture
def keyed(monkeypatch: pytest.MonkeyPatch, flows_dir: Path, closed_api: str) -> Path:
    monkeypatch.setenv("VOXFLOW_API_KEYS", KEYS)
    shutil.copy(REPO / "flows" / "reminder.flow", flows_dir / "reminder.flow")
    return flows_dir


def _flows_page() -> AppTest:
    return AppTest.from_file(str(PAGES / "flows.py"), default_timeout=30).run()


def _sign_in(at: AppTest, key: str) -> AppTest:
    at.text_input[0].input(key)
    return at.button[0].click().run()


def test_with_keys_a_page_shows_only_the_sign_in_form(keyed: Path) -> None:
    at = _flows_page()

    assert "Sign in" in [t.value for t in at.title]
    assert not at.selectbox  # no flow, no editor: nothing of the deployment is shown
    assert not at.main.get("code_editor") and not at.text_area


def test_a_wrong_key_is_refused_and_a_right_one_signs_in_with_its_role(keyed: Path) -> None:
    at = _sign_in(_flows_page(), "not-a-key")
    assert at.error and "not one of this deployment's API keys" in at.error[0].value

    at = _sign_in(at, "ops-0123456789")

    assert "Sign in" not in [t.value for t in at.title]
    assert any("Signed in as **operator**" in c.value for c in at.sidebar.caption)
    assert at.session_state["studio.api_key"] == "ops-0123456789"


def test_the_api_client_acts_with_the_signed_in_key_not_an_admin_one(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("VOXFLOW_API_KEYS", KEYS)
    cfg = load_config()

    assert ApiClient.from_config(cfg, "des-0123456789").api_key == "des-0123456789"
    assert ApiClient.from_config(cfg).api_key is None  # nobody signed in: no key at all


def test_the_studio_refuses_a_network_address_without_keys(
    monkeypatch: pytest.MonkeyPatch, flows_dir: Path
) -> None:
    monkeypatch.delenv("VOXFLOW_API_KEYS", raising=False)
    for module in COMMAND_MODULES:  # the whole command line, as `voxflow` has it
        importlib.import_module(module)

    result = CliRunner().invoke(app, ["studio", "--host", "0.0.0.0", "--flows", str(flows_dir)])

    assert result.exit_code == 2
    assert "without VOXFLOW_API_KEYS" in result.output


def test_a_link_leading_out_of_the_flows_folder_is_neither_listed_nor_written(
    tmp_path: Path,
) -> None:
    folder, outside = tmp_path / "flows", tmp_path / "secret"
    folder.mkdir()
    outside.mkdir()
    (outside / "other.flow").write_text("agent x\n")
    (folder / "own.flow").write_text("agent y\n")
    (folder / "linked.flow").symlink_to(outside / "other.flow")
    (folder / "dir").symlink_to(outside, target_is_directory=True)

    assert [p.name for p in flowfiles.list_flows(folder)] == ["own.flow"]
    with pytest.raises(PermissionError):
        flowfiles.save(folder / "linked.flow", "agent z\n", folder)
    assert (outside / "other.flow").read_text() == "agent x\n"

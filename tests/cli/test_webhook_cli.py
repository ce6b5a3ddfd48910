"""``voxflow webhook add|list|remove|test`` against the database and a real receiver."""

from __future__ import annotations

import json
import re

import pytest
from typer.testing import CliRunner

import runtime.cli.webhook_commands  # noqa: F401  (registers the commands)
from runtime.cli import app
from runtime.webhooks.verify import verify
from tests.webhooks.receiver import receiver


def _voxflow(*args: str, code: int = 0) -> str:
    result = CliRunner().invoke(app, list(args))
    assert result.exit_code == code, result.output
    return result.output


def test_add_list_test_remove(pg_url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DATABASE_URL", pg_url)
    with receiver() as hook:
        added = _voxflow("webhook", "add", hook.url, "--event", "call.completed")
        webhook_id, secret = re.fullmatch(
            r"added webhook (wh_\w+) for tenant default\nsecret \(shown once\): (\S+)\n", added
        ).groups()
        listed = _voxflow("webhook", "list")
        assert f"{webhook_id}\tdefault\tyes\tcall.completed\t{hook.url}" in listed
        assert secret not in listed
        assert "delivered (HTTP 200)" in _voxflow("webhook", "test", webhook_id)
    (got,) = hook.received
    verify(got.body, got.headers["Voxflow-Signature"], secret)
    assert json.loads(got.body)["type"] == "webhook.test"
    assert f"removed webhook {webhook_id}" in _voxflow("webhook", "remove", webhook_id)
    assert "no webhook" in _voxflow("webhook", "remove", webhook_id, code=1)


def test_refusals_exit_with_the_reason(pg_url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DATABASE_URL", pg_url)
    out = _voxflow("webhook", "add", "https://169.254.169.254/x", code=1)
    assert "link-local" in out and "VOXFLOW_WEBHOOK_ALLOW_PRIVATE" in out
    assert "unknown event" in _voxflow(
        "webhook", "add", "http://127.0.0.1:9/x", "--event", "x", code=2
    )
    with receiver([500]) as hook:
        webhook_id = re.search(r"wh_\w+", _voxflow("webhook", "add", hook.url)).group()
        assert "HTTP 500" in _voxflow("webhook", "test", webhook_id, code=1)

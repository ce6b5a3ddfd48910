"""JSON logs of one call: every line about the call carries its attempt id, campaign, flow
hash and tenant, from whichever module logged it; secrets are masked."""

from __future__ import annotations

import io
import json
import logging
from collections.abc import Iterator

import asyncpg
import pytest

from runtime.observability.logs import (
    CallFilter,
    JsonFormatter,
    Redactor,
    call_context,
    configure_logging,
    secrets_of,
)
from runtime.settings import load_settings

from .conftest import Stack
from .test_tracing import OLIVIA, place_call


@pytest.fixture
def json_lines() -> Iterator[io.StringIO]:
    """Root logger lines at DEBUG, as ``VOXFLOW_LOG_FORMAT=json`` formats them."""
    out = io.StringIO()
    handler = logging.StreamHandler(out)
    handler.addFilter(CallFilter())
    handler.setFormatter(JsonFormatter(Redactor(["k-admin", "k-designer", "k-operator"])))
    root = logging.getLogger()
    level = root.level
    root.addHandler(handler)
    root.setLevel(logging.DEBUG)
    try:
        yield out
    finally:
        root.removeHandler(handler)
        root.setLevel(level)


async def test_every_line_of_a_call_carries_its_attempt_id(
    stack: Stack, pg_pool: asyncpg.Pool, json_lines: io.StringIO
) -> None:
    status = await place_call(stack.api, pg_pool)
    (call,) = status["calls"]
    attempt = call["id"]
    logged = json_lines.getvalue()  # before the test's own request names the call
    detail = (await stack.api.get(f"/calls/{attempt}")).json()

    # The Temporal SDK's own DEBUG dumps of task protocol messages (``temporalio.worker``)
    # are written by its worker machinery before and after an activity runs, outside it.
    lines = [
        line
        for line in map(json.loads, logged.splitlines())
        if not line["logger"].startswith("temporalio.worker")
    ]
    tagged = [line for line in lines if line.get("attempt_id") == attempt]
    mentioning = [line for line in lines if attempt in line["message"]]
    assert mentioning, "no line names the call"
    assert all(line.get("attempt_id") == attempt for line in mentioning), [
        line for line in mentioning if line.get("attempt_id") != attempt
    ]
    for line in tagged:
        assert (line["campaign"], line["flow_hash"], line["tenant"]) == (
            detail["campaign"],
            detail["flow_hash"],
            "default",
        )
    loggers = {line["logger"] for line in tagged}
    # The activities, the media server and the AMI connection shared by every call.
    assert loggers >= {"activities.dial", "activities.converse", "telephony.ami.client"}, loggers
    assert not any(OLIVIA in line["message"] for line in tagged if line.get("level") != "DEBUG")


def test_lines_outside_a_call_have_no_call_fields_and_secrets_are_masked(
    capsys: pytest.CaptureFixture[str],
) -> None:
    settings = load_settings(
        {
            "VOXFLOW_LOG_FORMAT": "json",
            "VOXFLOW_API_KEYS": "admin:s3cret-admin-key",
            "DATABASE_URL": "postgresql://vox:pg-Pa55word@db:5432/voxflow",
        }
    )
    assert set(secrets_of(settings)) >= {"s3cret-admin-key", "pg-Pa55word"}
    root = logging.getLogger()
    old, level = list(root.handlers), root.level
    try:
        configure_logging(settings)
        log = logging.getLogger("voxflow.test")
        log.warning("outside any call")
        with call_context("0b9f6c1e-0000-4000-8000-000000000001", campaign="c1"):
            log.warning("key is %s, url %s", "s3cret-admin-key", settings.database_url)
            log.warning("raw %s", settings.database_url.get_secret_value())
    finally:
        for handler in list(root.handlers):
            root.removeHandler(handler)
        for handler in old:
            root.addHandler(handler)
        root.setLevel(level)
    outside, secret, raw = (json.loads(x) for x in capsys.readouterr().err.splitlines()[-3:])
    assert "attempt_id" not in outside
    assert (secret["attempt_id"], secret["campaign"], secret["tenant"]) == (
        "0b9f6c1e-0000-4000-8000-000000000001",
        "c1",
        "default",
    )
    assert secret["message"] == "key is ***, url **********"
    assert raw["message"] == "raw ***"  # the whole URL is a secret, its password too

"""``voxflow tenant`` as the platform operator runs it, and the keys it issues at the API."""

from __future__ import annotations

import asyncio
import re

import httpx
import pytest
from typer.testing import CliRunner

import runtime.cli.tenant_commands  # noqa: F401  (registers the commands)
from runtime.api import create_app
from runtime.cli import app
from runtime.settings import load_settings


def _voxflow(*args: str) -> str:
    result = CliRunner().invoke(app, list(args))
    assert result.exit_code == 0, result.output
    return result.output


async def _status(pg_url: str, key: str) -> int:
    """The API's answer to ``GET /tenant`` with ``key`` (200: the key works)."""
    from runtime.db import create_pool

    api_app = create_app(load_settings({"VOXFLOW_API_KEYS": "admin:platform-key"}))
    api_app.state.db = pool = await create_pool(pg_url, max_size=2)
    try:
        async with httpx.AsyncClient(
            transport=httpx.ASGITransport(app=api_app), base_url="http://t"
        ) as api:
            r = await api.get("/tenant", headers={"X-API-Key": key})
            if r.status_code == 200:
                assert r.json() == {"tenant": "acme", "role": "operator", "platform": False}
            return r.status_code
    finally:
        await pool.close()


def test_create_list_key_rotate_revoke(pg_url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DATABASE_URL", pg_url)
    assert "created tenant acme" in _voxflow("tenant", "create", "acme", "--max-lines", "3")
    assert re.search(r"^acme\t3\t-\t-", _voxflow("tenant", "list"), re.M)
    issued = _voxflow("tenant", "key", "create", "acme", "--role", "operator")
    key_id, key = re.fullmatch(r"key (\w+) \(operator of acme\): (\S+)\n", issued).groups()
    assert asyncio.run(_status(pg_url, key)) == 200

    new = _voxflow("tenant", "key", "rotate", "acme", key_id).split(": ")[1].strip()
    assert asyncio.run(_status(pg_url, key)) == 401
    assert asyncio.run(_status(pg_url, new)) == 200

    assert "revoked" in _voxflow("tenant", "key", "revoke", "acme", key_id)
    assert asyncio.run(_status(pg_url, new)) == 401
    assert "revoked" in _voxflow("tenant", "key", "list", "acme")


def test_unknown_tenant_and_bad_id_are_refused(pg_url: str, monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setenv("DATABASE_URL", pg_url)
    missing = CliRunner().invoke(app, ["tenant", "key", "create", "nobody", "--role", "admin"])
    assert missing.exit_code == 1 and "no tenant 'nobody'" in missing.output
    bad = CliRunner().invoke(app, ["tenant", "create", "Not_An_Id"])
    assert bad.exit_code == 2 and "not a tenant id" in bad.output


def test_a_bad_tenant_option_is_refused_before_any_command_runs() -> None:
    result = CliRunner().invoke(app, ["--tenant", "Not An Id", "tenant", "list"])
    assert result.exit_code == 2 and "not a tenant id" in result.output

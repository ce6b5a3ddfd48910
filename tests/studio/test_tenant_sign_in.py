"""A tenant's key signs in to the studio through the API, which says whose it is; the sidebar
shows the tenant the studio acts for."""

from __future__ import annotations

import asyncio
import shutil
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from runtime import tenancy
from runtime.api import create_app
from runtime.db import create_pool, tenants
from runtime.settings import load_settings
from tests.studio.conftest import PAGES, REPO, serve_api

KEYS = "admin:adm-0123456789,operator:ops-0123456789"


async def _tenant_key(pg_url: str) -> str:
    pool = await create_pool(pg_url, max_size=1)
    try:
        with tenancy.acting_as(tenancy.PLATFORM):
            await tenants.create_tenant(pool, "acme")
        with tenancy.acting_as("acme"):
            return (await tenants.create_key(pool, "acme", "operator")).secret
    finally:
        await pool.close()


def _sign_in(at: AppTest, key: str) -> AppTest:
    at.text_input[0].input(key)
    return at.button[0].click().run()


def test_a_tenant_key_signs_in_and_the_sidebar_names_its_tenant(
    pg_url: str, flows_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    key = asyncio.run(_tenant_key(pg_url))
    shutil.copy(REPO / "flows" / "reminder.flow", flows_dir / "reminder.flow")
    monkeypatch.setenv("VOXFLOW_API_KEYS", KEYS)
    app = create_app(load_settings({"DATABASE_URL": pg_url, "VOXFLOW_API_KEYS": KEYS}))
    with serve_api(app, monkeypatch):
        page = AppTest.from_file(str(PAGES / "flows.py"), default_timeout=30).run()
        refused = _sign_in(page, "vf_000000000000_not-a-secret")
        assert refused.error and "not one of this deployment's API keys" in refused.error[0].value

        at = _sign_in(refused, key)

        assert "Sign in" not in [t.value for t in at.title]
        captions = [c.value for c in at.sidebar.caption]
        assert "Signed in as **operator** in tenant **acme**" in captions, captions

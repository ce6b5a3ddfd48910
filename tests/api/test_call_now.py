"""A test call's "call now" (dial outside the calling windows, for the roles allowed, recorded
with the attempt) and the cancel of a test call still waiting for its window, through the
real API, ``ContactWorkflow`` on the Temporal test server, the worker and the simulated PBX."""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from runtime.api.auth import may_call_now
from runtime.settings import Role

from .conftest import KEYS
from .test_phone_call_path import CONTACT, OLIVIA, REPO, Stack, _until_done, stack

__all__ = ["stack"]  # the fixture, imported for the tests below


def closed_window_flow() -> str:
    """reminder.flow whose only window is one hour, two days from now in New York."""
    day = (datetime.now(ZoneInfo("America/New_York")) + timedelta(days=2)).date()
    lines = [
        line
        for line in (REPO / "flows" / "reminder.flow").read_text().splitlines()
        if not line.lstrip().startswith(("window ", "holiday"))
    ]
    name = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")[day.weekday()]
    lines.insert(lines.index('  caller_id "+12125550100"'), f"  window {name} 09:00-10:00 local")
    return "\n".join(lines) + "\n"


@pytest.mark.parametrize(
    ("role", "allowed"),
    [(Role.ADMIN, True), (Role.OPERATOR, True), (Role.DESIGNER, False)],
)
def test_call_now_is_granted_by_one_role_check(role: Role, allowed: bool) -> None:
    assert may_call_now(role) is allowed


async def test_a_designer_cannot_call_outside_the_windows(stack: Stack) -> None:
    body = {"source": closed_window_flow(), "phone": OLIVIA, "contact": CONTACT, "call_now": True}
    refused = await stack.api.post("/calls", json=body)
    assert refused.status_code == 403, refused.text
    assert refused.json()["code"] == "call_now_forbidden"
    assert stack.dialled() == []


async def test_an_operator_calls_now_and_the_attempt_records_who_overrode_the_window(
    stack: Stack,
) -> None:
    body = {"source": closed_window_flow(), "phone": OLIVIA, "contact": CONTACT, "call_now": True}
    placed = await stack.api.post("/calls", json=body, headers={"X-API-Key": KEYS["operator"]})

    assert placed.status_code == 201, placed.text
    out = placed.json()
    assert (out["status"], out["scheduled_at"]) == ("dialing", None)
    assert out["window_override"] == "call now by operator"
    seen = await _until_done(stack.api, out["id"])
    assert seen[-1]["outcome"] == "confirmed"
    assert stack.dialled() == [OLIVIA]
    status = (await stack.api.get(f"/calls/tests/{out['id']}")).json()
    [attempt] = status["attempts"]
    assert attempt["window_override"] == "call now by operator"
    assert attempt["outcome"] == "confirmed"


async def test_a_scheduled_test_call_is_cancelled_before_it_dials(stack: Stack) -> None:
    placed = await stack.api.post(
        "/calls", json={"source": closed_window_flow(), "phone": OLIVIA, "contact": CONTACT}
    )
    assert placed.json()["status"] == "scheduled", placed.text
    test_id = placed.json()["id"]

    cancelled = await stack.api.delete(f"/calls/tests/{test_id}")

    assert cancelled.status_code == 200, cancelled.text
    status = cancelled.json()
    assert (status["workflow_status"], status["attempts"], status["calls"]) == (
        "COMPLETED",
        [],
        [],
    )
    assert stack.dialled() == []
    again = await stack.api.delete(f"/calls/tests/{test_id}")
    assert (again.status_code, again.json()["code"]) == (409, "test_call_over")
    missing = await stack.api.delete("/calls/tests/test-reminder-20260101T000000-abcdef")
    assert (missing.status_code, missing.json()["code"]) == (404, "test_call_not_found")


async def test_a_tenant_cancels_its_own_scheduled_test_call(stack: Stack) -> None:
    """The cancel finds the test call's workflow under the caller's tenant (its id is scoped
    as every tenant's workflow is: ``runtime/workflows/search.py``), not under the default."""
    admin = {"X-API-Key": KEYS["admin"]}
    assert (await stack.api.post("/tenants", json={"id": "gamma"}, headers=admin)).is_success
    made = await stack.api.post("/tenants/gamma/keys", json={"role": "admin"}, headers=admin)
    gamma = {"X-API-Key": made.json()["key"]}
    placed = await stack.api.post(
        "/calls",
        json={"source": closed_window_flow(), "phone": OLIVIA, "contact": CONTACT},
        headers=gamma,
    )
    assert placed.json()["status"] == "scheduled", placed.text
    test_id = placed.json()["id"]

    cancelled = await stack.api.delete(f"/calls/tests/{test_id}", headers=gamma)

    assert cancelled.status_code == 200, cancelled.text
    assert cancelled.json()["workflow_status"] == "COMPLETED"
    other = await stack.api.delete(f"/calls/tests/{test_id}")
    assert (other.status_code, other.json()["code"]) == (404, "test_call_not_found")
    assert stack.dialled() == []

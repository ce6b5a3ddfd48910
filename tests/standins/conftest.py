"""Reports how many Realtime events the stand-ins checked against the SDK's models."""

from __future__ import annotations

from typing import Any

from tests.standins.sdk_models import COUNTS


def pytest_terminal_summary(terminalreporter: Any) -> None:
    checked = COUNTS["server"] + COUNTS["client"]
    if checked:
        terminalreporter.write_line(
            f"openai realtime events validated against the SDK's models: {checked} "
            f"({COUNTS['server']} server, {COUNTS['client']} client), {COUNTS['invalid']} invalid"
        )

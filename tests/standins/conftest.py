"""Reports how many provider events the stand-ins checked: OpenAI Realtime events against the
SDK's models, Ultravox data messages against the documented fields."""

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
    if COUNTS["ultravox"]:
        terminalreporter.write_line(
            f"ultravox client data messages checked against the documented fields: "
            f"{COUNTS['ultravox']}"
        )

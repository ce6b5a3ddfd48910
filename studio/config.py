"""Where the studio finds things: the flows folder, the REST API, the Temporal UI.

The studio reads the deployment's one settings object (``runtime.settings``) for the API and
Temporal addresses, plus two studio-only variables that ``voxflow studio`` sets for the
Streamlit process it starts:

- ``VOXFLOW_STUDIO_FLOWS``: the folder of flow files the Flows page browses (default ``flows``);
- ``VOXFLOW_STUDIO_TEMPORAL_UI``: base URL of the Temporal web UI (default derived from
  ``TEMPORAL_ADDRESS``: same host, port + 1000, as the Temporal CLI dev server does).
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

FLOWS_ENV = "VOXFLOW_STUDIO_FLOWS"
TEMPORAL_UI_ENV = "VOXFLOW_STUDIO_TEMPORAL_UI"


@dataclass(frozen=True)
class StudioConfig:
    flows_dir: Path
    api_url: str
    api_key: str | None
    """A key the studio sends in ``X-API-Key``: the first configured one (``VOXFLOW_API_KEYS``)."""
    temporal_ui_url: str
    temporal_namespace: str
    settings_error: str | None = None
    """Why the deployment settings could not be loaded (the studio still opens, and says so)."""


def load_config() -> StudioConfig:
    """Read the studio's configuration from the environment. Never raises."""
    flows_dir = Path(os.environ.get(FLOWS_ENV) or "flows")
    try:
        from runtime.settings import load_settings

        settings = load_settings()
    except Exception as exc:  # a broken deployment config must not hide the studio
        return StudioConfig(
            flows_dir=flows_dir,
            api_url="http://127.0.0.1:8000",
            api_key=None,
            temporal_ui_url=os.environ.get(TEMPORAL_UI_ENV) or "http://127.0.0.1:8233",
            temporal_namespace="default",
            settings_error=str(exc),
        )
    # The studio both designs and operates: prefer an admin key when there is one.
    keys = sorted(settings.api_keys, key=lambda k: k.role != "admin")
    key = keys[0].key.get_secret_value() if keys else None
    return StudioConfig(
        flows_dir=flows_dir,
        api_url=settings.api_base_url.rstrip("/"),
        api_key=key,
        temporal_ui_url=(
            os.environ.get(TEMPORAL_UI_ENV) or _temporal_ui_from(settings.temporal_address)
        ).rstrip("/"),
        temporal_namespace=settings.temporal_namespace,
    )


def _temporal_ui_from(address: str | None) -> str:
    if not address:
        return "http://127.0.0.1:8233"
    host, _, port = address.rpartition(":")
    if not port.isdigit():
        return f"http://{address}:8233"
    return f"http://{host or '127.0.0.1'}:{int(port) + 1000}"

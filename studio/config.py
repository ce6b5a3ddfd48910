"""Where the studio finds things: the flows folder, the REST API, the Temporal UI, providers.

The studio reads the deployment's one settings object (``runtime.settings``) like every
voxflow process: ``VOXFLOW_STUDIO_FLOWS`` (the folder the Flows page browses; ``voxflow
studio --flows`` sets it for the process it starts), ``VOXFLOW_STUDIO_TEMPORAL_UI`` (the
Temporal web UI's base URL; default derived from ``TEMPORAL_ADDRESS``: same host, port + 1000,
as the Temporal CLI dev server does), the API's address and keys, the providers' keys.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from runtime.settings import Role, Settings, SettingsError, env_name, load_settings

STUDIO_FIELDS = ("studio_flows_dir", "studio_temporal_ui")
"""Settings the studio keeps even when the rest of the deployment's settings are invalid."""


@dataclass(frozen=True)
class StudioConfig:
    settings: Settings
    settings_error: str | None = None
    """Why the deployment settings could not be loaded: the studio then runs on the defaults
    (local provider only, API on loopback) and says so."""

    @property
    def flows_dir(self) -> Path:
        return self.settings.studio_flows_dir

    @property
    def api_url(self) -> str:
        return self.settings.api_base_url.rstrip("/")

    @property
    def sign_in_required(self) -> bool:
        """With API keys configured, each person signs in with their own key and the studio
        acts with its role; without keys (the embedded development stack, loopback only)
        there is nothing to sign in with and everyone acts as admin, as the API does."""
        return bool(self.settings.api_keys)

    def role_of(self, key: str) -> Role | None:
        """The role of ``key``, ``None`` when it is not one of the deployment's keys."""
        return self.settings.role_of(key)

    @property
    def temporal_ui_url(self) -> str:
        url = self.settings.studio_temporal_ui or _temporal_ui_from(self.settings.temporal_address)
        return url.rstrip("/")

    @property
    def temporal_namespace(self) -> str:
        return self.settings.temporal_namespace


def load_config(environ: dict[str, str] | None = None) -> StudioConfig:
    """The studio's configuration from the settings. Never raises: with invalid settings the
    studio keeps its own (flows folder, Temporal UI) and runs on defaults otherwise.

    Args:
        environ: variables to read instead of the process environment (tests).
    """
    try:
        return StudioConfig(load_settings(environ))
    except SettingsError as exc:
        source = os.environ if environ is None else environ
        own = {env_name(f): source[env_name(f)] for f in STUDIO_FIELDS if env_name(f) in source}
        try:
            settings = load_settings(own)
        except SettingsError:
            settings = load_settings({})
        return StudioConfig(settings, settings_error=str(exc))


def _temporal_ui_from(address: str | None) -> str:
    if not address:
        return "http://127.0.0.1:8233"
    host, _, port = address.rpartition(":")
    if not port.isdigit():
        return f"http://{address}:8233"
    return f"http://{host or '127.0.0.1'}:{int(port) + 1000}"

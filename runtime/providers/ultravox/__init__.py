"""Ultravox provider: REST call creation and the ``serverWebSocket`` joinUrl protocol."""

from runtime.providers.ultravox.adapter import UltravoxProvider, stage

__all__ = ["UltravoxProvider", "stage"]

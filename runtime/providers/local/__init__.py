"""The deterministic offline provider: text understanding by documented rules, no model."""

from runtime.providers.local.provider import LocalProvider

__all__ = ["LocalProvider"]

"""The deterministic offline provider: intents matched by meaning with an embedding model
shipped in a PyPI wheel, exact rules for yes/no answers and slot values; no key, no download."""

from runtime.providers.local.provider import LocalProvider

__all__ = ["LocalProvider"]

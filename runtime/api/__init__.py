"""The REST API (FastAPI): campaigns, contacts import, calls, do-not-call, health."""

from runtime.api.app import create_app

__all__ = ["create_app"]

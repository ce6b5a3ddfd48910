"""Logs: the human format or one JSON object a line, with the call's fields on every line.

Where a call starts (the ``dial`` and ``converse`` activities, the call bridge) the code enters
:func:`call_context`; the fields live in a :mod:`contextvars` variable, so every line logged
while the call runs, from any module and from the tasks and threads it starts (asyncio copies
the context into each task and ``to_thread``), carries ``attempt_id``, ``campaign``,
``flow_hash`` and ``tenant``. Lines outside a call carry none of them.

Secrets never reach a log line: :func:`configure_logging` replaces every secret of the
settings (API keys, the AMI secret, the database password...) with ``***`` in the rendered
message and traceback, whatever the code that logged them meant to do.
"""

from __future__ import annotations

import contextvars
import json
import logging
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass, replace
from datetime import UTC, datetime
from urllib.parse import urlsplit

from pydantic import SecretStr

from runtime import tenancy
from runtime.settings import Settings

TEXT_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s%(call)s"


@dataclass(frozen=True)
class CallFields:
    attempt_id: str
    campaign: str | None = None
    flow_hash: str | None = None
    tenant: str = tenancy.DEFAULT_TENANT
    """Whom the call runs for: the tenant the code starting it acts for (``runtime/tenancy.py``)."""


_call: contextvars.ContextVar[CallFields | None] = contextvars.ContextVar(
    "voxflow_call", default=None
)
_live: dict[str, CallFields] = {}
"""Calls in progress in this process, by attempt id: a line logged outside a call's context
but naming its attempt (``extra={"attempt_id": ...}``, as the AMI connection shared by every
call does) gets the call's other fields from here."""


def current_call() -> CallFields | None:
    return _call.get()


@contextmanager
def call_context(
    attempt_id: str, *, campaign: str | None = None, flow_hash: str | None = None
) -> Iterator[CallFields]:
    """Tag every log line of the block (and of what it starts) with this call's fields.

    Fields already known for the same attempt are kept when not given again (the bridge
    inside the ``converse`` activity adds nothing the activity did not say).
    """
    known = _call.get()
    fields = CallFields(attempt_id, campaign, flow_hash, tenancy.current())
    if known is not None and known.attempt_id == attempt_id:
        fields = replace(
            known, campaign=campaign or known.campaign, flow_hash=flow_hash or known.flow_hash
        )
    token = _call.set(fields)
    outer = _live.get(attempt_id)
    _live[attempt_id] = fields
    try:
        yield fields
    finally:
        _call.reset(token)
        if outer is None:
            _live.pop(attempt_id, None)
        else:
            _live[attempt_id] = outer


class CallFilter(logging.Filter):
    """Copies the current call's fields onto each record (``record.call_fields``)."""

    def filter(self, record: logging.LogRecord) -> bool:
        fields = _call.get()
        named = getattr(record, "attempt_id", None)
        if fields is None and isinstance(named, str):
            fields = _live.get(named) or CallFields(named)
        record.call_fields = fields
        record.call = (
            ""
            if fields is None
            else f" [attempt={fields.attempt_id} campaign={fields.campaign}"
            f" flow={fields.flow_hash} tenant={fields.tenant}]"
        )
        return True


class Redactor:
    """Replaces each secret value with ``***`` in text."""

    def __init__(self, secrets: Iterable[str]) -> None:
        # Longest first, so a secret containing another is masked whole.
        self._secrets = sorted({s for s in secrets if len(s) >= 4}, key=len, reverse=True)

    def __call__(self, text: str) -> str:
        for secret in self._secrets:
            if secret in text:
                text = text.replace(secret, "***")
        return text


def secrets_of(settings: Settings) -> list[str]:
    """Every secret value of ``settings`` (and the database URL's password)."""
    out: list[str] = []
    for name in type(settings).model_fields:
        value = getattr(settings, name)
        if isinstance(value, SecretStr):
            out.append(value.get_secret_value())
    out.extend(k.key.get_secret_value() for k in settings.api_keys)
    if settings.database_url is not None:
        password = urlsplit(settings.database_url.get_secret_value()).password
        if password:
            out.append(password)
    return out


class JsonFormatter(logging.Formatter):
    """One JSON object a line: time, level, logger, message, the call's fields, exception."""

    def __init__(self, redact: Redactor) -> None:
        super().__init__()
        self._redact = redact

    def format(self, record: logging.LogRecord) -> str:
        line: dict[str, object] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": self._redact(record.getMessage()),
        }
        fields = getattr(record, "call_fields", None)
        if fields is not None:
            line.update(asdict(fields))
        if record.exc_info:
            line["exception"] = self._redact(self.formatException(record.exc_info))
        return json.dumps(line, ensure_ascii=False, default=str)


class TextFormatter(logging.Formatter):
    def __init__(self, redact: Redactor) -> None:
        super().__init__(TEXT_FORMAT)
        self._redact = redact

    def format(self, record: logging.LogRecord) -> str:
        if not hasattr(record, "call"):
            record.call = ""
        return self._redact(super().format(record))


def configure_logging(settings: Settings, *, level: str | None = None) -> logging.Handler:
    """Send the root logger's lines to stderr in ``VOXFLOW_LOG_FORMAT``, tagged and redacted.

    Replaces the root logger's handlers (uvicorn's own loggers propagate to it). Returns the
    handler installed.
    """
    redact = Redactor(secrets_of(settings))
    handler = logging.StreamHandler()
    handler.addFilter(CallFilter())
    formatter = JsonFormatter(redact) if settings.log_format == "json" else TextFormatter(redact)
    handler.setFormatter(formatter)
    root = logging.getLogger()
    for old in list(root.handlers):
        root.removeHandler(old)
    root.addHandler(handler)
    root.setLevel(level or settings.log_level)
    return handler

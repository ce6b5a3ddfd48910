"""Whom the code running now acts for: one tenant, or the platform across tenants.

PostgreSQL enforces the isolation (row-level security on ``voxflow.tenant``, migration
``0200_tenants.sql``); this module only says which tenant to put in that setting. The pool
(``runtime/db/pool.py``) reads :func:`current` on every acquire, so repositories and queries
written anywhere are scoped without naming a tenant. Who sets it:

* the API's key check, from the request's key (``runtime/api/auth.py``);
* a worker's activity interceptor, from the workflow's id (:func:`tenant_of_workflow_id`);
* the CLI, from ``--tenant``.

Nothing set means the default tenant, which is what a single-tenant deployment always was.
Workflow ids of other tenants carry their tenant (``tenant/<id>/campaign/<name>``); those of
the default tenant keep the form they had before tenants existed, so running campaigns and
links into the Temporal UI survive the upgrade.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar

DEFAULT_TENANT = "default"
PLATFORM = "*"
"""The setting of the platform administrator's view across every tenant."""

TENANT_ID = re.compile(r"[a-z0-9][a-z0-9-]{0,39}")
"""What a tenant id may be (the ``tenants.id`` check of the migration)."""

KEY_PREFIX = "vf_"
"""How a tenant's API key begins (``vf_<id>_<secret>``, ``runtime/db/tenants.py``)."""

_PREFIX = "tenant/"
_current: ContextVar[str] = ContextVar("voxflow_tenant", default=DEFAULT_TENANT)


class TenantIdError(ValueError):
    """A tenant id that is not 1-40 lowercase letters, digits and '-'."""

    def __init__(self, value: str) -> None:
        super().__init__(
            f"{value!r} is not a tenant id: use 1-40 lowercase letters, digits and '-',"
            " starting with a letter or digit"
        )


def check_id(value: str) -> str:
    """``value`` if it is a valid tenant id.

    Raises:
        TenantIdError: it is not.
    """
    if not TENANT_ID.fullmatch(value):
        raise TenantIdError(value)
    return value


def current() -> str:
    """The tenant the code running now acts for (:data:`PLATFORM` in the platform view)."""
    return _current.get()


def act_as(tenant: str) -> None:
    """Act for ``tenant`` in this context (the rest of this task or request)."""
    if tenant != PLATFORM:
        check_id(tenant)
    _current.set(tenant)


@contextmanager
def acting_as(tenant: str) -> Iterator[None]:
    """Act for ``tenant`` (or :data:`PLATFORM`) inside the block only."""
    if tenant != PLATFORM:
        check_id(tenant)
    token = _current.set(tenant)
    try:
        yield
    finally:
        _current.reset(token)


def scoped_workflow_id(tenant: str, workflow_id: str) -> str:
    """``workflow_id`` within ``tenant``: unchanged for the default tenant."""
    if tenant == DEFAULT_TENANT:
        return workflow_id
    return f"{_PREFIX}{check_id(tenant)}/{workflow_id}"


def tenant_of_workflow_id(workflow_id: str) -> str:
    """The tenant a workflow id belongs to (the inverse of :func:`scoped_workflow_id`)."""
    if not workflow_id.startswith(_PREFIX):
        return DEFAULT_TENANT
    tenant, _, _rest = workflow_id.removeprefix(_PREFIX).partition("/")
    return check_id(tenant)

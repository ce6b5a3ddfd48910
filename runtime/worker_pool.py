"""``voxflow worker --processes N``: one worker process per core beside one Asterisk.

A Python process runs its event loop on one core, so a machine with N cores runs N workers.
Each child is a whole ``runtime.worker`` with its own AudioSocket port (``AUDIOSOCKET_PORT``
+ i, and the advertised address's port likewise), its own task queue (``own_queue``: unique
per process) and its own AMI connection to the shared Asterisk. No router is needed: the
dial activity runs on the queue of the process whose contact workflow began the attempt,
and its Originate carries that process's ``host:port`` in ``VOXFLOW_AUDIOSOCKET``, which the
dialplan's ``AudioSocket(${VOXFLOW_ATTEMPT},${VOXFLOW_AUDIOSOCKET})`` connects back to
(``telephony/asterisk/extensions.conf``). Children are pinned one per core when the machine
has that many (``os.sched_setaffinity``), and a child that dies is started again.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import signal
import sys
from collections.abc import Mapping

from runtime.dev.temporal import die_with_parent, stop_process

log = logging.getLogger(__name__)

RESTART_DELAY_S = 1.0
"""Pause before starting a dead child again (a crash loop costs one start a second)."""

CORE_ENV = "VOXFLOW_WORKER_CORE"
"""Set in each child: the core it pins itself to (``runtime.worker.main``)."""


def child_env(environ: Mapping[str, str], index: int, cores: int) -> dict[str, str]:
    """The environment of child ``index``: its own AudioSocket port, metrics ports and core.

    Port 0 (tests: any free port) stays 0 for every child; otherwise child i binds
    ``AUDIOSOCKET_PORT + i`` and advertises the same host with that port, and serves its
    metrics on ``VOXFLOW_METRICS_PORT + 2i`` and the Temporal SDK's on
    ``VOXFLOW_TEMPORAL_METRICS_PORT + 2i`` (a stride of 2: the defaults 9464 and 9465 are
    neighbours; docs/observability.md).
    """
    env = dict(environ)
    port = int(env.get("AUDIOSOCKET_PORT") or 9092)
    if port:
        env["AUDIOSOCKET_PORT"] = str(port + index)
        advertised = env.get("AUDIOSOCKET_ADVERTISED_ADDRESS")
        if advertised:
            host, _, base = advertised.rpartition(":")
            if not base.isdigit():
                raise ValueError(
                    f"AUDIOSOCKET_ADVERTISED_ADDRESS={advertised!r} has no port: write host:port"
                )
            env["AUDIOSOCKET_ADVERTISED_ADDRESS"] = f"{host}:{int(base) + index}"
    for name, default in (("VOXFLOW_METRICS_PORT", 9464), ("VOXFLOW_TEMPORAL_METRICS_PORT", 9465)):
        metrics_port = int(env.get(name) or default)
        if metrics_port:
            env[name] = str(metrics_port + 2 * index)
    if cores > 1:
        env[CORE_ENV] = str(index % cores)
    return env


async def _child(index: int, env: dict[str, str], stop: asyncio.Event) -> None:
    """Run child ``index`` until ``stop``; start it again whenever it dies before."""
    while not stop.is_set():
        process = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "runtime.worker", env=env, preexec_fn=die_with_parent
        )
        waiter = asyncio.create_task(process.wait())
        stopper = asyncio.create_task(stop.wait())
        await asyncio.wait({waiter, stopper}, return_when=asyncio.FIRST_COMPLETED)
        stopper.cancel()
        if stop.is_set():
            # SIGTERM lets the worker finish its shutdown (activities cancelled, heartbeats).
            await stop_process(process)
            return
        log.warning(
            "worker process %d exited with %s; starting it again", index, process.returncode
        )
        await asyncio.sleep(RESTART_DELAY_S)


async def run_pool(processes: int, environ: Mapping[str, str] | None = None) -> None:
    """Run ``processes`` workers until SIGINT/SIGTERM."""
    if processes < 1:
        raise ValueError(f"--processes must be at least 1, got {processes}")
    environ = os.environ if environ is None else environ
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else 1
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    envs = [child_env(environ, i, cores if processes <= cores else 0) for i in range(processes)]
    async with asyncio.TaskGroup() as group:
        for i, env in enumerate(envs):
            group.create_task(_child(i, env, stop))


def main(processes: int) -> None:
    logging.basicConfig(level=logging.WARNING)
    with contextlib.suppress(KeyboardInterrupt):
        try:
            asyncio.run(run_pool(processes))
        except ValueError as exc:  # a setting the children cannot be given
            raise SystemExit(f"voxflow worker: {exc}") from None

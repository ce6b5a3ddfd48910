"""``runtime.persistence.Persistence`` on PostgreSQL.

Each method returns once its transaction committed, so an opt-out or a callback is durable
before the agent confirms it to the caller (durability invariant 4). Writes are idempotent:
an activity retried after a crash stores nothing twice.
"""

from __future__ import annotations

from runtime.db import callbacks, calls, dnc
from runtime.db.types import Db
from runtime.persistence import Callback, OptOut, TranscriptEntry


class PgPersistence:
    """Durable writes of one voxflow process; share one per pool.

    Args:
        db: the pool.
        campaign: campaign name recorded with callbacks and opt-outs (``None`` outside
            campaigns: inbound calls, test calls).
    """

    def __init__(self, db: Db, *, campaign: str | None = None) -> None:
        self._db = db
        self._campaign = campaign

    async def add_opt_out(self, opt_out: OptOut) -> None:
        await dnc.add_dnc(
            self._db,
            opt_out.phone,
            source="call",
            reason=opt_out.reason,
            campaign=self._campaign,
            contact=opt_out.contact_id,
            call_id=opt_out.call_id,
        )

    async def add_callback(self, callback: Callback) -> None:
        await callbacks.add_callback(
            self._db,
            call_id=callback.call_id,
            due_at=callback.at,
            requested_at=callback.requested_at,
            phone=callback.phone,
            campaign=self._campaign,
            contact=callback.contact_id,
            note=callback.note,
        )

    async def append_transcript(self, entries: list[TranscriptEntry]) -> None:
        by_call: dict[str, list[calls.Turn]] = {}
        for e in entries:
            by_call.setdefault(e.call_id, []).append(
                calls.Turn(seq=e.seq, role=e.role, text=e.text, node=e.node, data=dict(e.data))
            )
        for call_id, turns in by_call.items():
            await calls.append_transcript(self._db, call_id, turns)

    async def is_opted_out(self, phone: str) -> bool:
        return await dnc.is_dnc(self._db, phone)

"""Do-not-call at dial time: the dial activity asks here right before every originate, so a
number added to the list after the campaign loaded its contacts is never called."""

from __future__ import annotations

from runtime.db import dnc
from runtime.db.types import Db


class DoNotCall:
    def __init__(self, db: Db) -> None:
        self._db = db

    async def blocked(self, phone: str) -> bool:
        return await dnc.is_dnc(self._db, phone)

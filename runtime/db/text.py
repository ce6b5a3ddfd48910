"""Text PostgreSQL can store, whatever a caller said or a provider sent.

``text`` and ``jsonb`` refuse NUL (U+0000), and UTF-8 cannot encode a lone surrogate
(U+D800-U+DFFF); one such character would lose a whole transcript write. What a call produced
is stored with each such character replaced by U+FFFD (the replacement character), so the rest
of the record is kept and the place of the damage still shows.
"""

from __future__ import annotations

import re
from typing import Any

_UNSTORABLE = re.compile("[\x00\ud800-\udfff]")
REPLACEMENT = "\ufffd"


def storable(value: Any, _depth: int = 0) -> Any:
    """``value`` with every unstorable character of its texts (keys too) replaced."""
    if isinstance(value, str):
        return _UNSTORABLE.sub(REPLACEMENT, value) if _UNSTORABLE.search(value) else value
    if _depth > 64:  # deeper than any call record; kept as its (cleaned) text
        return storable(repr(value))
    if isinstance(value, dict):
        return {storable(k, _depth + 1): storable(v, _depth + 1) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [storable(v, _depth + 1) for v in value]
    return value

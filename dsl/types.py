"""The value types of the flow language, runtime coercion, and name scopes.

A ``VoxType`` is what the compiler knows about a name (``contact.age: int``); ``coerce`` turns
raw values (CSV cells, slot text, JSON) into the Python value of a type; a ``Scope`` maps the
dotted names a flow may read to their types, so expressions and templates are checked before a
single call is placed.

Python values per type: ``str`` str, ``int`` int, ``float`` float, ``bool`` bool, ``date``
``datetime.date``, ``time`` ``datetime.time``, ``datetime`` aware ``datetime.datetime``,
``duration`` ``datetime.timedelta``, ``tz`` IANA zone name (str), ``phone`` E.164 str,
``email`` normalised str, ``money`` ``decimal.Decimal``, ``digits`` str of ASCII digits,
``list[t]`` list, ``enum[a|b]`` str, records dict; ``null`` is ``None``.
"""

from __future__ import annotations

import difflib
import json
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from decimal import Decimal, InvalidOperation
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import phonenumbers
from email_validator import EmailNotValidError, validate_email

# --- types -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class VoxType:
    """A type of the flow language; ``str(t)`` is its source spelling."""

    kind: str

    def __str__(self) -> str:
        return self.kind


@dataclass(frozen=True)
class ListType(VoxType):
    """``list[item]``."""

    kind: str = field(default="list", init=False, repr=False)
    item: VoxType = VoxType("any")

    def __str__(self) -> str:
        return f"list[{self.item}]"


@dataclass(frozen=True)
class EnumType(VoxType):
    """``enum[a|b|c]``: one of a closed set of strings (order kept, as written)."""

    kind: str = field(default="enum", init=False, repr=False)
    values: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        object.__setattr__(self, "values", tuple(self.values))

    def __str__(self) -> str:
        return "enum[" + "|".join(self.values) + "]"


@dataclass(frozen=True)
class RecordType(VoxType):
    """A namespace or a tool result: named fields, each with a type."""

    kind: str = field(default="record", init=False, repr=False)
    fields: tuple[tuple[str, VoxType], ...] = ()

    def __post_init__(self) -> None:
        object.__setattr__(self, "fields", tuple((n, t) for n, t in self.fields))

    def member(self, name: str) -> VoxType | None:
        for n, t in self.fields:
            if n == name:
                return t
        return None

    def __str__(self) -> str:
        return "{" + ", ".join(f"{n}: {t}" for n, t in self.fields) + "}"


STR = VoxType("str")
INT = VoxType("int")
FLOAT = VoxType("float")
BOOL = VoxType("bool")
DATE = VoxType("date")
TIME = VoxType("time")
DATETIME = VoxType("datetime")
DURATION = VoxType("duration")
TZ = VoxType("tz")
PHONE = VoxType("phone")
EMAIL = VoxType("email")
MONEY = VoxType("money")
DIGITS = VoxType("digits")
NULL = VoxType("null")
ANY = VoxType("any")

PRIMITIVES: dict[str, VoxType] = {
    t.kind: t
    for t in (STR, INT, FLOAT, BOOL, DATE, TIME, DATETIME, DURATION, TZ, PHONE, EMAIL, MONEY)
    + (DIGITS, NULL, ANY)
}

NUMERIC = frozenset({INT, FLOAT, MONEY})
"""Types arithmetic and ordering treat as numbers."""

_STRINGLIKE_KINDS = frozenset({"str", "tz", "phone", "email", "digits", "enum"})


def is_stringlike(t: VoxType) -> bool:
    """Types whose values are Python strings (comparable with ``str``)."""
    return t.kind in _STRINGLIKE_KINDS


def family(t: VoxType) -> str:
    """The comparison family of a type: values of one family compare with each other."""
    if t in NUMERIC:
        return "number"
    if is_stringlike(t):
        return "string"
    return t.kind


def compatible(a: VoxType, b: VoxType) -> bool:
    """Whether values of ``a`` and ``b`` may be compared for equality."""
    if ANY in (a, b) or NULL in (a, b):
        return True
    if isinstance(a, ListType) and isinstance(b, ListType):
        return compatible(a.item, b.item)
    return family(a) == family(b)


def assignable(src: VoxType, dst: VoxType) -> bool:
    """Whether a value of type ``src`` can stand where ``dst`` is expected."""
    if ANY in (src, dst) or src == NULL or src == dst:
        return True
    if dst == FLOAT and src == INT:
        return True
    if dst == MONEY and src in (INT, FLOAT):
        return True
    if dst == STR and is_stringlike(src):
        return True
    if isinstance(src, ListType) and isinstance(dst, ListType):
        return assignable(src.item, dst.item)
    if isinstance(src, EnumType) and isinstance(dst, EnumType):
        return set(src.values) <= set(dst.values)
    return False


# --- parsing type names ----------------------------------------------------------------------

_ENUM_VALUE = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9_\- ]*$")


def parse_type(text: str) -> VoxType:
    """Parse a type name as written in a flow file (``int``, ``list[str]``, ``enum[a|b]``).

    Raises:
        ValueError: unknown type name or malformed ``list``/``enum``; the message names the
            known types.
    """
    s = text.strip()
    low = s.lower()
    if low.startswith("list[") and s.endswith("]"):
        return ListType(parse_type(s[5:-1]))
    if low.startswith("enum[") and s.endswith("]"):
        values = tuple(v.strip() for v in s[5:-1].split("|"))
        if not values or any(not v or not _ENUM_VALUE.match(v) for v in values):
            raise ValueError(
                f"malformed enum type {text!r}: write enum[a|b|c] with non-empty values "
                "made of letters, digits, '_' or '-'"
            )
        if len(set(values)) != len(values):
            raise ValueError(f"enum type {text!r} lists a value twice")
        return EnumType(values)
    t = PRIMITIVES.get(low)
    if t is None or t == NULL:
        known = ", ".join(k for k in PRIMITIVES if k != "null") + ", list[<type>], enum[a|b]"
        close = difflib.get_close_matches(low, list(PRIMITIVES), n=1)
        also = f" (did you mean {close[0]!r}?)" if close else ""
        raise ValueError(f"unknown type {text!r}{also}; known types: {known}")
    return t


# --- coercion --------------------------------------------------------------------------------

_TRUE = frozenset({"true", "yes", "y", "1", "on"})
_FALSE = frozenset({"false", "no", "n", "0", "off"})
_DURATION_PART = re.compile(r"(\d+(?:\.\d+)?)(ms|s|m|h|d)")
_DURATION_UNITS = {"ms": 0.001, "s": 1, "m": 60, "h": 3600, "d": 86400}


def parse_duration(text: str) -> timedelta:
    """``500ms``, ``30s``, ``15m``, ``2h``, ``1d`` or combinations such as ``1h30m``.

    Raises:
        ValueError: not a duration.
    """
    s = text.strip().replace(" ", "")
    pos, total = 0, 0.0
    for m in _DURATION_PART.finditer(s):
        if m.start() != pos:
            break
        total += float(m.group(1)) * _DURATION_UNITS[m.group(2)]
        pos = m.end()
    if not s or pos != len(s):
        raise ValueError(
            f"invalid duration {text!r}: write a number with a unit ms, s, m, h or d "
            "(e.g. 500ms, 30s, 15m, 2h, 1d, 1h30m)"
        )
    return timedelta(seconds=total)


def coerce(value: object, t: VoxType, *, tz: str = "UTC", region: str | None = None) -> object:
    """Convert a raw value to the Python value of ``t``.

    ``None`` stays ``None`` (absent); an empty or blank string is ``None`` for every type but
    ``str``. Naive datetimes are read in ``tz``; aware ones are converted to ``tz``. Phone
    numbers without a ``+`` are read in ``region`` (ISO 3166 code) when given. A bare number
    given for a ``duration`` counts seconds.

    Raises:
        ValueError: the value cannot be read as ``t``; the message says what was expected.
    """
    if value is None:
        return None
    if isinstance(value, str) and not value.strip() and t != STR:
        return None
    try:
        return _coerce(value, t, tz, region)
    except ValueError:
        raise
    except (TypeError, ArithmeticError, InvalidOperation, OverflowError) as exc:
        raise ValueError(f"cannot read {value!r} as {t}: {exc}") from None


def _bad(value: object, t: VoxType, expected: str) -> ValueError:
    return ValueError(f"cannot read {value!r} as {t}: expected {expected}")


def _coerce(value: object, t: VoxType, tz: str, region: str | None) -> object:
    kind = t.kind
    if kind == "any":
        return value
    if kind == "null":
        raise _bad(value, t, "null")
    if kind == "str":
        if isinstance(value, str | int | float | Decimal) and not isinstance(value, bool):
            return str(value)
        raise _bad(value, t, "text")
    if kind == "int":
        return _to_int(value, t)
    if kind == "float":
        if isinstance(value, bool):
            raise _bad(value, t, "a number")
        if isinstance(value, int | float | Decimal):
            return float(value)
        if isinstance(value, str):
            try:
                return float(_number_text(value))
            except ValueError:
                raise _bad(value, t, "a number such as 3.5") from None
        raise _bad(value, t, "a number")
    if kind == "bool":
        if isinstance(value, bool):
            return value
        if isinstance(value, int) and value in (0, 1):
            return bool(value)
        if isinstance(value, str):
            low = value.strip().lower()
            if low in _TRUE:
                return True
            if low in _FALSE:
                return False
        raise _bad(value, t, "true/false (or yes/no, 1/0)")
    if kind == "date":
        if isinstance(value, datetime):
            return _in_tz(value, tz).date()
        if isinstance(value, date):
            return value
        if isinstance(value, str):
            try:
                return date.fromisoformat(value.strip())
            except ValueError:
                raise _bad(value, t, "a date YYYY-MM-DD") from None
        raise _bad(value, t, "a date YYYY-MM-DD")
    if kind == "time":
        if isinstance(value, datetime):
            return _in_tz(value, tz).time().replace(tzinfo=None)
        if isinstance(value, time):
            return value
        if isinstance(value, str):
            s = value.strip()
            if re.fullmatch(r"\d:\d\d(:\d\d)?", s):
                s = "0" + s
            try:
                return time.fromisoformat(s)
            except ValueError:
                raise _bad(value, t, "a time HH:MM") from None
        raise _bad(value, t, "a time HH:MM")
    if kind == "datetime":
        return _to_datetime(value, t, tz)
    if kind == "duration":
        if isinstance(value, timedelta):
            return value
        if isinstance(value, int | float) and not isinstance(value, bool):
            return timedelta(seconds=value)
        if isinstance(value, str):
            return parse_duration(value)
        raise _bad(value, t, "a duration such as 15m")
    if kind == "tz":
        if not isinstance(value, str):
            raise _bad(value, t, "an IANA time zone name such as Europe/Paris")
        name = value.strip()
        try:
            ZoneInfo(name)
        except (ZoneInfoNotFoundError, ValueError, OSError):
            raise _bad(value, t, "an IANA time zone name such as Europe/Paris") from None
        return name
    if kind == "phone":
        return _to_phone(value, t, region)
    if kind == "email":
        if not isinstance(value, str):
            raise _bad(value, t, "an email address")
        try:
            return validate_email(value.strip(), check_deliverability=False).normalized
        except EmailNotValidError as exc:
            raise ValueError(f"cannot read {value!r} as email: {exc}") from None
    if kind == "money":
        return _to_money(value, t)
    if kind == "digits":
        if isinstance(value, int) and not isinstance(value, bool) and value >= 0:
            return str(value)
        if isinstance(value, str):
            s = re.sub(r"[\s\-.]", "", value)
            if s and s.isascii() and s.isdigit():
                return s
        raise _bad(value, t, "digits 0-9 (spaces and dashes are ignored)")
    if isinstance(t, ListType):
        items = value
        if isinstance(value, str):
            s = value.strip()
            if s.startswith("["):
                try:
                    items = json.loads(s)
                except json.JSONDecodeError:
                    raise _bad(value, t, "a JSON list or comma-separated values") from None
            else:
                items = [p.strip() for p in s.split(",")]
        if not isinstance(items, list | tuple):
            raise _bad(value, t, "a list")
        return [coerce(v, t.item, tz=tz, region=region) for v in items]
    if isinstance(t, EnumType):
        if isinstance(value, str):
            s = value.strip()
            for v in t.values:
                if s == v or s.lower() == v.lower():
                    return v
        raise _bad(value, t, "one of " + ", ".join(t.values))
    if isinstance(t, RecordType):
        if not isinstance(value, Mapping):
            raise _bad(value, t, "a mapping")
        return {n: coerce(value.get(n), ft, tz=tz, region=region) for n, ft in t.fields}
    raise _bad(value, t, "a known type")


_DECIMAL_COMMA = re.compile(r"^[-+]?\d+,\d{1,2}$")


def _number_text(text: str) -> str:
    """``1,234.50`` → ``1234.50``; ``12,50`` (a decimal comma: one comma, 1-2 digits after) →
    ``12.50``; spaces are dropped."""
    s = re.sub(r"\s", "", text)
    if _DECIMAL_COMMA.match(s):
        return s.replace(",", ".")
    return s.replace(",", "")


def _to_int(value: object, t: VoxType) -> int:
    if isinstance(value, bool):
        raise _bad(value, t, "a whole number")
    if isinstance(value, int):
        return value
    if isinstance(value, float | Decimal) and value == int(value):
        return int(value)
    if isinstance(value, str):
        s = value.strip().replace(",", "")
        if re.fullmatch(r"[-+]?\d+(\.0*)?", s):
            return int(s.split(".")[0])
    raise _bad(value, t, "a whole number such as 42")


def _in_tz(dt: datetime, tz: str) -> datetime:
    zone = ZoneInfo(tz)
    return dt.replace(tzinfo=zone) if dt.tzinfo is None else dt.astimezone(zone)


def _to_datetime(value: object, t: VoxType, tz: str) -> datetime:
    try:
        ZoneInfo(tz)
    except (ZoneInfoNotFoundError, ValueError, OSError):
        raise ValueError(f"unknown time zone {tz!r} for reading a datetime") from None
    if isinstance(value, datetime):
        return _in_tz(value, tz)
    if isinstance(value, date):
        return datetime.combine(value, time(0), ZoneInfo(tz))
    if isinstance(value, str):
        s = value.strip()
        try:
            return _in_tz(datetime.fromisoformat(s), tz)
        except ValueError:
            raise _bad(value, t, "a date and time YYYY-MM-DDTHH:MM") from None
    raise _bad(value, t, "a date and time YYYY-MM-DDTHH:MM")


def _to_phone(value: object, t: VoxType, region: str | None) -> str:
    if isinstance(value, int) and not isinstance(value, bool):
        value = str(value)
    if not isinstance(value, str):
        raise _bad(value, t, "a phone number")
    try:
        number = phonenumbers.parse(value, region)
    except phonenumbers.NumberParseException as exc:
        where = f" in region {region}" if region else " (add +country code or give a region)"
        raise ValueError(f"cannot read {value!r} as phone{where}: {exc}") from None
    if not phonenumbers.is_valid_number(number):
        raise ValueError(f"cannot read {value!r} as phone: not a valid number")
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def _to_money(value: object, t: VoxType) -> Decimal:
    if isinstance(value, bool):
        raise _bad(value, t, "an amount such as 12.50")
    if isinstance(value, Decimal):
        out = value
    elif isinstance(value, int):
        out = Decimal(value)
    elif isinstance(value, float):
        out = Decimal(repr(value))
    elif isinstance(value, str):
        s = _number_text(re.sub(r"[$€£]", "", value))
        try:
            out = Decimal(s)
        except InvalidOperation:
            raise _bad(value, t, "an amount such as 12.50") from None
    else:
        raise _bad(value, t, "an amount such as 12.50")
    if not out.is_finite():
        raise _bad(value, t, "a finite amount")
    return out


# --- scopes ----------------------------------------------------------------------------------


class Scope:
    """The names a flow may read, dotted (``contact.first_name``), with their types.

    Keys may be dotted (``"contact.first_name": STR``) or namespaces typed as ``RecordType``;
    ``lookup`` resolves both, and a member of an ``any`` value is ``any``.
    """

    def __init__(self, mapping: Mapping[str, VoxType] | None = None):
        self._map: dict[str, VoxType] = dict(mapping or {})

    def child(self, **more: VoxType) -> Scope:
        """A scope with these names added (e.g. ``value`` while validating a slot)."""
        return Scope({**self._map, **more})

    def lookup(self, name: str) -> VoxType | None:
        """The type of a dotted name, or ``None`` when the scope does not know it."""
        if name in self._map:
            return self._map[name]
        parts = name.split(".")
        for cut in range(len(parts) - 1, 0, -1):
            base = self._map.get(".".join(parts[:cut]))
            if base is not None:
                return _member_path(base, parts[cut:])
        prefix = name + "."
        members = [(k[len(prefix) :], v) for k, v in self._map.items() if k.startswith(prefix)]
        if members:
            direct = {k.split(".")[0] for k, _ in members}
            return RecordType(tuple((d, self.lookup(prefix + d) or ANY) for d in sorted(direct)))
        return None

    def names(self) -> list[str]:
        """Every readable dotted name, record members expanded, sorted."""
        out: set[str] = set()
        for k, v in self._map.items():
            out.update(_expand(k, v))
            parts = k.split(".")
            out.update(".".join(parts[:i]) for i in range(1, len(parts)))
        return sorted(out)

    def suggest(self, name: str) -> str | None:
        """The closest known name, for a "did you mean" hint."""
        known = self.names()
        close = difflib.get_close_matches(name, known, n=1, cutoff=0.6)
        if close:
            return close[0]
        # A wrong last segment under a known prefix: compare the last segment only.
        head, _, last = name.rpartition(".")
        if head:
            siblings = {k.rpartition(".")[2]: k for k in known if k.rpartition(".")[0] == head}
            close = difflib.get_close_matches(last, list(siblings), n=1, cutoff=0.5)
            if close:
                return siblings[close[0]]
        return None

    def __contains__(self, name: object) -> bool:
        return isinstance(name, str) and self.lookup(name) is not None

    def __iter__(self) -> Iterator[str]:
        return iter(self.names())

    def __repr__(self) -> str:
        return f"Scope({self._map!r})"


def _member_path(t: VoxType, parts: list[str]) -> VoxType | None:
    for p in parts:
        if t == ANY:
            return ANY
        if not isinstance(t, RecordType):
            return None
        nxt = t.member(p)
        if nxt is None:
            return None
        t = nxt
    return t


def _expand(name: str, t: VoxType) -> Iterator[str]:
    yield name
    if isinstance(t, RecordType):
        for n, ft in t.fields:
            yield from _expand(f"{name}.{n}", ft)

"""Typed slot values read from caller text by rule, for the offline local provider.

Number words become digits with ``text2num`` (``alpha2digit``); dates and times are read with
``dateparser`` relative to the call's clock in the contact's time zone; e-mail addresses are
checked with ``email-validator``. Each reader returns ``None`` when the text holds no value of
its type: the local provider never guesses.
"""

from __future__ import annotations

import re
from datetime import date, datetime, time
from decimal import Decimal, InvalidOperation
from typing import Any
from zoneinfo import ZoneInfo

from text_to_num import alpha2digit

YES = frozenset(
    "yes yeah yep yup sure ok okay correct right absolutely definitely certainly affirmative "
    "fine agreed indeed".split()
)
NO = frozenset("no nope nah not never negative cannot cant wont dont wrong incorrect".split())
_WORD = re.compile(r"[a-z]+")
_NUMBER = re.compile(r"-?\d+(?:[.,]\d+)?")
_EMAIL = re.compile(r"[A-Za-z0-9._%+-]+@[A-Za-z0-9.-]+\.[A-Za-z]{2,}")


def digitize(text: str) -> str:
    """``text`` with number words written as digits (``twenty five`` -> ``25``)."""
    try:
        return alpha2digit(text, "en", threshold=0)
    except Exception:  # text2num rejects some odd inputs; the text is still usable as is
        return text


def read_yes_no(text: str) -> bool | None:
    """True for yes-words, False for no-words, None when neither or both appear."""
    words = set(_WORD.findall(text.lower().replace("'", "").replace("\u2019", "")))
    yes, no = bool(words & YES), bool(words & NO)
    return yes if yes != no else None


def read_number(text: str) -> int | float | None:
    m = _NUMBER.search(digitize(text))
    if m is None:
        return None
    raw = m.group(0).replace(",", ".")
    return float(raw) if "." in raw else int(raw)


def read_digits(text: str) -> str | None:
    """All digits of the text joined (``four five six`` -> ``456``, ``555-12 34`` -> ``5551234``)."""
    digits = "".join(ch for ch in digitize(text) if ch.isdigit())
    return digits or None


def read_money(text: str) -> str | None:
    """The amount as ``12.50`` (the flow's ``money`` type carries no currency)."""
    spoken = digitize(text.lower())
    m = re.search(r"(\d+)(?:[.,](\d{1,2})|\s+(?:and\s+)?(\d{1,2})\s+cents?)?", spoken)
    if m is None:
        return None
    cents = m.group(2) or m.group(3) or "0"
    try:
        amount = Decimal(f"{m.group(1)}.{cents.ljust(2, '0')}")
    except InvalidOperation:
        return None
    return str(amount)


def read_email(text: str) -> str | None:
    """An e-mail address, also when spelled out (``ann at example dot com``)."""
    from email_validator import EmailNotValidError, validate_email

    spoken = re.sub(r"\s+at\s+", "@", text.strip(), flags=re.I)
    spoken = re.sub(r"\s+dot\s+", ".", spoken, flags=re.I)
    m = _EMAIL.search(spoken)
    if m is None:
        return None
    try:
        return validate_email(m.group(0), check_deliverability=False).normalized
    except EmailNotValidError:
        return None


def read_datetime(text: str, *, tz: str, now: datetime) -> datetime | None:
    """An aware datetime in ``tz``: ISO 8601 (local when it has no offset) or words such as
    ``tomorrow at 3pm``, read relative to ``now`` and preferring the future."""
    zone = ZoneInfo(tz)
    try:
        at = datetime.fromisoformat(text.strip())
        return at.replace(tzinfo=zone) if at.tzinfo is None else at.astimezone(zone)
    except ValueError:
        pass
    import dateparser
    from dateparser.search import search_dates

    settings: Any = {
        "RELATIVE_BASE": now.astimezone(zone).replace(tzinfo=None),
        "TIMEZONE": tz,
        "TO_TIMEZONE": tz,
        "RETURN_AS_TIMEZONE_AWARE": True,
        "PREFER_DATES_FROM": "future",
    }
    spoken = digitize(text)
    found = search_dates(spoken, languages=["en"], settings=settings)
    at = found[-1][1] if found else dateparser.parse(spoken, languages=["en"], settings=settings)
    if at is None:
        return None
    return at.astimezone(zone)


parse_datetime = read_datetime


def read_date(text: str, *, tz: str, now: datetime) -> date | None:
    at = read_datetime(text, tz=tz, now=now)
    return None if at is None else at.date()


def read_time(text: str, *, tz: str, now: datetime) -> time | None:
    at = read_datetime(text, tz=tz, now=now)
    return None if at is None else at.time().replace(tzinfo=None)


def read_slot(type_name: str, text: str, *, tz: str, now: datetime) -> Any:
    """The value of type ``type_name`` in ``text``, or None. Strings take the whole text."""
    type_name = type_name.strip()
    if type_name == "bool":
        return read_yes_no(text)
    if type_name in ("int", "float"):
        n = read_number(text)
        if n is None:
            return None
        return int(n) if type_name == "int" and float(n).is_integer() else n
    if type_name in ("digits", "phone"):
        return read_digits(text)
    if type_name == "money":
        return read_money(text)
    if type_name == "email":
        return read_email(text)
    if type_name == "datetime":
        at = read_datetime(text, tz=tz, now=now)
        return None if at is None else at.isoformat()
    if type_name == "date":
        d = read_date(text, tz=tz, now=now)
        return None if d is None else d.isoformat()
    if type_name == "time":
        t = read_time(text, tz=tz, now=now)
        return None if t is None else t.strftime("%H:%M")
    if type_name.startswith("enum[") and type_name.endswith("]"):
        options = [o.strip() for o in type_name[5:-1].split("|")]
        words = set(_WORD.findall(text.lower()))
        hits = [o for o in options if o.lower() in words or o.lower() in text.lower()]
        return hits[0] if len(hits) == 1 else None
    text = text.strip()
    return text or None

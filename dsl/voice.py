"""Voice filters: values said the way a person says them on the phone.

Registered on the template environment (``dsl.templates.template_env``):

| filter | value | says |
| --- | --- | --- |
| ``day`` | date or datetime | ``Tuesday, November 24th`` (the year is added when not this year) |
| ``time`` | time or datetime | ``3 PM``, ``9:30 AM`` |
| ``when`` | datetime | ``today at 3 PM``, ``tomorrow at 9:30 AM``, ``Friday at 3 PM`` (within a
  week), else ``Tuesday, November 24th at 3 PM`` |
| ``digits`` | text or number | ``4 1 7 2`` (letters of codes are spelled too) |
| ``phone`` | phone number | ``4 1 5, 5 5 5, 2 6 7 1`` (national groups) |
| ``money`` | amount[, currency] | ``12 dollars and 50 cents`` |
| ``duration`` | duration | ``1 hour and 30 minutes`` |

Datetimes are said in the contact's time zone (``render(..., tz=...)``), relative to ``now``
(the ``now`` value of the template, else the clock). Locale: ``en-*`` is fully supported; other
locales currently fall back to English.

Each filter is a plain function of its inputs (``say_day(value, settings)``…), wrapped as a
Jinja2 filter that reads ``VoiceSettings`` from the render context.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from decimal import ROUND_HALF_UP, Decimal
from typing import Any
from zoneinfo import ZoneInfo

import phonenumbers
from jinja2 import pass_context
from jinja2.runtime import Context
from num2words import CONVERTER_CLASSES, num2words

from dsl.types import DATETIME, DURATION, MONEY, TIME, coerce

SETTINGS_KEY = "__voxflow_voice__"
"""Context variable that carries ``VoiceSettings`` into a render (not readable by templates:
``check_template`` reports it as undefined)."""

_WEEKDAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")
_MONTHS = (
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
)


@dataclass(frozen=True)
class VoiceSettings:
    tz: str = "UTC"
    locale: str = "en-US"
    now: datetime | None = None
    """Reference for ``when``; ``None`` reads the clock."""

    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.tz)

    def local_now(self) -> datetime:
        now = self.now or datetime.now(UTC)
        return now.astimezone(self.zone()) if now.tzinfo else now.replace(tzinfo=self.zone())


def _local(value: Any, settings: VoiceSettings) -> datetime | date:
    """A date stays a date; anything else is read as a datetime in the contact's zone."""
    if value is None:
        raise ValueError("nothing to say: the value is null (not set yet?)")
    if isinstance(value, date) and not isinstance(value, datetime):
        return value
    if isinstance(value, str) and re.fullmatch(r"\d{4}-\d{2}-\d{2}", value.strip()):
        return date.fromisoformat(value.strip())
    return coerce(value, DATETIME, tz=settings.tz)


def say_day(value: Any, settings: VoiceSettings = VoiceSettings()) -> str:
    d = _local(value, settings)
    day = d.date() if isinstance(d, datetime) else d
    text = f"{_WEEKDAYS[day.weekday()]}, {_MONTHS[day.month - 1]} "
    text += num2words(day.day, to="ordinal_num", lang="en")
    if day.year != settings.local_now().year:
        text += f", {day.year}"
    return text


def say_time(value: Any, settings: VoiceSettings = VoiceSettings()) -> str:
    if isinstance(value, time):
        t = value
    elif isinstance(value, str) and re.fullmatch(r"\d{1,2}:\d{2}(:\d{2})?", value.strip()):
        t = coerce(value, TIME)
    else:
        local = _local(value, settings)
        if not isinstance(local, datetime):
            raise ValueError("the time filter needs a time or a datetime, got a date")
        t = local.time()
    hour = t.hour % 12 or 12
    suffix = "AM" if t.hour < 12 else "PM"
    return f"{hour} {suffix}" if t.minute == 0 else f"{hour}:{t.minute:02d} {suffix}"


def say_when(value: Any, settings: VoiceSettings = VoiceSettings()) -> str:
    local = _local(value, settings)
    if not isinstance(local, datetime):
        return say_day(local, settings)
    days = (local.date() - settings.local_now().date()).days
    clock = say_time(local, settings)
    if days == 0:
        return f"today at {clock}"
    if days == 1:
        return f"tomorrow at {clock}"
    if days == -1:
        return f"yesterday at {clock}"
    if 1 < days < 7:
        return f"{_WEEKDAYS[local.weekday()]} at {clock}"
    return f"{say_day(local, settings)} at {clock}"


def say_digits(value: Any) -> str:
    """Each digit (and letter) on its own: ``'4172'`` → ``'4 1 7 2'``."""
    if isinstance(value, bool) or not isinstance(value, str | int):
        raise ValueError(f"the digits filter needs text or a whole number, got {value!r}")
    return " ".join(c.upper() for c in str(value) if c.isascii() and c.isalnum())


def say_phone(value: Any) -> str:
    """National groups, digit by digit: ``'+14155552671'`` → ``'4 1 5, 5 5 5, 2 6 7 1'``."""
    text = str(value)
    try:
        number = phonenumbers.parse(text, None)
        national = phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.NATIONAL)
        groups = re.findall(r"\d+", national)
    except phonenumbers.NumberParseException:
        digits = re.sub(r"\D", "", text)
        groups = [digits[i : i + 3] for i in range(0, len(digits), 3)]
    if not groups:
        raise ValueError(f"the phone filter needs a phone number, got {value!r}")
    return ", ".join(" ".join(g) for g in groups)


def say_money(value: Any, currency: str = "USD") -> str:
    """``12.5`` → ``'12 dollars and 50 cents'`` (currency names from num2words)."""
    amount = coerce(value, MONEY)
    if amount is None:
        raise ValueError("the money filter needs an amount, got nothing")
    forms = CONVERTER_CLASSES["en"].CURRENCY_FORMS.get(currency.upper())
    if forms is None:
        raise ValueError(f"unknown currency {currency!r}; use an ISO 4217 code such as USD")
    (unit_one, unit_many), (sub_one, sub_many) = forms
    sign = "minus " if amount < 0 else ""
    cents_total = int((abs(amount) * 100).quantize(Decimal(1), rounding=ROUND_HALF_UP))
    units, cents = divmod(cents_total, 100)
    parts = []
    if units or not cents:
        parts.append(f"{units:,} {unit_one if units == 1 else unit_many}")
    if cents:
        parts.append(f"{cents} {sub_one if cents == 1 else sub_many}")
    return sign + " and ".join(parts)


def say_duration(value: Any) -> str:
    """``timedelta(minutes=90)`` → ``'1 hour and 30 minutes'``; ``'15m'`` → ``'15 minutes'``."""
    span = coerce(value, DURATION)
    if not isinstance(span, timedelta):
        raise ValueError("the duration filter needs a duration, got nothing")
    seconds = int(abs(span).total_seconds())
    parts = []
    for name, size in (("day", 86400), ("hour", 3600), ("minute", 60), ("second", 1)):
        q, seconds = divmod(seconds, size)
        if q:
            parts.append(f"{q} {name}{'' if q == 1 else 's'}")
    if not parts:
        return "0 seconds"
    text = parts[0] if len(parts) == 1 else ", ".join(parts[:-1]) + " and " + parts[-1]
    return ("minus " if span < timedelta(0) else "") + text


def settings_of(context: Context) -> VoiceSettings:
    settings = context.get(SETTINGS_KEY)
    return settings if isinstance(settings, VoiceSettings) else VoiceSettings()


def _with_settings(fn: Callable[[Any, VoiceSettings], str]) -> Callable[..., str]:
    @pass_context
    def filt(context: Context, value: Any) -> str:
        return fn(value, settings_of(context))

    filt.__doc__ = fn.__doc__
    return filt


VOICE_FILTERS: dict[str, Callable[..., str]] = {
    "day": _with_settings(say_day),
    "time": _with_settings(say_time),
    "when": _with_settings(say_when),
    "digits": say_digits,
    "phone": say_phone,
    "money": say_money,
    "duration": say_duration,
}

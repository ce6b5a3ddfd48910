"""Which numbers voxflow may dial: the destination policy, checked at dial time.

A flow or a contacts file is written by people with API keys, not by whoever pays the phone
bill, so the numbers a call may reach are the platform's decision:

- number types that cost the caller money or reach no person are refused by default:
  premium rate, shared cost, personal numbers, pagers, UAN, voicemail access, unknown, and
  non-geographic numbers (country code +800-+888 and +870, which include the satellite
  networks +881 and +8816 and the international networks +882/+883) — ``VOXFLOW_DIAL_BLOCKED_TYPES``;
- only the countries of ``VOXFLOW_DIAL_COUNTRIES`` when it is set (ISO codes, e.g. ``US,CA``);
- numbers of ``VOXFLOW_DIAL_ALLOWLIST`` always pass (lab phones, test numbers).

Types are libphonenumber's (``phonenumbers.number_type``), so the policy follows numbering
plan changes with the library, not with this file.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Protocol

import phonenumbers
from phonenumbers import PhoneNumberType

NON_GEOGRAPHIC = "non_geographic"
"""Numbers of no country (region ``001``): satellite and international networks."""

TYPES: dict[int, str] = {
    value: name.lower() for name, value in vars(PhoneNumberType).items() if name.isupper()
}
KNOWN_TYPES = frozenset(TYPES.values()) | {NON_GEOGRAPHIC}

DEFAULT_BLOCKED = (
    "premium_rate",
    "shared_cost",
    "personal_number",
    "pager",
    "uan",
    "voicemail",
    "unknown",
    NON_GEOGRAPHIC,
)


class _PolicySettings(Protocol):
    dial_blocked_types: tuple[str, ...]
    dial_countries: tuple[str, ...]
    dial_allowlist: tuple[str, ...]


@dataclass(frozen=True)
class Refusal:
    code: str
    """``invalid_phone``, ``destination_type`` or ``destination_country``."""
    message: str


@dataclass(frozen=True)
class DestinationPolicy:
    blocked_types: frozenset[str] = frozenset(DEFAULT_BLOCKED)
    countries: frozenset[str] = frozenset()
    """ISO 3166 codes; empty: every country."""
    allowlist: frozenset[str] = frozenset()
    """E.164 numbers that always pass."""

    @classmethod
    def from_settings(cls, settings: _PolicySettings) -> DestinationPolicy:
        return cls(
            blocked_types=frozenset(settings.dial_blocked_types),
            countries=frozenset(c.upper() for c in settings.dial_countries),
            allowlist=frozenset(settings.dial_allowlist),
        )

    def refusal(self, phone: str) -> Refusal | None:
        """Why ``phone`` (E.164) may not be dialled, or ``None`` when it may.

        A number outside libphonenumber's numbering plans has no type to refuse (imported
        contacts and test calls are validated before they get here); its country still counts.
        """
        if phone in self.allowlist:
            return None
        try:
            number = phonenumbers.parse(phone, None)
        except phonenumbers.NumberParseException as exc:
            return Refusal("invalid_phone", f"{phone} is not an E.164 number: {exc}")
        regions = phonenumbers.region_codes_for_country_code(number.country_code)
        if "001" in regions:
            kind: str | None = NON_GEOGRAPHIC
        elif phonenumbers.is_valid_number(number):
            kind = TYPES.get(phonenumbers.number_type(number), "unknown")
        else:
            kind = None
        if self.countries and kind != NON_GEOGRAPHIC:
            region = phonenumbers.region_code_for_number(number)
            candidates = {region} if region else set(regions)
            if not candidates & self.countries:
                return Refusal(
                    "destination_country",
                    f"{phone} is in {region or '/'.join(sorted(regions)) or 'no country'}; this"
                    f" platform dials only {', '.join(sorted(self.countries))}"
                    " (VOXFLOW_DIAL_COUNTRIES)",
                )
        if kind in self.blocked_types:
            assert kind is not None
            return Refusal(
                "destination_type",
                f"{phone} is a {kind.replace('_', ' ')} number, which this platform does not dial"
                " (VOXFLOW_DIAL_BLOCKED_TYPES; add the number to VOXFLOW_DIAL_ALLOWLIST if it"
                " must be called)",
            )
        return None


def parse_types(names: Iterable[str]) -> tuple[str, ...]:
    """Type names as settings give them, checked against ``KNOWN_TYPES``."""
    out = tuple(n.strip().lower() for n in names if n.strip())
    unknown = sorted(set(out) - KNOWN_TYPES)
    if unknown:
        raise ValueError(
            f"unknown number type(s) {', '.join(unknown)}; known: {', '.join(sorted(KNOWN_TYPES))}"
        )
    return out

"""Reading the campaign section of the document tree into ``ir.Campaign`` (VF5xx checks).

A mixin of ``dsl.build``'s builder: it uses the builder's ``Reader`` (``self.r``) and source
map (``self.mark``). Phone numbers and regions are checked with ``phonenumbers``, holiday
countries with ``holidays``, time zones with ``zoneinfo``.
"""

from __future__ import annotations

import re
from datetime import date

import holidays as holidays_lib
import phonenumbers

from dsl import ir
from dsl.ast import Map, Scalar, Seq, Value
from dsl.reader import Reader

_DAYS = {"mon": 1, "tue": 2, "wed": 3, "thu": 4, "fri": 5, "sat": 6, "sun": 7}
_HOURS = re.compile(r"^(\d{1,2}):(\d{2})-(\d{1,2}):(\d{2})$")


def _valid_hours(start_h: int, start_m: int, end_h: int, end_m: int) -> bool:
    """A window starts at 00:00-23:59 and ends at 00:00-23:59 or exactly 24:00 (midnight)."""
    if start_h > 23 or start_m > 59 or end_m > 59:
        return False
    return end_h <= 23 or (end_h == 24 and end_m == 0)


class CampaignReader:
    r: Reader

    def mark(self, path: tuple[object, ...], value: Value | None) -> None:
        raise NotImplementedError  # provided by the builder

    # --- campaign ---------------------------------------------------------------------------------
    def campaign(self, v: Value) -> ir.Campaign | None:
        keys = (
            "name",
            "contacts",
            "windows",
            "holidays",
            "pacing",
            "amd",
            "amd_node",
            "caller_id",
            "max_attempts",
            "ring_timeout",
            "rules",
        )
        m = self.r.mapping(v, "campaign", allowed=keys, required=("name", "contacts", "windows"))
        if m is None:
            return None
        self.mark(("campaign",), m)
        name = self.r.name(m.get("name"), "campaign name")
        contacts = self.contacts(m.get("contacts"))
        windows = self.windows(m.get("windows"), m)
        hol = self.holidays(m.get("holidays"))
        pacing = self.pacing(m.get("pacing"))
        amd = (
            self.r.choice(m.get("amd"), "amd", ("hangup", "leave_message", "continue")) or "hangup"
        )
        amd_node = self.r.name(m.get("amd_node"), "amd_node")
        self.mark(("amd_node",), m.get("amd_node"))
        if amd == "leave_message" and amd_node is None:
            self.r.report(
                m.get("amd").pos,
                "VF203",
                "amd leave_message needs the node that leaves the message",
                "write amd leave_message <node>",
            )
        caller_id = self.caller_id(m.get("caller_id"))
        max_attempts = self.r.integer(m.get("max_attempts"), "max_attempts", minimum=1)
        ring = self.r.duration_ms(m.get("ring_timeout"), "ring_timeout")
        rules = self.rules(m.get("rules"))
        if name is None or contacts is None or windows is None:
            return None
        return ir.Campaign(
            name=name,
            contacts=contacts,
            windows=tuple(windows),
            rules=tuple(rules),
            holidays=hol,
            pacing=pacing,
            amd=amd,
            amd_node=amd_node,
            caller_id=caller_id,
            max_attempts=5 if max_attempts is None else max_attempts,
            ring_timeout_ms=30_000 if ring is None else ring,
        )

    def contacts(self, v: Value | None) -> ir.ContactsSource | None:
        keys = ("csv", "xlsx", "postgres", "phone", "timezone", "id", "name", "region")
        m = self.r.mapping(v, "contacts", allowed=keys)
        if m is None:
            return None
        kinds = [k for k in ("csv", "xlsx", "postgres") if k in m.keys()]
        if len(kinds) != 1:
            self.r.report(
                m.pos,
                "VF203",
                "contacts needs exactly one source: csv, xlsx or postgres",
                'write contacts csv "file.csv"',
            )
            return None
        location = self.r.string(m.get(kinds[0]), f"{kinds[0]} location")
        region = self.r.string(m.get("region"), "region")
        if region is not None and region not in phonenumbers.SUPPORTED_REGIONS:
            self.r.report(
                m.get("region").pos,
                "VF505",
                f"unknown phone region {region!r}",
                "use an ISO country code such as US, GB, FR",
            )
            region = None

        def column(key: str, default: str | None) -> str | None:
            val = m.get(key)
            if isinstance(val, Scalar) and val.tag == "null":
                return None
            s = self.r.string(val, f"{key} column")
            return default if s is None else s

        if location is None:
            return None
        return ir.ContactsSource(
            kind=kinds[0],
            location=location,
            phone_column=column("phone", "phone") or "phone",
            timezone_column=column("timezone", "timezone"),
            id_column=column("id", "id"),
            name_column=column("name", "first_name"),
            default_region=region or "US",
        )

    def windows(self, v: Value | None, campaign: Map) -> list[ir.CallingWindow] | None:
        if v is None:
            return None
        if not isinstance(v, Seq):
            self.r.wrong(v, "windows", "a list of {days, hours}")
            return None
        out = []
        for item in v.items:
            m = self.r.mapping(
                item, "window", allowed=("days", "hours"), required=("days", "hours")
            )
            if m is None:
                continue
            days = self.days(m.get("days"))
            hours = self.r.string(m.get("hours"), "hours")
            if days is None or hours is None:
                continue
            hm = _HOURS.match(hours)
            if not hm or not _valid_hours(int(hm[1]), int(hm[2]), int(hm[3]), int(hm[4])):
                self.r.report(
                    m.get("hours").pos,
                    "VF112",
                    f"invalid hours {hours!r}",
                    "write HH:MM-HH:MM (00:00 to 23:59; the end may be 24:00), e.g. 09:00-18:00",
                )
                continue
            start, end = f"{int(hm[1]):02d}:{hm[2]}", f"{int(hm[3]):02d}:{hm[4]}"
            if start >= end:
                self.r.report(
                    m.get("hours").pos,
                    "VF502",
                    f"calling window {hours} is empty: it ends before it starts",
                    "windows cannot cross midnight; split it in two",
                )
                continue
            out.append(ir.CallingWindow(tuple(days), start, end))
        if not out and not any(
            d.code in ("VF112", "VF202", "VF203", "VF201") for d in self.r.diagnostics
        ):
            self.r.report(
                v.pos,
                "VF502",
                "the campaign has no calling window",
                "add window mon-fri 09:00-18:00 local",
            )
        return out

    def days(self, v: Value | None) -> list[int] | None:
        s = self.r.string(v, "days")
        if s is None:
            return None
        out: set[int] = set()
        for part in s.replace(" ", "").split(","):
            a, _, b = part.partition("-")
            if a not in _DAYS or (b and b not in _DAYS):
                self.r.report(
                    v.pos,
                    "VF202",
                    f"invalid days {s!r}",
                    "write days like mon-fri, sat or mon,wed,fri",
                )
                return None
            lo, hi = _DAYS[a], _DAYS[b or a]
            out.update(range(lo, hi + 1) if lo <= hi else [*range(lo, 8), *range(1, hi + 1)])
        return sorted(out)

    def holidays(self, v: Value | None) -> ir.Holidays:
        m = self.r.mapping(v, "holidays", allowed=("countries", "dates"))
        if m is None:
            return ir.Holidays()
        supported = holidays_lib.list_supported_countries()
        countries, dates = [], []
        for s in self.r.strings(m.get("countries"), "holiday countries"):
            if s.raw not in supported:
                self.r.report(
                    s.pos,
                    "VF505",
                    f"no holiday calendar for country {s.raw!r}",
                    "use an ISO country code such as US, GB, FR",
                )
            elif s.raw not in countries:
                countries.append(s.raw)
        for s in self.r.strings(m.get("dates"), "holiday dates"):
            try:
                d = date.fromisoformat(s.raw)
            except ValueError:
                self.r.report(s.pos, "VF112", f"invalid date {s.raw!r}", "write YYYY-MM-DD")
                continue
            if d.isoformat() not in dates:
                dates.append(d.isoformat())
        return ir.Holidays(tuple(countries), tuple(sorted(dates)))

    def pacing(self, v: Value | None) -> ir.Pacing:
        m = self.r.mapping(v, "pacing", allowed=("concurrent", "per_minute", "ramp"))
        if m is None:
            return ir.Pacing()
        concurrent = self._positive(m.get("concurrent"), "concurrent")
        per_minute = self._positive(m.get("per_minute"), "per_minute")
        ramp = self.r.mapping(
            m.get("ramp"), "ramp", allowed=("start", "step", "every"), required=("start",)
        )
        start = step = every = None
        if ramp is not None:
            start = self._positive(ramp.get("start"), "ramp start")
            step = self._positive(ramp.get("step"), "ramp step")
            every = self.r.duration_ms(ramp.get("every"), "ramp every")
            if every is not None and every <= 0:
                self.r.report(
                    ramp.get("every").pos,
                    "VF506",
                    "ramp interval must be longer than 0",
                    "write e.g. every 1m",
                )
                every = None
            if start is not None and concurrent is not None and start > concurrent:
                self.r.report(
                    ramp.get("start").pos,
                    "VF506",
                    f"ramp starts at {start} calls, above the cap of {concurrent}",
                    "start the ramp at or below concurrent",
                )
        return ir.Pacing(
            max_concurrent=1 if concurrent is None else concurrent,
            per_minute=per_minute,
            ramp_start=start,
            ramp_step=1 if step is None else step,
            ramp_every_ms=60_000 if every is None else every,
        )

    def _positive(self, v: Value | None, where: str) -> int | None:
        if isinstance(v, Scalar) and v.tag == "int" and isinstance(v.value, int) and v.value < 1:
            self.r.report(
                v.pos,
                "VF506",
                f"{where} must be at least 1, not {v.value}",
                "use a positive whole number",
            )
            return None
        return self.r.integer(v, where)

    def caller_id(self, v: Value | None) -> str | None:
        s = self.r.string(v, "caller_id")
        if s is None:
            return None
        try:
            num = phonenumbers.parse(s, None)
            ok = phonenumbers.is_valid_number(num)
        except phonenumbers.NumberParseException:
            ok = False
        if not ok:
            self.r.report(
                v.pos,
                "VF505",
                f"caller_id {s!r} is not a valid phone number",
                "write it in E.164, e.g. +12125550100",
            )
            return None
        return phonenumbers.format_number(num, phonenumbers.PhoneNumberFormat.E164)

    def rules(self, v: Value | None) -> list[ir.OutcomeRule]:
        if v is None:
            return []
        if not isinstance(v, Map):
            self.r.wrong(v, "rules", "a mapping of outcome: rule")
            return []
        out = []
        for k, val in self.r.names(v, "rule for outcome"):
            self.mark(("rule", k.raw), k)
            if isinstance(val, Scalar):
                action = self.r.choice(
                    val, f"rule for {k.raw}", ("final", "dnc", "callback", "retry")
                )
                if action == "retry":
                    self.r.report(
                        val.pos,
                        "VF504",
                        f"retry for {k.raw!r} has no delay and no cap",
                        "write retry after 15m max 3",
                    )
                    continue
                if action is not None:
                    out.append(ir.OutcomeRule(k.raw, action))
                continue
            m = self.r.mapping(
                val, f"rule for {k.raw}", allowed=("retry", "max"), required=("retry",), at=k.pos
            )
            if m is None:
                continue
            delay = self.r.duration_ms(m.get("retry"), "retry delay")
            cap = self.r.integer(m.get("max"), "max", minimum=1)
            if m.get("max") is None:
                self.r.report(
                    m.get("retry").pos if m.get("retry") else k.pos,
                    "VF504",
                    f"retry for {k.raw!r} has no cap",
                    "add max N (e.g. retry after 15m max 3)",
                )
                continue
            if delay is not None and cap is not None:
                out.append(ir.OutcomeRule(k.raw, "retry", delay, cap))
        return out

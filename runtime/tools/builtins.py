"""The built-in tools every flow may offer: call control, outcomes, opt-out, callback, knowledge.

Each returns a JSON-able dict. A ``message`` field, when present, is a sentence the agent may
say as is (the local provider speaks it; realtime models get it in the function output).
Opt-out and callback return only after the persistence write completed, so the agent never
confirms something that was not stored.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Annotated, Any
from zoneinfo import ZoneInfo

from pydantic import Field

from dsl.builtins import BUILTINS as DECLARED
from dsl.outcomes import BuiltinOutcome
from runtime.persistence import Callback, OptOut
from runtime.tools.registry import Registry, ToolContext, ToolError

BUILTINS = Registry(declared=DECLARED)
"""The handlers of the built-ins declared in ``dsl.builtins`` (the compiler checks calls there)."""


@BUILTINS.tool
async def end_call(
    ctx: ToolContext,
    outcome: Annotated[
        str | None, Field(description="The call's outcome, from the agent's vocabulary")
    ] = None,
) -> dict[str, Any]:
    """Hang up the call, optionally naming its outcome."""
    if outcome is not None and outcome not in ctx.outcomes:
        raise ToolError(f"unknown outcome {outcome!r}; expected one of {sorted(ctx.outcomes)}")
    return {"ended": True, "outcome": outcome}


@BUILTINS.tool
async def transfer(
    ctx: ToolContext,
    reason: Annotated[str, Field(description="Why the caller wants a human")] = "",
) -> dict[str, Any]:
    """Transfer the caller to a human (the campaign's transfer number)."""
    to = ctx.campaign.get("transfer_to") or ctx.contact.get("transfer_to")
    if not to:
        raise ToolError("no transfer number configured (campaign.transfer_to)")
    return {"to": str(to), "reason": reason}


@BUILTINS.tool
async def set_outcome(
    ctx: ToolContext,
    outcome: Annotated[str, Field(description="The call's outcome, from the agent's vocabulary")],
) -> dict[str, Any]:
    """Record the call's outcome without hanging up."""
    if outcome not in ctx.outcomes:
        raise ToolError(f"unknown outcome {outcome!r}; expected one of {sorted(ctx.outcomes)}")
    return {"outcome": outcome}


@BUILTINS.tool
async def opt_out(
    ctx: ToolContext,
    reason: Annotated[str, Field(description="What the caller said, in a few words")] = "",
) -> dict[str, Any]:
    """Put the caller on the do-not-call list (stored before the agent confirms)."""
    phone = str(ctx.contact.get("phone") or "")
    if not phone:
        raise ToolError("the contact has no phone number to opt out")
    contact_id = ctx.contact.get("id")
    await ctx.persistence.add_opt_out(
        OptOut(
            phone=phone,
            call_id=ctx.call_id,
            at=ctx.now,
            reason=reason,
            contact_id=None if contact_id is None else str(contact_id),
        )
    )
    return {
        "opted_out": True,
        "outcome": BuiltinOutcome.OPTED_OUT.value,
        "message": "You won't be called again. Goodbye.",
    }


DEFAULT_CALLBACK_DELAY = timedelta(hours=1)


def _first_allowed(ctx: ToolContext, after: datetime) -> datetime | None:
    campaign = ctx.flow.campaign
    if campaign is None or not campaign.windows:
        return after
    from runtime.campaign.windows import next_open

    return next_open(after, ctx.tz, campaign.windows, ctx.closed_dates)


def _spoken(at: datetime) -> str:
    return at.strftime("%A %B %-d at %-I:%M %p")


@BUILTINS.tool
async def schedule_callback(
    ctx: ToolContext,
    when: Annotated[
        str | None,
        Field(
            description="When to call back: ISO 8601 (contact's local time if no offset) "
            "or words such as 'tomorrow at 3pm'; omit to let us pick the next possible time"
        ),
    ] = None,
    reason: Annotated[str, Field(description="Why, and anything the caller wants us to know")] = "",
) -> dict[str, Any]:
    """Schedule a call back at a time the caller asked for, within the calling windows.

    A time in the past or outside the campaign's calling windows is not scheduled: the result
    says why and suggests the next allowed time. Without ``when``, the callback is set at the
    first allowed time at least ``DEFAULT_CALLBACK_DELAY`` from now.
    """
    from runtime.providers.local.slots import parse_datetime

    zone = ZoneInfo(ctx.tz)
    if when is None:
        at = _first_allowed(ctx, ctx.now + DEFAULT_CALLBACK_DELAY)
        if at is None:
            raise ToolError("no calling window opens in the coming months")
    else:
        parsed = parse_datetime(when, tz=ctx.tz, now=ctx.now)
        if parsed is None:
            raise ToolError(f"could not read a date and time in {when!r}")
        at = parsed
    at = at.astimezone(zone)
    if at <= ctx.now:
        return {
            "scheduled": False,
            "reason": "past",
            "message": "That time has already passed. When else would suit you?",
        }
    campaign = ctx.flow.campaign
    if campaign is not None and campaign.windows:
        from runtime.campaign.windows import next_open

        opens = next_open(at, ctx.tz, campaign.windows, ctx.closed_dates)
        if opens is None:
            return {
                "scheduled": False,
                "reason": "no_window",
                "message": "I'm afraid we can't call back at any time soon.",
            }
        if opens != at.astimezone(opens.tzinfo):
            suggested = opens.astimezone(zone)
            return {
                "scheduled": False,
                "reason": "outside_window",
                "suggested": suggested.isoformat(),
                "message": f"We can't call at that time. The next possible time is "
                f"{_spoken(suggested)}. Would that work?",
            }
    contact_id = ctx.contact.get("id")
    await ctx.persistence.add_callback(
        Callback(
            call_id=ctx.call_id,
            at=at,
            requested_at=ctx.now,
            phone=str(ctx.contact.get("phone") or ""),
            contact_id=None if contact_id is None else str(contact_id),
            note=reason,
        )
    )
    return {
        "scheduled": True,
        "at": at.isoformat(),
        "outcome": BuiltinOutcome.CALLBACK.value,
        "message": f"Alright, we'll call you back {_spoken(at)}.",
    }


@BUILTINS.tool
async def knowledge_search(
    ctx: ToolContext,
    query: Annotated[str, Field(description="The caller's question, in a few words")],
) -> dict[str, Any]:
    """Look up the answer to the caller's question in the agent's knowledge base."""
    kt = ctx.knowledge_tool
    if kt is None or ctx.knowledge is None:
        raise ToolError("this agent has no knowledge base")
    passages = await ctx.knowledge.search(kt.collection, query, kt.top_k)
    result: dict[str, Any] = {
        "passages": [{"text": p.text, "score": p.score, "source": p.source} for p in passages]
    }
    result["message"] = (
        passages[0].text if passages else "I'm sorry, I don't have that information."
    )
    return result

"""The do-not-call list. Numbers are normalised to E.164 (``region`` reads national ones)."""

from __future__ import annotations

from dataclasses import asdict
from typing import Annotated, Any

import asyncpg
import phonenumbers
from fastapi import APIRouter, Depends, HTTPException, Query, Response

from runtime.api import models
from runtime.api.auth import OPERATOR
from runtime.api.deps import db
from runtime.db import dnc

router = APIRouter(prefix="/dnc", tags=["do-not-call"], dependencies=[Depends(OPERATOR)])
Db = Annotated[asyncpg.Pool, Depends(db)]
Region = Annotated[
    str, Query(min_length=2, max_length=2, description="ISO region of national numbers")
]


def _e164(phone: str, region: str) -> str:
    try:
        number = phonenumbers.parse(phone, region.upper())
    except phonenumbers.NumberParseException as exc:
        raise HTTPException(
            422, detail={"code": "invalid_phone", "message": f"{phone!r}: {exc}"}
        ) from None
    if not phonenumbers.is_valid_number(number):
        raise HTTPException(
            422, detail={"code": "invalid_phone", "message": f"{phone!r} is not a valid number"}
        )
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


@router.get("", response_model=list[models.DncOut])
async def list_entries(
    pool: Db,
    after: Annotated[str | None, Query(description="last phone of the previous page")] = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
) -> Any:
    return [asdict(e) for e in await dnc.list_dnc(pool, limit=limit, after=after)]


@router.get("/{phone}", response_model=models.DncOut, responses={404: {"model": models.Problem}})
async def get_entry(phone: str, pool: Db, region: Region = "US") -> Any:
    entry = await dnc.get_dnc(pool, _e164(phone, region))
    if entry is None:
        raise HTTPException(404, detail={"code": "not_listed", "message": f"{phone} is not listed"})
    return asdict(entry)


@router.put(
    "/{phone}",
    response_model=models.DncOut,
    responses={
        201: {"model": models.DncOut, "description": "Listed"},
        422: {"model": models.Problem},
    },
)
async def add_entry(
    phone: str,
    pool: Db,
    response: Response,
    body: models.DncIn | None = None,
    region: Region = "US",
) -> Any:
    """Idempotent: listing a listed number keeps the first entry (200); a new one gives 201."""
    e164 = _e164(phone, region)
    added = await dnc.add_dnc(pool, e164, source="api", reason=body.reason if body else "")
    response.status_code = 201 if added else 200
    return asdict(await dnc.get_dnc(pool, e164))


@router.delete("/{phone}", status_code=204, responses={404: {"model": models.Problem}})
async def remove_entry(phone: str, pool: Db, region: Region = "US") -> None:
    if not await dnc.remove_dnc(pool, _e164(phone, region)):
        raise HTTPException(404, detail={"code": "not_listed", "message": f"{phone} is not listed"})

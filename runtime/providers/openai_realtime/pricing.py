"""Estimated cost of a Realtime call from the ``usage`` objects of ``response.done``.

List prices in USD per million tokens (OpenAI pricing page for ``gpt-realtime``, August 2025;
``gpt-realtime-mini`` October 2025). They change: treat ``cost_usd`` as an estimate and update
this table when the price list does. Unknown models are priced as ``gpt-realtime``.
"""

from __future__ import annotations

from typing import Any

from runtime.providers.base import Usage

# (text in, text cached in, text out, audio in, audio cached in, audio out)
PRICES: dict[str, tuple[float, float, float, float, float, float]] = {
    "gpt-realtime": (4.0, 0.4, 16.0, 32.0, 0.4, 64.0),
    "gpt-realtime-mini": (0.6, 0.06, 2.4, 10.0, 0.3, 20.0),
}


def _price(model: str) -> tuple[float, float, float, float, float, float]:
    for name in sorted(PRICES, key=len, reverse=True):
        if model.startswith(name):
            return PRICES[name]
    return PRICES["gpt-realtime"]


def add_usage(usage: Usage, raw: dict[str, Any] | None) -> None:
    """Add one ``response.done`` usage object to ``usage`` and update the cost estimate."""
    if not raw:
        return
    inp = raw.get("input_token_details") or {}
    out = raw.get("output_token_details") or {}
    cached = inp.get("cached_tokens_details") or {}
    usage.input_tokens += int(raw.get("input_tokens") or 0)
    usage.output_tokens += int(raw.get("output_tokens") or 0)
    usage.input_audio_tokens += int(inp.get("audio_tokens") or 0)
    usage.output_audio_tokens += int(out.get("audio_tokens") or 0)
    usage.cached_tokens += int(inp.get("cached_tokens") or 0)
    t_in, t_cin, t_out, a_in, a_cin, a_out = _price(usage.model)
    text_in = int(inp.get("text_tokens") or 0)
    audio_in = int(inp.get("audio_tokens") or 0)
    cached_text = int(cached.get("text_tokens") or 0)
    cached_audio = int(cached.get("audio_tokens") or 0)
    cost = (
        (text_in - cached_text) * t_in
        + cached_text * t_cin
        + (audio_in - cached_audio) * a_in
        + cached_audio * a_cin
        + int(out.get("text_tokens") or 0) * t_out
        + int(out.get("audio_tokens") or 0) * a_out
    ) / 1_000_000
    usage.cost_usd = round(usage.cost_usd + cost, 6)

"""Reading the provider settings, the knowledge tool and the HTTP tools of an agent.

A mixin of ``dsl.build``'s builder: it uses the builder's ``Reader`` (``self.r``), its source
map (``self.mark``, ``self.map``) and its template and expression readers.
"""

from __future__ import annotations

from dsl import ir
from dsl.ast import Map, Scalar, Value
from dsl.providers import EAGERNESS, OPENAI_VOICES, PROVIDER_NAMES, VOICED
from dsl.reader import Reader
from dsl.source_map import SourceMap

TURN_KEYS = ("turn_detection", "vad_threshold", "eagerness", "silence", "prefix_padding")
"""The turn detection keys, in ``provider`` (the agent's) and in a node's ``turn``."""


class ToolReader:
    r: Reader
    map: SourceMap

    def provider(self, v: Value | None) -> ir.ProviderSettings:
        keys = ("voice", "language", *TURN_KEYS, "fallback", "apology")
        m = self.r.mapping(v, "provider", allowed=keys)
        if m is None:
            return ir.ProviderSettings()
        fallback = []
        for s in self.r.strings(m.get("fallback"), "provider fallback"):
            if s.raw not in PROVIDER_NAMES:
                self.r.report(
                    s.pos,
                    "VF202",
                    f"unknown provider {s.raw!r}",
                    f"use one of {', '.join(PROVIDER_NAMES)}",
                )
            else:
                fallback.append(s.raw)
        turn = self.turn(m, None)
        voice, voices = self.voices(m.get("voice"), fallback)
        return ir.ProviderSettings(
            voice=voice,
            voices=voices,
            language=self.r.string(m.get("language"), "language") or "en-US",
            turn_detection=turn.mode or "server_vad",
            vad_threshold=turn.vad_threshold,
            eagerness=turn.eagerness,
            silence_duration_ms=turn.silence_ms,
            prefix_padding_ms=turn.prefix_padding_ms,
            fallback=tuple(fallback),
            apology=self.template(m.get("apology"), "apology"),
        )

    def voices(
        self, v: Value | None, fallback: list[str]
    ) -> tuple[str | None, tuple[tuple[str, str], ...]]:
        """``voice: marin`` (shared) or ``voice: {openai: marin, ultravox: Mark}`` (per provider).

        Provider voice names differ, so a shared voice must be one OpenAI documents, and a flow
        that falls back to Ultravox names Ultravox's voice apart (an OpenAI name would make
        Ultravox refuse the call).
        """
        if v is None:
            return None, ()
        if isinstance(v, Map):
            pairs: list[tuple[str, str]] = []
            for key, val in v.entries:
                voice = self.r.string(val, f"{key.raw} voice")
                if key.raw not in VOICED:
                    self.r.report(key.pos, "VF206", f"{key.raw!r} takes no voice",
                                  "name voices for openai or ultravox")  # fmt: skip
                elif voice is not None:
                    self._openai_voice(key.raw, voice, val)
                    pairs.append((key.raw, voice))
            return None, tuple(sorted(pairs))
        voice = self.r.string(v, "voice")
        if voice is None:
            return None, ()
        if voice not in OPENAI_VOICES:
            self.r.report(
                v.pos,
                "VF206",
                f"{voice!r} is not an OpenAI Realtime voice, and one voice goes to every provider",
                "name each provider's voice: voice: {openai: marin, ultravox: <an Ultravox voice>}",
            )
        elif "ultravox" in fallback:
            self.r.report(
                v.pos,
                "VF206",
                f"the OpenAI voice {voice!r} would go to Ultravox too, which would refuse the call",
                f"name each provider's voice: voice: {{openai: {voice}, ultravox: <an Ultravox voice>}}",
            )
        return voice, ()

    def _openai_voice(self, provider: str, voice: str, v: Value) -> None:
        if provider == "openai" and voice not in OPENAI_VOICES:
            self.r.report(
                v.pos,
                "VF206",
                f"OpenAI Realtime has no voice {voice!r}",
                "use one of " + ", ".join(sorted(OPENAI_VOICES)),
            )

    def turn(self, m: Map, agent: ir.TurnDetection | None) -> ir.TurnDetection:
        """The turn detection keys of ``m``: the agent's (``agent`` is ``None``) or a node's
        (checked against the mode it inherits from ``agent``).

        ``none`` (the client commits each turn itself) is refused: no voxflow provider does
        client-side end-of-speech detection, so the agent would never hear the caller.
        ``vad_threshold`` belongs to server VAD only (semantic VAD decides by meaning, not
        level), ``eagerness`` to semantic VAD only; ``silence`` is server VAD's
        ``silence_duration_ms`` and Ultravox's ``turnEndpointDelay``, so it stands with either;
        ``prefix_padding`` is server VAD's ``prefix_padding_ms``.
        """
        threshold = self.r.number(m.get("vad_threshold"), "vad_threshold")
        silence = self.r.duration_ms(m.get("silence"), "silence")
        padding = self.r.duration_ms(m.get("prefix_padding"), "prefix_padding")
        eagerness = self.r.choice(m.get("eagerness"), "eagerness", EAGERNESS)
        v = m.get("turn_detection")
        mode = self.r.choice(v, "turn_detection", ("server_vad", "semantic_vad", "none"))
        if mode == "none" and v is not None:
            self.r.report(
                v.pos,
                "VF204",
                "turn_detection none leaves the agent deaf: nothing would end the caller's turns",
                "use server_vad (pauses) or semantic_vad (meaning)",
            )
            mode = None
        inherited = agent is not None and mode is None
        effective = mode or (agent.mode if agent is not None else None) or "server_vad"
        whose = " (the agent's)" if inherited else ""
        agent_mode = f" (the agent uses {effective})" if inherited else ""
        if threshold is not None:
            at = m.get("vad_threshold")
            assert at is not None
            if effective == "semantic_vad":
                self.r.report(
                    at.pos,
                    "VF205",
                    f"vad_threshold has no effect with semantic_vad{whose}",
                    "remove vad_threshold, or use turn_detection server_vad",
                )
            elif not 0.0 <= threshold <= 1.0:
                self.r.report(
                    at.pos,
                    "VF205",
                    f"vad_threshold {threshold:g} is outside 0 to 1",
                    "use a level between 0 and 1 (0.5 by default; higher needs louder speech)",
                )
        if eagerness is not None and effective != "semantic_vad":
            at = m.get("eagerness")
            assert at is not None
            self.r.report(
                at.pos,
                "VF205",
                f"eagerness has no effect without semantic_vad{agent_mode}",
                "add turn_detection semantic_vad, or remove eagerness",
            )
        if padding is not None:
            at = m.get("prefix_padding")
            assert at is not None
            if effective != "server_vad":
                self.r.report(
                    at.pos,
                    "VF205",
                    f"prefix_padding has no effect with semantic_vad{whose}",
                    "remove prefix_padding, or use turn_detection server_vad",
                )
            elif padding > 5_000:
                self.r.report(
                    at.pos,
                    "VF205",
                    f"prefix_padding {padding} ms is more audio than a turn's start needs",
                    "use up to 5s (300ms by default)",
                )
        if silence is not None and not 0 < silence <= 10_000:
            at = m.get("silence")
            assert at is not None
            self.r.report(
                at.pos,
                "VF205",
                f"silence {silence} ms is not a usable end-of-turn pause",
                "use a pause between 0.1s and 10s (500ms by default)",
            )
        return ir.TurnDetection(
            mode=mode if agent is not None else effective,  # type: ignore[arg-type]
            vad_threshold=threshold if effective == "server_vad" else None,
            eagerness=eagerness if effective == "semantic_vad" else None,  # type: ignore[arg-type]
            silence_ms=silence,
            prefix_padding_ms=padding if effective == "server_vad" else None,
        )

    def knowledge(self, v: Value | None) -> ir.KnowledgeTool | None:
        if isinstance(v, Scalar) and v.tag == "str":
            return ir.KnowledgeTool(v.raw)
        m = self.r.mapping(
            v, "knowledge", allowed=("collection", "top_k"), required=("collection",)
        )
        if m is None:
            return None
        coll = self.r.string(m.get("collection"), "knowledge collection")
        top_k = self.r.integer(m.get("top_k"), "top_k", minimum=1)
        if coll is None:
            return None
        return ir.KnowledgeTool(coll, 3 if top_k is None else top_k)

    def tools(self, v: Value | None) -> list[ir.HttpTool]:
        if v is None:
            return []
        if not isinstance(v, Map):
            self.r.wrong(v, "tools", "a mapping of tool name: definition")
            return []
        out = []
        for k, val in self.r.names(v, "tool"):
            if k.raw in ir.BUILTIN_TOOLS:
                self.r.report(
                    k.pos,
                    "VF211",
                    f"tool {k.raw!r} is a built-in tool",
                    "give your tool another name",
                )
                continue
            tool = self.http_tool(k, val)
            if tool is not None:
                out.append(tool)
        return out

    def http_tool(self, key: Scalar, v: Value) -> ir.HttpTool | None:
        keys = (
            "method",
            "url",
            "description",
            "params",
            "headers",
            "body",
            "timeout",
            "retries",
            "response",
            "on_error",
        )
        m = self.r.mapping(v, f"tool {key.raw!r}", allowed=keys, required=("url",), at=key.pos)
        if m is None:
            return None
        self.mark(("tool", key.raw), key)
        params = self.fields(m.get("params"), "param", f"tool:{key.raw}")
        site = {"tool": key.raw, "extra": {p.name: p.type for p in params}}
        method = (
            self.r.choice(m.get("method"), "method", ("GET", "POST", "PUT", "PATCH", "DELETE"))
            or "GET"
        )
        url = self.template(m.get("url"), "url", **site)
        headers = []
        hm = m.get("headers")
        if hm is not None and not isinstance(hm, Map):
            self.r.wrong(hm, "headers", "a mapping of header: value")
        elif hm is not None:
            for hk, hv in self.r.names(hm, "header"):
                t = self.template(hv, f"header {hk.raw}", **site)
                if t is not None:
                    headers.append((hk.raw, t))
        response = []
        rm = m.get("response")
        if rm is not None and not isinstance(rm, Map):
            self.r.wrong(rm, "response", "a mapping of field: path")
        elif rm is not None:
            for rk, rv in self.r.names(rm, "response field"):
                path = self.r.string(rv, f"response field {rk.raw}")
                if path is not None:
                    response.append((rk.raw, path))
        on_error = self.r.name(m.get("on_error"), "on_error")
        self.mark(("tool", key.raw, "on_error"), m.get("on_error"))
        timeout = self.r.duration_ms(m.get("timeout"), "timeout")
        retries = self.r.integer(m.get("retries"), "retries")
        if url is None:
            return None
        return ir.HttpTool(
            name=key.raw,
            description=self.r.string(m.get("description"), "description") or "",
            method=method,
            url=url,
            params=tuple(params),
            headers=tuple(headers),
            body=self.template(m.get("body"), "body", **site),
            timeout_ms=5000 if timeout is None else timeout,
            retries=0 if retries is None else retries,
            response=tuple(response),
            on_error=on_error,
        )

"""The OpenAI Realtime adapter where the service races it: server responses, barge-in, audio in
flight after a cancel, failed transcriptions, rate limits (strict stand-in, not the service)."""

from __future__ import annotations

import asyncio

from runtime.engine.events import ToolSpec, UpdateSession
from runtime.providers.base import (
    AgentAudio,
    AgentTranscript,
    CallerSpeechStarted,
    CallSetup,
    ProviderError,
    ResponseDone,
    TranscriptionFailed,
)
from runtime.providers.openai_realtime import OpenAIRealtimeProvider
from telephony.audio.frames import AudioFrame
from tests.standins.harness import tone
from tests.standins.openai_realtime import OpenAIRealtimeStandin, RealtimeCall

GREET = UpdateSession("You are Ava.", (ToolSpec("confirms", "The caller confirms"),))
WAIT_S = 15
"""Longest a test waits for the adapter (a lost event fails the test instead of hanging)."""
LONG = "one two three four five six seven eight nine ten eleven twelve"


def provider(standin: OpenAIRealtimeStandin) -> OpenAIRealtimeProvider:
    return OpenAIRealtimeProvider(api_key="sk-standin", base_url=standin.base_url)


async def caller_speaks(p: OpenAIRealtimeProvider, ms: int = 300) -> None:
    """20 ms frames: a little silence, ``ms`` of speech, then 700 ms of silence."""
    for chunk in (bytes(320), tone(ms, 8000), bytes(16 * 700)):
        for i in range(0, len(chunk), 320):
            await p.send_audio(AudioFrame(chunk[i : i + 320], 8000))
            await asyncio.sleep(0)


async def cut_short(call: RealtimeCall) -> None:
    """The model answers the first request at length; the caller speaks over it."""
    await call.next_event("response.create")
    turn = asyncio.create_task(call.caller_turn("stop"))
    await call.speak(LONG, audio_ms=3000, pace=0.03)
    await turn


async def saying(standin: OpenAIRealtimeStandin, text: str) -> OpenAIRealtimeProvider:
    """A started adapter that has asked to say ``text``."""
    p = provider(standin)
    await p.start(CallSetup("c1", first=GREET))
    await p.say(text)
    return p


def said(create: dict) -> str:
    return create["response"]["instructions"].split("\n", 1)[1]


async def test_a_say_pre_empted_by_a_server_response_is_spoken_once_after_it() -> None:
    async def script(call: RealtimeCall) -> None:
        call.pre_empt_creates = 1
        await call.next_event("response.create", 0)
        await call.speak("The server's own reply", audio_ms=100)  # fills the server's response
        await call.speak(said(await call.next_event("response.create", 1)), audio_ms=100)

    async with OpenAIRealtimeStandin(script) as standin:
        async with asyncio.timeout(WAIT_S):
            p = provider(standin)
            await p.start(CallSetup("c1", first=GREET))
            await p.say("Your appointment is on Tuesday.")
            transcripts: list[AgentTranscript] = []
            async for event in p.events():
                if isinstance(event, AgentTranscript):
                    transcripts.append(event)
                if len(transcripts) == 2:
                    break
            await asyncio.sleep(0.2)
            call = standin.calls[0]
            await p.hangup()
    assert [(t.text, t.verbatim) for t in transcripts] == [
        ("The server's own reply", False),
        ("Your appointment is on Tuesday.", True),
    ]
    creates = call.of_type("response.create")
    assert len(creates) == 2 and creates[0]["event_id"] == creates[1]["event_id"]
    assert [r["origin"] for r in call.responses] == ["server", "client"]
    assert call.responses[1]["metadata"]["voxflow"] == "say"
    assert not standin.errors


async def test_no_audio_of_a_cancelled_response_reaches_the_caller() -> None:
    async with OpenAIRealtimeStandin(cut_short) as standin:
        async with asyncio.timeout(WAIT_S):
            p = await saying(standin, LONG)
            events = p.events()
            first = await anext(e async for e in events if isinstance(e, AgentAudio))
            talking = asyncio.create_task(caller_speaks(p))
            after_cut: list[object] = []
            barged = False
            async for event in events:
                if isinstance(event, CallerSpeechStarted):
                    barged = True
                    await p.interrupted(first.item_id, 400)  # as the bridge reports it
                elif barged:
                    after_cut.append(event)
                if isinstance(event, ResponseDone):
                    break
            await talking
            call = standin.calls[0]
            await p.hangup()
    assert not [e for e in after_cut if isinstance(e, AgentAudio)]
    assert p.usage.dropped_audio_ms >= call.cancel_tail_ms  # audio did arrive after the cancel
    assert after_cut[-1] == ResponseDone("cancelled")
    cancel = call.of_type("response.cancel")
    assert len(cancel) == 1 and cancel[0]["response_id"] == call.responses[0]["id"]
    assert not [e for e in standin.sent if e["type"] == "error"]


async def test_caller_speech_cancels_a_response_that_has_sent_no_audio_yet() -> None:
    async def script(call: RealtimeCall) -> None:
        await call.next_event("response.create")  # opened; the model is still thinking
        await call.caller_turn("wait")

    async with OpenAIRealtimeStandin(script) as standin:
        async with asyncio.timeout(WAIT_S):
            p = provider(standin)
            await p.start(CallSetup("c1", first=GREET))
            await p.respond()
            await caller_speaks(p)
            events: list[object] = []
            async for event in p.events():
                events.append(event)
                if isinstance(event, ResponseDone):
                    break
            call = standin.calls[0]
            await p.hangup()
    assert isinstance(events[0], CallerSpeechStarted) and events[-1] == ResponseDone("cancelled")
    done = next(e for e in standin.sent if e["type"] == "response.done")
    assert done["response"]["status_details"]["reason"] == "client_cancelled"
    assert call.responses[0]["metadata"]["voxflow"] == "respond"


async def test_the_transcript_of_a_cut_turn_keeps_only_what_the_caller_heard() -> None:
    async with OpenAIRealtimeStandin(cut_short) as standin:
        async with asyncio.timeout(WAIT_S):
            p = await saying(standin, LONG)
            events = p.events()
            received = 0
            async for event in events:
                if isinstance(event, AgentAudio):
                    item_id, received = event.item_id, received + int(event.frame.duration_ms)
                if received >= 1000:
                    break
            talking = asyncio.create_task(caller_speaks(p))
            async for event in events:
                if isinstance(event, CallerSpeechStarted):
                    await p.interrupted(item_id, 750)  # a quarter of the 3 s turn
                if isinstance(event, AgentTranscript):
                    transcript = event
                    break
            await talking
            call = standin.calls[0]
            await p.hangup()
    assert transcript.interrupted and transcript.verbatim
    # whole words from the start, no more than the quarter that was played
    assert transcript.text and LONG.startswith(transcript.text + " ")
    assert len(transcript.text) <= len(LONG) // 4
    truncate = call.of_type("conversation.item.truncate")[0]
    assert truncate["audio_end_ms"] == 750 and truncate["item_id"] == item_id


async def test_say_lines_queued_behind_a_cut_turn_are_dropped_and_reported() -> None:
    async def script(call: RealtimeCall) -> None:
        await call.next_event("response.create")
        turn = asyncio.create_task(call.caller_turn("no"))
        await call.speak(LONG, audio_ms=3000, pace=0.03)
        await turn
        await call.speak("Sorry, go ahead.")  # the server's answer to the caller

    async with OpenAIRealtimeStandin(script) as standin:
        async with asyncio.timeout(WAIT_S):
            p = provider(standin)
            await p.start(CallSetup("c1", first=GREET))
            await p.say(LONG)
            await p.say("And one more thing.")
            events = p.events()
            await anext(e async for e in events if isinstance(e, AgentAudio))
            talking = asyncio.create_task(caller_speaks(p))
            transcripts: list[AgentTranscript] = []
            async for event in events:
                if isinstance(event, AgentTranscript):
                    transcripts.append(event)
                if len(transcripts) == 3:
                    break
            await talking
            await asyncio.sleep(0.2)
            call = standin.calls[0]
            await p.hangup()
    dropped, cut, reply = transcripts
    assert dropped == AgentTranscript("", "", verbatim=True, interrupted=True)
    # no played ms from the bridge: all the audio handed over counts as heard
    assert cut.interrupted and cut.verbatim and LONG.startswith(cut.text)
    assert reply.text == "Sorry, go ahead." and not reply.verbatim
    assert len(call.of_type("response.create")) == 1  # the queued say was never sent


async def test_a_failed_transcription_is_reported_and_the_servers_answer_to_it_cancelled() -> None:
    async def script(call: RealtimeCall) -> None:
        await call.caller_turn(transcription_fails=True)
        await call.speak("I think you said yes", audio_ms=1000, pace=0.03)

    async with OpenAIRealtimeStandin(script) as standin:
        async with asyncio.timeout(WAIT_S):
            p = provider(standin)
            await p.start(CallSetup("c1", first=GREET))
            await caller_speaks(p)
            events: list[object] = []
            async for event in p.events():
                events.append(event)
                if isinstance(event, ResponseDone):
                    break
            call = standin.calls[0]
            await p.hangup()
    unheard = [e for e in events if isinstance(e, TranscriptionFailed)]
    assert unheard == [TranscriptionFailed("transcription failed: audio_unintelligible")]
    assert call.of_type("response.cancel") and events[-1] == ResponseDone("cancelled")
    assert not [e for e in events if isinstance(e, AgentAudio)]


async def test_rate_limits_are_kept_and_handled_errors_counted() -> None:
    async def script(call: RealtimeCall) -> None:
        await call.next_event("response.create")
        await call.speak("Hello", audio_ms=100)
        await call.error("Cancellation failed: no active response found.",
                         "response_cancel_not_active")  # fmt: skip
        await call.error("bad truncate", "invalid_value")

    async with OpenAIRealtimeStandin(script) as standin:
        async with asyncio.timeout(WAIT_S):
            p = provider(standin)
            await p.start(CallSetup("c1", first=GREET))
            await p.respond()
            events: list[object] = []
            async for event in p.events():
                events.append(event)
                if isinstance(event, ProviderError):
                    break
            await p.hangup()
    assert p.usage.rate_limits == {"requests": 4999, "tokens": 398000}
    assert p.usage.errors == 2
    # the late cancel is expected and harmless; the other is reported
    assert [e for e in events if isinstance(e, ProviderError)] == [
        ProviderError(
            "openai error invalid_request_error/invalid_value: bad truncate",
            False,
            code="invalid_value",
        )
    ]

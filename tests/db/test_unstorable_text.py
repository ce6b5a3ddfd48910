"""A call's records are stored whatever characters the caller, the contact or a tool produced."""

from __future__ import annotations

from runtime.db import calls


async def test_transcript_and_tool_calls_with_nul_and_lone_surrogates_are_stored(pg_pool):
    await calls.start_call(pg_pool, "call-nul", campaign="c")
    await calls.append_transcript(
        pg_pool,
        "call-nul",
        [
            calls.Turn(0, "agent", "Hello Ana\x00, this is Ava"),
            calls.Turn(1, "caller", "yes \ud83d", data={"k\x00": ["\udfff"]}),
        ],
    )
    await calls.record_tool_call(
        pg_pool, "call-nul", "t1", name="lookup", arguments={"id": "a\x00"}, result="\ud800"
    )
    await calls.end_call(pg_pool, "call-nul", outcome="completed", error="bad \x00 byte")
    detail = await calls.get_call(pg_pool, "call-nul")
    assert [t.text for t in detail.transcript] == ["Hello Ana\ufffd, this is Ava", "yes \ufffd"]
    assert detail.transcript[1].data == {"k\ufffd": ["\ufffd"]}
    assert detail.tool_calls[0].arguments == {"id": "a\ufffd"}
    assert detail.call.error == "bad \ufffd byte"

"""The Ultravox stand-in refuses what the service would: undocumented messages and fields, and
a new stage that changes what only call creation sets."""

from __future__ import annotations

import json

from tests.standins.ultravox import message_problems


def test_documented_client_messages_pass() -> None:
    assert (
        message_problems({"type": "forced_agent_message", "content": "Hi", "urgency": "soon"}) == []
    )
    stage = json.dumps({"systemPrompt": "Next.", "selectedTools": []})
    assert message_problems({"type": "client_tool_result", "invocationId": "i1", "result": stage,
                             "responseType": "new-stage", "agentReaction": "listens"}) == []  # fmt: skip


def test_unknown_messages_fields_and_values_are_refused() -> None:
    assert message_problems({"type": "input_audio"}) == [
        "unknown client message type 'input_audio'"
    ]
    assert message_problems({"type": "hang_up", "reason": "bye"}) == [
        "hang_up.reason: not a documented field"
    ]
    assert message_problems({"type": "user_text_message", "text": "x", "urgency": "now"}) == [
        "user_text_message.urgency: 'now'"
    ]


def test_a_new_stage_cannot_change_what_only_call_creation_sets() -> None:
    stage = json.dumps({"systemPrompt": "Next.", "model": "ultravox-v0.7", "medium": {}})
    problems = message_problems({"type": "client_tool_result", "invocationId": "i1",
                                 "result": stage, "responseType": "new-stage"})  # fmt: skip
    assert sorted(problems) == [
        "new stage: 'medium' cannot change in a stage",
        "new stage: 'model' cannot change in a stage",
    ]

"""The provider settings a flow asks for are checked at compile time (VF204, VF205)."""

from __future__ import annotations

from dsl import compile_source

FLOW = """\
agent t
  persona "Hi"
  outcomes done
  start a
  provider
{provider}
  node a
    say "Hello"
    end done
"""


def compile_with(*lines: str):
    return compile_source(FLOW.format(provider="\n".join("    " + x for x in lines)), file="t.flow")


def where(result, code: str) -> list[tuple[int, int]]:
    return [(d.line, d.col) for d in result.diagnostics if d.code == code]


def test_turn_detection_none_is_refused_where_it_is_written():
    result = compile_with("turn_detection none")
    assert where(result, "VF204") == [(6, 20)] and result.flow is None


def test_vad_threshold_with_semantic_vad_or_out_of_range_is_vf205():
    assert where(compile_with("turn_detection semantic_vad", "vad_threshold 0.6"), "VF205") == [
        (7, 19)
    ]
    assert where(compile_with("vad_threshold 1.5"), "VF205") == [(6, 19)]


def test_server_and_semantic_vad_settings_compile_into_the_ir():
    server = compile_with("turn_detection server_vad", "vad_threshold 0.7", "silence 800ms")
    assert server.diagnostics == () and server.flow is not None
    settings = server.flow.agent.provider
    assert (settings.turn_detection, settings.vad_threshold, settings.silence_duration_ms) == (
        "server_vad",
        0.7,
        800,
    )
    semantic = compile_with("turn_detection semantic_vad", "silence 800ms")
    assert semantic.diagnostics == () and semantic.flow is not None
    assert semantic.flow.agent.provider.turn_detection == "semantic_vad"


def test_each_provider_gets_its_own_voice_and_openai_voices_are_checked():
    result = compile_with('voice openai "marin" ultravox "Mark"', "fallback ultravox")
    assert result.diagnostics == () and result.flow is not None
    settings = result.flow.agent.provider
    assert settings.voice_for("openai") == "marin" and settings.voice_for("ultravox") == "Mark"
    assert where(compile_with('voice openai "Mark"'), "VF206") == [(6, 18)]
    assert where(compile_with('voice local "x"'), "VF206") == [(6, 11)]


def test_one_voice_for_every_provider_must_suit_them_all():
    assert where(compile_with('voice "Mark"'), "VF206") == [(6, 11)]
    assert where(compile_with('voice "alloy"', "fallback ultravox"), "VF206") == [(6, 11)]
    alone = compile_with('voice "alloy"')
    assert alone.diagnostics == () and alone.flow is not None


def test_per_provider_voices_in_yaml_and_back_through_the_formatter():
    from dsl.format import to_flow
    from dsl.format_yaml import to_yaml

    flow = compile_with('voice openai "cedar" ultravox "Jessica"').unwrap()
    for text, name in ((to_flow(flow), "t.flow"), (to_yaml(flow), "t.flow.yaml")):
        again = compile_source(text, file=name).unwrap()
        assert again.hash == flow.hash
        assert again.agent.provider.voices == (("openai", "cedar"), ("ultravox", "Jessica"))


def test_semantic_vad_eagerness_reaches_the_openai_session_and_is_checked():
    from runtime.providers.openai_realtime import initial_session

    flow = compile_with("turn_detection semantic_vad", "eagerness low").unwrap()
    session = initial_session(flow.agent.provider, "pcmu", "gpt-realtime")
    assert session["audio"]["input"]["turn_detection"] == {
        "type": "semantic_vad",
        "eagerness": "low",
        "create_response": True,
        "interrupt_response": False,
    }
    assert where(compile_with("eagerness high"), "VF205") == [(6, 15)]

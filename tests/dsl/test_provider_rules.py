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

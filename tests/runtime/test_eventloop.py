import asyncio
import importlib.util

import pytest
import uvloop

from runtime import eventloop


async def _loop_type() -> type:
    return type(asyncio.get_running_loop())


def test_auto_runs_on_uvloop_when_it_is_installed():
    assert eventloop.run(_loop_type(), "auto") is uvloop.Loop


def test_asyncio_runs_on_the_standard_library_loop():
    assert not issubclass(eventloop.run(_loop_type(), "asyncio"), uvloop.Loop)


def test_without_uvloop_auto_falls_back_and_uvloop_is_an_error(monkeypatch):
    real = importlib.util.find_spec
    monkeypatch.setattr(
        importlib.util, "find_spec", lambda name, *a: None if name == "uvloop" else real(name, *a)
    )
    assert eventloop.loop_factory("auto") is None
    with pytest.raises(RuntimeError, match="pip install uvloop"):
        eventloop.loop_factory("uvloop")


def test_the_setting_is_read_from_voxflow_event_loop(monkeypatch):
    from runtime.settings import SettingsError, load_settings

    monkeypatch.setenv("VOXFLOW_EVENT_LOOP", "asyncio")
    assert load_settings().event_loop == "asyncio"
    monkeypatch.setenv("VOXFLOW_EVENT_LOOP", "trio")
    with pytest.raises(SettingsError, match="VOXFLOW_EVENT_LOOP"):
        load_settings()


class _Node:
    def __init__(self) -> None:
        self.other: _Node | None = None


def test_settle_heap_frees_startup_garbage_and_hides_the_rest_from_full_collections():
    import gc
    import weakref

    garbage_a, garbage_b = _Node(), _Node()
    garbage_a.other, garbage_b.other = garbage_b, garbage_a  # a cycle only the collector frees
    dead = weakref.ref(garbage_a)
    del garbage_a, garbage_b
    kept = _Node()
    kept.other = kept
    try:
        frozen = eventloop.settle_heap()
        assert dead() is None  # collected first, not frozen
        assert frozen == gc.get_freeze_count() > 0
        assert not any(o is kept for o in gc.get_objects())  # out of every generation
        # A full collection now walks only what was allocated since.
        assert len(gc.get_objects()) < frozen
    finally:
        gc.unfreeze()
    assert any(o is kept for o in gc.get_objects())

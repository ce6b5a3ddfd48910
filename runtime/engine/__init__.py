"""The conversation engine: a pure state machine over the flow IR (events in, commands out)."""

from runtime.engine.engine import Engine, Limits, all_transitions, transition_key
from runtime.engine.state import EngineState

__all__ = ["Engine", "EngineState", "Limits", "all_transitions", "transition_key"]

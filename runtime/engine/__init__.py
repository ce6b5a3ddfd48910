"""The conversation engine: a pure state machine over the flow IR (events in, commands out)."""

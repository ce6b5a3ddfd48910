"""Protocol-faithful local stand-ins for the AI providers (OpenAI Realtime and chat
completions, Ultravox). They follow ``docs/protocols.md`` and are scripted per test; they are
stand-ins, never a claim about the live services."""

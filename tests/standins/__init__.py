"""Protocol-faithful local stand-ins for the AI providers (OpenAI Realtime and chat
completions, Ultravox). They follow PROTOCOLS.md §3–4 and are scripted per test; they are
stand-ins, never a claim about the live services."""

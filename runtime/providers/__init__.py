"""AI providers: the voice-provider interface (``base``), the OpenAI Realtime, Ultravox and local
voice adapters, the OpenAI and local text providers, fallback and the shared circuit breaker."""

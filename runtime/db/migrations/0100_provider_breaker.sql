-- Circuit breaker state per AI provider, shared by every worker (runtime/providers/breaker.py).
CREATE TABLE IF NOT EXISTS provider_breaker (
    provider          text PRIMARY KEY,
    state             text NOT NULL DEFAULT 'closed'
                      CHECK (state IN ('closed', 'open', 'half_open')),
    failures          integer NOT NULL DEFAULT 0 CHECK (failures >= 0),
    opened_at         timestamptz,
    trial_started_at  timestamptz,
    updated_at        timestamptz NOT NULL DEFAULT now()
);

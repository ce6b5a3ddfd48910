-- Core schema: flows, campaigns, contacts, attempts, calls and what happened in them.
-- Times are timestamptz (stored UTC); phone numbers are E.164 text; time zones are IANA names.
-- Attempts, calls, outcomes and callbacks name their campaign and contact by the same keys the
-- workflows use (campaign name, contact id from the contacts file), so activities write them
-- without lookups, and a call placed outside any imported campaign is still recorded.

CREATE EXTENSION IF NOT EXISTS vector;

CREATE TABLE flow_versions (
    hash        text PRIMARY KEY,                 -- 'sha256:<hex>' of the canonical IR JSON
    agent       text NOT NULL,
    ir          jsonb NOT NULL,
    created_at  timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE campaigns (
    name        text PRIMARY KEY,
    flow_hash   text NOT NULL REFERENCES flow_versions (hash),
    status      text NOT NULL DEFAULT 'draft'
                CHECK (status IN ('draft', 'running', 'paused', 'stopped', 'finished')),
    created_at  timestamptz NOT NULL DEFAULT now(),
    updated_at  timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE contacts (
    seq             bigint GENERATED ALWAYS AS IDENTITY,  -- import order; the paging cursor
    campaign        text NOT NULL REFERENCES campaigns (name) ON DELETE CASCADE,
    id              text NOT NULL,                -- the file's id column, else 'row<N>'
    phone           text NOT NULL,                -- E.164
    timezone        text NOT NULL,                -- IANA name
    name            text NOT NULL DEFAULT '',
    columns         jsonb NOT NULL DEFAULT '{}',  -- every cell of the row, as text
    fields          jsonb NOT NULL DEFAULT '{}',  -- the flow's context columns, coerced
    source_row      integer,                      -- row in the imported file (header = 1)
    status          text NOT NULL DEFAULT 'pending',
    outcome         text,
    attempts        integer NOT NULL DEFAULT 0,
    next_attempt_at timestamptz,
    updated_at      timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (campaign, id),
    UNIQUE (campaign, phone)
);
CREATE UNIQUE INDEX contacts_page ON contacts (campaign, seq);

-- One row per dial, written BEFORE the originate (status 'dialing'). The id is the attempt's
-- UUID (AMI ChannelId, AudioSocket UUID). Writing the same id twice is a no-op that tells the
-- caller the attempt was already recorded: dialling is at-most-once.
CREATE TABLE attempts (
    id          text PRIMARY KEY,
    campaign    text NOT NULL,
    contact     text NOT NULL,
    number      integer NOT NULL CHECK (number >= 1),
    phone       text NOT NULL,
    flow_hash   text,
    status      text NOT NULL DEFAULT 'dialing'
                CHECK (status IN ('dialing', 'answered', 'finished', 'unknown')),
    outcome     text,
    action      text,                             -- rule applied: retry, callback, dnc, final, window
    next_at     timestamptz,
    detail      text NOT NULL DEFAULT '',
    dialed_at   timestamptz NOT NULL DEFAULT now(),
    answered_at timestamptz,
    ended_at    timestamptz
);
CREATE INDEX attempts_contact ON attempts (campaign, contact, number);

CREATE TABLE calls (
    id          text PRIMARY KEY,                 -- = attempt id for outbound calls
    direction   text NOT NULL DEFAULT 'outbound' CHECK (direction IN ('outbound', 'inbound')),
    campaign    text,
    contact     text,
    phone       text,                             -- the other party, E.164 when known
    flow_hash   text,
    provider    text,
    started_at  timestamptz NOT NULL DEFAULT now(),
    ended_at    timestamptz,
    outcome     text,
    node_path   text[] NOT NULL DEFAULT '{}',     -- nodes entered, in order
    turns       integer NOT NULL DEFAULT 0,
    duration_ms integer,
    error       text
);
CREATE INDEX calls_campaign ON calls (campaign, started_at DESC);

CREATE TABLE transcripts (
    call_id text NOT NULL REFERENCES calls (id) ON DELETE CASCADE,
    seq     integer NOT NULL,                     -- entry number within the call, from 0
    role    text NOT NULL CHECK (role IN ('caller', 'agent', 'tool', 'event', 'system')),
    node    text,                                 -- node the engine was in
    text    text NOT NULL,
    data    jsonb NOT NULL DEFAULT '{}',
    at      timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (call_id, seq)
);

CREATE TABLE tool_calls (
    call_id      text NOT NULL REFERENCES calls (id) ON DELETE CASCADE,
    tool_call_id text NOT NULL,                   -- the provider's or engine's id of the call
    name         text NOT NULL,
    node         text,
    arguments    jsonb NOT NULL DEFAULT '{}',
    result       jsonb,
    error        text,
    started_at   timestamptz NOT NULL DEFAULT now(),
    ended_at     timestamptz,
    PRIMARY KEY (call_id, tool_call_id)
);

CREATE TABLE do_not_call (
    phone       text PRIMARY KEY,                 -- E.164
    reason      text NOT NULL DEFAULT '',
    source      text NOT NULL CHECK (source IN ('api', 'call', 'import', 'cli', 'campaign')),
    campaign    text,
    contact     text,
    call_id     text,
    created_at  timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE callbacks (
    key          text PRIMARY KEY,                -- idempotency key: '<call id>:<due instant>'
    call_id      text,
    campaign     text,
    contact      text,
    phone        text NOT NULL DEFAULT '',
    due_at       timestamptz NOT NULL,
    requested_at timestamptz NOT NULL,
    note         text NOT NULL DEFAULT '',
    status       text NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'done', 'cancelled')),
    created_at   timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX callbacks_due ON callbacks (due_at) WHERE status = 'pending';

-- Every outcome recorded, one row per finished attempt (the attempts table is the truth).
CREATE VIEW outcomes AS
    SELECT a.campaign, a.contact, a.id AS attempt_id, a.number, a.outcome, a.action,
           a.next_at, a.ended_at AS at
    FROM attempts a
    WHERE a.outcome IS NOT NULL;

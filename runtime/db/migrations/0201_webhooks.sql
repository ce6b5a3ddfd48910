-- Webhooks: each tenant's endpoints, and a transactional outbox of the events they receive.
--
-- An event is written by the same transaction as the state change it reports (a call's end,
-- a contact settled, a number put on the do-not-call list), through ``voxflow_emit``: so an
-- event exists exactly when its change committed, and a crash between the two is impossible.
-- ``voxflow_emit`` also fans the event out into one delivery per enabled endpoint of the
-- tenant whose filter admits it. A dispatcher (runtime/webhooks/dispatcher.py) claims due
-- deliveries with SELECT ... FOR UPDATE SKIP LOCKED in the platform view and POSTs them; a
-- delivery that fails is retried with exponential backoff, then dead-lettered.
-- Tenant columns and row-level security as in 0200_tenants.sql.

CREATE TABLE webhooks (
    id         text PRIMARY KEY,
    tenant     text NOT NULL DEFAULT voxflow_tenant() REFERENCES tenants (id) ON DELETE CASCADE,
    url        text NOT NULL,
    secret     text NOT NULL,                 -- the HMAC key: signing needs it in clear
    events     text[] NOT NULL DEFAULT '{}',  -- empty: every event type
    enabled    boolean NOT NULL DEFAULT true,
    created_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX webhooks_tenant ON webhooks (tenant) WHERE enabled;

CREATE TABLE webhook_events (
    id         uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    tenant     text NOT NULL DEFAULT voxflow_tenant() REFERENCES tenants (id) ON DELETE CASCADE,
    type       text NOT NULL,
    subject    text NOT NULL,  -- what the event is about: one event per type and subject
    payload    jsonb NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now(),
    UNIQUE (tenant, type, subject)
);

CREATE TABLE webhook_deliveries (
    event_id     uuid NOT NULL REFERENCES webhook_events (id) ON DELETE CASCADE,
    webhook_id   text NOT NULL REFERENCES webhooks (id) ON DELETE CASCADE,
    tenant       text NOT NULL DEFAULT voxflow_tenant() REFERENCES tenants (id) ON DELETE CASCADE,
    attempts     integer NOT NULL DEFAULT 0,
    next_at      timestamptz NOT NULL DEFAULT now(),
    delivered_at timestamptz,
    dead_at      timestamptz,
    last_status  integer,
    last_error   text NOT NULL DEFAULT '',
    PRIMARY KEY (event_id, webhook_id)
);
CREATE INDEX webhook_deliveries_due ON webhook_deliveries (next_at)
    WHERE delivered_at IS NULL AND dead_at IS NULL;
CREATE INDEX webhook_deliveries_dead ON webhook_deliveries (tenant, webhook_id, dead_at)
    WHERE dead_at IS NOT NULL;

-- What the flow collected in the call (its slots), for ``call.completed``.
ALTER TABLE calls ADD COLUMN slots jsonb;

-- ``campaign.completed`` asks whether any contact of the campaign is still open.
CREATE INDEX contacts_open ON contacts (tenant, campaign) WHERE status NOT IN ('final', 'stopped');

DO $$
DECLARE
    t text;
BEGIN
    FOREACH t IN ARRAY ARRAY['webhooks', 'webhook_events', 'webhook_deliveries']
    LOOP
        EXECUTE format('ALTER TABLE %I ENABLE ROW LEVEL SECURITY', t);
        EXECUTE format('ALTER TABLE %I FORCE ROW LEVEL SECURITY', t);
        EXECUTE format(
            'CREATE POLICY tenant_rows ON %I USING (voxflow_platform() OR tenant = voxflow_tenant())'
            ' WITH CHECK (voxflow_platform() OR tenant = voxflow_tenant())', t);
        EXECUTE format('GRANT SELECT, INSERT, UPDATE, DELETE ON %I TO voxflow_app', t);
    END LOOP;
END
$$;

-- Record event ``p_type`` about ``p_subject`` for the current tenant, once: a repeated call
-- (an activity retried) returns NULL and adds nothing, and so does an event no enabled
-- endpoint of the tenant wants (a deployment without webhooks stores none). Runs with the
-- caller's rights, inside the caller's transaction.
CREATE FUNCTION voxflow_emit(p_type text, p_subject text, p_payload jsonb)
RETURNS uuid LANGUAGE plpgsql AS $$
DECLARE
    ev uuid;
BEGIN
    IF NOT EXISTS (SELECT 1 FROM webhooks w WHERE w.tenant = voxflow_tenant() AND w.enabled
                   AND (cardinality(w.events) = 0 OR p_type = ANY (w.events))) THEN
        RETURN NULL;
    END IF;
    INSERT INTO webhook_events (type, subject, payload) VALUES (p_type, p_subject, p_payload)
        ON CONFLICT (tenant, type, subject) DO NOTHING RETURNING id INTO ev;
    IF ev IS NULL THEN
        RETURN NULL;
    END IF;
    INSERT INTO webhook_deliveries (event_id, webhook_id, tenant)
        SELECT ev, w.id, w.tenant FROM webhooks w
        WHERE w.tenant = voxflow_tenant() AND w.enabled
          AND (cardinality(w.events) = 0 OR p_type = ANY (w.events));
    RETURN ev;
END
$$;

-- Tenants: many organisations on one deployment, isolated by PostgreSQL row-level security.
--
-- Every tenant-owned row carries a ``tenant`` column. The session setting ``voxflow.tenant``
-- says whom a connection acts for: the pool sets it on every acquire from the request's API
-- key or the workflow's id (runtime/db/pool.py, runtime/tenancy.py); unset or empty means the
-- default tenant, so a single-tenant deployment and its one-off scripts keep working; '*' is
-- the platform administrator's explicit view across tenants. The ``tenant`` columns default
-- to the setting, so no INSERT names them. Row-level security is forced on every table (its
-- owner included), and the application's pool switches to the role ``voxflow_app``, which is
-- neither superuser nor owner: no query it runs can see or change another tenant's rows.
-- Existing rows move into the tenant 'default'.

CREATE TABLE tenants (
    id              text PRIMARY KEY CHECK (id ~ '^[a-z0-9][a-z0-9-]{0,39}$'),
    name            text NOT NULL DEFAULT '',
    max_lines       integer CHECK (max_lines >= 1),       -- NULL: no cap of its own
    dial_per_minute integer CHECK (dial_per_minute >= 1), -- NULL: no cap of its own
    namespace       text,                                 -- Temporal namespace; NULL: the deployment's
    created_at      timestamptz NOT NULL DEFAULT now()
);
INSERT INTO tenants (id, name) VALUES ('default', 'Default tenant');

-- The tenant a statement acts for: NULL in the platform view ('*'), so an INSERT there must
-- name its tenant (NOT NULL catches it), except on the do-not-call list where NULL is the
-- platform-wide list.
CREATE FUNCTION voxflow_tenant() RETURNS text LANGUAGE sql STABLE PARALLEL SAFE AS $$
    SELECT CASE coalesce(current_setting('voxflow.tenant', true), '')
               WHEN '' THEN 'default'
               WHEN '*' THEN NULL
               ELSE current_setting('voxflow.tenant', true)
           END
$$;

CREATE FUNCTION voxflow_platform() RETURNS boolean LANGUAGE sql STABLE PARALLEL SAFE AS $$
    SELECT coalesce(current_setting('voxflow.tenant', true), '') = '*'
$$;

-- Flow versions are stored per tenant: two tenants may hold the same content hash, and one
-- never learns that the other stored it.
ALTER TABLE campaigns DROP CONSTRAINT campaigns_flow_hash_fkey;
ALTER TABLE contacts DROP CONSTRAINT contacts_campaign_fkey;
ALTER TABLE flow_versions ADD COLUMN tenant text NOT NULL DEFAULT 'default' REFERENCES tenants (id);
ALTER TABLE flow_versions DROP CONSTRAINT flow_versions_pkey CASCADE;
ALTER TABLE flow_versions ADD PRIMARY KEY (tenant, hash);

-- Campaign names are unique per tenant, so a name taken elsewhere tells a tenant nothing.
ALTER TABLE campaigns ADD COLUMN tenant text NOT NULL DEFAULT 'default' REFERENCES tenants (id);
ALTER TABLE campaigns DROP CONSTRAINT campaigns_pkey CASCADE;
ALTER TABLE campaigns ADD PRIMARY KEY (tenant, name);
ALTER TABLE campaigns ADD FOREIGN KEY (tenant, flow_hash) REFERENCES flow_versions (tenant, hash);

ALTER TABLE contacts ADD COLUMN tenant text NOT NULL DEFAULT 'default';
ALTER TABLE contacts DROP CONSTRAINT contacts_pkey;
ALTER TABLE contacts DROP CONSTRAINT contacts_campaign_phone_key;
DROP INDEX contacts_page;
ALTER TABLE contacts ADD PRIMARY KEY (tenant, campaign, id);
ALTER TABLE contacts ADD UNIQUE (tenant, campaign, phone);
CREATE UNIQUE INDEX contacts_page ON contacts (tenant, campaign, seq);
ALTER TABLE contacts ADD FOREIGN KEY (tenant, campaign)
    REFERENCES campaigns (tenant, name) ON DELETE CASCADE;

-- Attempts, calls and callbacks keep their global ids (UUIDs, or random test-call ids).
-- ``line_pool`` names the PBX whose line an originated attempt holds (fair sharing below).
ALTER TABLE attempts ADD COLUMN tenant text NOT NULL DEFAULT 'default' REFERENCES tenants (id);
ALTER TABLE attempts ADD COLUMN line_pool text;
DROP INDEX attempts_contact;
CREATE INDEX attempts_contact ON attempts (tenant, campaign, contact, number);
CREATE INDEX attempts_live_lines ON attempts (line_pool, tenant)
    WHERE originated_at IS NOT NULL AND ended_at IS NULL;
CREATE INDEX attempts_originated ON attempts (tenant, originated_at);

ALTER TABLE calls ADD COLUMN tenant text NOT NULL DEFAULT 'default' REFERENCES tenants (id);
DROP INDEX calls_campaign;
CREATE INDEX calls_campaign ON calls (tenant, campaign, started_at DESC);
ALTER TABLE transcripts ADD COLUMN tenant text NOT NULL DEFAULT 'default';
ALTER TABLE tool_calls ADD COLUMN tenant text NOT NULL DEFAULT 'default';
ALTER TABLE callbacks ADD COLUMN tenant text NOT NULL DEFAULT 'default' REFERENCES tenants (id);

-- Do-not-call: each tenant's own list, plus the platform-wide list (tenant NULL) that every
-- tenant's dials honour and only the platform administrator changes.
ALTER TABLE do_not_call ADD COLUMN tenant text DEFAULT 'default' REFERENCES tenants (id);
ALTER TABLE do_not_call DROP CONSTRAINT do_not_call_pkey;
CREATE UNIQUE INDEX do_not_call_phone ON do_not_call (tenant, phone) NULLS NOT DISTINCT;
CREATE INDEX do_not_call_lookup ON do_not_call (phone);

ALTER TABLE knowledge_documents ADD COLUMN tenant text NOT NULL DEFAULT 'default'
    REFERENCES tenants (id);
ALTER TABLE knowledge_documents DROP CONSTRAINT knowledge_documents_collection_content_hash_key;
ALTER TABLE knowledge_documents ADD UNIQUE (tenant, collection, content_hash);
ALTER TABLE knowledge_chunks ADD COLUMN tenant text NOT NULL DEFAULT 'default';
DROP INDEX knowledge_chunks_collection;
CREATE INDEX knowledge_chunks_collection ON knowledge_chunks (tenant, collection, model);

-- API keys of the tenants (the keys of VOXFLOW_API_KEYS stay in the environment). Only a
-- SHA-256 of the secret is stored; ``id`` is the public part of the key, shown in listings.
CREATE TABLE api_keys (
    id          text PRIMARY KEY,
    tenant      text NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    role        text NOT NULL CHECK (role IN ('admin', 'operator', 'designer')),
    secret_hash text NOT NULL,
    name        text NOT NULL DEFAULT '',
    created_at  timestamptz NOT NULL DEFAULT now(),
    revoked_at  timestamptz
);

-- Tenants waiting for a line of a shared PBX: refreshed by every refused claim, read by the
-- claims of the others (a free line goes to the waiting tenant holding the fewest).
CREATE TABLE line_waits (
    line_pool text NOT NULL,
    tenant    text NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    seen_at   timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (line_pool, tenant)
);

-- From now on every tenant column defaults to the connection's tenant.
DO $$
DECLARE
    t text;
BEGIN
    FOREACH t IN ARRAY ARRAY['flow_versions', 'campaigns', 'contacts', 'attempts', 'calls',
                             'transcripts', 'tool_calls', 'callbacks', 'do_not_call',
                             'knowledge_documents', 'knowledge_chunks', 'api_keys', 'line_waits']
    LOOP
        EXECUTE format('ALTER TABLE %I ALTER COLUMN tenant SET DEFAULT voxflow_tenant()', t);
        EXECUTE format('ALTER TABLE %I ENABLE ROW LEVEL SECURITY', t);
        EXECUTE format('ALTER TABLE %I FORCE ROW LEVEL SECURITY', t);
        EXECUTE format(
            'CREATE POLICY tenant_rows ON %I USING (voxflow_platform() OR tenant = voxflow_tenant())'
            ' WITH CHECK (voxflow_platform() OR tenant = voxflow_tenant())', t);
    END LOOP;
END
$$;
-- Everyone reads the platform-wide do-not-call list; only the platform view writes it.
CREATE POLICY platform_list ON do_not_call FOR SELECT USING (tenant IS NULL);

ALTER TABLE tenants ENABLE ROW LEVEL SECURITY;
ALTER TABLE tenants FORCE ROW LEVEL SECURITY;
CREATE POLICY own_tenant ON tenants
    USING (voxflow_platform() OR id = voxflow_tenant())
    WITH CHECK (voxflow_platform());

-- Views read their tables with the caller's rights, so their rows are filtered too.
ALTER VIEW outcomes SET (security_invoker = true);

-- The one line claim (runtime/db/attempts.py): do-not-call, the attempt's state, the PBX's
-- lines, the tenant's own caps and the fair share, decided under one lock per PBX. It counts
-- every tenant's lines, so it reads in the platform view (its SET clause), for the tenant it
-- is given, and claims only that tenant's attempt.
CREATE FUNCTION voxflow_claim_line(
    p_attempt text, p_tenant text, p_phone text, p_pool text, p_lines integer,
    p_wait_ttl interval
) RETURNS text LANGUAGE plpgsql SET voxflow.tenant = '*' AS $$
DECLARE
    a          attempts%ROWTYPE;
    t          tenants%ROWTYPE;
    live_all   integer;
    live_mine  integer;
    last_min   integer;
    poorer     boolean;
    claimed    integer;
BEGIN
    PERFORM pg_advisory_xact_lock(hashtext('voxflow-lines:' || p_pool));
    IF EXISTS (SELECT 1 FROM do_not_call WHERE phone = p_phone
               AND (tenant IS NULL OR tenant = p_tenant)) THEN
        RETURN 'do_not_call';
    END IF;
    SELECT * INTO a FROM attempts WHERE id = p_attempt AND tenant = p_tenant;
    IF NOT FOUND OR a.status <> 'dialing' THEN
        RETURN 'not_recorded';
    END IF;
    IF a.originated_at IS NOT NULL THEN
        RETURN 'already_originated';
    END IF;
    SELECT * INTO t FROM tenants WHERE id = p_tenant;
    SELECT count(*), count(*) FILTER (WHERE tenant = p_tenant) INTO live_all, live_mine
        FROM attempts WHERE line_pool = p_pool AND originated_at IS NOT NULL AND ended_at IS NULL;
    IF t.max_lines IS NOT NULL AND live_mine >= t.max_lines THEN
        RETURN 'no_line:tenant_lines';
    END IF;
    IF t.dial_per_minute IS NOT NULL THEN
        SELECT count(*) INTO last_min FROM attempts
            WHERE tenant = p_tenant AND originated_at > clock_timestamp() - interval '1 minute';
        IF last_min >= t.dial_per_minute THEN
            RETURN 'no_line:tenant_rate';
        END IF;
    END IF;
    IF p_lines IS NOT NULL THEN
        -- Another tenant waiting with fewer lines than this one gets the free line first.
        SELECT EXISTS (
            SELECT 1 FROM line_waits w
            WHERE w.line_pool = p_pool AND w.tenant <> p_tenant
              AND w.seen_at > clock_timestamp() - p_wait_ttl
              AND (SELECT count(*) FROM attempts x WHERE x.line_pool = p_pool
                   AND x.tenant = w.tenant AND x.originated_at IS NOT NULL
                   AND x.ended_at IS NULL) < live_mine
        ) INTO poorer;
        IF live_all >= p_lines OR poorer THEN
            INSERT INTO line_waits (line_pool, tenant, seen_at)
                VALUES (p_pool, p_tenant, clock_timestamp())
                ON CONFLICT (line_pool, tenant) DO UPDATE SET seen_at = EXCLUDED.seen_at;
            RETURN CASE WHEN live_all >= p_lines THEN 'no_line:lines_full'
                        ELSE 'no_line:fair_share' END;
        END IF;
    END IF;
    UPDATE attempts SET originated_at = now(), line_pool = p_pool
        WHERE id = p_attempt AND originated_at IS NULL;
    GET DIAGNOSTICS claimed = ROW_COUNT;
    RETURN CASE WHEN claimed = 1 THEN 'claimed' ELSE 'already_originated' END;
END
$$;

-- The application's role: no superuser, no owner, no BYPASSRLS, so every policy applies to it.
-- Roles belong to the cluster: created once, granted to whoever runs the migrations.
DO $$
BEGIN
    IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'voxflow_app') THEN
        CREATE ROLE voxflow_app NOLOGIN NOSUPERUSER NOBYPASSRLS;
    END IF;
END
$$;
GRANT voxflow_app TO CURRENT_USER;
GRANT USAGE ON SCHEMA public TO voxflow_app;
GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA public TO voxflow_app;
GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA public TO voxflow_app;
REVOKE INSERT, UPDATE, DELETE ON schema_migrations FROM voxflow_app;
-- Tables of later migrations are the application's too.
ALTER DEFAULT PRIVILEGES IN SCHEMA public
    GRANT SELECT, INSERT, UPDATE, DELETE ON TABLES TO voxflow_app;
ALTER DEFAULT PRIVILEGES IN SCHEMA public GRANT USAGE, SELECT ON SEQUENCES TO voxflow_app;

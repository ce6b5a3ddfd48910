-- What a call cost and where its recording is. ``usage`` holds the provider usage per provider
-- name as the call bridge reports it ({"openai": {"input_tokens": ..., "cost_usd": ...}});
-- ``cost_usd`` is their sum (NULL when no provider reported usage). ``recording`` is the WAV
-- file's name relative to the recordings directory (VOXFLOW_RECORDINGS_DIR), so workers and
-- the API may mount that directory at different paths.
ALTER TABLE calls ADD COLUMN usage jsonb NOT NULL DEFAULT '{}';
ALTER TABLE calls ADD COLUMN cost_usd numeric(12, 6);
ALTER TABLE calls ADD COLUMN recording text;

-- Where a flow version came from (a file name or path), when the client said so.
ALTER TABLE flow_versions ADD COLUMN source_name text;

-- What the heat map of a flow reads (runtime/heatmap.py): each stay in a node with when it
-- began and how long it lasted (ms from the start of the call), and the no-matches, silences
-- and re-prompts there, as runtime/call/result.py's TimedVisit stores them; and who ended the
-- call ('agent': the flow ended it, 'caller': the callee hung up, 'provider': no AI provider
-- was left, 'cancelled': the workflow or an operator hung up), so drop-off counts hang-ups at
-- the node the caller left from. Calls stored before this migration have '[]' and NULL: the
-- heat map counts their node_path only.
ALTER TABLE calls ADD COLUMN visits jsonb NOT NULL DEFAULT '[]';
ALTER TABLE calls ADD COLUMN ended_by text
    CHECK (ended_by IS NULL OR ended_by IN ('agent', 'caller', 'provider', 'cancelled'));
CREATE INDEX calls_started ON calls (started_at);

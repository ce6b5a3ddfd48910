-- A call whose contact workflow closed mid-call (terminated by an operator, failed, timed out)
-- never records its end from the workflow. The campaign settles it with its attempt and
-- contact, in one transaction (runtime/db/attempts.py, settle_closed_contact): ended_at set,
-- outcome 'aborted' when the call stored none, ended_by 'aborted' (its workflow went away, so
-- nobody recorded how the call ended). The converse activity, cancelled when Temporal tells
-- its heartbeat the workflow is gone, hangs up and writes 'aborted' too (activities/converse.py).
ALTER TABLE calls DROP CONSTRAINT calls_ended_by_check;
ALTER TABLE calls ADD CONSTRAINT calls_ended_by_check
    CHECK (ended_by IS NULL OR ended_by IN ('agent', 'caller', 'provider', 'cancelled', 'aborted'));

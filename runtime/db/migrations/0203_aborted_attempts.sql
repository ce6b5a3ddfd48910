-- An attempt whose contact workflow closed mid-call (terminated by an operator, failed, timed
-- out) never records its end. The campaign settles it 'aborted' in the same transaction as
-- its contact (runtime/db/attempts.py, settle_closed_contact), with ended_at set, so it no
-- longer holds a PBX line (voxflow_claim_line counts originated attempts not ended).
ALTER TABLE attempts DROP CONSTRAINT attempts_status_check;
ALTER TABLE attempts ADD CONSTRAINT attempts_status_check
    CHECK (status IN ('dialing', 'answered', 'finished', 'unknown', 'aborted'));

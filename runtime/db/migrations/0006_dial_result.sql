-- What the PBX answered to the attempt's originate, written by the dial activity as soon as it
-- is known. A contact workflow that loses the dial or converse activity's result (a worker, or
-- Temporal, went down mid-call) reads it back instead of settling for 'unknown'.
ALTER TABLE attempts ADD COLUMN dial_answered boolean;
ALTER TABLE attempts ADD COLUMN dial_outcome text;

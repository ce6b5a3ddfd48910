-- The dial activity claims an attempt before it originates: a second claim of the same
-- attempt (a duplicated or re-delivered dial task) finds it taken and never reaches the PBX.
ALTER TABLE attempts ADD COLUMN originated_at timestamptz;

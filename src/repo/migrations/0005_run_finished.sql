-- `testr run` stores a run as it goes: the run is created when it starts,
-- its results commit in batches, and it is marked finished at its end. A
-- run left at 0 was stopped before its end (testr was killed) or is still
-- running. Every run stored before this column existed was finished.
ALTER TABLE run ADD COLUMN finished INTEGER NOT NULL DEFAULT 1;

-- What starting one process of a classic test command costs each profile
-- (spawn to first result), so that the next run sizes its batches to pay
-- for it. One row per profile: the last run's measurement.
CREATE TABLE startup (
    profile TEXT PRIMARY KEY NOT NULL,
    nanos INTEGER NOT NULL CHECK (nanos >= 0)
);

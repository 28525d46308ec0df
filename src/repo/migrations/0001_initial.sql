-- The first schema of the testr repository. Never edit a migration that has
-- shipped: add a new numbered file instead.

-- One row per stored run. `id` is the number users see (`FAILED (id=3)`).
CREATE TABLE run (
    id              INTEGER PRIMARY KEY,
    recorded_at     INTEGER NOT NULL,  -- unix seconds when the run was stored
    partial         INTEGER NOT NULL,  -- 1 when the run did not reset the failing set
    command         TEXT,              -- the command line that produced the run
    first_timestamp INTEGER,           -- the stream's own time span, ns since the epoch
    last_timestamp  INTEGER,
    tests_run       INTEGER NOT NULL,  -- counted as in "Ran N tests" (filter_tags excluded)
    failures        INTEGER NOT NULL,
    skips           INTEGER NOT NULL
);

-- Test ids and tag sets are interned: a run stores small integers per result.
CREATE TABLE test (
    id   INTEGER PRIMARY KEY,
    name TEXT NOT NULL UNIQUE
);

CREATE TABLE tag_set (
    id   INTEGER PRIMARY KEY,
    tags TEXT NOT NULL UNIQUE  -- a JSON array of the sorted tags
);

-- A profile is the set of a result's profile tags ('[]' for none).
CREATE TABLE profile (
    id   INTEGER PRIMARY KEY,
    tags TEXT NOT NULL UNIQUE  -- a JSON array of the sorted tags
);

-- One row per test result, in stream order (`seq`).
--
-- The hot tables (result, attachment, timing) declare no foreign keys: the
-- writer (src/repo/write.rs) is the only code that inserts into them, and it
-- interns every id it uses in the same transaction. Declared keys cost four
-- index lookups per stored result, a fifth of the time of a load.
CREATE TABLE result (
    run_id     INTEGER NOT NULL,
    seq        INTEGER NOT NULL,
    test_id    INTEGER NOT NULL,
    profile_id INTEGER NOT NULL,
    status     INTEGER NOT NULL,  -- the subunit v2 status code (1..7)
    started_at INTEGER,           -- ns since the epoch
    stopped_at INTEGER,
    tag_set_id INTEGER NOT NULL,
    route_code TEXT,
    PRIMARY KEY (run_id, seq)
) WITHOUT ROWID;

-- Files attached to results, in the order the stream gave them.
CREATE TABLE attachment (
    run_id    INTEGER NOT NULL,
    seq       INTEGER NOT NULL,
    position  INTEGER NOT NULL,
    name      TEXT NOT NULL,
    mime_type TEXT,
    content   BLOB NOT NULL,
    PRIMARY KEY (run_id, seq, position)
) WITHOUT ROWID;

-- Output that belongs to no test (text a process printed between packets),
-- placed before the result numbered `before_seq`.
CREATE TABLE run_output (
    run_id     INTEGER NOT NULL REFERENCES run (id) ON DELETE CASCADE,
    position   INTEGER NOT NULL,
    before_seq INTEGER NOT NULL,
    name       TEXT NOT NULL,
    mime_type  TEXT,
    content    BLOB NOT NULL,
    PRIMARY KEY (run_id, position)
) WITHOUT ROWID;

-- The failing state per (test, profile): the result that made it fail.
CREATE TABLE failing (
    test_id    INTEGER NOT NULL REFERENCES test (id),
    profile_id INTEGER NOT NULL REFERENCES profile (id),
    run_id     INTEGER NOT NULL,
    seq        INTEGER NOT NULL,
    PRIMARY KEY (test_id, profile_id),
    FOREIGN KEY (run_id, seq) REFERENCES result (run_id, seq)
) WITHOUT ROWID;

-- Recent durations per (test, profile), newest last, for robust estimates.
CREATE TABLE timing (
    test_id    INTEGER NOT NULL,
    profile_id INTEGER NOT NULL,
    samples    TEXT NOT NULL,  -- up to 8 durations, ns as 16 hex digits each, newest last
    PRIMARY KEY (test_id, profile_id)
) WITHOUT ROWID;

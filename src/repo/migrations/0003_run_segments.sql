-- The segments of a run that followed a concurrency plan, in the order they
-- ran: how many tests each finished and how long it took.
CREATE TABLE segment (
    run_id INTEGER NOT NULL,
    position INTEGER NOT NULL,
    plan_index INTEGER,            -- NULL: the tests the plan did not name
    exclusive INTEGER NOT NULL,
    max_workers INTEGER,
    tests INTEGER NOT NULL,
    duration_nanos INTEGER NOT NULL,
    PRIMARY KEY (run_id, position)
) WITHOUT ROWID;

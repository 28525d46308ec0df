-- Runs can be removed (`testr history remove`, retention). A removed run's
-- id is never given to a later run, so that an id once shown (`FAILED
-- (id=7)`, a CI log) never names another run: the highest id removed is
-- kept here, one row at most.
CREATE TABLE highest_removed_run (
    only_row INTEGER PRIMARY KEY CHECK (only_row = 0),
    id       INTEGER NOT NULL
);

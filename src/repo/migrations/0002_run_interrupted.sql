-- A run stopped by Ctrl-C keeps what finished; it is stored as partial and
-- marked here, so that `last` can say so.
ALTER TABLE run ADD COLUMN interrupted INTEGER NOT NULL DEFAULT 0;

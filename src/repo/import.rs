//! What `import` asks of the repository: the runs it stored before, known
//! by the command they were stored with.

use std::collections::HashSet;

use super::{Error, Repository};

impl Repository {
    /// The commands of the stored runs that begin with `prefix`.
    pub fn commands_starting_with(&self, prefix: &str) -> Result<HashSet<String>, Error> {
        let query = || -> rusqlite::Result<HashSet<String>> {
            self.conn
                .prepare(
                    "SELECT command FROM run
                     WHERE command IS NOT NULL AND substr(command, 1, length(?1)) = ?1",
                )?
                .query_map([prefix], |row| row.get(0))?
                .collect()
        };
        query().map_err(|e| Error::from_sqlite(&self.db_path, e))
    }
}

#[cfg(test)]
mod tests {
    use crate::repo::{Repository, RunMeta};

    #[test]
    fn commands_are_found_by_prefix_and_nothing_else() {
        let mut repo = Repository::in_memory().unwrap();
        for command in [
            "imported from /a run 0",
            "testr load",
            "imported from /a run 1",
        ] {
            let meta = RunMeta {
                command: Some(command.to_owned()),
                ..RunMeta::default()
            };
            let writer = repo.begin_run(&meta).unwrap();
            writer.commit(Default::default(), None).unwrap();
        }
        let mut found: Vec<String> = repo
            .commands_starting_with("imported from /a ")
            .unwrap()
            .into_iter()
            .collect();
        found.sort();
        assert_eq!(found, ["imported from /a run 0", "imported from /a run 1"]);
        assert!(repo.commands_starting_with("%").unwrap().is_empty());
    }
}

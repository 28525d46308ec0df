//! What the last whole run of a profile ran: the tests a classic command's
//! batches can start on while its listing runs (`runner`'s running ahead).

use rusqlite::OptionalExtension;

use super::{Error, Repository, tags_key};
use crate::model::Profile;

impl Repository {
    /// The ids of the tests that the latest whole run of `profile` stored
    /// (a run that was neither narrowed nor cut short), in the order it
    /// stored them; empty when there is none.
    pub fn last_whole_run_tests(&self, profile: &Profile) -> Result<Vec<String>, Error> {
        let query = || -> rusqlite::Result<Vec<String>> {
            let Some(profile_id) = self
                .conn
                .query_row(
                    "SELECT id FROM profile WHERE tags = ?1",
                    [tags_key(profile.tags())],
                    |row| row.get::<_, i64>(0),
                )
                .optional()?
            else {
                return Ok(Vec::new());
            };
            let run: Option<i64> = self
                .conn
                .query_row(
                    "SELECT run.id FROM run
                     WHERE run.partial = 0 AND run.finished = 1
                       AND EXISTS (SELECT 1 FROM result r
                                   WHERE r.run_id = run.id AND r.profile_id = ?1)
                     ORDER BY run.id DESC LIMIT 1",
                    [profile_id],
                    |row| row.get(0),
                )
                .optional()?;
            let Some(run) = run else {
                return Ok(Vec::new());
            };
            let mut stmt = self.conn.prepare(
                "SELECT t.name FROM result r JOIN test t ON t.id = r.test_id
                 WHERE r.run_id = ?1 AND r.profile_id = ?2 ORDER BY r.seq",
            )?;
            stmt.query_map([run, profile_id], |row| row.get(0))?
                .collect()
        };
        query().map_err(|e| Error::from_sqlite(&self.db_path, e))
    }
}

#[cfg(test)]
mod tests {
    use crate::model::{Profile, RunCounts, Status, TestId, TestResult};
    use crate::repo::{Repository, ResultSink, RunMeta};

    fn store(repo: &mut Repository, partial: bool, ids: &[&str], profile: &Profile) {
        let mut writer = repo
            .begin_run(&RunMeta {
                partial,
                command: None,
                interrupted: false,
                segments: Vec::new(),
            })
            .unwrap();
        let mut counts = RunCounts::default();
        for id in ids {
            let result = TestResult {
                id: TestId((*id).to_owned()),
                status: Status::Success,
                started_at: Some(1),
                stopped_at: Some(2),
                tags: Vec::new(),
                route_code: None,
                attachments: Vec::new(),
            };
            counts.add(result.status, false);
            writer.add_result(&result, profile).unwrap();
        }
        writer.commit(counts, Some((1, 2))).unwrap();
    }

    #[test]
    fn the_latest_whole_run_of_the_profile_counts_not_a_narrowed_one() {
        let mut repo = Repository::in_memory().unwrap();
        let py311 = Profile::new(["py311".to_owned()]);
        assert!(repo.last_whole_run_tests(&py311).unwrap().is_empty());
        store(&mut repo, false, &["a", "b"], &py311);
        store(&mut repo, false, &["c", "d", "e"], &py311);
        // A narrowed run, and a whole run of another profile, come later.
        store(&mut repo, true, &["c"], &py311);
        store(&mut repo, false, &["x"], &Profile::default());
        assert_eq!(repo.last_whole_run_tests(&py311).unwrap(), ["c", "d", "e"]);
        assert_eq!(
            repo.last_whole_run_tests(&Profile::default()).unwrap(),
            ["x"]
        );
    }
}

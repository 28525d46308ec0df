//! The start-up cost of each profile's classic test command, kept between
//! runs (`runner::StartupCosts` uses it to size batches).

use std::time::Duration;

use rusqlite::{OptionalExtension, params};

use super::{Error, Repository, tags_key};
use crate::model::Profile;

impl Repository {
    /// What the last run measured of starting a process of `profile`.
    pub fn startup(&self, profile: &Profile) -> Result<Option<Duration>, Error> {
        let nanos: Option<i64> = self
            .conn
            .query_row(
                "SELECT nanos FROM startup WHERE profile = ?1",
                [tags_key(profile.tags())],
                |row| row.get(0),
            )
            .optional()
            .map_err(|e| Error::from_sqlite(&self.db_path, e))?;
        Ok(nanos
            .and_then(|n| u64::try_from(n).ok())
            .map(Duration::from_nanos))
    }

    /// Keeps `cost` as the start-up of `profile` for the next run.
    pub fn record_startup(&self, profile: &Profile, cost: Duration) -> Result<(), Error> {
        let nanos = i64::try_from(cost.as_nanos()).unwrap_or(i64::MAX);
        self.conn
            .execute(
                "INSERT INTO startup (profile, nanos) VALUES (?1, ?2)
                 ON CONFLICT (profile) DO UPDATE SET nanos = excluded.nanos",
                params![tags_key(profile.tags()), nanos],
            )
            .map_err(|e| Error::from_sqlite(&self.db_path, e))?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_last_measurement_is_kept_per_profile() {
        let repo = Repository::in_memory().unwrap();
        let py311 = Profile::new(["py311".to_owned()]);
        assert_eq!(repo.startup(&py311).unwrap(), None);
        repo.record_startup(&py311, Duration::from_millis(300))
            .unwrap();
        repo.record_startup(&Profile::default(), Duration::from_millis(5))
            .unwrap();
        repo.record_startup(&py311, Duration::from_millis(250))
            .unwrap();
        assert_eq!(
            repo.startup(&py311).unwrap(),
            Some(Duration::from_millis(250))
        );
        assert_eq!(
            repo.startup(&Profile::default()).unwrap(),
            Some(Duration::from_millis(5))
        );
    }
}

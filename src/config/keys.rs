//! The keys each configuration file knows, and the warning for one it does
//! not: a misspelt key (`test_comand`, `timout`) would otherwise do nothing
//! without a word.

use std::fmt;
use std::path::PathBuf;

/// The keys of `.testr.conf`'s `[DEFAULT]` section.
pub const TESTR_DEFAULT: &[&str] = &[
    "test_command",
    "test_id_option",
    "test_list_option",
    "test_id_list_default",
    "test_run_concurrency",
    "group_regex",
    "filter_tags",
    "instance_provision",
    "instance_execute",
    "instance_dispose",
    "worker_command",
    "timeout",
    "list_timeout",
    "stream",
    "profiles",
    "profile_tags",
    "plan",
    "history_keep",
    "history_max_age",
];

/// The keys a `[profile NAME]` section of `.testr.conf` may override.
pub const TESTR_PROFILE: &[&str] = &[
    "test_command",
    "test_id_option",
    "test_list_option",
    "test_id_list_default",
    "group_regex",
    "worker_command",
    "timeout",
    "list_timeout",
    "stream",
];

/// The keys of `.stestr.conf`.
pub const STESTR: &[&str] = &["test_path", "top_dir", "group_regex", "parallel_class"];

/// Something in a configuration file that is not an error but is probably
/// not what its author meant.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Warning {
    UnknownKey {
        path: PathBuf,
        section: String,
        key: String,
        nearest: Option<&'static str>,
    },
}

impl fmt::Display for Warning {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Warning::UnknownKey {
                path,
                section,
                key,
                nearest,
            } => {
                write!(
                    f,
                    "{}: [{section}] has an unknown key `{key}`, which does nothing",
                    path.display()
                )?;
                match nearest {
                    Some(known) => write!(f, " (did you mean `{known}`?)"),
                    None => Ok(()),
                }
            }
        }
    }
}

/// A warning for each key of `keys` that is not in `known`.
pub fn check<'a>(
    path: &std::path::Path,
    section: &str,
    keys: impl IntoIterator<Item = &'a str>,
    known: &[&'static str],
) -> Vec<Warning> {
    keys.into_iter()
        .filter(|key| !known.contains(key))
        .map(|key| Warning::UnknownKey {
            path: path.to_owned(),
            section: section.to_owned(),
            key: key.to_owned(),
            nearest: nearest(key, known),
        })
        .collect()
}

/// The known key closest to `key` by edit distance, if it is close enough
/// to be a slip rather than another key altogether.
fn nearest(key: &str, known: &[&'static str]) -> Option<&'static str> {
    known
        .iter()
        .map(|k| (edit_distance(key, k), *k))
        .filter(|(distance, k)| *distance <= (k.len() / 3).max(2))
        .min_by_key(|(distance, _)| *distance)
        .map(|(_, k)| k)
}

/// Levenshtein distance, counting a swap of two neighbours as one edit.
fn edit_distance(a: &str, b: &str) -> usize {
    let a: Vec<char> = a.chars().collect();
    let b: Vec<char> = b.chars().collect();
    let mut rows = vec![vec![0usize; b.len() + 1]; a.len() + 1];
    for (i, row) in rows.iter_mut().enumerate() {
        row[0] = i;
    }
    for (j, cell) in rows[0].iter_mut().enumerate() {
        *cell = j;
    }
    for i in 1..=a.len() {
        for j in 1..=b.len() {
            let substitution = usize::from(a[i - 1] != b[j - 1]);
            let mut best = (rows[i - 1][j] + 1)
                .min(rows[i][j - 1] + 1)
                .min(rows[i - 1][j - 1] + substitution);
            if i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1] {
                best = best.min(rows[i - 2][j - 2] + 1);
            }
            rows[i][j] = best;
        }
    }
    rows[a.len()][b.len()]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_slip_names_the_key_meant() {
        assert_eq!(nearest("test_comand", TESTR_DEFAULT), Some("test_command"));
        assert_eq!(nearest("timout", TESTR_DEFAULT), Some("timeout"));
        assert_eq!(nearest("tiemout", TESTR_DEFAULT), Some("timeout"));
        assert_eq!(nearest("test_paht", STESTR), Some("test_path"));
        assert_eq!(nearest("history_kep", TESTR_DEFAULT), Some("history_keep"));
        assert_eq!(nearest("colour", TESTR_DEFAULT), None);
    }

    #[test]
    fn the_warning_names_the_file_section_and_key() {
        let warnings = check(
            std::path::Path::new("./.testr.conf"),
            "DEFAULT",
            ["test_command", "timout"],
            TESTR_DEFAULT,
        );
        let shown: Vec<String> = warnings.iter().map(ToString::to_string).collect();
        assert_eq!(
            shown,
            [
                "./.testr.conf: [DEFAULT] has an unknown key `timout`, which does nothing \
              (did you mean `timeout`?)"
            ]
        );
    }
}

//! The table of `testr slowest`: test ids and their runtimes.

use std::io::{self, Write};

use super::escape_controls;
use crate::model::TestId;

const ID_HEADER: &str = "Test id";
const TIME_HEADER: &str = "Runtime (s)";

/// Writes the table of `(id, nanoseconds)` rows, already sorted and cut,
/// the ids escaped.
pub fn write_slowest(out: &mut dyn Write, rows: &[(TestId, i64)]) -> io::Result<()> {
    let ids: Vec<_> = rows
        .iter()
        .map(|(id, _)| escape_controls(id.as_str()))
        .collect();
    let id_width = ids
        .iter()
        .map(|id| id.chars().count())
        .chain([ID_HEADER.len()])
        .max()
        .unwrap_or(ID_HEADER.len());
    let time_width = TIME_HEADER.len();
    writeln!(out, "{ID_HEADER:<id_width$}  {TIME_HEADER}")?;
    writeln!(out, "{}  {}", "-".repeat(id_width), "-".repeat(time_width))?;
    for (id, (_, nanos)) in ids.iter().zip(rows) {
        let seconds = *nanos as f64 / 1e9;
        writeln!(out, "{id:<id_width$}  {seconds:.3}")?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn columns_fit_the_longest_id_and_zero_times_are_fine() {
        let mut out = Vec::new();
        let rows = [
            (TestId("pkg.tests.TestA.test_long_name".into()), 16_000_000),
            (TestId("a".into()), 0),
        ];
        write_slowest(&mut out, &rows).unwrap();
        assert_eq!(
            String::from_utf8(out).unwrap(),
            "Test id                         Runtime (s)\n\
             ------------------------------  -----------\n\
             pkg.tests.TestA.test_long_name  0.016\n\
             a                               0.000\n"
        );
    }

    #[test]
    fn escaped_ids_keep_the_columns_aligned() {
        let mut out = Vec::new();
        let rows = [(TestId("a\rb".into()), 0), (TestId("abcdefgh".into()), 0)];
        write_slowest(&mut out, &rows).unwrap();
        assert_eq!(
            String::from_utf8(out).unwrap(),
            "Test id   Runtime (s)\n\
             --------  -----------\n\
             a\\rb      0.000\n\
             abcdefgh  0.000\n"
        );
    }
}

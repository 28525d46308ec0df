//! Timing history: the last few durations of each (test, profile), and a
//! robust estimate from them.
//!
//! Samples are stored as text, each duration in nanoseconds as 16 hex
//! digits, newest last: fixed-width, so that SQL can append one and keep the
//! newest [`MAX_SAMPLES`] with `substr` when a run commits, in one statement.

/// How many durations are kept per (test, profile); `write::sql::RECORD_TIMING`
/// keeps `MAX_SAMPLES * SAMPLE_DIGITS` characters.
pub const MAX_SAMPLES: usize = 8;

const SAMPLE_DIGITS: usize = 16;

/// Packs durations, oldest first, as the `timing` table stores them.
pub(crate) fn pack(samples: &[i64]) -> String {
    samples
        .iter()
        .map(|nanos| format!("{nanos:0width$x}", width = SAMPLE_DIGITS))
        .collect()
}

/// Unpacks stored samples; a malformed chunk is skipped.
pub(crate) fn unpack(samples: &str) -> Vec<i64> {
    samples
        .as_bytes()
        .chunks_exact(SAMPLE_DIGITS)
        .filter_map(|chunk| std::str::from_utf8(chunk).ok())
        .filter_map(|hex| i64::from_str_radix(hex, 16).ok())
        .collect()
}

/// The expected duration from recent samples: their median, so that one
/// noisy or aborted run does not mislead (a mean would be pulled by it).
pub fn estimate(samples: &[i64]) -> Option<i64> {
    if samples.is_empty() {
        return None;
    }
    let mut sorted = samples.to_vec();
    sorted.sort_unstable();
    let mid = sorted.len() / 2;
    Some(if sorted.len() % 2 == 1 {
        sorted[mid]
    } else {
        (sorted[mid - 1] + sorted[mid]) / 2
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unpacks_fixed_width_hex() {
        assert_eq!(unpack("000000000000000a00000000000000ff"), [10, 255]);
        assert_eq!(pack(&[10, 255]), "000000000000000a00000000000000ff");
        assert_eq!(unpack(""), Vec::<i64>::new());
    }

    #[test]
    fn one_outlier_does_not_move_the_estimate() {
        assert_eq!(estimate(&[100, 100, 100, 0]), Some(100));
        assert_eq!(estimate(&[100, 5_000, 100]), Some(100));
        assert_eq!(estimate(&[]), None);
        assert_eq!(estimate(&[10, 20]), Some(15));
    }
}

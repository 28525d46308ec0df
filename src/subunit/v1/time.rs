//! The timestamps of subunit v1 `time:` lines: ISO 8601 as python-subunit
//! writes it (`2026-01-01 12:00:00.123456Z`), and the variants its `iso8601`
//! parser also takes (`T` between date and time, no seconds or fraction, a
//! `,` before the fraction, a `+HH:MM`/`+HHMM`/`+HH` offset, no zone at all
//! meaning UTC).

use crate::subunit::Timestamp;

/// Parses the value of a `time:` line (surrounding whitespace ignored).
pub(super) fn parse(text: &str) -> Result<Timestamp, String> {
    let mut p = Parser {
        bytes: text.trim().as_bytes(),
        pos: 0,
    };
    let year = p.digits(4, "year")?;
    p.expect(b'-', "a `-` after the year")?;
    let month = p.digits(2, "month")?;
    p.expect(b'-', "a `-` after the month")?;
    let day = p.digits(2, "day")?;
    if !(1..=12).contains(&month) {
        return Err(format!("month {month} is out of range"));
    }
    if day == 0 || day > days_in_month(year, month) {
        return Err(format!("day {day} is out of range"));
    }
    let (mut hour, mut minute, mut second, mut nanos) = (0, 0, 0, 0);
    if p.eat(b' ') || p.eat(b'T') {
        hour = p.digits(2, "hour")?;
        p.expect(b':', "a `:` after the hour")?;
        minute = p.digits(2, "minute")?;
        if p.eat(b':') {
            second = p.digits(2, "second")?;
            if p.eat(b'.') || p.eat(b',') {
                nanos = p.fraction()?;
            }
        }
        if hour > 23 || minute > 59 || second > 59 {
            return Err(format!(
                "{hour:02}:{minute:02}:{second:02} is not a time of day"
            ));
        }
    }
    let offset = p.zone()?;
    if p.pos != p.bytes.len() {
        return Err("unexpected text after the time".to_owned());
    }
    let days = days_from_civil(year, month, day);
    let secs = days * 86_400 + hour * 3_600 + minute * 60 + second - offset;
    u32::try_from(secs)
        .map(|secs| Timestamp { secs, nanos })
        .map_err(|_| "the time is outside 1970..2106, which subunit v2 cannot carry".to_owned())
}

/// A timestamp as python-subunit writes a `time:` line's value:
/// `2026-01-01 12:00:00.123456Z` (microseconds, truncated).
pub(super) fn format(at: Timestamp) -> String {
    let secs = i64::from(at.secs);
    let (year, month, day) = civil_from_days(secs.div_euclid(86_400));
    let rest = secs.rem_euclid(86_400);
    format!(
        "{year:04}-{month:02}-{day:02} {:02}:{:02}:{:02}.{:06}Z",
        rest / 3_600,
        rest / 60 % 60,
        rest % 60,
        at.nanos / 1000
    )
}

struct Parser<'a> {
    bytes: &'a [u8],
    pos: usize,
}

impl Parser<'_> {
    fn eat(&mut self, byte: u8) -> bool {
        let found = self.bytes.get(self.pos) == Some(&byte);
        self.pos += usize::from(found);
        found
    }

    fn expect(&mut self, byte: u8, what: &str) -> Result<(), String> {
        if self.eat(byte) {
            Ok(())
        } else {
            Err(format!("expected {what}"))
        }
    }

    fn digits(&mut self, count: usize, what: &str) -> Result<i64, String> {
        let digits = self
            .bytes
            .get(self.pos..self.pos + count)
            .filter(|d| d.iter().all(u8::is_ascii_digit))
            .ok_or_else(|| format!("expected {count} digits of the {what}"))?;
        self.pos += count;
        Ok(digits.iter().fold(0, |n, d| n * 10 + i64::from(d - b'0')))
    }

    /// Nanoseconds from the digits after the decimal point; digits past the
    /// ninth are dropped.
    fn fraction(&mut self) -> Result<u32, String> {
        let start = self.pos;
        while self.bytes.get(self.pos).is_some_and(u8::is_ascii_digit) {
            self.pos += 1;
        }
        let digits = &self.bytes[start..self.pos];
        if digits.is_empty() {
            return Err("expected digits after the decimal point".to_owned());
        }
        let mut nanos = 0u32;
        for i in 0..9 {
            nanos = nanos * 10 + digits.get(i).map_or(0, |d| u32::from(d - b'0'));
        }
        Ok(nanos)
    }

    /// The zone's offset from UTC in seconds (east positive).
    fn zone(&mut self) -> Result<i64, String> {
        if self.pos == self.bytes.len() || self.eat(b'Z') {
            return Ok(0);
        }
        let sign = if self.eat(b'+') {
            1
        } else if self.eat(b'-') {
            -1
        } else {
            return Err("expected `Z` or an offset such as +01:00".to_owned());
        };
        let hours = self.digits(2, "zone's hours")?;
        let minutes = if self.pos == self.bytes.len() {
            0
        } else {
            self.eat(b':');
            self.digits(2, "zone's minutes")?
        };
        if hours > 23 || minutes > 59 {
            return Err("the zone offset is out of range".to_owned());
        }
        Ok(sign * (hours * 3_600 + minutes * 60))
    }
}

fn is_leap(year: i64) -> bool {
    year % 4 == 0 && (year % 100 != 0 || year % 400 == 0)
}

fn days_in_month(year: i64, month: i64) -> i64 {
    match month {
        2 if is_leap(year) => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

/// Days from 1970-01-01 to the given date of the proleptic Gregorian
/// calendar (Howard Hinnant's `days_from_civil`).
fn days_from_civil(year: i64, month: i64, day: i64) -> i64 {
    let y = if month <= 2 { year - 1 } else { year };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (month + 9) % 12;
    let doy = (153 * mp + 2) / 5 + day - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// The date of a day counted from 1970-01-01 (Howard Hinnant's
/// `civil_from_days`, the inverse of [`days_from_civil`]).
fn civil_from_days(days: i64) -> (i64, i64, i64) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1_460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    (year, month, day)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ts(secs: u32, nanos: u32) -> Timestamp {
        Timestamp { secs, nanos }
    }

    #[test]
    fn python_subunit_timestamps_parse() {
        assert_eq!(
            parse("2026-01-01 00:00:00.123456Z"),
            Ok(ts(1_767_225_600, 123_456_000))
        );
        assert_eq!(parse("1970-01-01 00:00:00.000000Z"), Ok(ts(0, 0)));
        assert_eq!(
            parse("2024-02-29 23:59:59.999999999Z"),
            Ok(ts(1_709_251_199, 999_999_999))
        );
    }

    #[test]
    fn the_iso8601_variants_parse() {
        let noon = 1_767_268_800;
        assert_eq!(parse("2026-01-01T12:00:00Z"), Ok(ts(noon, 0)));
        assert_eq!(parse(" 2026-01-01 12:00:00 "), Ok(ts(noon, 0)));
        assert_eq!(parse("2026-01-01 12:00"), Ok(ts(noon, 0)));
        assert_eq!(parse("2026-01-01"), Ok(ts(noon - 12 * 3600, 0)));
        assert_eq!(parse("2026-01-01 12:00:00,5Z"), Ok(ts(noon, 500_000_000)));
        assert_eq!(parse("2026-01-01 13:30:00+01:30"), Ok(ts(noon, 0)));
        assert_eq!(parse("2026-01-01 13:30:00+0130"), Ok(ts(noon, 0)));
        assert_eq!(parse("2026-01-01 11:00:00-01"), Ok(ts(noon, 0)));
    }

    #[test]
    fn timestamps_format_as_python_subunit_writes_them_and_parse_back() {
        for text in [
            "1970-01-01 00:00:00.000000Z",
            "2024-02-29 23:59:59.999999Z",
            "2026-01-01 12:00:00.123456Z",
            "2000-03-01 00:00:00.000001Z",
            "2106-02-07 06:28:15.000000Z",
        ] {
            assert_eq!(format(parse(text).unwrap()), text);
        }
        assert_eq!(format(ts(0, 999)), "1970-01-01 00:00:00.000000Z");
    }

    #[test]
    fn bad_timestamps_say_what_is_wrong() {
        for (text, problem) in [
            ("", "year"),
            ("2026-13-01 00:00:00Z", "month 13"),
            ("2026-02-29 00:00:00Z", "day 29"),
            ("2026-01-01 24:00:00Z", "not a time of day"),
            ("2026-01-01 00:00:00.Z", "decimal point"),
            ("2026-01-01 00:00:00Q", "`Z`"),
            ("2026-01-01 00:00:00Z junk", "after the time"),
            ("1969-12-31 23:59:59Z", "1970..2106"),
            ("2106-02-07 06:28:16Z", "1970..2106"),
        ] {
            let error = parse(text).expect_err(text);
            assert!(error.contains(problem), "{text:?}: {error}");
        }
    }
}

//! One line per test as it finishes, the way stestr prints a run through
//! its subunit-trace filter (`{0} pkg.T.test_x [0.001234s] ... ok`): a
//! failure's text attachments below its line, then the failures again, the
//! totals and the worker balance (docs/stestr.md, "One line per test").

use std::collections::BTreeMap;
use std::io::{self, Write};

use super::escape_controls;
use crate::model::{Attachment, Status, TestResult, TimeSpan};

/// How each finished test is shown.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum LineStyle {
    /// A line per test: worker, id, duration, outcome.
    #[default]
    Full,
    /// One character per test (`.`, `F`, `S`), all on one line
    /// (stestr's `--abbreviate`).
    Abbreviated,
}

/// Which attachments of a passing test are shown below its line; a failing
/// test shows all its text attachments.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum PassingAttachments {
    /// Its `stdout` and `stderr`, as stestr does by default.
    #[default]
    StdoutAndStderr,
    /// None (`--suppress-attachments`).
    Suppressed,
    /// Every text attachment (`--all-attachments`).
    AllText,
}

/// The choices of the per-test output.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct TraceOptions {
    pub style: LineStyle,
    /// Colour the outcomes with ANSI escapes (green, red, blue).
    pub color: bool,
    pub passing_attachments: PassingAttachments,
}

/// The outcome words and characters and their colours.
#[derive(Debug, Clone, Copy)]
enum Colour {
    Red = 31,
    Green = 32,
    Blue = 34,
}

/// Writes a line per test as results come, and the closing blocks at the end.
pub struct TraceReport<W: Write> {
    out: W,
    options: TraceOptions,
    counts: TraceCounts,
    /// The failing results, shown again before the totals.
    failures: Vec<TestResult>,
    workers: BTreeMap<u64, WorkerSpan>,
    /// The span of every result's timestamps: the run's time.
    span: TimeSpan,
    /// The sum of every test's own time, in nanoseconds.
    busy: i64,
}

/// How many tests ended each way.
#[derive(Debug, Clone, Copy, Default)]
struct TraceCounts {
    ran: u64,
    passed: u64,
    skipped: u64,
    expected_failures: u64,
    unexpected_successes: u64,
    failed: u64,
}

/// The tests of one worker and the span of their timestamps.
#[derive(Debug, Clone, Copy, Default)]
struct WorkerSpan {
    tests: u64,
    first_start: Option<i64>,
    last_stop: Option<i64>,
    /// A test of this worker had no start or stop time: its span is unknown.
    untimed: bool,
}

const FAILURES_RULE: &str = "==============================";

impl<W: Write> TraceReport<W> {
    pub fn new(out: W, options: TraceOptions) -> TraceReport<W> {
        TraceReport {
            out,
            options,
            counts: TraceCounts::default(),
            failures: Vec::new(),
            workers: BTreeMap::new(),
            span: TimeSpan::default(),
            busy: 0,
        }
    }

    /// Shows one finished test; an `exists` result (a listing) is not one.
    pub fn result(&mut self, result: &TestResult) -> io::Result<()> {
        if result.status == Status::Exists {
            return Ok(());
        }
        self.count(result);
        let worker = worker_of(result);
        if self.options.style == LineStyle::Abbreviated {
            let (mark, colour) = match result.status {
                Status::Success | Status::XFail => (".", Some(Colour::Green)),
                Status::Fail | Status::UxSuccess => ("F", Some(Colour::Red)),
                Status::Skip => ("S", Some(Colour::Blue)),
                Status::InProgress | Status::Exists => ("i", None),
            };
            return self.coloured(mark, colour);
        }
        let name = display_name(result.id.as_str());
        let duration = result
            .duration_nanos()
            .map(|nanos| format!(" [{}]", trace_seconds(nanos)))
            .unwrap_or_default();
        match result.status {
            Status::Success | Status::XFail => {
                write!(self.out, "{{{worker}}} {name}{duration} ... ")?;
                self.coloured("ok", Some(Colour::Green))?;
                writeln!(self.out)?;
                let shown = |a: &Attachment| match self.options.passing_attachments {
                    PassingAttachments::StdoutAndStderr => {
                        matches!(channel(&a.name), "stdout" | "stderr")
                    }
                    PassingAttachments::Suppressed => false,
                    PassingAttachments::AllText => true,
                };
                let attachments: Vec<&Attachment> =
                    result.attachments.iter().filter(|a| shown(a)).collect();
                write_attachments(&mut self.out, attachments)
            }
            Status::Fail | Status::UxSuccess => {
                write!(self.out, "{{{worker}}} {name}{duration} ... ")?;
                self.coloured("FAILED", Some(Colour::Red))?;
                writeln!(self.out)?;
                write_attachments(&mut self.out, result.attachments.iter())
            }
            Status::Skip => {
                write!(self.out, "{{{worker}}} {name} ... ")?;
                self.coloured("SKIPPED", Some(Colour::Blue))?;
                match skip_reason(result) {
                    Some(reason) => writeln!(self.out, ": {reason}"),
                    None => writeln!(self.out),
                }
            }
            Status::InProgress | Status::Exists => {
                writeln!(
                    self.out,
                    "{{{worker}}} {name}{duration} ... {}",
                    result.status
                )?;
                write_attachments(&mut self.out, result.attachments.iter())
            }
        }
    }

    /// Output that belongs to no test, passed through as it came.
    pub fn output(&mut self, output: &Attachment) -> io::Result<()> {
        self.out.write_all(&output.content)
    }

    /// Writes out what is buffered, so that it shows now.
    pub fn flush(&mut self) -> io::Result<()> {
        self.out.flush()
    }

    /// Writes the failures again, the totals and the worker balance; nothing
    /// when no test was shown.
    pub fn finish(&mut self) -> io::Result<()> {
        if self.counts.ran == 0 {
            return self.out.flush();
        }
        self.write_failures()?;
        self.write_totals()?;
        self.write_worker_balance()?;
        self.out.flush()
    }

    fn count(&mut self, result: &TestResult) {
        let counts = &mut self.counts;
        counts.ran += 1;
        match result.status {
            Status::Success => counts.passed += 1,
            Status::Skip => counts.skipped += 1,
            Status::XFail => counts.expected_failures += 1,
            Status::UxSuccess => counts.unexpected_successes += 1,
            Status::Fail => counts.failed += 1,
            Status::InProgress | Status::Exists => {}
        }
        if matches!(result.status, Status::Fail | Status::UxSuccess) {
            self.failures.push(result.clone());
        }
        result.timestamps().for_each(|at| self.span.include(at));
        self.busy += result.duration_nanos().unwrap_or(0);
        let worker = self.workers.entry(worker_of(result)).or_default();
        worker.tests += 1;
        match (result.started_at, result.stopped_at) {
            (Some(start), Some(stop)) => {
                worker.first_start = Some(worker.first_start.map_or(start, |s| s.min(start)));
                worker.last_stop = Some(worker.last_stop.map_or(stop, |s| s.max(stop)));
            }
            _ => worker.untimed = true,
        }
    }

    fn coloured(&mut self, text: &str, colour: Option<Colour>) -> io::Result<()> {
        match colour {
            Some(colour) if self.options.color => {
                write!(self.out, "\x1b[{};1m{text}\x1b[0m", colour as u8)
            }
            _ => self.out.write_all(text.as_bytes()),
        }
    }

    fn write_failures(&mut self) -> io::Result<()> {
        if self.failures.is_empty() {
            return Ok(());
        }
        let out = &mut self.out;
        writeln!(out, "\n{FAILURES_RULE}")?;
        writeln!(out, "Failed {} tests - output below:", self.failures.len())?;
        writeln!(out, "{FAILURES_RULE}")?;
        for failure in &self.failures {
            let id = escape_controls(failure.id.as_str());
            writeln!(out, "\n{id}\n{}", "-".repeat(id.chars().count()))?;
            write_attachments(&mut *out, failure.attachments.iter())?;
        }
        writeln!(out)
    }

    fn write_totals(&mut self) -> io::Result<()> {
        let counts = self.counts;
        let elapsed = self.span.duration().unwrap_or(0);
        let out = &mut self.out;
        writeln!(out, "\n======\nTotals\n======")?;
        writeln!(
            out,
            "Ran: {} tests in {:.4} sec.",
            counts.ran,
            seconds(elapsed)
        )?;
        writeln!(out, " - Passed: {}", counts.passed)?;
        writeln!(out, " - Skipped: {}", counts.skipped)?;
        writeln!(out, " - Expected Fail: {}", counts.expected_failures)?;
        writeln!(
            out,
            " - Unexpected Success: {}",
            counts.unexpected_successes
        )?;
        writeln!(out, " - Failed: {}", counts.failed)?;
        writeln!(
            out,
            "Sum of execute time for each test: {:.4} sec.",
            seconds(self.busy)
        )
    }

    fn write_worker_balance(&mut self) -> io::Result<()> {
        let Some(&last) = self.workers.keys().next_back() else {
            return Ok(());
        };
        writeln!(self.out, "\n==============\nWorker Balance\n==============")?;
        for number in 0..=last {
            match self.workers.get(&number) {
                None => writeln!(self.out, " - WARNING: missing Worker {number}!")?,
                Some(worker) => {
                    let took = match (worker.untimed, worker.first_start, worker.last_stop) {
                        (false, Some(start), Some(stop)) => clock_time(stop - start),
                        _ => "N/A".to_owned(),
                    };
                    writeln!(
                        self.out,
                        " - Worker {number} ({} tests) => {took}",
                        worker.tests
                    )?;
                }
            }
        }
        Ok(())
    }
}

/// The worker a test ran on, from its `worker-N` tag; 0 without one.
fn worker_of(result: &TestResult) -> u64 {
    result
        .tags
        .iter()
        .find_map(|tag| tag.strip_prefix("worker-")?.parse().ok())
        .unwrap_or(0)
}

/// The id as shown on a test's line: the first `[...]` (tempest's tags,
/// `test_x[id-1234,smoke]`) left out, control characters escaped.
fn display_name(id: &str) -> String {
    let without_tags = match (id.find('['), id.find(']')) {
        (Some(open), Some(close)) if open > 0 && close > open => {
            format!("{}{}", &id[..open], &id[close + 1..])
        }
        _ => id.to_owned(),
    };
    escape_controls(&without_tags).into_owned()
}

/// An attachment's channel: its name up to a colon (`pythonlogging:''`
/// is the `pythonlogging` channel).
fn channel(name: &str) -> &str {
    name.split(':').next().unwrap_or(name)
}

/// A skipped test's reason, from its `reason` attachment.
fn skip_reason(result: &TestResult) -> Option<String> {
    let reason = result.attachments.iter().find(|a| a.name == "reason")?;
    let text = String::from_utf8_lossy(&reason.content);
    let text = text.trim_end();
    (!text.is_empty()).then(|| text.to_owned())
}

/// Each text attachment under a `Captured NAME:` title, its lines indented
/// by four spaces, then a blank line; binary ones are left out.
fn write_attachments<'a>(
    out: &mut impl Write,
    attachments: impl IntoIterator<Item = &'a Attachment>,
) -> io::Result<()> {
    for attachment in attachments.into_iter().filter(|a| a.is_text()) {
        let title = format!("Captured {}:", channel(&attachment.name));
        writeln!(out, "\n{title}\n{}", "~".repeat(title.chars().count()))?;
        for line in String::from_utf8_lossy(&attachment.content).lines() {
            writeln!(out, "    {line}")?;
        }
        writeln!(out)?;
    }
    Ok(())
}

/// A test's time as stestr shows it: seconds with six decimals, truncated
/// to the microsecond (`0.001234s`).
fn trace_seconds(nanos: i64) -> String {
    let micros = nanos / 1_000;
    format!("{}.{:06}s", micros / 1_000_000, micros % 1_000_000)
}

/// A worker's time as Python prints a `timedelta`: `0:00:01.234567`, the
/// fraction left out when it is zero.
fn clock_time(nanos: i64) -> String {
    let micros = nanos.max(0) / 1_000;
    let (secs, fraction) = (micros / 1_000_000, micros % 1_000_000);
    let clock = format!("{}:{:02}:{:02}", secs / 3600, secs / 60 % 60, secs % 60);
    if fraction == 0 {
        clock
    } else {
        format!("{clock}.{fraction:06}")
    }
}

fn seconds(nanos: i64) -> f64 {
    nanos as f64 / 1e9
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::TestId;

    const SECOND: i64 = 1_000_000_000;

    fn text(name: &str, content: &str) -> Attachment {
        Attachment {
            name: name.into(),
            mime_type: Some("text/plain; charset=utf8".into()),
            content: content.as_bytes().to_vec(),
        }
    }

    fn result(id: &str, status: Status, worker: u32, start_ms: i64, ms: i64) -> TestResult {
        TestResult {
            id: TestId(id.into()),
            status,
            started_at: Some(SECOND + start_ms * 1_000_000),
            stopped_at: Some(SECOND + (start_ms + ms) * 1_000_000),
            tags: vec![format!("worker-{worker}")],
            route_code: None,
            attachments: Vec::new(),
        }
    }

    fn shown(options: TraceOptions, results: &[TestResult]) -> String {
        let mut out = Vec::new();
        let mut trace = TraceReport::new(&mut out, options);
        for result in results {
            trace.result(result).unwrap();
        }
        trace.finish().unwrap();
        String::from_utf8(out).unwrap()
    }

    fn a_run() -> Vec<TestResult> {
        let mut out = result("pkg.T.test_out", Status::Success, 0, 0, 5);
        out.attachments = vec![text("stdout", "hello\nworld\n"), text("log", "quiet")];
        let mut fail = result("pkg.T.test_fail[id-1,smoke]", Status::Fail, 1, 0, 12);
        fail.attachments = vec![
            text("traceback", "Traceback:\n  boom\n"),
            Attachment {
                name: "core".into(),
                mime_type: None,
                content: vec![0, 1],
            },
        ];
        let mut skip = result("pkg.T.test_skip", Status::Skip, 0, 5, 0);
        skip.attachments = vec![text("reason", "not today")];
        vec![
            out,
            fail,
            skip,
            result("pkg.T.test_xfail", Status::XFail, 1, 12, 1),
            result("pkg.T.test_uxs", Status::UxSuccess, 1, 13, 2),
        ]
    }

    #[test]
    fn a_line_per_test_then_failures_totals_and_balance() {
        let expected = "\
{0} pkg.T.test_out [0.005000s] ... ok

Captured stdout:
~~~~~~~~~~~~~~~~
    hello
    world

{1} pkg.T.test_fail [0.012000s] ... FAILED

Captured traceback:
~~~~~~~~~~~~~~~~~~~
    Traceback:
      boom

{0} pkg.T.test_skip ... SKIPPED: not today
{1} pkg.T.test_xfail [0.001000s] ... ok
{1} pkg.T.test_uxs [0.002000s] ... FAILED

==============================
Failed 2 tests - output below:
==============================

pkg.T.test_fail[id-1,smoke]
---------------------------

Captured traceback:
~~~~~~~~~~~~~~~~~~~
    Traceback:
      boom


pkg.T.test_uxs
--------------


======
Totals
======
Ran: 5 tests in 0.0150 sec.
 - Passed: 1
 - Skipped: 1
 - Expected Fail: 1
 - Unexpected Success: 1
 - Failed: 1
Sum of execute time for each test: 0.0200 sec.

==============
Worker Balance
==============
 - Worker 0 (2 tests) => 0:00:00.005000
 - Worker 1 (3 tests) => 0:00:00.015000
";
        assert_eq!(shown(TraceOptions::default(), &a_run()), expected);
    }

    #[test]
    fn abbreviated_and_coloured() {
        let options = TraceOptions {
            style: LineStyle::Abbreviated,
            color: true,
            ..TraceOptions::default()
        };
        let out = shown(options, &a_run());
        let (marks, rest) = out.split_once('\n').unwrap();
        assert_eq!(
            marks,
            "\x1b[32;1m.\x1b[0m\x1b[31;1mF\x1b[0m\x1b[34;1mS\x1b[0m\x1b[32;1m.\x1b[0m\x1b[31;1mF\x1b[0m"
        );
        assert!(
            rest.starts_with(&format!("{FAILURES_RULE}\nFailed 2 tests")),
            "{rest}"
        );
    }

    #[test]
    fn passing_attachments_as_chosen() {
        let run = &a_run()[..1];
        let all = shown(
            TraceOptions {
                passing_attachments: PassingAttachments::AllText,
                ..TraceOptions::default()
            },
            run,
        );
        assert!(
            all.contains("Captured stdout:")
                && all.contains("Captured log:\n~~~~~~~~~~~~~\n    quiet\n"),
            "{all}"
        );
        let none = shown(
            TraceOptions {
                passing_attachments: PassingAttachments::Suppressed,
                ..TraceOptions::default()
            },
            run,
        );
        assert!(
            none.starts_with("{0} pkg.T.test_out [0.005000s] ... ok\n\n======\n"),
            "{none}"
        );
    }

    #[test]
    fn missing_workers_untimed_tests_and_unfinished_ones() {
        let mut untimed = result("pkg.T.test_a", Status::InProgress, 2, 0, 0);
        untimed.stopped_at = None;
        let out = shown(TraceOptions::default(), &[untimed]);
        assert!(
            out.starts_with("{2} pkg.T.test_a ... inprogress\n"),
            "{out}"
        );
        assert!(
            out.ends_with(
                " - WARNING: missing Worker 0!\n - WARNING: missing Worker 1!\n \
                 - Worker 2 (1 tests) => N/A\n"
            ),
            "{out}"
        );
        assert_eq!(shown(TraceOptions::default(), &[]), "");
    }

    #[test]
    fn times_as_python_prints_them() {
        assert_eq!(trace_seconds(1_234_567_891), "1.234567s");
        assert_eq!(clock_time(3_723 * SECOND), "1:02:03");
        assert_eq!(clock_time(61 * SECOND + 500_000), "0:01:01.000500");
    }

    #[test]
    fn ids_are_shown_escaped() {
        let out = shown(
            TraceOptions::default(),
            &[result("pkg.T.test_\u{1b}[2J", Status::Success, 0, 0, 1)],
        );
        assert!(
            out.starts_with("{0} pkg.T.test_\\u{1b}[2J [0.001000s] ... ok\n"),
            "{out}"
        );
    }
}

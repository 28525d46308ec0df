//! JUnit XML, as CI dashboards read it (GitLab, Jenkins, CircleCI): one
//! `testsuite` per profile inside one `testsuites`, one `testcase` per
//! result, with the counts and times of each (docs/stestr.md, "JUnit XML").
//!
//! - `classname` and `name` come from the test id: see [`split_id`].
//! - `time` is the test's duration by the stream's own timestamps, in
//!   seconds with six decimals; a suite's is the span of its tests'
//!   timestamps (the wall time of a parallel run, not the sum), and the
//!   top element's the span of all of them. Without timestamps there is no
//!   `time` attribute.
//! - `fail` is a `failure` whose text is the traceback and whose `message`
//!   its exception line; `uxsuccess` is a `failure` too (message
//!   "unexpected success"), as unittest and python-junitxml count it; a test
//!   that never finished is an `error`. `skip` is `skipped` with its reason
//!   as `message`, and `xfail` is `skipped` (type `xfail`), as pytest
//!   writes it.
//! - Text attachments other than the traceback and the skip reason go to
//!   `system-out`, but one named `stderr`, which goes to `system-err`.
//!   Binary attachments are left out.
//! - XML 1.0 cannot carry most control characters, not even as character
//!   references: they are written escaped as Rust writes them (`\u{1b}`),
//!   as testr shows ids to people. Bytes that are not UTF-8 become U+FFFD.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::io::{self, Write};

use crate::model::{Attachment, Profile, Status, TestResult, TimeSpan};

/// The suite name of results without profile tags.
const UNNAMED_SUITE: &str = "testr";

/// Results gathered into suites, written once all are in (the counts come
/// first in the XML).
#[derive(Debug, Default)]
pub struct JunitReport {
    suites: BTreeMap<Profile, Suite>,
}

#[derive(Debug, Default)]
struct Suite {
    /// The `testcase` elements, already written.
    body: String,
    counts: Counts,
    span: TimeSpan,
}

#[derive(Debug, Default, Clone, Copy)]
struct Counts {
    tests: u64,
    failures: u64,
    errors: u64,
    skipped: u64,
}

impl JunitReport {
    pub fn new() -> JunitReport {
        JunitReport::default()
    }

    /// Adds one result under its profile. An `exists` result (a listing)
    /// ran nothing and is left out.
    pub fn add(&mut self, profile: &Profile, result: &TestResult) {
        if result.status == Status::Exists {
            return;
        }
        let suite = self.suites.entry(profile.clone()).or_default();
        result.timestamps().for_each(|at| suite.span.include(at));
        suite.counts.tests += 1;
        match result.status {
            Status::Fail | Status::UxSuccess => suite.counts.failures += 1,
            Status::InProgress => suite.counts.errors += 1,
            Status::Skip | Status::XFail => suite.counts.skipped += 1,
            Status::Success | Status::Exists => {}
        }
        write_testcase(&mut suite.body, result);
    }

    /// Writes the document.
    pub fn write(&self, out: &mut dyn Write) -> io::Result<()> {
        let mut total = Counts::default();
        let mut span = TimeSpan::default();
        for suite in self.suites.values() {
            total.add(suite.counts);
            span.merge(suite.span);
        }
        writeln!(out, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>")?;
        writeln!(
            out,
            "<testsuites name=\"testr\"{}>",
            attributes(total, span)
        )?;
        for (profile, suite) in &self.suites {
            let name = if profile.is_empty() {
                UNNAMED_SUITE.to_owned()
            } else {
                profile.to_string()
            };
            writeln!(
                out,
                "  <testsuite name=\"{}\"{}>",
                attribute(&name),
                attributes(suite.counts, suite.span)
            )?;
            out.write_all(suite.body.as_bytes())?;
            writeln!(out, "  </testsuite>")?;
        }
        writeln!(out, "</testsuites>")
    }
}

impl Counts {
    fn add(&mut self, other: Counts) {
        self.tests += other.tests;
        self.failures += other.failures;
        self.errors += other.errors;
        self.skipped += other.skipped;
    }
}

fn attributes(counts: Counts, span: TimeSpan) -> String {
    let mut text = format!(
        " tests=\"{}\" failures=\"{}\" errors=\"{}\" skipped=\"{}\"",
        counts.tests, counts.failures, counts.errors, counts.skipped
    );
    if let Some(nanos) = span.duration() {
        let _ = write!(text, " time=\"{}\"", seconds(nanos));
    }
    text
}

/// Nanoseconds as seconds with six decimals (microseconds, truncated).
fn seconds(nanos: i64) -> String {
    let micros = nanos.max(0) / 1000;
    format!("{}.{:06}", micros / 1_000_000, micros % 1_000_000)
}

fn write_testcase(body: &mut String, result: &TestResult) {
    let (classname, name) = split_id(result.id.as_str());
    let _ = write!(
        body,
        "    <testcase classname=\"{}\" name=\"{}\"",
        attribute(&classname),
        attribute(name)
    );
    if let Some(nanos) = result.duration_nanos() {
        let _ = write!(body, " time=\"{}\"", seconds(nanos));
    }
    let traceback = result.attachments.iter().find(|a| is_traceback(a));
    let reason = result
        .attachments
        .iter()
        .find(|a| a.name == "reason" && a.is_text());
    let (to_err, to_out): (Vec<&Attachment>, Vec<&Attachment>) = result
        .attachments
        .iter()
        .filter(|a| a.is_text() && !is_traceback(a) && a.name != "reason")
        .partition(|a| a.name.eq_ignore_ascii_case("stderr"));
    let err: String = to_err
        .iter()
        .map(|a| String::from_utf8_lossy(&a.content))
        .collect();
    // Output captured as `stdout` alone reads as it was; several parts are
    // each introduced by their name.
    let labelled = !(to_out.len() == 1 && to_out[0].name.eq_ignore_ascii_case("stdout"));
    let mut out = String::new();
    for attachment in to_out {
        if labelled {
            let _ = writeln!(out, "--- {} ---", attachment.name);
        }
        out.push_str(&String::from_utf8_lossy(&attachment.content));
        if labelled && !out.ends_with('\n') {
            out.push('\n');
        }
    }
    let traceback_text = traceback.map(|a| String::from_utf8_lossy(&a.content).into_owned());
    let exception = traceback_text.as_deref().and_then(exception_line);
    let outcome = match result.status {
        Status::Fail => Some((
            "failure",
            exception.unwrap_or("the test failed").to_owned(),
            exception.and_then(exception_type),
        )),
        Status::UxSuccess => Some((
            "failure",
            "unexpected success".to_owned(),
            Some("uxsuccess"),
        )),
        Status::InProgress => Some((
            "error",
            "the test did not finish".to_owned(),
            Some("inprogress"),
        )),
        Status::Skip => Some((
            "skipped",
            reason
                .map(|r| String::from_utf8_lossy(&r.content).trim().to_owned())
                .unwrap_or_default(),
            None,
        )),
        Status::XFail => Some((
            "skipped",
            match exception {
                Some(line) => format!("expected failure: {line}"),
                None => "expected failure".to_owned(),
            },
            Some("xfail"),
        )),
        Status::Success | Status::Exists => None,
    };
    let children = outcome.is_some() || !out.is_empty() || !err.is_empty();
    if !children {
        body.push_str("/>\n");
        return;
    }
    body.push_str(">\n");
    if let Some((element, message, kind)) = outcome {
        let _ = write!(body, "      <{element}");
        if !message.is_empty() {
            let _ = write!(body, " message=\"{}\"", attribute(&message));
        }
        if let Some(kind) = kind {
            let _ = write!(body, " type=\"{}\"", attribute(kind));
        }
        // A skip's reason is its message; a traceback is the text of the rest.
        let text = traceback_text
            .as_deref()
            .filter(|_| result.status != Status::Skip);
        match text {
            Some(text) if !text.is_empty() => {
                let _ = writeln!(body, ">{}</{element}>", text_content(text));
            }
            _ => body.push_str("/>\n"),
        }
    }
    for (element, text) in [("system-out", &out), ("system-err", &err)] {
        if !text.is_empty() {
            let _ = writeln!(body, "      <{element}>{}</{element}>", text_content(text));
        }
    }
    body.push_str("    </testcase>\n");
}

fn is_traceback(attachment: &Attachment) -> bool {
    attachment.is_text()
        && (attachment.name == "traceback"
            || attachment.mime_type.as_deref().is_some_and(|m| {
                m.trim_start()
                    .to_ascii_lowercase()
                    .starts_with("text/x-traceback")
            }))
}

/// The line of a Python traceback that names the exception: its last line
/// that is not blank or indented.
fn exception_line(traceback: &str) -> Option<&str> {
    traceback
        .lines()
        .rev()
        .find(|line| !line.trim().is_empty() && !line.starts_with(char::is_whitespace))
        .map(str::trim_end)
}

/// The exception's class in an exception line (`AssertionError: 1 != 2`),
/// when the line starts with a dotted name.
fn exception_type(line: &str) -> Option<&str> {
    let name = line.split(':').next()?;
    let is_name = !name.is_empty()
        && name
            .split('.')
            .all(|part| !part.is_empty() && part.chars().all(|c| c.is_alphanumeric() || c == '_'));
    is_name.then_some(name)
}

/// The `classname` and `name` of a test id.
///
/// - A pytest node id (`tests/test_x.py::TestC::test_y[a.b]`) gives what
///   pytest's own JUnit XML gives: the path with `.py` dropped and `/` as
///   `.`, then the classes (`tests.test_x.TestC`), and the last part with
///   its parameters (`test_y[a.b]`).
/// - Otherwise everything before the last dot is the class name, but dots
///   inside parameters (from the first `[` or `(`: `test_y[a.b]`, a
///   testscenarios `test_y(scenario.one)`) do not count.
/// - unittest's fixture errors (`setUpClass (pkg.tests.TestC)`) give the
///   class and the fixture.
/// - An id with no dot has an empty class name and is its own name.
pub fn split_id(id: &str) -> (String, &str) {
    let params = id.find(['[', '(']).unwrap_or(id.len());
    let base = &id[..params];
    if let Some(first) = base.find("::") {
        let path = &base[..first];
        let path = path.strip_suffix(".py").unwrap_or(path);
        let last = base.rfind("::").expect("found one");
        let classes = base.get(first + 2..last).unwrap_or_default();
        let last = last + 2;
        let mut classname = path.replace(['/', '\\'], ".");
        for class in classes.split("::").filter(|c| !c.is_empty()) {
            classname.push('.');
            classname.push_str(class);
        }
        return (classname, &id[last..]);
    }
    if let Some((fixture, class)) = id
        .strip_suffix(')')
        .and_then(|rest| rest.split_once(" ("))
        .filter(|(fixture, _)| !fixture.is_empty() && !fixture.contains(['.', ' ']))
    {
        return (class.to_owned(), fixture);
    }
    match base.rfind('.') {
        Some(dot) => (id[..dot].to_owned(), &id[dot + 1..]),
        None => (String::new(), id),
    }
}

/// Whether XML 1.0 allows the character at all (it forbids most control
/// characters, even as character references, and U+FFFE, U+FFFF).
fn is_xml_char(c: char) -> bool {
    matches!(c, '\t' | '\n' | '\r' | '\u{20}'..='\u{d7ff}' | '\u{e000}'..='\u{fffd}')
        || c >= '\u{10000}'
}

fn escape(text: &str, in_attribute: bool) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' if in_attribute => out.push_str("&quot;"),
            // A parser would turn these into spaces in an attribute, and
            // a CR into a LF anywhere.
            '\n' if in_attribute => out.push_str("&#10;"),
            '\t' if in_attribute => out.push_str("&#9;"),
            '\r' => out.push_str("&#13;"),
            c if !is_xml_char(c) => out.extend(c.escape_debug()),
            c => out.push(c),
        }
    }
    out
}

fn attribute(text: &str) -> String {
    escape(text, true)
}

fn text_content(text: &str) -> String {
    escape(text, false)
}

#[cfg(test)]
mod tests;

//! Subunit v1, the line protocol stestr and the Python testr keep their run
//! files in: a sans-IO decoder (bytes in, [`Item`]s out) that gives the same
//! items python-subunit's v1 parser, turned into v2 by testtools'
//! `ExtendedToStreamDecorator` (what `subunit-1to2` does), decodes to. The
//! rest of testr reads them as it reads a v2 stream.
//!
//! The protocol, as python-subunit's `TestProtocolServer` reads it:
//!
//! - A directive is a line `WORD ARGUMENT`: a word, whitespace, and
//!   something. The word may end in `:` (`test: ID` and `test ID` are the
//!   same). Anything else is text, and so is a directive that does not fit
//!   where it is (an outcome for another test than the current one, a
//!   `test:` inside a test).
//! - `test:`/`testing:` starts a test; `success:`/`successful:`, `failure:`,
//!   `error:`, `skip:`, `xfail:`, `uxsuccess:` end it. `error:` and
//!   `failure:` both become `fail`.
//! - An outcome may carry details: `ID [` starts a bracketed block, its
//!   lines up to `]` the test's traceback (a skip's reason, a success's
//!   message), a leading ` ]` unquoted to `]`; `ID [ multipart` starts
//!   parts up to `]`, each a `Content-Type: TYPE` line, a name line, and the
//!   content in HTTP chunks (`HEX\r\n` then that many bytes, until `0\r\n`).
//! - `time: YYYY-MM-DD HH:MM:SS.ffffffZ` sets the time of what follows.
//! - `tags: a -b` adds `a` and removes `b`: inside a test for that test,
//!   outside it for every test from then on.
//! - `progress:` lines are read and dropped.
//!
//! Where python-subunit stops with an exception (a `time:` it cannot parse,
//! a malformed chunk header or content type, an argument that is not UTF-8),
//! this decoder gives an [`Item::Corrupt`] naming the line and goes on; a
//! stream that ends inside a test or its details gives one too, after which
//! the test stays in progress. A last line without a line break counts as
//! if it had one. (python-subunit also stops at an `uxsuccess:` line outside
//! a test, for want of a method; that line is text here.)

mod time;

use std::collections::{BTreeSet, VecDeque};

use super::decode::StreamDecoder;
use super::event::{FileChunk, Item, Packet, Timestamp};
use crate::model::Status;

/// The largest chunk length accepted; a bigger one is a damaged header.
const MAX_CHUNK: usize = 1 << 30;

/// The MIME type python-subunit gives a bracketed traceback.
const TRACEBACK_MIME: &str = "text/x-traceback; charset=\"utf8\"";

/// A sans-IO subunit v1 decoder: [`feed`](V1Decoder::feed) it bytes, then
/// take [`next_item`](V1Decoder::next_item)s until it has none; call
/// [`finish`](V1Decoder::finish) at the end of input to drain the rest.
#[derive(Debug, Default)]
pub struct V1Decoder {
    /// Unconsumed input is `buf[head..]`.
    buf: Vec<u8>,
    head: usize,
    finished: bool,
    /// Whether the line break a last unterminated line lacks was supplied.
    closed_last_line: bool,
    /// How many line breaks have been consumed: the line being read is
    /// `line + 1`.
    line: u64,
    state: State,
    /// The time of the last `time:` line.
    now: Option<Timestamp>,
    /// The tags outside any test.
    tags: BTreeSet<String>,
    /// Text lines not yet handed out, kept together.
    text: Vec<u8>,
    ready: VecDeque<Item>,
}

#[derive(Debug, Default)]
enum State {
    #[default]
    Outside,
    InTest(Test),
    Details(Details),
}

#[derive(Debug)]
struct Test {
    id: String,
    /// The tags outside the test when it started, as the test's own
    /// `tags:` lines change them.
    tags: BTreeSet<String>,
}

#[derive(Debug)]
struct Details {
    test: Test,
    status: Status,
    form: Form,
    parts: Vec<Part>,
}

#[derive(Debug)]
enum Form {
    /// `[` ... `]`: the lines so far.
    Simple {
        name: &'static str,
        content: Vec<u8>,
    },
    Multipart(Multipart),
    /// A part went bad: skip to the `]` that ends the details.
    Skipping,
}

#[derive(Debug)]
enum Multipart {
    /// Expecting a `Content-Type:` line or the closing `]`.
    ContentType,
    Name {
        mime: String,
    },
    /// Expecting a chunk header; `part` holds the content so far.
    ChunkHeader {
        part: Part,
    },
    Chunk {
        part: Part,
        left: usize,
    },
}

#[derive(Debug)]
struct Part {
    name: String,
    mime: String,
    content: Vec<u8>,
}

/// What a directive line asks for.
#[derive(Debug, Clone, Copy)]
enum Directive {
    Test,
    Outcome(Status),
    Progress,
    Tags,
    Time,
}

impl V1Decoder {
    pub fn new() -> V1Decoder {
        V1Decoder::default()
    }

    /// Appends input. Bytes fed after [`finish`](V1Decoder::finish) are
    /// ignored.
    pub fn feed(&mut self, bytes: &[u8]) {
        if self.finished || bytes.is_empty() {
            return;
        }
        if self.head > 0 && self.head >= self.buf.len() / 2 {
            self.buf.drain(..self.head);
            self.head = 0;
        }
        self.buf.extend_from_slice(bytes);
    }

    /// Marks the end of input: from now on everything resolves.
    pub fn finish(&mut self) {
        self.finished = true;
    }

    /// The next item the input so far decides, or `None` if more input (or
    /// [`finish`](V1Decoder::finish)) is needed; after `finish`, `None`
    /// means everything has been returned.
    pub fn next_item(&mut self) -> Option<Item> {
        while self.ready.is_empty() {
            if !self.step() {
                // Text waits for nothing: hand it out once the input runs dry.
                self.flush_text();
                break;
            }
        }
        self.ready.pop_front()
    }

    /// Consumes one line or chunk of input; false when none is complete.
    fn step(&mut self) -> bool {
        if let State::Details(Details {
            form: Form::Multipart(Multipart::Chunk { .. } | Multipart::ChunkHeader { .. }),
            ..
        }) = self.state
        {
            return self.step_chunked();
        }
        let Some(line) = self.take_line() else {
            return self.end_of_input();
        };
        match std::mem::take(&mut self.state) {
            State::Outside => self.outside(line),
            State::InTest(test) => self.in_test(test, line),
            State::Details(details) => self.in_details(details, line),
        }
        true
    }

    /// The next whole line, with its line break. At the end of input a last
    /// line without one is given one.
    fn take_line(&mut self) -> Option<Vec<u8>> {
        let rest = &self.buf[self.head..];
        let len = match rest.iter().position(|&b| b == b'\n') {
            Some(i) => i + 1,
            None if self.finished && !rest.is_empty() && !self.closed_last_line => {
                self.closed_last_line = true;
                self.buf.push(b'\n');
                self.buf.len() - self.head
            }
            None => return None,
        };
        let line = self.buf[self.head..self.head + len].to_vec();
        self.head += len;
        self.line += 1;
        Some(line)
    }

    /// Called when no whole line is left: at the end of input, reports a
    /// stream that stopped inside a test. False: nothing more to do now.
    fn end_of_input(&mut self) -> bool {
        if !self.finished {
            return false;
        }
        let rest = self.buf[self.head..].to_vec();
        self.buf.clear();
        self.head = 0;
        let lines = self.line;
        let error = match std::mem::take(&mut self.state) {
            State::Outside => return false,
            State::InTest(test) => format!(
                "line {lines}: the stream ends inside test `{}`, before its outcome",
                test.id
            ),
            State::Details(details) => format!(
                "line {lines}: the stream ends inside the details of test `{}`",
                details.test.id
            ),
        };
        self.corrupt(rest, error);
        true
    }

    fn outside(&mut self, line: Vec<u8>) {
        match directive(&line) {
            Some((Directive::Test, arg)) => match utf8_argument(&line, arg) {
                Ok(id) => {
                    let id = id.to_owned();
                    self.flush_text();
                    self.ready.push_back(Item::Packet(Packet {
                        status: Some(Status::InProgress),
                        test_id: Some(id.clone()),
                        timestamp: self.now,
                        ..Packet::default()
                    }));
                    let tags = self.tags.clone();
                    self.state = State::InTest(Test { id, tags });
                }
                Err(error) => self.bad_line(line, error),
            },
            Some((kind @ (Directive::Progress | Directive::Tags | Directive::Time), arg)) => {
                self.stream_directive(kind, line, arg, None);
            }
            Some((Directive::Outcome(_), _)) | None => self.text(&line),
        }
    }

    fn in_test(&mut self, mut test: Test, line: Vec<u8>) {
        match directive(&line) {
            Some((Directive::Outcome(status), arg)) => {
                let name = match utf8_argument(&line, arg) {
                    Ok(name) => name,
                    Err(error) => {
                        self.state = State::InTest(test);
                        return self.bad_line(line, error);
                    }
                };
                let form = match name.strip_prefix(test.id.as_str()) {
                    Some("") => None,
                    Some(" [") => Some(Form::Simple {
                        name: simple_detail_name(status),
                        content: Vec::new(),
                    }),
                    Some(" [ multipart") => Some(Form::Multipart(Multipart::ContentType)),
                    _ => {
                        self.text(&line);
                        self.state = State::InTest(test);
                        return;
                    }
                };
                match form {
                    None => self.outcome(test, status, Vec::new()),
                    Some(form) => {
                        self.state = State::Details(Details {
                            test,
                            status,
                            form,
                            parts: Vec::new(),
                        });
                    }
                }
            }
            Some((kind @ (Directive::Progress | Directive::Tags | Directive::Time), arg)) => {
                self.stream_directive(kind, line, arg, Some(&mut test.tags));
                self.state = State::InTest(test);
            }
            Some((Directive::Test, _)) | None => {
                self.text(&line);
                self.state = State::InTest(test);
            }
        }
    }

    /// `progress:`, `tags:` and `time:`, which mean the same inside a test
    /// and out, but that tags inside a test are the test's own.
    fn stream_directive(
        &mut self,
        kind: Directive,
        line: Vec<u8>,
        arg: usize,
        test_tags: Option<&mut BTreeSet<String>>,
    ) {
        let Ok(value) = utf8_argument(&line, arg) else {
            let what = String::from_utf8_lossy(&line[..arg]).trim().to_owned();
            return self.bad_line(line, format!("the `{what}` line is not valid UTF-8"));
        };
        match kind {
            Directive::Time => match time::parse(value) {
                Ok(at) => self.now = Some(at),
                Err(problem) => {
                    let error = format!("bad time `{}`: {problem}", value.trim());
                    self.bad_line(line, error);
                }
            },
            Directive::Tags => {
                let tags = test_tags.unwrap_or(&mut self.tags);
                // python-subunit splits on what Python's str.split() calls
                // whitespace, which includes the ASCII separators 0x1c..0x1f.
                let words = value
                    .split(|c: char| c.is_whitespace() || ('\x1c'..='\x1f').contains(&c))
                    .filter(|w| !w.is_empty());
                let (gone, new): (Vec<&str>, Vec<&str>) = words.partition(|w| w.starts_with('-'));
                tags.extend(new.into_iter().map(str::to_owned));
                for tag in gone {
                    tags.remove(&tag[1..]);
                }
            }
            _ => {
                if !is_progress(value.trim()) {
                    let error = format!("bad progress `{}`", value.trim());
                    self.bad_line(line, error);
                }
            }
        }
    }

    fn in_details(&mut self, mut details: Details, line: Vec<u8>) {
        // A `]` line ends the details, but where a part's name is expected.
        let end =
            line == b"]\n" && !matches!(details.form, Form::Multipart(Multipart::Name { .. }));
        match &mut details.form {
            Form::Simple { name, content } => {
                if end {
                    let part = Part {
                        name: (*name).to_owned(),
                        mime: if *name == "traceback" {
                            TRACEBACK_MIME.to_owned()
                        } else {
                            "text/plain".to_owned()
                        },
                        content: std::mem::take(content),
                    };
                    details.parts.push(part);
                } else if line.starts_with(b" ]") {
                    content.extend_from_slice(&line[1..]);
                } else {
                    content.extend_from_slice(&line);
                }
            }
            Form::Skipping => {}
            Form::Multipart(Multipart::ContentType) if end => {}
            Form::Multipart(Multipart::ContentType) => match content_type(&line) {
                Ok(mime) => details.form = Form::Multipart(Multipart::Name { mime }),
                Err(error) => {
                    details.form = Form::Skipping;
                    self.bad_line(line, error);
                }
            },
            Form::Multipart(Multipart::Name { mime }) => {
                match std::str::from_utf8(&line[..line.len() - 1]) {
                    Ok(name) => {
                        let part = Part {
                            name: name.to_owned(),
                            mime: std::mem::take(mime),
                            content: Vec::new(),
                        };
                        details.form = Form::Multipart(Multipart::ChunkHeader { part });
                    }
                    Err(_) => {
                        details.form = Form::Skipping;
                        self.bad_line(line, "the name of a detail is not valid UTF-8".to_owned());
                    }
                }
            }
            Form::Multipart(Multipart::ChunkHeader { .. } | Multipart::Chunk { .. }) => {
                unreachable!("chunked content is read by step_chunked")
            }
        }
        if end {
            self.outcome(details.test, details.status, details.parts);
        } else {
            self.state = State::Details(details);
        }
    }

    /// Reads a chunk header or chunk content of a multipart detail.
    fn step_chunked(&mut self) -> bool {
        let State::Details(mut details) = std::mem::take(&mut self.state) else {
            unreachable!("only called in details")
        };
        let Form::Multipart(multipart) = std::mem::replace(&mut details.form, Form::Skipping)
        else {
            unreachable!("only called in multipart details")
        };
        let progressed = match multipart {
            Multipart::Chunk { mut part, left } => {
                let rest = &self.buf[self.head..];
                let n = left.min(rest.len());
                part.content.extend_from_slice(&rest[..n]);
                self.line += rest[..n].iter().filter(|&&b| b == b'\n').count() as u64;
                self.head += n;
                details.form = Form::Multipart(if n == left {
                    Multipart::ChunkHeader { part }
                } else {
                    Multipart::Chunk {
                        part,
                        left: left - n,
                    }
                });
                n > 0
            }
            Multipart::ChunkHeader { part } => {
                let rest = &self.buf[self.head..];
                match rest.iter().position(|&b| b == b'\n') {
                    None => {
                        details.form = Form::Multipart(Multipart::ChunkHeader { part });
                        false
                    }
                    Some(i) => {
                        let header = rest[..=i].to_vec();
                        self.head += i + 1;
                        self.line += 1;
                        match chunk_length(&header) {
                            Ok(0) => {
                                add_part(&mut details.parts, part);
                                details.form = Form::Multipart(Multipart::ContentType);
                            }
                            Ok(left) => {
                                details.form = Form::Multipart(Multipart::Chunk { part, left });
                            }
                            Err(error) => self.bad_line(header, error),
                        }
                        true
                    }
                }
            }
            other => {
                details.form = Form::Multipart(other);
                true
            }
        };
        self.state = State::Details(details);
        progressed || self.end_of_input()
    }

    /// Ends `test` with `status`: its details as files, then the status.
    fn outcome(&mut self, test: Test, status: Status, parts: Vec<Part>) {
        self.flush_text();
        for part in parts {
            self.ready.push_back(Item::Packet(Packet {
                test_id: Some(test.id.clone()),
                timestamp: self.now,
                mime_type: Some(part.mime),
                file: Some(FileChunk {
                    name: part.name,
                    content: part.content,
                }),
                eof: true,
                ..Packet::default()
            }));
        }
        self.ready.push_back(Item::Packet(Packet {
            status: Some(status),
            test_id: Some(test.id),
            timestamp: self.now,
            tags: (!test.tags.is_empty()).then(|| test.tags.into_iter().collect()),
            ..Packet::default()
        }));
    }

    fn text(&mut self, line: &[u8]) {
        self.text.extend_from_slice(line);
    }

    fn flush_text(&mut self) {
        if !self.text.is_empty() {
            self.ready
                .push_back(Item::Text(std::mem::take(&mut self.text)));
        }
    }

    /// A line python-subunit would stop at, reported with its number.
    fn bad_line(&mut self, line: Vec<u8>, error: String) {
        let error = format!("line {}: {error}", self.line);
        self.corrupt(line, error);
    }

    fn corrupt(&mut self, bytes: Vec<u8>, error: String) {
        self.flush_text();
        self.ready.push_back(Item::Corrupt { bytes, error });
    }
}

/// A timestamp as a v1 `time:` line gives it: `2026-01-01 12:00:00.123456Z`.
pub fn format_v1_time(at: Timestamp) -> String {
    time::format(at)
}

/// Adds a finished part; a second part of the same name replaces the first
/// in its place, as in python-subunit's dict of details.
fn add_part(parts: &mut Vec<Part>, part: Part) {
    match parts.iter_mut().find(|p| p.name == part.name) {
        Some(existing) => *existing = part,
        None => parts.push(part),
    }
}

/// What python-subunit names the text of a bracketed block.
fn simple_detail_name(status: Status) -> &'static str {
    match status {
        Status::Skip => "reason",
        Status::Success => "message",
        _ => "traceback",
    }
}

/// The whitespace Python's `bytes.split()` splits on.
fn is_space(b: u8) -> bool {
    matches!(b, b' ' | b'\t' | b'\n' | b'\r' | 0x0b | 0x0c)
}

/// The directive a line holds, and where its argument starts (one byte
/// past the word). A directive is a word at the start of the line, then
/// whitespace, then something.
fn directive(line: &[u8]) -> Option<(Directive, usize)> {
    let word_len = line.iter().position(|&b| is_space(b))?;
    if word_len == 0 || line[word_len..].iter().all(|&b| is_space(b)) {
        return None;
    }
    let mut word = &line[..word_len];
    while let Some(rest) = word.strip_suffix(b":") {
        word = rest;
    }
    let found = match word {
        b"test" | b"testing" => Directive::Test,
        b"error" | b"failure" => Directive::Outcome(Status::Fail),
        b"progress" => Directive::Progress,
        b"success" | b"successful" => Directive::Outcome(Status::Success),
        b"tags" => Directive::Tags,
        b"time" => Directive::Time,
        b"xfail" => Directive::Outcome(Status::XFail),
        b"uxsuccess" => Directive::Outcome(Status::UxSuccess),
        // python-subunit tests `word in b"skip"`, a substring test, so
        // `s:`, `ki:` and a bare `:` are skips as well.
        _ if word.is_empty() || b"skip".windows(word.len()).any(|w| w == word) => {
            Directive::Outcome(Status::Skip)
        }
        _ => return None,
    };
    Some((found, word_len + 1))
}

/// The argument of a directive: from `start` to the end of the line, less
/// its line break.
fn utf8_argument(line: &[u8], start: usize) -> Result<&str, String> {
    let end = line.len() - usize::from(line.ends_with(b"\n"));
    std::str::from_utf8(&line[start.min(end)..end]).map_err(|_| {
        let word = String::from_utf8_lossy(&line[..start]).trim().to_owned();
        format!("the argument of `{word}` is not valid UTF-8")
    })
}

fn is_progress(value: &str) -> bool {
    let digits = value.strip_prefix(['+', '-']).unwrap_or(value);
    value == "push"
        || value == "pop"
        || (!digits.is_empty() && digits.bytes().all(|b| b.is_ascii_digit()))
}

/// The MIME type of a `Content-Type: TYPE` line, as written.
fn content_type(line: &[u8]) -> Result<String, String> {
    let text = std::str::from_utf8(&line[..line.len() - 1])
        .map_err(|_| "a content type line is not valid UTF-8".to_owned())?;
    match text.split_once(' ') {
        Some((_, mime)) if mime.contains('/') => Ok(mime.to_owned()),
        _ => Err(format!(
            "expected `Content-Type: TYPE/SUBTYPE` or `]`, got `{}`",
            text.trim_end()
        )),
    }
}

/// The length of a chunk header `HEX\r\n`.
fn chunk_length(header: &[u8]) -> Result<usize, String> {
    let bad = || {
        format!(
            "bad chunk header `{}` (expected hexadecimal digits and CR LF)",
            String::from_utf8_lossy(header).trim_end()
        )
    };
    let digits = header.strip_suffix(b"\r\n").ok_or_else(bad)?;
    if digits.is_empty() || !digits.iter().all(u8::is_ascii_hexdigit) {
        return Err(bad());
    }
    let text = std::str::from_utf8(digits).map_err(|_| bad())?;
    usize::from_str_radix(text, 16)
        .ok()
        .filter(|&n| n <= MAX_CHUNK)
        .ok_or_else(|| format!("chunk length {text} is too large"))
}

impl StreamDecoder for V1Decoder {
    fn feed(&mut self, bytes: &[u8]) {
        V1Decoder::feed(self, bytes);
    }
    fn finish(&mut self) {
        V1Decoder::finish(self);
    }
    fn next_item(&mut self) -> Option<Item> {
        V1Decoder::next_item(self)
    }
}

#[cfg(test)]
mod tests;

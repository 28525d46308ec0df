//! The v1 decoder against python-subunit: generated v1 streams (and v1
//! that python-subunit's own v1 writer made from the fixture streams) are
//! read by python-subunit's v1 parser into v2, as `subunit-1to2` does, and
//! by our v1 decoder; both must collect into the same results. The Python
//! used is `$TESTR_TEST_PYTHON`, else `python3`; it must have python-subunit.

use std::fmt::Write as _;

use proptest::prelude::*;
use proptest::strategy::ValueTree;
use proptest::test_runner::{Config, RngAlgorithm, TestRng, TestRunner};
use testr::collect::{Collected, Collector};
use testr::subunit::{Item, V1Decoder};

use crate::support::{decode, run_python};

/// How many generated streams go through python-subunit in one go.
const STREAMS: usize = 400;

/// Reads length-prefixed v1 streams on stdin; writes, for each, its v2
/// translation (length-prefixed), or a length of 2^64-1 and the error when
/// python-subunit refuses it.
const ONE_TO_TWO: &str = r#"
import io, struct, sys, traceback
from subunit import ProtocolTestCase, StreamResultToBytes
from testtools import ExtendedToStreamDecorator
data = sys.stdin.buffer.read()
out = sys.stdout.buffer
pos = 0
while pos < len(data):
    (n,) = struct.unpack(">Q", data[pos:pos + 8])
    stream = data[pos + 8:pos + 8 + n]
    pos += 8 + n
    v2 = io.BytesIO()
    result = ExtendedToStreamDecorator(StreamResultToBytes(v2))
    try:
        result.startTestRun()
        # Text goes through as it is, between the packets, as subunit-1to2 does.
        ProtocolTestCase(io.BytesIO(stream), passthrough=v2).run(result)
        result.stopTestRun()
    except Exception:
        message = traceback.format_exc().encode()
        out.write(struct.pack(">Q", 2**64 - 1) + struct.pack(">Q", len(message)) + message)
        continue
    value = v2.getvalue()
    out.write(struct.pack(">Q", len(value)) + value)
"#;

/// Writes each fixture v2 stream as v1 with python-subunit's v1 client, as
/// `subunit-2to1` does, length-prefixed in the same order.
const TWO_TO_ONE: &str = r#"
import io, os, struct, sys
from subunit import ByteStreamToStreamResult, TestProtocolClient
from testtools import StreamToExtendedDecorator
out = sys.stdout.buffer
for path in sys.argv[1:]:
    v1 = io.BytesIO()
    result = StreamToExtendedDecorator(TestProtocolClient(v1))
    result.startTestRun()
    with open(path, "rb") as f:
        ByteStreamToStreamResult(f, non_subunit_name="stdout").run(result)
    result.stopTestRun()
    value = v1.getvalue()
    out.write(struct.pack(">Q", len(value)) + value)
"#;

/// Splits length-prefixed records; a python-subunit refusal is an `Err`.
fn records(mut bytes: &[u8]) -> Vec<Result<Vec<u8>, String>> {
    let mut out = Vec::new();
    let take = |bytes: &mut &[u8]| {
        let (n, rest) = bytes.split_at(8);
        *bytes = rest;
        u64::from_be_bytes(n.try_into().expect("8 bytes"))
    };
    while !bytes.is_empty() {
        let n = take(&mut bytes);
        let refused = n == u64::MAX;
        let n = if refused { take(&mut bytes) } else { n } as usize;
        let (record, rest) = bytes.split_at(n);
        bytes = rest;
        out.push(if refused {
            Err(String::from_utf8_lossy(record).into_owned())
        } else {
            Ok(record.to_vec())
        });
    }
    out
}

fn collect(items: Vec<Item>) -> Vec<Collected> {
    let mut collector = Collector::new(Vec::new());
    let mut out = Vec::new();
    for item in items {
        collector.push(item, &mut |c| out.push(c));
    }
    collector.finish(&mut |c| out.push(c));
    out
}

fn decode_v1(bytes: &[u8], piece: usize) -> Vec<Item> {
    let mut decoder = V1Decoder::new();
    let mut items = Vec::new();
    for chunk in bytes.chunks(piece.max(1)) {
        decoder.feed(chunk);
        items.extend(std::iter::from_fn(|| decoder.next_item()));
    }
    decoder.finish();
    items.extend(std::iter::from_fn(|| decoder.next_item()));
    items
}

/// Checks that our v1 decoder and python-subunit agree on each stream.
fn check_against_python(streams: &[Vec<u8>]) {
    let mut input = Vec::new();
    for stream in streams {
        input.extend((stream.len() as u64).to_be_bytes());
        input.extend(stream);
    }
    let translated = records(&run_python(&["-c", ONE_TO_TWO], input));
    assert_eq!(translated.len(), streams.len());
    for (i, (stream, v2)) in streams.iter().zip(translated).enumerate() {
        let v2 = v2.unwrap_or_else(|error| {
            panic!(
                "python-subunit refuses generated stream {i}, so the generator is wrong:\n{}\n{error}",
                String::from_utf8_lossy(stream)
            )
        });
        let expected = collect(decode(&v2));
        // Split in pieces of a size that varies with the stream, so that
        // lines, chunk headers and chunks are cut at every place somewhere.
        let ours = collect(decode_v1(stream, 1 + i % 23));
        assert!(
            ours == expected,
            "stream {i} decodes differently:\n{}\n--- python-subunit:\n{expected:#?}\n--- ours:\n{ours:#?}",
            String::from_utf8_lossy(stream)
        );
    }
}

/// One event of a generated v1 stream.
#[derive(Debug, Clone)]
enum Event {
    Time(String),
    Tags(String),
    Progress(&'static str),
    /// A line that is text where it stands (a directive that does not fit,
    /// or not a directive at all).
    Text(String),
    Test(Box<TestCase>),
}

#[derive(Debug, Clone)]
struct TestCase {
    start_word: &'static str,
    id: String,
    inside: Vec<Event>,
    outcome_word: &'static str,
    details: Details,
}

#[derive(Debug, Clone)]
enum Details {
    None,
    Simple(Vec<String>),
    Multipart(Vec<PartSpec>),
}

#[derive(Debug, Clone)]
struct PartSpec {
    mime: &'static str,
    name: String,
    content: Vec<u8>,
    /// The content is written in chunks of these sizes (cycled).
    chunks: Vec<usize>,
}

fn id() -> impl Strategy<Value = String> {
    // Brackets and spaces inside ids, and dots as in real ids; not at the
    // ends, where the line protocol would trim or misread them.
    "[a-zA-Z_ñ][a-zA-Z0-9_.ñó()\\[\\] :-]{0,14}[a-zA-Z0-9_)\\]]".prop_map(String::from)
}

fn time_line() -> impl Strategy<Value = String> {
    (0u32..86_400, 0u32..1_000_000, 0..4).prop_map(|(secs, micros, form)| {
        let (h, m, s) = (secs / 3600, secs / 60 % 60, secs % 60);
        match form {
            0 => format!("2026-03-04 {h:02}:{m:02}:{s:02}.{micros:06}Z"),
            1 => format!("2026-03-04T{h:02}:{m:02}:{s:02}Z"),
            2 => format!("2026-03-05 {h:02}:{m:02}:{s:02}.{micros:06}+01:00"),
            _ => format!("2026-03-04 {h:02}:{m:02}:{s:02}.{micros:06}"),
        }
    })
}

fn tags_line() -> impl Strategy<Value = String> {
    prop::collection::vec(("-?", "[a-zó]{1,4}"), 1..4).prop_map(|tags| {
        tags.into_iter()
            .map(|(sign, tag)| format!("{sign}{tag}"))
            .collect::<Vec<_>>()
            .join(" ")
    })
}

/// A line that python-subunit takes as text: words that are no directive,
/// or an outcome (never `test:`, which would leave a test unfinished, nor
/// `uxsuccess:`, at which python-subunit stops outside a test).
fn text_line() -> impl Strategy<Value = String> {
    let word = prop::sample::select(vec![
        "hello",
        "success:",
        "failure",
        "error:",
        "xfail:",
        "skipped:",
        "sk:",
        "]",
        "Traceback",
        "0",
        "",
    ]);
    (word, "[ a-z.ñ:\\[]{0,12}").prop_map(|(word, rest)| format!("{word}{rest}"))
}

fn simple_event() -> impl Strategy<Value = Event> {
    prop_oneof![
        time_line().prop_map(Event::Time),
        tags_line().prop_map(Event::Tags),
        prop::sample::select(vec!["+3", "-1", "push", "pop", "7"]).prop_map(Event::Progress),
        text_line().prop_map(Event::Text),
    ]
}

fn part() -> impl Strategy<Value = PartSpec> {
    // Text parts hold UTF-8 (python-subunit decodes a failure's text parts
    // to summarise it, and stops at bytes that are not); others any bytes.
    let text = (
        prop::sample::select(vec![
            "text/plain",
            "text/plain;charset=utf8",
            "text/x-traceback;charset=utf8,language=python",
        ]),
        "[a-z0-9 \\n\\r\\]\\[ñó]{0,40}".prop_map(String::into_bytes),
    );
    let binary = (
        Just("application/octet-stream"),
        prop::collection::vec(
            prop_oneof![
                any::<u8>(),
                Just(b'\n'),
                Just(b']'),
                Just(b'\r'),
                Just(b'0')
            ],
            0..40,
        ),
    );
    let name = prop_oneof![
        "[a-z]{1,8}",
        Just("]".to_owned()),
        Just("stdout".to_owned())
    ];
    (
        prop_oneof![text, binary],
        name,
        prop::collection::vec(1usize..20, 1..4),
    )
        .prop_map(|((mime, content), name, chunks)| PartSpec {
            mime,
            name,
            content,
            chunks,
        })
}

fn details() -> impl Strategy<Value = Details> {
    prop_oneof![
        Just(Details::None),
        prop::collection::vec("[ \\]a-z:\\[]{0,10}", 0..4).prop_map(Details::Simple),
        prop::collection::vec(part(), 0..4).prop_map(Details::Multipart),
    ]
}

fn test_case() -> impl Strategy<Value = Event> {
    let start = prop::sample::select(vec!["test:", "test", "testing:", "testing"]);
    let outcome = prop::sample::select(vec![
        "success:",
        "successful:",
        "success",
        "failure:",
        "error:",
        "skip:",
        "skip",
        "xfail:",
        "uxsuccess:",
    ]);
    (
        start,
        id(),
        prop::collection::vec(simple_event(), 0..3),
        outcome,
        details(),
    )
        .prop_map(|(start_word, id, inside, outcome_word, details)| {
            Event::Test(Box::new(TestCase {
                start_word,
                id,
                inside,
                outcome_word,
                details,
            }))
        })
}

fn stream() -> impl Strategy<Value = (String, Vec<Event>)> {
    let event = prop_oneof![1 => simple_event(), 3 => test_case()];
    // python-subunit takes the wall clock until a `time:` line: start with one.
    (time_line(), prop::collection::vec(event, 0..12))
}

fn render((first_time, events): &(String, Vec<Event>)) -> Vec<u8> {
    let mut out = format!("time: {first_time}\n").into_bytes();
    for event in events {
        render_event(event, &mut out);
    }
    out
}

fn render_event(event: &Event, out: &mut Vec<u8>) {
    let line = |out: &mut Vec<u8>, text: String| {
        out.extend(text.into_bytes());
        out.push(b'\n');
    };
    match event {
        Event::Time(time) => line(out, format!("time: {time}")),
        Event::Tags(tags) => line(out, format!("tags: {tags}")),
        Event::Progress(p) => line(out, format!("progress: {p}")),
        Event::Text(text) => line(out, text.clone()),
        Event::Test(test) => {
            line(out, format!("{} {}", test.start_word, test.id));
            for inner in &test.inside {
                render_event(inner, out);
            }
            let outcome = format!("{} {}", test.outcome_word, test.id);
            match &test.details {
                Details::None => line(out, outcome),
                Details::Simple(lines) => {
                    line(out, format!("{outcome} ["));
                    for text in lines {
                        line(out, text.clone());
                    }
                    line(out, "]".to_owned());
                }
                Details::Multipart(parts) => {
                    line(out, format!("{outcome} [ multipart"));
                    for part in parts {
                        line(out, format!("Content-Type: {}", part.mime));
                        line(out, part.name.clone());
                        let mut rest = part.content.as_slice();
                        let mut sizes = part.chunks.iter().cycle();
                        while !rest.is_empty() {
                            let n = (*sizes.next().expect("cycled")).min(rest.len());
                            let mut header = String::new();
                            write!(header, "{n:X}\r\n").expect("a string takes writes");
                            out.extend(header.into_bytes());
                            out.extend(&rest[..n]);
                            rest = &rest[n..];
                        }
                        out.extend(b"0\r\n");
                    }
                    line(out, "]".to_owned());
                }
            }
        }
    }
}

#[test]
fn generated_v1_streams_decode_as_python_subunit_reads_them() {
    let mut runner = TestRunner::new_with_rng(
        Config::default(),
        TestRng::deterministic_rng(RngAlgorithm::ChaCha),
    );
    let strategy = stream();
    let streams: Vec<Vec<u8>> = (0..STREAMS)
        .map(|_| {
            let tree = strategy
                .new_tree(&mut runner)
                .expect("the strategy generates");
            render(&tree.current())
        })
        .collect();
    check_against_python(&streams);
}

#[test]
fn what_python_subunit_writes_as_v1_decodes_as_it_reads_it() {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/streams");
    let fixtures: Vec<String> = ["all_statuses.subunit", "with_stdout_noise.subunit"]
        .iter()
        .map(|name| dir.join(name).display().to_string())
        .collect();
    let mut args = vec!["-c", TWO_TO_ONE];
    args.extend(fixtures.iter().map(String::as_str));
    let v1_streams: Vec<Vec<u8>> = records(&run_python(&args, Vec::new()))
        .into_iter()
        .map(|r| r.expect("2to1 does not refuse"))
        .collect();
    assert_eq!(v1_streams.len(), fixtures.len());
    assert!(
        v1_streams.iter().all(|s| s.starts_with(b"time: ")),
        "python-subunit wrote v1"
    );
    check_against_python(&v1_streams);
}

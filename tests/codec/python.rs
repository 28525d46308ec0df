//! Differential tests against python-subunit, the reference implementation:
//! we read what its `StreamResultToBytes` writes, and its
//! `ByteStreamToStreamResult` reads what we write. The Python used is
//! `$TESTR_TEST_PYTHON`, else `python3`; it must have python-subunit.

use std::process::Command;

use serde_json::{Value, json};
use testr::model::Status;
use testr::subunit::{FileChunk, Item, Packet, Timestamp, encode_file, encode_packet};

use crate::support::{decode, python, run_python};

/// Runs `script` with `stdin`, returning its stdout; fails the test with a
/// clear message when python-subunit is missing, rather than skipping.
fn run_script(script: &str, stdin: Vec<u8>) -> Vec<u8> {
    let python = python();
    let check = Command::new(&python)
        .args(["-c", "import subunit, testtools"])
        .output()
        .unwrap_or_else(|e| {
            panic!(
                "cannot run {python} ({e}); set TESTR_TEST_PYTHON to a Python with python-subunit"
            )
        });
    assert!(
        check.status.success(),
        "python-subunit is not importable by {python}: install it (pip install python-subunit) \
         or set TESTR_TEST_PYTHON to a Python that has it\n{}",
        String::from_utf8_lossy(&check.stderr)
    );
    run_python(&["-c", script], stdin)
}

/// 2026-01-01T00:00:00.123456Z, as python-subunit writes it (microseconds).
const TS: Timestamp = Timestamp {
    secs: 1_767_225_600,
    nanos: 123_456_000,
};

const WRITER: &str = r#"
import datetime, sys
from subunit import StreamResultToBytes
out = StreamResultToBytes(sys.stdout.buffer)
ts = datetime.datetime(2026, 1, 1, 0, 0, 0, 123456, tzinfo=datetime.timezone.utc)
for status in [None, "exists", "inprogress", "success", "uxsuccess", "skip", "fail", "xfail"]:
    out.status(test_id="pkg.test_%s" % status, test_status=status, timestamp=ts,
               test_tags={"worker-0"}, route_code="0")
out.status(test_id="pkg.test_ñ", test_status="exists", runnable=False)
sys.stdout.buffer.write("falló ünïcode ok\n".encode())
sys.stdout.buffer.flush()
out.status(test_id="t", file_name="traceback", file_bytes=b"Traceback\n",
           mime_type="text/x-traceback; charset=utf8", timestamp=ts)
out.status(test_id="t", file_name="traceback", file_bytes=b"more\xb3", eof=True)
out.status(file_name="stdout", file_bytes=b"", eof=True)
out.status(test_id="x" * 54)
out.status(test_id="x" * 55)
out.status(test_id="big", file_name="blob", file_bytes=bytes(range(256)) * 80,
           route_code="1/2", test_tags={"a", "b", "c"})
out.status(test_id="t", test_status="fail", timestamp=ts, test_tags={"worker-0"})
"#;

fn packet(id: &str) -> Packet {
    Packet {
        test_id: Some(id.to_owned()),
        ..Packet::default()
    }
}

fn writer_expectation() -> Vec<Item> {
    let mut items: Vec<Item> = [None]
        .into_iter()
        .chain(Status::ALL.map(Some))
        .map(|status| {
            Item::Packet(Packet {
                status,
                timestamp: Some(TS),
                tags: Some(vec!["worker-0".to_owned()]),
                route_code: Some("0".to_owned()),
                ..packet(&format!("pkg.test_{}", status.map_or("None", |s| s.name())))
            })
        })
        .collect();
    let file = |name: &str, content: &[u8]| {
        Some(FileChunk {
            name: name.to_owned(),
            content: content.to_vec(),
        })
    };
    items.extend([
        Item::Packet(Packet {
            status: Some(Status::Exists),
            runnable: false,
            ..packet("pkg.test_ñ")
        }),
        Item::Text("falló ünïcode ok\n".as_bytes().to_vec()),
        Item::Packet(Packet {
            file: file("traceback", b"Traceback\n"),
            mime_type: Some("text/x-traceback; charset=utf8".to_owned()),
            timestamp: Some(TS),
            ..packet("t")
        }),
        Item::Packet(Packet {
            file: file("traceback", b"more\xb3"),
            eof: true,
            ..packet("t")
        }),
        Item::Packet(Packet {
            file: file("stdout", b""),
            eof: true,
            ..Packet::default()
        }),
        Item::Packet(packet(&"x".repeat(54))),
        Item::Packet(packet(&"x".repeat(55))),
        Item::Packet(Packet {
            file: file("blob", &(0..=255u8).collect::<Vec<_>>().repeat(80)),
            route_code: Some("1/2".to_owned()),
            tags: Some(vec!["a".to_owned(), "b".to_owned(), "c".to_owned()]),
            ..packet("big")
        }),
        Item::Packet(Packet {
            status: Some(Status::Fail),
            timestamp: Some(TS),
            tags: Some(vec!["worker-0".to_owned()]),
            ..packet("t")
        }),
    ]);
    items
}

#[test]
fn we_read_what_python_subunit_writes() {
    let stream = run_script(WRITER, Vec::new());
    let mut items = decode(&stream);
    // python-subunit writes a set of tags in hash order.
    for item in &mut items {
        if let Item::Packet(Packet {
            tags: Some(tags), ..
        }) = item
        {
            tags.sort();
        }
    }
    assert_eq!(items, writer_expectation());
}

const READER: &str = r#"
import base64, datetime, json, sys
from subunit import ByteStreamToStreamResult
EPOCH = datetime.datetime(1970, 1, 1, tzinfo=datetime.timezone.utc)
class Record:
    def __init__(self):
        self.events = []
    def status(self, test_id=None, test_status=None, test_tags=None, runnable=True,
               file_name=None, file_bytes=None, eof=False, mime_type=None,
               route_code=None, timestamp=None):
        if timestamp is not None:
            d = timestamp - EPOCH
            timestamp = [d.days * 86400 + d.seconds, d.microseconds]
        self.events.append(dict(
            test_id=test_id, status=test_status,
            tags=sorted(test_tags) if test_tags is not None else None,
            runnable=runnable, file_name=file_name,
            file_bytes=None if file_bytes is None else base64.b64encode(bytes(file_bytes)).decode(),
            eof=eof, mime_type=mime_type, route_code=route_code, timestamp=timestamp))
record = Record()
ByteStreamToStreamResult(sys.stdin.buffer, non_subunit_name="stdout").run(record)
json.dump(record.events, sys.stdout)
"#;

fn b64(bytes: &[u8]) -> String {
    const ALPHABET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::new();
    for chunk in bytes.chunks(3) {
        let n = chunk
            .iter()
            .enumerate()
            .fold(0u32, |n, (i, &b)| n | u32::from(b) << (16 - 8 * i));
        for i in 0..4 {
            if i <= chunk.len() {
                out.push(char::from(ALPHABET[(n >> (18 - 6 * i) & 0x3F) as usize]));
            } else {
                out.push('=');
            }
        }
    }
    out
}

/// The event python-subunit reports for one of our items.
fn as_python_event(item: &Item) -> Value {
    match item {
        Item::Packet(p) => json!({
            "test_id": p.test_id,
            "status": p.status.map(Status::name),
            "tags": p.tags.as_ref().map(|tags| {
                let mut tags = tags.clone();
                tags.sort();
                tags
            }),
            "runnable": p.runnable,
            "file_name": p.file.as_ref().map(|f| f.name.clone()),
            "file_bytes": p.file.as_ref().map(|f| b64(&f.content)),
            "eof": p.eof,
            "mime_type": p.mime_type,
            "route_code": p.route_code,
            "timestamp": p.timestamp.map(|ts| [ts.secs, ts.nanos / 1000]),
        }),
        Item::Text(bytes) => json!({
            "test_id": null, "status": null, "tags": null, "runnable": true,
            "file_name": "stdout", "file_bytes": b64(bytes), "eof": false,
            "mime_type": null, "route_code": null, "timestamp": null,
        }),
        Item::Corrupt { .. } => panic!("the stream we wrote has no corrupt packets"),
    }
}

/// python-subunit splits text into events by read timing; join adjacent ones.
fn merge_stdout(events: Vec<Value>, decode_b64: impl Fn(&str) -> Vec<u8>) -> Vec<Value> {
    let mut merged: Vec<(Value, Vec<u8>)> = Vec::new();
    for event in events {
        let is_text = event["file_name"] == "stdout" && event["test_id"].is_null();
        if is_text {
            let bytes = decode_b64(event["file_bytes"].as_str().unwrap_or_default());
            if let Some((prev, acc)) = merged.last_mut() {
                if prev["file_name"] == "stdout" && prev["test_id"].is_null() {
                    acc.extend(bytes);
                    continue;
                }
            }
            merged.push((event, bytes));
        } else {
            merged.push((event, Vec::new()));
        }
    }
    merged
        .into_iter()
        .map(|(mut event, bytes)| {
            if event["file_name"] == "stdout" && event["test_id"].is_null() {
                event["file_bytes"] = Value::String(b64(&bytes));
            }
            event
        })
        .collect()
}

fn unb64(s: &str) -> Vec<u8> {
    let value = |c: u8| -> u32 {
        match c {
            b'A'..=b'Z' => u32::from(c - b'A'),
            b'a'..=b'z' => u32::from(c - b'a') + 26,
            b'0'..=b'9' => u32::from(c - b'0') + 52,
            b'+' => 62,
            _ => 63,
        }
    };
    let mut out = Vec::new();
    for chunk in s.as_bytes().chunks(4) {
        let data: Vec<u8> = chunk.iter().copied().filter(|&c| c != b'=').collect();
        let n = data
            .iter()
            .enumerate()
            .fold(0u32, |n, (i, &c)| n | value(c) << (18 - 6 * i));
        for i in 0..data.len().saturating_sub(1) {
            out.push((n >> (16 - 8 * i)) as u8);
        }
    }
    out
}

#[test]
fn python_subunit_reads_what_we_write() {
    let mut stream = Vec::new();
    let mut items = Vec::new();
    let mut push = |stream: &mut Vec<u8>, p: Packet| {
        encode_packet(&p, stream).expect("encodes");
        items.push(Item::Packet(p));
    };
    for status in [None].into_iter().chain(Status::ALL.map(Some)) {
        push(
            &mut stream,
            Packet {
                status,
                timestamp: Some(TS),
                tags: Some(vec!["worker-0".to_owned(), "py311".to_owned()]),
                route_code: Some("0".to_owned()),
                ..packet("pkg.test_ñ")
            },
        );
    }
    push(
        &mut stream,
        Packet {
            status: Some(Status::Exists),
            runnable: false,
            ..packet("listed")
        },
    );
    let noise = "log line: falló ünïcode ok\n".as_bytes();
    stream.extend_from_slice(noise);
    // A 5 MB attachment: more than one packet holds.
    let template = Packet {
        mime_type: Some("application/octet-stream".to_owned()),
        route_code: Some("3".to_owned()),
        timestamp: Some(TS),
        ..packet("big")
    };
    let content: Vec<u8> = (0..5_000_000u32).map(|i| (i % 251) as u8).collect();
    let start = stream.len();
    encode_file(&template, "blob", &content, &mut stream).expect("encodes");
    let ours = decode(&stream[start..]);
    assert!(ours.len() > 1, "the attachment is chunked");
    let mut expected: Vec<Item> = items;
    expected.push(Item::Text(noise.to_vec()));
    expected.extend(ours);
    let stdout = run_script(READER, stream);
    let events: Vec<Value> = serde_json::from_slice(&stdout).expect("python prints json");
    let expected: Vec<Value> = expected.iter().map(as_python_event).collect();
    assert_eq!(merge_stdout(events, unb64), merge_stdout(expected, unb64));
}

#[test]
fn base64_helpers_agree() {
    for len in 0..10 {
        let bytes: Vec<u8> = (0..len).map(|i| (i * 37) as u8).collect();
        assert_eq!(unb64(&b64(&bytes)), bytes);
    }
    assert_eq!(b64(b"hello"), "aGVsbG8=");
}

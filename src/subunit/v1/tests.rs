//! Unit tests for the v1 decoder: what stestr writes, details in both
//! forms, tags and time, text, damage, and input split every way.

use super::*;
use crate::subunit::Items;

fn decode_in_chunks(bytes: &[u8], chunk: usize) -> Vec<Item> {
    let mut decoder = V1Decoder::new();
    let mut items = Vec::new();
    for piece in bytes.chunks(chunk.max(1)) {
        decoder.feed(piece);
        items.extend(std::iter::from_fn(|| decoder.next_item()));
    }
    decoder.finish();
    items.extend(std::iter::from_fn(|| decoder.next_item()));
    merge_text(items)
}

fn decode(bytes: &[u8]) -> Vec<Item> {
    decode_in_chunks(bytes, bytes.len())
}

/// Items with adjacent text merged, so that splits of the same input compare.
fn merge_text(items: Vec<Item>) -> Vec<Item> {
    let mut merged: Vec<Item> = Vec::new();
    for item in items {
        match (merged.last_mut(), item) {
            (Some(Item::Text(before)), Item::Text(more)) => before.extend(more),
            (_, item) => merged.push(item),
        }
    }
    merged
}

const T0: Timestamp = Timestamp {
    secs: 1_767_268_800,
    nanos: 0,
};

fn at(micros: u32) -> Option<Timestamp> {
    Some(Timestamp {
        secs: T0.secs,
        nanos: micros * 1000,
    })
}

fn started(id: &str, now: Option<Timestamp>) -> Item {
    Item::Packet(Packet {
        status: Some(Status::InProgress),
        test_id: Some(id.to_owned()),
        timestamp: now,
        ..Packet::default()
    })
}

fn ended(id: &str, status: Status, now: Option<Timestamp>, tags: &[&str]) -> Item {
    Item::Packet(Packet {
        status: Some(status),
        test_id: Some(id.to_owned()),
        timestamp: now,
        tags: (!tags.is_empty()).then(|| tags.iter().map(|t| t.to_string()).collect()),
        ..Packet::default()
    })
}

fn file(id: &str, name: &str, mime: &str, content: &[u8], now: Option<Timestamp>) -> Item {
    Item::Packet(Packet {
        test_id: Some(id.to_owned()),
        timestamp: now,
        mime_type: Some(mime.to_owned()),
        file: Some(FileChunk {
            name: name.to_owned(),
            content: content.to_vec(),
        }),
        eof: true,
        ..Packet::default()
    })
}

/// As stestr 4.2.1 writes a run file (python-subunit's v1 client).
const STESTR_RUN: &[u8] = b"time: 2026-01-01 12:00:00.000000Z\n\
tags: worker-1\n\
test: pkg.T.test_fail\n\
time: 2026-01-01 12:00:00.000150Z\n\
failure: pkg.T.test_fail [ multipart\n\
Content-Type: text/x-traceback;charset=utf8,language=python\n\
traceback\n\
20\r\nTraceback:\nAssertionError: boom\n0\r\n\
]\n\
tags: -worker-1\n\
time: 2026-01-01 12:00:00.000200Z\n\
tags: worker-0\n\
test: pkg.T.test_ok\n\
time: 2026-01-01 12:00:00.000300Z\n\
successful: pkg.T.test_ok [ multipart\n\
]\n\
tags: -worker-0\n\
time: 2026-01-01 12:00:00.000400Z\n\
tags: worker-0\n\
test: pkg.T.test_skip\n\
time: 2026-01-01 12:00:00.000500Z\n\
skip: pkg.T.test_skip [ multipart\n\
Content-Type: text/plain;charset=utf8\n\
reason\n\
9\r\nnot today0\r\n\
]\n\
tags: -worker-0\n";

#[test]
fn a_stestr_run_file_decodes_as_python_subunit_reads_it() {
    let expected = vec![
        started("pkg.T.test_fail", at(0)),
        file(
            "pkg.T.test_fail",
            "traceback",
            "text/x-traceback;charset=utf8,language=python",
            b"Traceback:\nAssertionError: boom\n",
            at(150),
        ),
        ended("pkg.T.test_fail", Status::Fail, at(150), &["worker-1"]),
        started("pkg.T.test_ok", at(200)),
        ended("pkg.T.test_ok", Status::Success, at(300), &["worker-0"]),
        started("pkg.T.test_skip", at(400)),
        file(
            "pkg.T.test_skip",
            "reason",
            "text/plain;charset=utf8",
            b"not today",
            at(500),
        ),
        ended("pkg.T.test_skip", Status::Skip, at(500), &["worker-0"]),
    ];
    assert_eq!(decode(STESTR_RUN), expected);
}

#[test]
fn input_split_anywhere_decodes_the_same() {
    let whole = decode(STESTR_RUN);
    for chunk in 1..40 {
        assert_eq!(decode_in_chunks(STESTR_RUN, chunk), whole, "chunk {chunk}");
    }
}

#[test]
fn bracketed_details_are_named_by_outcome_and_unquoted() {
    let stream = b"test: a\nfailure: a [\nTraceback\n ] quoted\n]\n\
test b\nskip b [\nno network\n]\n\
testing: c\nsuccessful: c [\nall good\n]\n\
test: d\nerror: d\n\
test: e\nxfail: e\n\
test: f\nuxsuccess: f\n";
    let items = decode(stream);
    let tb = "text/x-traceback; charset=\"utf8\"";
    assert_eq!(
        items,
        vec![
            started("a", None),
            file("a", "traceback", tb, b"Traceback\n] quoted\n", None),
            ended("a", Status::Fail, None, &[]),
            started("b", None),
            file("b", "reason", "text/plain", b"no network\n", None),
            ended("b", Status::Skip, None, &[]),
            started("c", None),
            file("c", "message", "text/plain", b"all good\n", None),
            ended("c", Status::Success, None, &[]),
            started("d", None),
            ended("d", Status::Fail, None, &[]),
            started("e", None),
            ended("e", Status::XFail, None, &[]),
            started("f", None),
            ended("f", Status::UxSuccess, None, &[]),
        ]
    );
}

#[test]
fn multipart_parts_keep_their_order_and_binary_content() {
    let stream = b"test: a\nfailure: a [ multipart\n\
Content-Type: application/octet-stream\nblob\n3\r\n]\n\n2\r\n\xff\x000\r\n\
Content-Type: text/plain\nempty\n0\r\n\
Content-Type: text/plain\nblob\n1\r\nx0\r\n\
]\n";
    assert_eq!(
        decode(stream),
        vec![
            started("a", None),
            // A second part of the same name replaces the first, in its place.
            file("a", "blob", "text/plain", b"x", None),
            file("a", "empty", "text/plain", b"", None),
            ended("a", Status::Fail, None, &[]),
        ]
    );
}

#[test]
fn tags_inside_a_test_are_its_own_and_outside_last() {
    let stream = b"tags: global gone\n\
test: a\ntags: mine -global\nsuccess: a\n\
tags: -gone later\n\
test: b\nsuccess: b\n";
    assert_eq!(
        decode(stream),
        vec![
            started("a", None),
            ended("a", Status::Success, None, &["gone", "mine"]),
            started("b", None),
            ended("b", Status::Success, None, &["global", "later"]),
        ]
    );
}

#[test]
fn what_is_not_a_directive_where_it_stands_is_text() {
    let stream = b"hello\n\
success: nobody\n\
test: a\n\
test: b\n\
failure: b\n\
\x20test: c\n\
test:\n\
progress: +3\n\
progress: push\n\
success: a\n\
trailing words\n";
    assert_eq!(
        decode(stream),
        vec![
            Item::Text(b"hello\nsuccess: nobody\n".to_vec()),
            started("a", None),
            Item::Text(b"test: b\nfailure: b\n test: c\ntest:\n".to_vec()),
            ended("a", Status::Success, None, &[]),
            Item::Text(b"trailing words\n".to_vec()),
        ]
    );
}

#[test]
fn a_substring_of_skip_is_a_skip_as_python_subunit_reads_it() {
    assert_eq!(
        decode(b"test: a\nki: a\n"),
        vec![started("a", None), ended("a", Status::Skip, None, &[])]
    );
}

#[test]
fn a_last_line_without_a_line_break_counts() {
    assert_eq!(
        decode(b"test: a\nsuccess: a"),
        vec![started("a", None), ended("a", Status::Success, None, &[])]
    );
    assert_eq!(
        decode(b"test: a\nfailure: a [\nboom\n]"),
        decode(b"test: a\nfailure: a [\nboom\n]\n")
    );
}

fn corrupt_errors(items: &[Item]) -> Vec<&str> {
    items
        .iter()
        .filter_map(|item| match item {
            Item::Corrupt { error, .. } => Some(error.as_str()),
            _ => None,
        })
        .collect()
}

#[test]
fn a_bad_time_is_corrupt_and_decoding_goes_on() {
    let items = decode(b"time: 2026-01-01 12:00:00Z\ntest: a\ntime: yesterday\nsuccess: a\n");
    assert_eq!(
        corrupt_errors(&items),
        ["line 3: bad time `yesterday`: expected 4 digits of the year"]
    );
    assert_eq!(
        items.last(),
        Some(&ended("a", Status::Success, Some(T0), &[]))
    );
}

#[test]
fn a_bad_part_is_corrupt_and_the_outcome_still_counts() {
    let stream = b"test: a\nfailure: a [ multipart\n\
Content-Type: text/plain\nfirst\n1\r\nx0\r\n\
Content-Type: text/plain\nsecond\nzz\r\nrest\n]\n\
test: b\nsuccess: b\n";
    let items = decode(stream);
    assert_eq!(
        corrupt_errors(&items),
        ["line 9: bad chunk header `zz` (expected hexadecimal digits and CR LF)"]
    );
    assert_eq!(
        items[items.len() - 4..],
        [
            file("a", "first", "text/plain", b"x", None),
            ended("a", Status::Fail, None, &[]),
            started("b", None),
            ended("b", Status::Success, None, &[]),
        ]
    );
    let items = decode(b"test: a\nfailure: a [ multipart\nnot a content type\n]\n");
    assert_eq!(
        corrupt_errors(&items),
        ["line 3: expected `Content-Type: TYPE/SUBTYPE` or `]`, got `not a content type`"]
    );
}

#[test]
fn arguments_that_are_not_utf8_are_corrupt() {
    let items = decode(b"test: \xff\ntags: \xfe\ntest: a\nsuccess: a\n");
    assert_eq!(
        corrupt_errors(&items),
        [
            "line 1: the argument of `test:` is not valid UTF-8",
            "line 2: the `tags:` line is not valid UTF-8",
        ]
    );
    assert_eq!(items.len(), 4);
}

#[test]
fn a_stream_that_stops_inside_a_test_is_corrupt_at_its_end() {
    let cases: [(&[u8], &str); 4] = [
        (
            b"test: a\n",
            "line 1: the stream ends inside test `a`, before its outcome",
        ),
        (
            b"test: a\nfailure: a [\nTraceback (most",
            "line 3: the stream ends inside the details of test `a`",
        ),
        (
            b"test: a\nfailure: a [ multipart\nContent-Type: text/plain\ntb\nFF\r\nshort",
            "line 5: the stream ends inside the details of test `a`",
        ),
        (
            b"test: a\nfailure: a [ multipart\nContent-Type: text/plain\ntb\n5\r\nabcde",
            "line 5: the stream ends inside the details of test `a`",
        ),
    ];
    for (stream, error) in cases {
        for chunk in [1, 3, stream.len()] {
            let items = decode_in_chunks(stream, chunk);
            assert_eq!(items[0], started("a", None));
            assert_eq!(corrupt_errors(&items), [error], "{stream:?} in {chunk}s");
            assert_eq!(items.len(), 2, "{items:?}");
        }
    }
}

#[test]
fn items_reads_a_reader_whole() {
    let items: Vec<Item> = Items::with_decoder(STESTR_RUN, V1Decoder::new())
        .collect::<std::io::Result<_>>()
        .expect("a slice reads");
    assert_eq!(merge_text(items), decode(STESTR_RUN));
}

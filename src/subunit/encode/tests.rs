//! Unit tests for the encoder: python-subunit's exact bytes, the length
//! field's size at its edges, errors, and attachment chunking.

use super::*;
use crate::subunit::Decoder;
use crate::subunit::event::{FileChunk, Item};

fn encoded(packet: &Packet) -> Vec<u8> {
    let mut out = Vec::new();
    encode_packet(packet, &mut out).expect("encodes");
    out
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn decode(bytes: &[u8]) -> Vec<Item> {
    let mut decoder = Decoder::new();
    decoder.feed(bytes);
    decoder.finish();
    std::iter::from_fn(|| decoder.next_item()).collect()
}

fn packets(bytes: &[u8]) -> Vec<Packet> {
    decode(bytes)
        .into_iter()
        .map(|item| match item {
            Item::Packet(p) => p,
            other => panic!("expected only packets, got {other:?}"),
        })
        .collect()
}

#[test]
fn writes_the_readme_example() {
    let packet = Packet {
        status: Some(Status::Exists),
        test_id: Some("foo".to_owned()),
        ..Packet::default()
    };
    assert_eq!(hex(&encoded(&packet)), "b329010c03666f6f08555f1b");
}

#[test]
fn matches_python_subunit_byte_for_byte() {
    // From python-subunit 1.4's StreamResultToBytes.status(...) with these
    // fields (timestamp 2026-01-01T00:00:00.123456Z).
    let packet = Packet {
        status: Some(Status::Fail),
        test_id: Some("pkg.test_ñ".to_owned()),
        route_code: Some("0/1".to_owned()),
        timestamp: Some(Timestamp {
            secs: 1_767_225_600,
            nanos: 123_456_000,
        }),
        runnable: false,
        tags: Some(vec!["worker-0".to_owned()]),
        mime_type: Some("text/x-traceback; charset=utf8".to_owned()),
        file: Some(FileChunk {
            name: "traceback".to_owned(),
            content: b"Traceback\n".to_vec(),
        }),
        eof: true,
    };
    assert_eq!(
        hex(&encoded(&packet)),
        "b32ef6405f6955b900c75bca000b706b672e746573745fc3b10108776f726b65722d301e\
         746578742f782d74726163656261636b3b20636861727365743d7574663809747261636562\
         61636b0a54726163656261636b0a03302f3176614834"
    );
    assert_eq!(
        hex(&encoded(&Packet {
            test_id: Some("foo".to_owned()),
            ..Packet::default()
        })),
        "b329000c03666f6fc3098cbe"
    );
}

#[test]
fn length_field_grows_exactly_at_the_varint_edges() {
    // (test id length, total, first bytes) as python-subunit writes them.
    let ids = [(54, 63, "b329003f36"), (55, 65, "b329004041")];
    for (n, total, head) in ids {
        let bytes = encoded(&Packet {
            test_id: Some("x".repeat(n)),
            ..Packet::default()
        });
        assert_eq!(bytes.len(), total, "{n}");
        assert_eq!(hex(&bytes[..5]), head, "{n}");
    }
    let files = [
        (16_370, 16_383, "b321407fff01"),
        (16_371, 16_385, "b3214080"),
    ];
    for (n, total, head) in files {
        let packet = Packet {
            file: Some(FileChunk {
                name: "f".to_owned(),
                content: vec![b'y'; n],
            }),
            ..Packet::default()
        };
        let bytes = encoded(&packet);
        assert_eq!(bytes.len(), total, "{n}");
        assert!(hex(&bytes).starts_with(head), "{n}");
        assert_eq!(packets(&bytes), vec![packet], "{n}");
    }
}

#[test]
fn the_largest_packet_fits_and_one_more_byte_does_not() {
    // 7 fixed + 3 length + 2 name + 3 content length = 15 bytes besides content.
    let file = |len: usize| Packet {
        runnable: false,
        file: Some(FileChunk {
            name: "f".to_owned(),
            content: vec![0; len],
        }),
        ..Packet::default()
    };
    let largest = file(MAX_PACKET_LEN - 15);
    let bytes = encoded(&largest);
    assert_eq!(bytes.len(), MAX_PACKET_LEN);
    assert_eq!(packets(&bytes), vec![largest]);
    let mut out = b"kept".to_vec();
    assert_eq!(
        encode_packet(&file(MAX_PACKET_LEN - 14), &mut out),
        Err(EncodeError::PacketTooLong {
            len: MAX_PACKET_LEN + 1
        })
    );
    assert_eq!(out, b"kept", "nothing is written on error");
}

#[test]
fn rejects_what_the_wire_cannot_hold() {
    let nul_id = Packet {
        test_id: Some("a\0b".to_owned()),
        ..Packet::default()
    };
    let nul_tag = Packet {
        tags: Some(vec!["ok".to_owned(), "b\0d".to_owned()]),
        ..Packet::default()
    };
    let nanos = Packet {
        timestamp: Some(Timestamp {
            secs: 0,
            nanos: 1 << 30,
        }),
        ..Packet::default()
    };
    let mut out = Vec::new();
    assert_eq!(
        encode_packet(&nul_id, &mut out),
        Err(EncodeError::Nul { field: "test id" })
    );
    assert_eq!(
        encode_packet(&nul_tag, &mut out),
        Err(EncodeError::Nul { field: "tag" })
    );
    assert_eq!(
        encode_packet(&nanos, &mut out),
        Err(EncodeError::NanosTooLarge { nanos: 1 << 30 })
    );
    assert!(out.is_empty());
}

#[test]
fn an_empty_file_is_one_packet_with_eof() {
    let template = Packet {
        test_id: Some("t".to_owned()),
        mime_type: Some("text/plain".to_owned()),
        ..Packet::default()
    };
    let mut out = Vec::new();
    encode_file(&template, "stdout", b"", &mut out).expect("encodes");
    let expected = Packet {
        file: Some(FileChunk {
            name: "stdout".to_owned(),
            content: Vec::new(),
        }),
        eof: true,
        ..template
    };
    assert_eq!(packets(&out), vec![expected]);
}

#[test]
fn a_large_file_is_chunked_with_mime_first_and_eof_last() {
    let content: Vec<u8> = (0..10_000_000u32).map(|i| (i % 253) as u8).collect();
    let template = Packet {
        test_id: Some("t".to_owned()),
        route_code: Some("1".to_owned()),
        tags: Some(vec!["worker-1".to_owned()]),
        timestamp: Some(Timestamp { secs: 5, nanos: 6 }),
        mime_type: Some("application/octet-stream".to_owned()),
        eof: true,
        file: Some(FileChunk::default()),
        ..Packet::default()
    };
    let mut out = Vec::new();
    encode_file(&template, "blob", &content, &mut out).expect("encodes");
    let chunks = packets(&out);
    assert_eq!(chunks.len(), 3);
    let mut joined = Vec::new();
    for (i, chunk) in chunks.iter().enumerate() {
        let first = i == 0;
        let last = i + 1 == chunks.len();
        assert_eq!(chunk.mime_type.is_some(), first, "chunk {i}");
        assert_eq!(chunk.eof, last, "chunk {i}");
        assert_eq!(chunk.test_id, template.test_id);
        assert_eq!(chunk.route_code, template.route_code);
        assert_eq!(chunk.tags, template.tags);
        assert_eq!(chunk.timestamp, template.timestamp);
        let file = chunk.file.as_ref().expect("every chunk has content");
        assert_eq!(file.name, "blob");
        assert!(!file.content.is_empty());
        joined.extend_from_slice(&file.content);
        let mut size = Vec::new();
        encode_packet(chunk, &mut size).expect("re-encodes");
        assert!(
            size.len() <= FILE_PACKET_BUDGET,
            "chunk {i}: {}",
            size.len()
        );
    }
    assert_eq!(joined, content);
}

#[test]
fn a_file_that_exactly_fills_chunks_has_no_empty_tail() {
    let template = Packet::default();
    let mut probe = Vec::new();
    encode_file(&template, "f", &vec![1; 5_000_000], &mut probe).expect("encodes");
    let first = packets(&probe)[0].file.clone().expect("file").content.len();
    let mut out = Vec::new();
    encode_file(&template, "f", &vec![1; 2 * first], &mut out).expect("encodes");
    let chunks = packets(&out);
    assert_eq!(chunks.len(), 2);
    assert!(chunks[1].eof);
}

#[test]
fn a_template_too_big_for_any_content_is_an_error() {
    let template = Packet {
        test_id: Some("x".repeat(FILE_PACKET_BUDGET)),
        ..Packet::default()
    };
    let mut out = Vec::new();
    assert!(matches!(
        encode_file(&template, "f", b"data", &mut out),
        Err(EncodeError::PacketTooLong { .. })
    ));
    assert!(out.is_empty());
}

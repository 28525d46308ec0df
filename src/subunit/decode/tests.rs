//! Unit tests for the decoder: packets, text around them, damage, and input
//! split every way.

use super::*;
use crate::model::Status;
use crate::subunit::event::{FileChunk, Timestamp};
use crate::subunit::{encode_file, encode_packet};

fn encode(packets: &[Packet]) -> Vec<u8> {
    let mut out = Vec::new();
    for packet in packets {
        encode_packet(packet, &mut out).expect("test packets encode");
    }
    out
}

fn test_packet(id: &str, status: Status) -> Packet {
    Packet {
        status: Some(status),
        test_id: Some(id.to_owned()),
        timestamp: Some(Timestamp {
            secs: 1_767_225_600,
            nanos: 123_456_000,
        }),
        tags: Some(vec!["worker-0".to_owned()]),
        ..Packet::default()
    }
}

fn drain(decoder: &mut Decoder, items: &mut Vec<Item>) {
    while let Some(item) = decoder.next_item() {
        items.push(item);
    }
}

fn decode_all(bytes: &[u8]) -> Vec<Item> {
    let mut decoder = Decoder::new();
    let mut items = Vec::new();
    decoder.feed(bytes);
    drain(&mut decoder, &mut items);
    decoder.finish();
    drain(&mut decoder, &mut items);
    items
}

fn decode_in_chunks(bytes: &[u8], chunk: usize) -> Vec<Item> {
    let mut decoder = Decoder::new();
    let mut items = Vec::new();
    for piece in bytes.chunks(chunk) {
        decoder.feed(piece);
        drain(&mut decoder, &mut items);
    }
    decoder.finish();
    drain(&mut decoder, &mut items);
    items
}

/// Items with adjacent text merged, so that splits of the same input compare.
fn merge_text(items: Vec<Item>) -> Vec<Item> {
    let mut merged: Vec<Item> = Vec::new();
    for item in items {
        match (merged.last_mut(), item) {
            (Some(Item::Text(prev)), Item::Text(more)) => prev.extend(more),
            (_, item) => merged.push(item),
        }
    }
    merged
}

/// Every byte an item stands for, in order: decoding must account for all
/// of the input.
fn reassemble(items: &[Item]) -> Vec<u8> {
    let mut out = Vec::new();
    for item in items {
        match item {
            Item::Packet(p) => encode_packet(p, &mut out).expect("decoded packets re-encode"),
            Item::Text(bytes) | Item::Corrupt { bytes, .. } => out.extend_from_slice(bytes),
        }
    }
    out
}

/// A small deterministic generator, so failures reproduce.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }

    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
}

#[test]
fn decodes_the_readme_example() {
    let bytes = [
        0xb3, 0x29, 0x01, 0x0c, 0x03, 0x66, 0x6f, 0x6f, 0x08, 0x55, 0x5f, 0x1b,
    ];
    let expected = Packet {
        status: Some(Status::Exists),
        test_id: Some("foo".to_owned()),
        ..Packet::default()
    };
    assert_eq!(decode_all(&bytes), vec![Item::Packet(expected)]);
}

#[test]
fn decodes_every_status() {
    let packets: Vec<Packet> = Status::ALL
        .into_iter()
        .map(|s| test_packet(&format!("t.{s}"), s))
        .chain([Packet::default()])
        .collect();
    let items = decode_all(&encode(&packets));
    let expected: Vec<Item> = packets.into_iter().map(Item::Packet).collect();
    assert_eq!(items, expected);
}

#[test]
fn decodes_every_field() {
    let packet = Packet {
        status: Some(Status::Fail),
        test_id: Some("pkg.tests.test_ñ.Test.test_x".to_owned()),
        route_code: Some("0/1".to_owned()),
        timestamp: Some(Timestamp {
            secs: u32::MAX,
            nanos: 999_999_999,
        }),
        runnable: false,
        tags: Some(vec!["a".to_owned(), "worker-1".to_owned(), String::new()]),
        mime_type: Some("text/x-traceback; charset=utf8".to_owned()),
        file: Some(FileChunk {
            name: "traceback".to_owned(),
            content: b"Traceback\x00\xb3\xff".to_vec(),
        }),
        eof: true,
    };
    let empty_fields = Packet {
        tags: Some(vec![]),
        test_id: Some(String::new()),
        file: Some(FileChunk::default()),
        ..Packet::default()
    };
    let items = decode_all(&encode(&[packet.clone(), empty_fields.clone()]));
    assert_eq!(
        items,
        vec![Item::Packet(packet), Item::Packet(empty_fields)]
    );
}

#[test]
fn text_with_b3_bytes_around_packets_is_kept_and_packets_survive() {
    // "ó" is c3 b3; "ó " followed by "ünï" reads as a plausible header
    // claiming about 3.9 MB, the case that stalls or swallows events in
    // decoders that trust any 0xB3.
    let noise = "log line 0: falló ünïcode ok\n".as_bytes();
    let packets = [
        test_packet("a", Status::InProgress),
        test_packet("a", Status::Success),
    ];
    let mut stream = noise.to_vec();
    stream.extend(encode(&packets[..1]));
    stream.extend_from_slice(noise);
    stream.extend(encode(&packets[1..]));
    stream.extend_from_slice("adiós, falló".as_bytes());
    let expected = vec![
        Item::Text(noise.to_vec()),
        Item::Packet(packets[0].clone()),
        Item::Text(noise.to_vec()),
        Item::Packet(packets[1].clone()),
        Item::Text("adiós, falló".as_bytes().to_vec()),
    ];
    for chunk in [1, 2, 3, 7, 64, stream.len()] {
        assert_eq!(
            merge_text(decode_in_chunks(&stream, chunk)),
            expected,
            "{chunk}"
        );
    }
}

#[test]
fn bad_crc_is_corrupt_and_decoding_goes_on() {
    let good = test_packet("a", Status::Success);
    let mut damaged = encode(&[test_packet("b", Status::Fail)]);
    let last = damaged.len() - 1;
    damaged[last] ^= 0xFF;
    let mut stream = damaged.clone();
    stream.extend(encode(std::slice::from_ref(&good)));
    let items = decode_all(&stream);
    assert_eq!(items.len(), 2, "{items:?}");
    match &items[0] {
        Item::Corrupt { bytes, error } => {
            assert_eq!(bytes, &damaged);
            assert!(error.starts_with("bad crc: expected 0x"), "{error}");
        }
        other => panic!("expected corrupt, got {other:?}"),
    }
    assert_eq!(items[1], Item::Packet(good));
}

#[test]
fn damage_inside_fields_reports_the_crc() {
    // A flipped string length breaks the fields too; the crc is the story.
    let mut damaged = encode(&[test_packet("abc", Status::Fail)]);
    damaged[12] ^= 0x3F;
    let items = decode_all(&damaged);
    match items.as_slice() {
        [Item::Corrupt { bytes, error }] => {
            assert_eq!(bytes, &damaged);
            assert!(error.starts_with("bad crc"), "{error}");
        }
        other => panic!("expected one corrupt item, got {other:?}"),
    }
}

#[test]
fn truncated_packet_at_the_end_is_corrupt() {
    let whole = encode(&[test_packet("a", Status::Success)]);
    let cut = &whole[..whole.len() - 3];
    let items = decode_all(cut);
    let expected_error = format!(
        "truncated packet: expected {} bytes, got {}",
        whole.len(),
        cut.len()
    );
    assert_eq!(
        items,
        vec![Item::Corrupt {
            bytes: cut.to_vec(),
            error: expected_error
        }]
    );
}

#[test]
fn truncated_packet_followed_by_packets_is_text() {
    // A writer killed mid-packet, then a new writer: the torn head is text
    // and nothing after it is lost.
    let whole = encode(&[test_packet("torn", Status::Success)]);
    let next = test_packet("next", Status::Success);
    let mut stream = whole[..10].to_vec();
    stream.extend(encode(std::slice::from_ref(&next)));
    let expected = vec![Item::Text(whole[..10].to_vec()), Item::Packet(next)];
    for chunk in [1, 5, stream.len()] {
        assert_eq!(merge_text(decode_in_chunks(&stream, chunk)), expected);
    }
}

#[test]
fn implausible_headers_are_text() {
    let cases: [&[u8]; 6] = [
        // Version 1.
        &[0xb3, 0x19, 0x01, 0x0c, 0, 0, 0, 0, 0, 0, 0, 0],
        // Reserved bit.
        &[0xb3, 0x29, 0x09, 0x0c, 0, 0, 0, 0, 0, 0, 0, 0],
        // Length below the minimum (7 + 1).
        &[0xb3, 0x29, 0x01, 0x07, 0, 0, 0, 0, 0, 0, 0, 0],
        // Length as a 4-byte varint: over the maximum.
        &[0xb3, 0x29, 0x01, 0xc0, 0, 0, 0x10, 0, 0, 0, 0, 0],
        // A 2-byte length below the minimum for its size (7 + 2).
        &[0xb3, 0x29, 0x01, 0x40, 0x08, 0, 0, 0, 0, 0, 0, 0],
        // Too short for a header at the end of input.
        &[0xb3, 0x29],
    ];
    for bytes in cases {
        assert_eq!(
            decode_all(bytes),
            vec![Item::Text(bytes.to_vec())],
            "{bytes:x?}"
        );
    }
}

#[test]
fn a_stray_candidate_does_not_stall_a_live_pipe() {
    // Stray "ó" plus junk claiming a long packet, then a flushed real packet:
    // the packet must come out before any more input or the end of input.
    let packet = test_packet("live", Status::InProgress);
    let stray = "falló ünïcode".as_bytes();
    let mut decoder = Decoder::new();
    let mut items = Vec::new();
    decoder.feed(stray);
    drain(&mut decoder, &mut items);
    decoder.feed(&encode(std::slice::from_ref(&packet)));
    drain(&mut decoder, &mut items);
    assert_eq!(
        merge_text(items),
        vec![Item::Text(stray.to_vec()), Item::Packet(packet)]
    );
}

#[test]
fn text_comes_out_before_the_end_of_input() {
    let mut decoder = Decoder::new();
    decoder.feed(b"plain output\n");
    assert_eq!(
        decoder.next_item(),
        Some(Item::Text(b"plain output\n".to_vec()))
    );
    assert_eq!(decoder.next_item(), None);
    // A lone 0xB3 at the end might start a packet: it waits, then resolves.
    decoder.feed(b"x\xb3");
    assert_eq!(decoder.next_item(), Some(Item::Text(b"x".to_vec())));
    assert_eq!(decoder.next_item(), None);
    decoder.finish();
    assert_eq!(decoder.next_item(), Some(Item::Text(vec![0xb3])));
    assert_eq!(decoder.next_item(), None);
}

#[test]
fn packets_come_out_as_soon_as_they_are_whole() {
    let packets = [
        test_packet("a", Status::InProgress),
        test_packet("a", Status::Success),
    ];
    let bytes = encode(&packets[..1]);
    let mut decoder = Decoder::new();
    decoder.feed(&bytes[..bytes.len() - 1]);
    assert_eq!(decoder.next_item(), None);
    decoder.feed(&bytes[bytes.len() - 1..]);
    assert_eq!(decoder.next_item(), Some(Item::Packet(packets[0].clone())));
    assert_eq!(decoder.next_item(), None);
}

#[test]
fn an_attachment_holding_a_subunit_stream_stays_whole() {
    // The inner packets are valid at their own offsets; the outer packet
    // still wins however the input is split, because once its fields add up
    // to its length it is waited for.
    let inner = encode(&[
        test_packet("inner", Status::InProgress),
        test_packet("inner", Status::Fail),
    ]);
    let outer = Packet {
        test_id: Some("outer".to_owned()),
        mime_type: Some("application/x-subunit".to_owned()),
        file: Some(FileChunk {
            name: "stream".to_owned(),
            content: inner.repeat(50),
        }),
        eof: true,
        ..Packet::default()
    };
    let stream = encode(std::slice::from_ref(&outer));
    for chunk in [1, 10, 333, 4096, stream.len()] {
        assert_eq!(
            decode_in_chunks(&stream, chunk),
            vec![Item::Packet(outer.clone())],
            "{chunk}"
        );
    }
}

#[test]
fn large_chunked_attachment_round_trips() {
    let content: Vec<u8> = (0..9_000_000u32).map(|i| (i * 7 % 251) as u8).collect();
    let template = Packet {
        test_id: Some("big".to_owned()),
        mime_type: Some("application/octet-stream".to_owned()),
        ..Packet::default()
    };
    let mut stream = Vec::new();
    encode_file(&template, "blob", &content, &mut stream).expect("encodes");
    let items = decode_in_chunks(&stream, 64 * 1024);
    let mut joined = Vec::new();
    for item in &items {
        match item {
            Item::Packet(p) => joined.extend_from_slice(&p.file.as_ref().expect("file").content),
            other => panic!("unexpected {other:?}"),
        }
    }
    assert_eq!(items.len(), 3);
    assert_eq!(joined, content);
}

#[test]
fn splitting_the_input_never_changes_the_result() {
    let mut rng = Rng(0x5eed);
    let mut stream = Vec::new();
    for i in 0..40 {
        match rng.below(4) {
            0 => stream.extend_from_slice("falló ünïcode ó\n".as_bytes()),
            1 => stream.extend((0..rng.below(40)).map(|_| rng.next() as u8)),
            _ => stream.extend(encode(&[test_packet(&format!("t{i}"), Status::Success)])),
        }
    }
    let whole = merge_text(decode_all(&stream));
    assert_eq!(reassemble(&whole), stream);
    for chunk in [1, 2, 3, 5, 8, 13, 100] {
        assert_eq!(
            merge_text(decode_in_chunks(&stream, chunk)),
            whole,
            "{chunk}"
        );
    }
}

#[test]
fn random_and_mutated_input_never_panics_and_is_accounted_for() {
    let mut rng = Rng(0xdecade);
    let valid = encode(&[
        test_packet("a", Status::InProgress),
        Packet {
            file: Some(FileChunk {
                name: "out".to_owned(),
                content: b"some text\xb3".to_vec(),
            }),
            route_code: Some("0".to_owned()),
            ..test_packet("a", Status::Success)
        },
    ]);
    for round in 0..3000 {
        let input: Vec<u8> = if round % 2 == 0 {
            (0..rng.below(300))
                .map(|_| match rng.below(4) {
                    0 => 0xb3,
                    1 => 0x20 | (rng.next() as u8 & 0x0f),
                    _ => rng.next() as u8,
                })
                .collect()
        } else {
            let mut bytes = valid.repeat(1 + rng.below(3));
            for _ in 0..1 + rng.below(4) {
                let at = rng.below(bytes.len());
                match rng.below(3) {
                    0 => bytes[at] ^= 1 << rng.below(8),
                    1 => bytes.insert(at, rng.next() as u8),
                    _ => {
                        bytes.remove(at);
                    }
                }
            }
            bytes
        };
        let chunk = 1 + rng.below(50);
        let items = decode_in_chunks(&input, chunk);
        assert_eq!(reassemble(&items), input, "round {round}");
    }
}

#[test]
fn memory_stays_bounded_on_a_long_stream() {
    let unit = {
        let mut unit = "falló ünïcode ok\n".as_bytes().to_vec();
        unit.extend(encode(&[test_packet("a", Status::Success)]));
        unit
    };
    let mut decoder = Decoder::new();
    let mut count = 0;
    for _ in 0..20_000 {
        decoder.feed(&unit);
        while let Some(item) = decoder.next_item() {
            count += usize::from(matches!(item, Item::Packet(_)));
        }
        assert!(decoder.buf.len() <= 2 * unit.len(), "{}", decoder.buf.len());
    }
    assert_eq!(count, 20_000);
}

#[test]
fn items_reads_a_reader_to_the_end() {
    let packet = test_packet("a", Status::Success);
    let mut stream = b"before\n".to_vec();
    stream.extend(encode(std::slice::from_ref(&packet)));
    stream.extend_from_slice(b"after\xb3");
    let items: Vec<Item> = Items::new(stream.as_slice())
        .collect::<io::Result<_>>()
        .expect("reading a slice does not fail");
    assert_eq!(
        merge_text(items),
        vec![
            Item::Text(b"before\n".to_vec()),
            Item::Packet(packet),
            Item::Text(b"after\xb3".to_vec()),
        ]
    );
}

#[test]
fn items_passes_read_errors_through() {
    struct Failing;
    impl Read for Failing {
        fn read(&mut self, _: &mut [u8]) -> io::Result<usize> {
            Err(io::Error::other("disk on fire"))
        }
    }
    let first = Items::new(Failing).next().expect("an item");
    assert_eq!(first.expect_err("an error").to_string(), "disk on fire");
}

#[test]
fn recognizes_continuation_bytes() {
    assert!(continues_utf8(b"fall\xc3"));
    assert!(continues_utf8(b"\xe2\x80"));
    assert!(continues_utf8(b"\xe2"));
    assert!(continues_utf8(b"\xf0\x9f"));
    assert!(!continues_utf8(b""));
    assert!(!continues_utf8(b"abc"));
    // A complete character before it: the 0xB3 would start nothing valid.
    assert!(!continues_utf8(b"\xc3\xb3"));
    // ED only takes 80..9F next; F4 only 80..8F.
    assert!(!continues_utf8(b"\xed"));
    assert!(!continues_utf8(b"\xf4"));
    assert!(!continues_utf8(b"\xb3\xb3\xb3"));
}

#[test]
fn spanish_text_is_never_corrupt_however_long_or_split() {
    // Longer than any span an "ó" can claim, with no packet to end it.
    let text = "canción: ó, ó. más ó ópera ó\u{fc}n falló ünïcode\n".repeat(120_000);
    let bytes = text.as_bytes();
    for chunk in [4096, 65_536, bytes.len()] {
        let items = merge_text(decode_in_chunks(bytes, chunk));
        assert_eq!(items, vec![Item::Text(bytes.to_vec())], "{chunk}");
    }
    // A character split across two reads is still recognized.
    let mut decoder = Decoder::new();
    decoder.feed(b"fall\xc3");
    assert_eq!(decoder.next_item(), Some(Item::Text(b"fall\xc3".to_vec())));
    decoder.feed(&[0xb3, 0x20, 0x00, 0x08, 1, 2, 3, 4]);
    decoder.finish();
    let rest: Vec<Item> = std::iter::from_fn(|| decoder.next_item()).collect();
    assert_eq!(
        merge_text(rest),
        vec![Item::Text(vec![0xb3, 0x20, 0x00, 0x08, 1, 2, 3, 4])]
    );
}

#[test]
fn a_packet_right_after_a_dangling_lead_byte_still_counts() {
    // Output cut in the middle of a character, then a packet.
    let small = test_packet("a", Status::Success);
    let attachment = Packet {
        file: Some(FileChunk {
            name: "stdout".to_owned(),
            content: vec![b'z'; 10_000],
        }),
        ..test_packet("b", Status::Fail)
    };
    let mut stream = b"cut \xc3".to_vec();
    stream.extend(encode(&[small.clone(), attachment.clone()]));
    let expected = vec![
        Item::Text(b"cut \xc3".to_vec()),
        Item::Packet(small),
        Item::Packet(attachment),
    ];
    assert_eq!(decode_all(&stream), expected);
    // Split inside the attachment's content: its fields already add up.
    assert_eq!(merge_text(decode_in_chunks(&stream, 1000)), expected);
}

#[test]
fn bytes_that_are_not_text_still_make_corrupt_packets() {
    // A plausible header after a byte that begins no character: a damaged
    // packet, reported whole.
    let bytes = [b'x', 0xb3, 0x20, 0x00, 0x08, 1, 2, 3, 4];
    assert!(matches!(
        decode_all(&bytes).as_slice(),
        [Item::Text(_), Item::Corrupt { bytes, .. }] if bytes.len() == 8
    ));
}

//! Shared helpers: proptest strategies for packets and text, and a decoder
//! driver that feeds input in given pieces.

use proptest::prelude::*;
use testr::model::Status;
use testr::subunit::{Decoder, FileChunk, Item, Packet, Timestamp, encode_packet};

/// The largest nanoseconds value a subunit varint holds.
const NANOS_MAX: u32 = (1 << 30) - 1;

/// A string the wire can carry: any Unicode but NUL.
pub fn wire_string(max: usize) -> impl Strategy<Value = String> {
    proptest::string::string_regex(&format!("[^\\x00]{{0,{max}}}")).expect("the regex is valid")
}

pub fn status() -> impl Strategy<Value = Option<Status>> {
    prop_oneof![
        Just(None),
        proptest::sample::select(Status::ALL.to_vec()).prop_map(Some),
    ]
}

pub fn timestamp(nanos: impl Strategy<Value = u32>) -> impl Strategy<Value = Timestamp> {
    (any::<u32>(), nanos).prop_map(|(secs, nanos)| Timestamp { secs, nanos })
}

/// Bytes that favour 0xB3 and the other bytes a plausible header is made of.
pub fn tricky_bytes(max: usize) -> impl Strategy<Value = Vec<u8>> {
    let byte = prop_oneof![
        3 => any::<u8>(),
        2 => Just(0xB3u8),
        1 => 0x20u8..0x30,
        1 => Just(0u8),
    ];
    proptest::collection::vec(byte, 0..max)
}

/// Any packet, every field possibly present.
pub fn packet() -> impl Strategy<Value = Packet> {
    let ids = (
        status(),
        proptest::option::of(wire_string(30)),
        proptest::option::of(wire_string(8)),
        proptest::option::of(timestamp(0..=NANOS_MAX)),
        any::<bool>(),
    );
    let content = (
        proptest::option::of(proptest::collection::vec(wire_string(10), 0..4)),
        proptest::option::of(wire_string(20)),
        proptest::option::of((wire_string(12), tricky_bytes(300))),
        any::<bool>(),
    );
    (ids, content).prop_map(
        |((status, test_id, route_code, timestamp, runnable), (tags, mime_type, file, eof))| {
            Packet {
                status,
                test_id,
                route_code,
                timestamp,
                runnable,
                tags,
                mime_type,
                file: file.map(|(name, content)| FileChunk { name, content }),
                eof,
            }
        },
    )
}

pub fn encode(packets: &[Packet]) -> Vec<u8> {
    let mut out = Vec::new();
    for packet in packets {
        encode_packet(packet, &mut out).expect("generated packets encode");
    }
    out
}

/// Decodes `input` fed in pieces of the given sizes (cycled; all at once if
/// empty), draining items after every piece as a live reader would.
pub fn decode_split(input: &[u8], sizes: &[usize]) -> Vec<Item> {
    let mut decoder = Decoder::new();
    let mut items = Vec::new();
    let mut rest = input;
    let mut sizes = sizes.iter().copied().filter(|&n| n > 0).cycle();
    while !rest.is_empty() {
        let n = sizes.next().unwrap_or(rest.len()).min(rest.len());
        let (piece, after) = rest.split_at(n);
        decoder.feed(piece);
        items.extend(std::iter::from_fn(|| decoder.next_item()));
        rest = after;
    }
    decoder.finish();
    items.extend(std::iter::from_fn(|| decoder.next_item()));
    items
}

pub fn decode(input: &[u8]) -> Vec<Item> {
    decode_split(input, &[])
}

/// The packets among `items`, in order.
pub fn packets_of(items: &[Item]) -> Vec<Packet> {
    items
        .iter()
        .filter_map(|item| match item {
            Item::Packet(p) => Some(p.clone()),
            _ => None,
        })
        .collect()
}

/// Every byte that did not decode as a packet, in order.
pub fn non_packet_bytes(items: &[Item]) -> Vec<u8> {
    let mut out = Vec::new();
    for item in items {
        match item {
            Item::Text(bytes) | Item::Corrupt { bytes, .. } => out.extend_from_slice(bytes),
            Item::Packet(_) => {}
        }
    }
    out
}

/// The input as the items account for it: packets re-encoded (the encoder is
/// canonical, and a packet decodes only with a valid CRC, so this gives back
/// the bytes it came from), text and corrupt bytes as they are.
pub fn reassemble(items: &[Item]) -> Vec<u8> {
    let mut out = Vec::new();
    for item in items {
        match item {
            Item::Packet(p) => encode_packet(p, &mut out).expect("decoded packets re-encode"),
            Item::Text(bytes) | Item::Corrupt { bytes, .. } => out.extend_from_slice(bytes),
        }
    }
    out
}

/// Items with adjacent text merged, so that different splits compare equal.
pub fn merge_text(items: Vec<Item>) -> Vec<Item> {
    let mut merged: Vec<Item> = Vec::new();
    for item in items {
        match (merged.last_mut(), item) {
            (Some(Item::Text(prev)), Item::Text(more)) => prev.extend(more),
            (_, item) => merged.push(item),
        }
    }
    merged
}

/// The Python of the oracle tests: `$TESTR_TEST_PYTHON`, else `python3`;
/// it must have python-subunit.
pub fn python() -> String {
    std::env::var("TESTR_TEST_PYTHON").unwrap_or_else(|_| "python3".to_owned())
}

/// Runs the test Python with `args` and `stdin`, returning its stdout; fails
/// the test with a message saying what to install when it cannot.
pub fn run_python(args: &[&str], stdin: Vec<u8>) -> Vec<u8> {
    let python = python();
    let mut child = std::process::Command::new(&python)
        .args(args)
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| {
            panic!(
                "cannot run {python} ({e}); set TESTR_TEST_PYTHON to a Python with python-subunit"
            )
        });
    let mut child_stdin = child.stdin.take().expect("stdin is piped");
    // Written from a thread so that a full stdout pipe cannot deadlock us.
    let writer = std::thread::spawn(move || std::io::Write::write_all(&mut child_stdin, &stdin));
    let output = child.wait_with_output().expect("python runs");
    writer
        .join()
        .expect("the writer thread does not panic")
        .expect("python reads all its input");
    assert!(
        output.status.success(),
        "{python} failed (does it have python-subunit? pip install python-subunit):\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
    output.stdout
}

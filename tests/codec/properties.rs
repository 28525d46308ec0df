//! Property tests: every packet round-trips, packets survive any text around
//! them, how the input is split never matters, and no input panics.

use proptest::prelude::*;
use proptest::strategy::ValueTree;
use testr::subunit::{Item, Packet};

use crate::support::{
    decode, decode_split, encode, merge_text, non_packet_bytes, packet, packets_of, reassemble,
    tricky_bytes, wire_string,
};

/// Text a test process might print: raw bytes, any Unicode, or Spanish with
/// the "ó" (c3 b3) that looks like a packet start.
fn text() -> impl Strategy<Value = Vec<u8>> {
    prop_oneof![
        tricky_bytes(80),
        wire_string(40).prop_map(String::into_bytes),
        proptest::sample::select(vec![
            "falló ünïcode ok\n",
            "ó",
            "adiós ",
            "ó \u{fc}n",
            "canción: ó. ó, ó-ó/ó\n",
        ])
        .prop_map(|s| s.as_bytes().to_vec()),
    ]
}

fn splits() -> impl Strategy<Value = Vec<usize>> {
    proptest::collection::vec(1usize..64, 0..4)
}

/// A small deterministic generator for the long no-panic runs.
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

proptest! {
    #[test]
    fn every_packet_round_trips(packet in packet(), sizes in splits()) {
        let bytes = encode(std::slice::from_ref(&packet));
        prop_assert_eq!(decode_split(&bytes, &sizes), vec![Item::Packet(packet)]);
    }

    #[test]
    fn packets_survive_any_text_around_them(
        parts in proptest::collection::vec((text(), packet()), 0..8),
        tail in text(),
        sizes in splits(),
    ) {
        let mut stream = Vec::new();
        let mut texts = Vec::new();
        for (text, packet) in &parts {
            stream.extend_from_slice(text);
            texts.extend_from_slice(text);
            stream.extend(encode(std::slice::from_ref(packet)));
        }
        stream.extend_from_slice(&tail);
        texts.extend_from_slice(&tail);
        let items = decode_split(&stream, &sizes);
        let expected: Vec<Packet> = parts.into_iter().map(|(_, p)| p).collect();
        prop_assert_eq!(packets_of(&items), expected);
        prop_assert_eq!(non_packet_bytes(&items), texts);
    }

    #[test]
    fn splitting_the_input_never_changes_the_items(
        parts in proptest::collection::vec((text(), packet()), 0..6),
        tail in text(),
        sizes in splits(),
    ) {
        let mut stream = Vec::new();
        for (text, packet) in &parts {
            stream.extend_from_slice(text);
            stream.extend(encode(std::slice::from_ref(packet)));
        }
        stream.extend_from_slice(&tail);
        prop_assert_eq!(
            merge_text(decode_split(&stream, &sizes)),
            merge_text(decode(&stream))
        );
    }

    #[test]
    fn arbitrary_bytes_are_all_accounted_for(bytes in tricky_bytes(3000), sizes in splits()) {
        prop_assert_eq!(reassemble(&decode_split(&bytes, &sizes)), bytes);
    }

    #[test]
    fn mutated_streams_are_all_accounted_for(
        packets in proptest::collection::vec(packet(), 1..5),
        edits in proptest::collection::vec((any::<prop::sample::Index>(), 0u8..3, any::<u8>()), 1..6),
        sizes in splits(),
    ) {
        let mut bytes = encode(&packets);
        for (at, kind, byte) in edits {
            if bytes.is_empty() {
                break;
            }
            let at = at.index(bytes.len());
            match kind {
                0 => bytes[at] ^= byte | 1,
                1 => bytes.insert(at, byte),
                _ => {
                    bytes.remove(at);
                }
            }
        }
        prop_assert_eq!(reassemble(&decode_split(&bytes, &sizes)), bytes);
    }
}

/// Damages a stream of valid packets `rounds` times in random ways and checks
/// that decoding never panics and accounts for every byte.
fn mutate_and_decode(rounds: usize, seed: u64) {
    let mut rng = Rng(seed);
    let mut runner = proptest::test_runner::TestRunner::deterministic();
    let corpus: Vec<Vec<u8>> = (0..64)
        .map(|_| {
            let packets = proptest::collection::vec(packet(), 1..6)
                .new_tree(&mut runner)
                .expect("the strategy generates")
                .current();
            encode(&packets)
        })
        .collect();
    for round in 0..rounds {
        let mut bytes = corpus[rng.below(corpus.len())].clone();
        for _ in 0..1 + rng.below(8) {
            if bytes.is_empty() {
                break;
            }
            let at = rng.below(bytes.len());
            match rng.below(5) {
                0 => bytes[at] ^= 1 << rng.below(8),
                1 => bytes[at] = rng.next() as u8,
                2 => bytes.insert(
                    at,
                    if rng.below(2) == 0 {
                        0xB3
                    } else {
                        rng.next() as u8
                    },
                ),
                3 => {
                    bytes.remove(at);
                }
                _ => {
                    let end = (at + rng.below(16)).min(bytes.len());
                    let copy = bytes[at..end].to_vec();
                    let to = rng.below(bytes.len());
                    bytes.splice(to..to, copy);
                }
            }
        }
        let sizes = [1 + rng.below(40), 1 + rng.below(400)];
        let items = decode_split(&bytes, &sizes);
        assert_eq!(reassemble(&items), bytes, "round {round}");
    }
}

#[test]
fn twenty_thousand_mutated_streams_decode_without_panic() {
    mutate_and_decode(20_000, 0x7e57);
}

/// The long run: `cargo test --test codec -- --ignored`.
#[test]
#[ignore = "long-running; the fuzz target covers the same ground"]
fn two_hundred_thousand_mutated_streams_decode_without_panic() {
    mutate_and_decode(200_000, 0xfeed);
}

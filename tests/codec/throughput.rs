//! Decoder throughput, printed, never asserted (timings are no test
//! verdict): `cargo test --release --test codec -- --ignored --nocapture
//! throughput`. Decodes `$TESTR_BENCH_STREAM` if set (for example a stream
//! from shared/bench/gen_stream.py), else a ~100 MB stream built here.

use std::time::Instant;

use testr::model::Status;
use testr::subunit::{Decoder, FileChunk, Item, Packet, Timestamp};

use crate::support::encode;

fn synthetic_stream() -> Vec<u8> {
    let mut stream = Vec::new();
    let tags = Some(vec!["py311".to_owned()]);
    let mut i = 0u32;
    while stream.len() < 100_000_000 {
        let id = format!(
            "pkg.tests.test_mod{:04}.TestCase{:05}.test_{i:06}",
            i / 100,
            i / 20
        );
        let at = Timestamp {
            secs: 1_767_225_600 + i / 1000,
            nanos: (i % 1000) * 1_000_000,
        };
        let mut packets = vec![Packet {
            status: Some(Status::InProgress),
            test_id: Some(id.clone()),
            timestamp: Some(at),
            tags: tags.clone(),
            ..Packet::default()
        }];
        if i % 50 == 0 {
            packets.push(Packet {
                test_id: Some(id.clone()),
                mime_type: Some("text/x-traceback; charset=utf8".to_owned()),
                file: Some(FileChunk {
                    name: "traceback".to_owned(),
                    content: b"Traceback (most recent call last):\n  ...\nAssertionError\n"
                        .to_vec(),
                }),
                eof: true,
                tags: tags.clone(),
                ..Packet::default()
            });
        }
        packets.push(Packet {
            status: Some(if i % 50 == 0 {
                Status::Fail
            } else {
                Status::Success
            }),
            test_id: Some(id),
            timestamp: Some(at),
            tags: tags.clone(),
            ..Packet::default()
        });
        stream.extend(encode(&packets));
        if i % 97 == 0 {
            stream.extend_from_slice(format!("log line {i}: falló ünïcode ok\n").as_bytes());
        }
        i += 1;
    }
    stream
}

#[test]
#[ignore = "a measurement, not a check; run it with --release"]
fn throughput() {
    let stream = match std::env::var_os("TESTR_BENCH_STREAM") {
        Some(path) => std::fs::read(&path).expect("TESTR_BENCH_STREAM is readable"),
        None => synthetic_stream(),
    };
    for chunk in [64 * 1024, stream.len()] {
        let started = Instant::now();
        let mut decoder = Decoder::new();
        let (mut packets, mut text, mut corrupt) = (0, 0, 0);
        let mut count = |item: Item| match item {
            Item::Packet(_) => packets += 1,
            Item::Text(_) => text += 1,
            Item::Corrupt { .. } => corrupt += 1,
        };
        for piece in stream.chunks(chunk) {
            decoder.feed(piece);
            std::iter::from_fn(|| decoder.next_item()).for_each(&mut count);
        }
        decoder.finish();
        std::iter::from_fn(|| decoder.next_item()).for_each(&mut count);
        let secs = started.elapsed().as_secs_f64();
        println!(
            "{} MB fed {chunk} bytes at a time: {packets} packets, {text} text, {corrupt} corrupt \
             in {secs:.3} s = {:.0} MB/s",
            stream.len() / 1_000_000,
            stream.len() as f64 / secs / 1e6
        );
    }
}

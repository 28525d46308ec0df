//! Differential tests against the `subunit` crate (0.3.1), which reads and
//! writes well-formed streams as python-subunit does: ours must write the
//! same bytes, read what it writes, and write what it reads.

use proptest::prelude::*;
use subunit::io::sync::iter_stream;
use subunit::serialize::Serializable;
use subunit::types::event::Event;
use subunit::types::file::File;
use subunit::types::stream::ScannedItem;
use subunit::types::teststatus::TestStatus;
use subunit::types::timestamp::Timestamp as TheirTimestamp;
use testr::model::Status;
use testr::subunit::{FileChunk, Item, Packet, Timestamp};

use crate::support::{decode, encode, packet};

fn their_status(status: Option<Status>) -> TestStatus {
    TestStatus::from(status.map_or(0, |s| u16::from(s.wire_code())))
}

fn our_status(status: TestStatus) -> Option<Status> {
    Status::from_wire_code(status as u8)
}

fn to_event(p: &Packet) -> Event {
    Event {
        status: their_status(p.status),
        test_id: p.test_id.clone(),
        timestamp: p.timestamp.map(|ts| TheirTimestamp {
            seconds: ts.secs,
            nanoseconds: ts.nanos.try_into().expect("generated nanos fit a varint"),
        }),
        file: File {
            mime_type: p.mime_type.clone(),
            file: p.file.as_ref().map(|f| (f.name.clone(), f.content.clone())),
            eof: p.eof,
        },
        route_code: p.route_code.clone(),
        tags: p.tags.clone(),
        runnable: p.runnable,
    }
}

fn from_event(e: Event) -> Packet {
    Packet {
        status: our_status(e.status),
        test_id: e.test_id,
        route_code: e.route_code,
        timestamp: e.timestamp.map(|ts| Timestamp {
            secs: ts.seconds,
            nanos: u32::from(ts.nanoseconds),
        }),
        runnable: e.runnable,
        tags: e.tags,
        mime_type: e.file.mime_type,
        file: e
            .file
            .file
            .map(|(name, content)| FileChunk { name, content }),
        eof: e.file.eof,
    }
}

fn theirs_read(bytes: &[u8]) -> Vec<Packet> {
    iter_stream(bytes)
        .map(
            |item| match item.expect("the subunit crate reads the stream") {
                ScannedItem::Event(event) => from_event(event),
                other => panic!("the subunit crate saw a non-event: {other:?}"),
            },
        )
        .collect()
}

fn theirs_write(packets: &[Packet]) -> Vec<u8> {
    let mut out = Vec::new();
    for p in packets {
        to_event(p)
            .serialize(&mut out)
            .expect("the subunit crate writes the packet");
    }
    out
}

fn every_field() -> Vec<Packet> {
    let ts = Timestamp {
        secs: 1_767_225_600,
        nanos: 123_456_789,
    };
    let mut packets: Vec<Packet> = Status::ALL
        .into_iter()
        .map(|status| Packet {
            status: Some(status),
            test_id: Some(format!("pkg.test_{status}")),
            timestamp: Some(ts),
            tags: Some(vec!["worker-0".to_owned(), "py311".to_owned()]),
            route_code: Some("0".to_owned()),
            ..Packet::default()
        })
        .collect();
    packets.push(Packet {
        test_id: Some("pkg.test_fail".to_owned()),
        runnable: false,
        mime_type: Some("text/x-traceback; charset=utf8".to_owned()),
        file: Some(FileChunk {
            name: "traceback".to_owned(),
            content: "Traceback: falló\n\u{b3}".as_bytes().to_vec(),
        }),
        eof: true,
        ..Packet::default()
    });
    packets
}

#[test]
fn they_read_what_we_write_with_every_field() {
    let packets = every_field();
    assert_eq!(theirs_read(&encode(&packets)), packets);
}

#[test]
fn we_read_what_they_write_with_every_field() {
    let packets = every_field();
    let items = decode(&theirs_write(&packets));
    let expected: Vec<Item> = packets.into_iter().map(Item::Packet).collect();
    assert_eq!(items, expected);
}

proptest! {
    #[test]
    fn both_write_the_same_bytes_and_read_each_other(
        packets in proptest::collection::vec(packet(), 1..6),
    ) {
        let ours = encode(&packets);
        prop_assert_eq!(&ours, &theirs_write(&packets));
        prop_assert_eq!(theirs_read(&ours), packets.clone());
        let expected: Vec<Item> = packets.into_iter().map(Item::Packet).collect();
        prop_assert_eq!(decode(&ours), expected);
    }
}

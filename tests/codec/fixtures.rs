//! The fixture streams under tests/fixtures/streams decode as their README
//! says, so that the CLI tests built on them rest on known ground.

use std::collections::BTreeMap;
use std::path::PathBuf;

use testr::model::Status;
use testr::subunit::{Item, Packet};

use crate::support::decode;

fn fixture(name: &str) -> Vec<u8> {
    let path: PathBuf = [env!("CARGO_MANIFEST_DIR"), "tests/fixtures/streams", name]
        .iter()
        .collect();
    std::fs::read(&path).unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()))
}

/// The last status each test id reached.
fn final_statuses(packets: &[&Packet]) -> BTreeMap<String, Status> {
    packets
        .iter()
        .filter_map(|p| Some((p.test_id.clone()?, p.status?)))
        .filter(|(_, status)| status.is_final())
        .collect()
}

#[test]
fn all_statuses_has_one_test_per_final_status() {
    let items = decode(&fixture("all_statuses.subunit"));
    let packets: Vec<&Packet> = items
        .iter()
        .map(|item| match item {
            Item::Packet(p) => p,
            other => panic!("only packets expected, got {other:?}"),
        })
        .collect();
    let finals = final_statuses(&packets);
    let expected: BTreeMap<String, Status> = [
        ("success", Status::Success),
        ("fail", Status::Fail),
        ("skip", Status::Skip),
        ("xfail", Status::XFail),
        ("uxsuccess", Status::UxSuccess),
    ]
    .into_iter()
    .map(|(name, s)| {
        (
            format!("pkg.tests.test_statuses.TestStatuses.test_{name}"),
            s,
        )
    })
    .collect();
    assert_eq!(finals, expected);
    let in_progress = packets
        .iter()
        .filter(|p| p.status == Some(Status::InProgress) && p.timestamp.is_some())
        .count();
    assert_eq!(in_progress, 5);
    assert!(
        packets
            .iter()
            .all(|p| p.tags.as_deref() == Some(&["worker-0".to_owned()][..]))
    );
    let traceback = packets
        .iter()
        .find_map(|p| {
            p.file
                .as_ref()
                .filter(|f| f.name == "traceback")
                .map(|f| (p, f))
        })
        .expect("the failure has a traceback");
    assert_eq!(
        traceback.0.test_id.as_deref(),
        Some("pkg.tests.test_statuses.TestStatuses.test_fail")
    );
    assert!(traceback.0.eof);
    assert!(
        traceback
            .1
            .content
            .starts_with(b"Traceback (most recent call last):")
    );
}

#[test]
fn with_stdout_noise_keeps_every_test_and_the_noise() {
    let items = decode(&fixture("with_stdout_noise.subunit"));
    assert!(!items.iter().any(|i| matches!(i, Item::Corrupt { .. })));
    let packets: Vec<&Packet> = items
        .iter()
        .filter_map(|i| match i {
            Item::Packet(p) => Some(p),
            _ => None,
        })
        .collect();
    let finals = final_statuses(&packets);
    assert_eq!(finals.len(), 50);
    let count = |s: Status| finals.values().filter(|&&f| f == s).count();
    assert_eq!(
        (
            count(Status::Success),
            count(Status::Fail),
            count(Status::Skip)
        ),
        (45, 4, 1)
    );
    let text: Vec<u8> = items
        .iter()
        .filter_map(|i| match i {
            Item::Text(t) => Some(t.as_slice()),
            _ => None,
        })
        .flatten()
        .copied()
        .collect();
    assert_eq!(
        String::from_utf8(text).expect("the noise is utf-8"),
        "log line 0: falló ünïcode ok\n"
    );
}

#[test]
fn v1_text_is_all_text_to_the_v2_decoder() {
    let bytes = fixture("v1.txt");
    assert_eq!(decode(&bytes), vec![Item::Text(bytes.clone())]);
}

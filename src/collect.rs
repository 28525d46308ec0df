//! Folds decoded subunit items into finished test results, the way
//! python-subunit's and testtools' stream consumers do: a test's events are
//! grouped by (test id, route code), and the test is done at its final status.

use std::collections::BTreeSet;

use rustc_hash::FxHashMap as HashMap;

use crate::model::{Attachment, Status, TestId, TestResult, TimeSpan};
use crate::subunit::{Item, Packet};

/// The name python-subunit gives the pseudo-test that reports a corrupt packet.
pub const PARSER_TEST_ID: &str = "subunit.parser";

/// The file name python-subunit gives text found between packets.
pub const NON_SUBUNIT_NAME: &str = "stdout";

/// How many bytes of stray text are kept to recognise a subunit v1 stream.
const SNIFF_LEN: usize = 4096;

/// Adjacent text is kept together up to this size, so that a line the
/// decoder had to split (a 0xB3 inside "falló") is stored as one output.
const MAX_TEXT_RUN: usize = 1 << 16;

/// Something the collector has finished with.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Collected {
    /// A test reached its final status (or the stream ended first).
    Test(TestResult),
    /// Output that belongs to no test: text between packets, or a file
    /// attachment without a test id.
    Output(Attachment),
}

#[derive(Debug)]
struct Pending {
    order: u64,
    result: TestResult,
    tags: BTreeSet<String>,
    /// Index in `result.attachments` of each file still being appended to.
    open_files: HashMap<String, usize>,
}

/// Turns a stream of [`Item`]s into [`Collected`] results.
#[derive(Debug, Default)]
pub struct Collector {
    extra_tags: Vec<String>,
    pending: HashMap<(String, Option<String>), Pending>,
    next_order: u64,
    packets: u64,
    corrupt: u64,
    span: TimeSpan,
    text_prefix: Vec<u8>,
    text: Vec<u8>,
}

impl Collector {
    /// A collector that adds `extra_tags` (such as `worker-0`) to every test.
    pub fn new(extra_tags: Vec<String>) -> Collector {
        Collector {
            extra_tags,
            ..Collector::default()
        }
    }

    /// Consumes one item, handing every finished result to `emit`.
    pub fn push(&mut self, item: Item, emit: &mut impl FnMut(Collected)) {
        if !matches!(item, Item::Text(_)) {
            self.flush_text(emit);
        }
        match item {
            Item::Packet(packet) => {
                self.packets += 1;
                self.push_packet(packet, emit);
            }
            Item::Text(bytes) => {
                if self.packets == 0 && self.text_prefix.len() < SNIFF_LEN {
                    let room = SNIFF_LEN - self.text_prefix.len();
                    self.text_prefix
                        .extend_from_slice(&bytes[..bytes.len().min(room)]);
                }
                self.text.extend_from_slice(&bytes);
                if self.text.len() >= MAX_TEXT_RUN {
                    self.flush_text(emit);
                }
            }
            Item::Corrupt { bytes, error } => {
                self.corrupt += 1;
                emit(Collected::Test(self.parser_failure(bytes, error)));
            }
        }
    }

    /// Ends the stream: tests that never reached a final status are emitted
    /// as they stand (a test left in progress counts as a failure).
    pub fn finish(&mut self, emit: &mut impl FnMut(Collected)) {
        self.flush_text(emit);
        let mut rest: Vec<Pending> = self.pending.drain().map(|(_, p)| p).collect();
        rest.sort_by_key(|p| p.order);
        for pending in rest {
            emit(Collected::Test(Self::close(pending)));
        }
    }

    /// How many well-formed packets were read.
    pub fn packets(&self) -> u64 {
        self.packets
    }

    /// How many corrupt packets were read (each became a `subunit.parser` failure).
    pub fn corrupt_packets(&self) -> u64 {
        self.corrupt
    }

    /// The first and last timestamps seen in the stream.
    pub fn time_span(&self) -> TimeSpan {
        self.span
    }

    /// Whether the stream held no packets and its text reads like subunit v1.
    pub fn looks_like_v1(&self) -> bool {
        if self.packets > 0 {
            return false;
        }
        const V1_WORDS: [&str; 12] = [
            "test:",
            "testing:",
            "test ",
            "success:",
            "successful:",
            "failure:",
            "error:",
            "skip:",
            "xfail:",
            "uxsuccess:",
            "tags:",
            "time:",
        ];
        String::from_utf8_lossy(&self.text_prefix)
            .lines()
            .any(|line| V1_WORDS.iter().any(|w| line.starts_with(w)))
    }

    fn flush_text(&mut self, emit: &mut impl FnMut(Collected)) {
        if !self.text.is_empty() {
            emit(Collected::Output(Attachment {
                name: NON_SUBUNIT_NAME.to_owned(),
                mime_type: None,
                content: std::mem::take(&mut self.text),
            }));
        }
    }

    fn push_packet(&mut self, packet: Packet, emit: &mut impl FnMut(Collected)) {
        let timestamp = packet.timestamp.map(|t| t.as_nanos());
        if let Some(ts) = timestamp {
            self.span.include(ts);
        }
        let Some(test_id) = packet.test_id else {
            if let Some(file) = packet.file {
                emit(Collected::Output(Attachment {
                    name: file.name,
                    mime_type: packet.mime_type,
                    content: file.content,
                }));
            }
            return;
        };
        let key = (test_id, packet.route_code);
        let pending = match self.pending.get_mut(&key) {
            Some(pending) => pending,
            None => {
                let order = self.next_order;
                self.next_order += 1;
                let result = TestResult {
                    id: TestId(key.0.clone()),
                    status: Status::Exists,
                    started_at: None,
                    stopped_at: None,
                    tags: Vec::new(),
                    route_code: key.1.clone(),
                    attachments: Vec::new(),
                };
                let tags = self.extra_tags.iter().cloned().collect();
                self.pending.entry(key.clone()).or_insert(Pending {
                    order,
                    result,
                    tags,
                    open_files: HashMap::default(),
                })
            }
        };
        if let Some(tags) = packet.tags {
            pending.tags.extend(tags);
        }
        if let Some(file) = packet.file {
            match pending.open_files.get(&file.name) {
                Some(&index) => pending.result.attachments[index]
                    .content
                    .extend_from_slice(&file.content),
                None => {
                    let index = pending.result.attachments.len();
                    if !packet.eof {
                        pending.open_files.insert(file.name.clone(), index);
                    }
                    pending.result.attachments.push(Attachment {
                        name: file.name.clone(),
                        mime_type: packet.mime_type,
                        content: file.content,
                    });
                }
            }
            if packet.eof {
                pending.open_files.remove(&file.name);
            }
        }
        let Some(status) = packet.status else { return };
        match status {
            Status::Exists => {}
            Status::InProgress => {
                pending.result.status = Status::InProgress;
                if pending.result.started_at.is_none() {
                    pending.result.started_at = timestamp;
                }
            }
            _ => {
                let mut done = self.pending.remove(&key).expect("the pending test exists");
                done.result.status = status;
                done.result.stopped_at = timestamp;
                emit(Collected::Test(Self::close(done)));
            }
        }
    }

    fn close(pending: Pending) -> TestResult {
        let mut result = pending.result;
        result.tags = pending.tags.into_iter().collect();
        result
    }

    fn parser_failure(&self, bytes: Vec<u8>, error: String) -> TestResult {
        let mut tags: Vec<String> = self.extra_tags.clone();
        tags.sort();
        tags.dedup();
        TestResult {
            id: TestId(PARSER_TEST_ID.to_owned()),
            status: Status::Fail,
            started_at: None,
            stopped_at: None,
            tags,
            route_code: None,
            attachments: vec![
                Attachment {
                    name: "Packet data".to_owned(),
                    mime_type: Some("application/octet-stream".to_owned()),
                    content: bytes,
                },
                Attachment {
                    name: "Parser Error".to_owned(),
                    mime_type: Some("text/plain;charset=utf8".to_owned()),
                    content: error.into_bytes(),
                },
            ],
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::subunit::{FileChunk, Timestamp};

    fn packet(id: &str, status: Option<Status>, secs: u32) -> Packet {
        Packet {
            test_id: Some(id.to_owned()),
            status,
            timestamp: Some(Timestamp { secs, nanos: 0 }),
            ..Packet::default()
        }
    }

    fn collect(items: Vec<Item>) -> (Vec<Collected>, Collector) {
        let mut collector = Collector::new(vec!["worker-0".into()]);
        let mut out = Vec::new();
        for item in items {
            collector.push(item, &mut |c| out.push(c));
        }
        collector.finish(&mut |c| out.push(c));
        (out, collector)
    }

    #[test]
    fn a_test_is_done_at_its_final_status_with_its_files_and_tags() {
        let mut file = packet("a", None, 11);
        file.timestamp = None;
        file.file = Some(FileChunk {
            name: "traceback".into(),
            content: b"Trace".to_vec(),
        });
        file.mime_type = Some("text/x-traceback".into());
        let mut more = file.clone();
        more.mime_type = None;
        more.file.as_mut().unwrap().content = b"back".to_vec();
        more.eof = true;
        more.tags = Some(vec!["py311".into()]);
        let (out, collector) = collect(vec![
            Item::Packet(packet("a", Some(Status::InProgress), 10)),
            Item::Packet(file),
            Item::Packet(more),
            Item::Packet(packet("a", Some(Status::Fail), 12)),
        ]);
        let [Collected::Test(result)] = out.as_slice() else {
            panic!("{out:?}")
        };
        assert_eq!(result.status, Status::Fail);
        assert_eq!(result.duration_nanos(), Some(2_000_000_000));
        assert_eq!(result.tags, ["py311", "worker-0"]);
        assert_eq!(result.attachments.len(), 1);
        assert_eq!(result.attachments[0].content, b"Traceback");
        assert_eq!(
            result.attachments[0].mime_type.as_deref(),
            Some("text/x-traceback")
        );
        assert_eq!(
            collector.time_span().bounds(),
            Some((10_000_000_000, 12_000_000_000))
        );
    }

    #[test]
    fn unfinished_tests_are_emitted_at_the_end_in_order() {
        let (out, _) = collect(vec![
            Item::Packet(packet("b", Some(Status::InProgress), 1)),
            Item::Packet(packet("a", Some(Status::Exists), 1)),
        ]);
        let statuses: Vec<_> = out
            .iter()
            .map(|c| match c {
                Collected::Test(r) => (r.id.0.as_str(), r.status),
                Collected::Output(_) => panic!(),
            })
            .collect();
        assert_eq!(statuses, [("b", Status::InProgress), ("a", Status::Exists)]);
    }

    #[test]
    fn text_and_corrupt_packets_are_kept() {
        let (out, collector) = collect(vec![
            Item::Text(b"test: foo\nsuccess: foo\n".to_vec()),
            Item::Corrupt {
                bytes: vec![0xb3, 1, 2],
                error: "bad crc".into(),
            },
        ]);
        assert!(matches!(&out[0], Collected::Output(a) if a.name == "stdout"));
        let Collected::Test(parser) = &out[1] else {
            panic!()
        };
        assert_eq!(parser.id.0, PARSER_TEST_ID);
        assert_eq!(parser.status, Status::Fail);
        assert_eq!(parser.attachments[0].content, [0xb3, 1, 2]);
        assert_eq!(parser.attachments[1].content, b"bad crc");
        assert!(collector.looks_like_v1());
    }
}

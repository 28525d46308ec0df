//! The values the codec reads and writes: one subunit v2 packet, and the
//! items a byte stream decodes into.

use crate::model::Status;

/// A subunit v2 timestamp: seconds since the Unix epoch and nanoseconds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct Timestamp {
    pub secs: u32,
    pub nanos: u32,
}

impl Timestamp {
    /// Nanoseconds since the epoch.
    pub fn as_nanos(self) -> i64 {
        i64::from(self.secs) * 1_000_000_000 + i64::from(self.nanos)
    }

    /// The timestamp for nanoseconds since the epoch; out-of-range values
    /// saturate to the representable span.
    pub fn from_nanos(nanos: i64) -> Timestamp {
        let secs = nanos
            .div_euclid(1_000_000_000)
            .clamp(0, i64::from(u32::MAX));
        let rest = if nanos < 0 {
            0
        } else {
            nanos.rem_euclid(1_000_000_000)
        };
        Timestamp {
            secs: secs as u32,
            nanos: rest as u32,
        }
    }
}

/// One chunk of a file attachment.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct FileChunk {
    pub name: String,
    pub content: Vec<u8>,
}

/// One subunit v2 packet, every field optional as on the wire.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Packet {
    pub status: Option<Status>,
    pub test_id: Option<String>,
    pub route_code: Option<String>,
    pub timestamp: Option<Timestamp>,
    /// python-subunit writes `runnable` as true unless told otherwise.
    pub runnable: bool,
    /// `None` when the packet has no tags field; `Some(vec![])` is an
    /// explicit empty set.
    pub tags: Option<Vec<String>>,
    pub mime_type: Option<String>,
    pub file: Option<FileChunk>,
    pub eof: bool,
}

impl Default for Packet {
    fn default() -> Self {
        Packet {
            status: None,
            test_id: None,
            route_code: None,
            timestamp: None,
            runnable: true,
            tags: None,
            mime_type: None,
            file: None,
            eof: false,
        }
    }
}

/// What a byte stream decodes into.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Item {
    /// A packet that parsed whole with a valid CRC.
    Packet(Packet),
    /// Bytes between packets that are not subunit (a test process printing).
    Text(Vec<u8>),
    /// Bytes that looked like a packet but were not one; kept whole.
    Corrupt { bytes: Vec<u8>, error: String },
}

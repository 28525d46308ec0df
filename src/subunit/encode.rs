//! The encoder: packets in, bytes out, byte-identical to python-subunit's
//! `StreamResultToBytes` for the same fields.

use super::event::{Packet, Timestamp};
use super::wire::{
    FIXED_LEN, FLAG_EOF, FLAG_FILE_CONTENT, FLAG_MIME_TYPE, FLAG_ROUTE_CODE, FLAG_RUNNABLE,
    FLAG_TAGS, FLAG_TEST_ID, FLAG_TIMESTAMP, SIGNATURE, VARINT_MAX, VERSION_2, crc32, put_varint,
    varint_len,
};
use crate::model::Status;

/// The largest packet, in bytes: the most a 3-byte length varint holds.
pub const MAX_PACKET_LEN: usize = 4_194_303;

/// The most bytes [`encode_file`] puts in one packet. Well under
/// [`MAX_PACKET_LEN`], so that a reader with a slightly smaller limit (the
/// `subunit` crate allows 4 MiB, python-subunit's writer 4194300 bytes of
/// packet before the length field) still takes every chunk.
const FILE_PACKET_BUDGET: usize = 4 * 1024 * 1024 - 64 * 1024;

/// Why a packet could not be encoded.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum EncodeError {
    #[error("packet of {len} bytes is over the subunit v2 maximum of {MAX_PACKET_LEN}")]
    PacketTooLong { len: usize },
    #[error("{field} of {len} bytes is too long for subunit v2")]
    FieldTooLong { field: &'static str, len: usize },
    #[error("{field} contains a nul byte, which subunit v2 strings cannot hold")]
    Nul { field: &'static str },
    #[error("timestamp nanoseconds {nanos} do not fit subunit v2's 30 bits")]
    NanosTooLarge { nanos: u32 },
}

/// The fields of one packet, borrowed, so that [`encode_file`] can write
/// each chunk without copying the template or the content.
#[derive(Clone, Copy)]
struct Fields<'a> {
    status: Option<Status>,
    test_id: Option<&'a str>,
    route_code: Option<&'a str>,
    timestamp: Option<Timestamp>,
    runnable: bool,
    tags: Option<&'a [String]>,
    mime_type: Option<&'a str>,
    file: Option<(&'a str, &'a [u8])>,
    eof: bool,
}

impl<'a> Fields<'a> {
    fn of(packet: &'a Packet) -> Fields<'a> {
        Fields {
            status: packet.status,
            test_id: packet.test_id.as_deref(),
            route_code: packet.route_code.as_deref(),
            timestamp: packet.timestamp,
            runnable: packet.runnable,
            tags: packet.tags.as_deref(),
            mime_type: packet.mime_type.as_deref(),
            file: packet
                .file
                .as_ref()
                .map(|f| (f.name.as_str(), f.content.as_slice())),
            eof: packet.eof,
        }
    }

    fn flags(&self) -> u16 {
        let mut flags = VERSION_2 | self.status.map_or(0, |s| u16::from(s.wire_code()));
        let present = [
            (self.test_id.is_some(), FLAG_TEST_ID),
            (self.route_code.is_some(), FLAG_ROUTE_CODE),
            (self.timestamp.is_some(), FLAG_TIMESTAMP),
            (self.runnable, FLAG_RUNNABLE),
            (self.tags.is_some(), FLAG_TAGS),
            (self.file.is_some(), FLAG_FILE_CONTENT),
            (self.mime_type.is_some(), FLAG_MIME_TYPE),
            (self.eof, FLAG_EOF),
        ];
        for (is_present, flag) in present {
            if is_present {
                flags |= flag;
            }
        }
        flags
    }

    /// The size of every field together, checking each can be encoded.
    fn size(&self) -> Result<usize, EncodeError> {
        let mut size = 0;
        if let Some(ts) = self.timestamp {
            if ts.nanos > VARINT_MAX {
                return Err(EncodeError::NanosTooLarge { nanos: ts.nanos });
            }
            size += 4 + number_len(ts.nanos as usize, "timestamp")?;
        }
        if let Some(id) = self.test_id {
            size += string_len(id, "test id")?;
        }
        if let Some(tags) = self.tags {
            size += number_len(tags.len(), "tags")?;
            for tag in tags {
                size += string_len(tag, "tag")?;
            }
        }
        if let Some(mime) = self.mime_type {
            size += string_len(mime, "mime type")?;
        }
        if let Some((name, content)) = self.file {
            size += string_len(name, "file name")?;
            size += number_len(content.len(), "file content")? + content.len();
        }
        if let Some(route) = self.route_code {
            size += string_len(route, "route code")?;
        }
        Ok(size)
    }

    /// Appends the packet; `out` is untouched if it cannot be encoded.
    fn encode(&self, out: &mut Vec<u8>) -> Result<(), EncodeError> {
        let base = FIXED_LEN + self.size()?;
        let len = packet_len(base)?;
        let start = out.len();
        out.reserve(len);
        out.push(SIGNATURE);
        out.extend_from_slice(&self.flags().to_be_bytes());
        // `packet_len` keeps `len` within 3 varint bytes.
        put_varint(len as u32, out);
        // The sizes were checked above, so every `as u32` below fits a varint.
        if let Some(ts) = self.timestamp {
            out.extend_from_slice(&ts.secs.to_be_bytes());
            put_varint(ts.nanos, out);
        }
        if let Some(id) = self.test_id {
            put_string(id, out);
        }
        if let Some(tags) = self.tags {
            put_varint(tags.len() as u32, out);
            for tag in tags {
                put_string(tag, out);
            }
        }
        if let Some(mime) = self.mime_type {
            put_string(mime, out);
        }
        if let Some((name, content)) = self.file {
            put_string(name, out);
            put_varint(content.len() as u32, out);
            out.extend_from_slice(content);
        }
        if let Some(route) = self.route_code {
            put_string(route, out);
        }
        let crc = crc32(&out[start..]);
        out.extend_from_slice(&crc.to_be_bytes());
        debug_assert_eq!(out.len() - start, len);
        Ok(())
    }
}

/// The whole packet length for `base` bytes of everything but the length
/// field. The field counts itself, so take the smallest varint size whose
/// range still holds the total: python-subunit's choice, which keeps the
/// bytes identical.
fn packet_len(base: usize) -> Result<usize, EncodeError> {
    (1..=3)
        .map(|size| base + size)
        .find(|&len| varint_len(len as u64).is_some_and(|size| len - base >= size))
        .filter(|&len| len <= MAX_PACKET_LEN)
        .ok_or(EncodeError::PacketTooLong { len: base + 3 })
}

fn number_len(value: usize, field: &'static str) -> Result<usize, EncodeError> {
    varint_len(value as u64).ok_or(EncodeError::FieldTooLong { field, len: value })
}

fn string_len(s: &str, field: &'static str) -> Result<usize, EncodeError> {
    if s.as_bytes().contains(&0) {
        return Err(EncodeError::Nul { field });
    }
    Ok(number_len(s.len(), field)? + s.len())
}

fn put_string(s: &str, out: &mut Vec<u8>) {
    put_varint(s.len() as u32, out);
    out.extend_from_slice(s.as_bytes());
}

/// Appends one packet to `out`. On error nothing is appended.
pub fn encode_packet(packet: &Packet, out: &mut Vec<u8>) -> Result<(), EncodeError> {
    Fields::of(packet).encode(out)
}

/// Appends an attachment as one or more packets, each a copy of `template`
/// (its test id, route code, tags, timestamp, status and runnable) carrying
/// the next chunk of `content` under `name`. The template's mime type goes
/// on the first chunk only and eof on the last only, as subunit v2 wants;
/// its own file and eof are ignored. Empty content writes one packet with
/// an empty chunk and eof. On error nothing is appended.
pub fn encode_file(
    template: &Packet,
    name: &str,
    content: &[u8],
    out: &mut Vec<u8>,
) -> Result<(), EncodeError> {
    let mut fields = Fields {
        file: Some((name, &[])),
        eof: false,
        ..Fields::of(template)
    };
    // The room each chunk leaves for content, reckoning the content length
    // varint at its largest (4 bytes) and the packet length varint at 3.
    let room = |fields: &Fields| -> Result<usize, EncodeError> {
        let overhead = FIXED_LEN + 3 + fields.size()? + 4;
        FILE_PACKET_BUDGET
            .checked_sub(overhead)
            .filter(|&room| room > 0)
            .ok_or(EncodeError::PacketTooLong { len: overhead })
    };
    let first_room = room(&fields)?;
    let rest_room = room(&Fields {
        mime_type: None,
        ..fields
    })?;
    let start = out.len();
    let mut rest = content;
    let mut room = first_room;
    loop {
        let (chunk, after) = rest.split_at(room.min(rest.len()));
        fields.file = Some((name, chunk));
        fields.eof = after.is_empty();
        if let Err(e) = fields.encode(out) {
            out.truncate(start);
            return Err(e);
        }
        if after.is_empty() {
            return Ok(());
        }
        rest = after;
        room = rest_room;
        fields.mime_type = None;
    }
}

#[cfg(test)]
mod tests;

//! Judges one candidate packet: given the bytes from a 0xB3 onwards, says
//! whether they hold a whole valid packet, can never be one, or need more
//! bytes (and whether what is there so far looks like a real packet).

use std::fmt;

use super::encode::MAX_PACKET_LEN;
use super::event::{FileChunk, Packet, Timestamp};
use super::wire::{
    FIXED_LEN, FLAG_EOF, FLAG_FILE_CONTENT, FLAG_MIME_TYPE, FLAG_RESERVED, FLAG_ROUTE_CODE,
    FLAG_RUNNABLE, FLAG_TAGS, FLAG_TEST_ID, FLAG_TIMESTAMP, SIGNATURE, STATUS_MASK, VERSION_2,
    VERSION_MASK, Varint, crc32, get_varint,
};
use crate::model::Status;

/// What the bytes at a candidate position are.
#[derive(Debug)]
pub(super) enum Probe {
    /// The header cannot start a packet (wrong version, reserved bit, length
    /// out of range): the 0xB3 is ordinary text.
    Implausible,
    /// Too few bytes to read the header yet.
    ShortHeader,
    /// A whole packet with a valid CRC, `len` bytes long.
    Valid { len: usize, packet: Packet },
    /// A plausible header whose packet can never be valid: either all `len`
    /// bytes are there and they are bad, or a field already is.
    Invalid { len: usize, fault: Fault },
    /// Consistent so far; the packet claims `len` bytes and fewer are there.
    /// `exact` says the fields read so far end exactly where the claimed
    /// length says the packet ends, which stray text practically never
    /// manages: such a candidate is almost certainly a packet in flight.
    Partial { len: usize, exact: bool },
}

/// Why a candidate with a plausible header is not a valid packet.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) enum Fault {
    PastEnd(&'static str),
    Nul(&'static str),
    NotUtf8(&'static str),
    LengthMismatch { claimed: usize, fields_end: usize },
    BadCrc { stored: u32, computed: u32 },
}

impl fmt::Display for Fault {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Fault::PastEnd(what) => write!(f, "{what} extends past the end of the packet"),
            Fault::Nul(what) => write!(f, "{what} contains a nul byte"),
            Fault::NotUtf8(what) => write!(f, "{what} is not valid utf-8"),
            Fault::LengthMismatch {
                claimed,
                fields_end,
            } => write!(
                f,
                "packet length {claimed} does not match its fields, which end at byte {fields_end}"
            ),
            Fault::BadCrc { stored, computed } => {
                write!(f, "bad crc: expected {stored:#010x}, got {computed:#010x}")
            }
        }
    }
}

/// Judges the candidate at the front of `bytes` (which starts with 0xB3).
pub(super) fn probe(bytes: &[u8]) -> Probe {
    debug_assert_eq!(bytes.first(), Some(&SIGNATURE));
    let Some(flag_bytes) = bytes.get(1..3) else {
        return Probe::ShortHeader;
    };
    let flags = u16::from_be_bytes([flag_bytes[0], flag_bytes[1]]);
    if flags & VERSION_MASK != VERSION_2 || flags & FLAG_RESERVED != 0 {
        return Probe::Implausible;
    }
    let (len, len_size) = match get_varint(&bytes[3..]) {
        // A 4-byte length is past the maximum whatever its value.
        Varint::Short(size) | Varint::Value(_, size) if size > 3 => return Probe::Implausible,
        Varint::Short(_) => return Probe::ShortHeader,
        Varint::Value(len, size) => (len as usize, size),
    };
    if len < FIXED_LEN + len_size || len > MAX_PACKET_LEN {
        return Probe::Implausible;
    }
    let mut cursor = Cursor {
        avail: &bytes[..bytes.len().min(len)],
        pos: 3 + len_size,
        body_end: len - 4,
        exact: false,
    };
    let mut raw = RawFields::default();
    match read_fields(flags, &mut cursor, &mut raw) {
        Ok(()) => {}
        // Short of bytes before the layout is known: nothing more to tell.
        Err(Stop::Short) if !cursor.exact => return Probe::Partial { len, exact: false },
        Err(Stop::Short) => {
            // Laid out exactly; strings read so far must hold up too.
            return match raw.check() {
                Ok(_) => Probe::Partial { len, exact: true },
                Err(fault) => Probe::Invalid { len, fault },
            };
        }
        Err(Stop::Bad(fault)) => return Probe::Invalid { len, fault },
    }
    let fields = match raw.check() {
        Ok(fields) => fields,
        Err(fault) => return Probe::Invalid { len, fault },
    };
    if bytes.len() < len {
        return Probe::Partial { len, exact: true };
    }
    let stored = u32::from_be_bytes([
        bytes[len - 4],
        bytes[len - 3],
        bytes[len - 2],
        bytes[len - 1],
    ]);
    let computed = crc32(&bytes[..len - 4]);
    if stored != computed {
        let fault = Fault::BadCrc { stored, computed };
        return Probe::Invalid { len, fault };
    }
    Probe::Valid {
        len,
        packet: fields.into_packet(flags),
    }
}

/// The fault to report for `len` complete bytes that probed invalid with
/// `fault`: a CRC mismatch is the likelier story (a damaged packet) than
/// whatever field the damage happened to break, so it takes precedence.
pub(super) fn corruption(bytes: &[u8], fault: Fault) -> Fault {
    if matches!(fault, Fault::BadCrc { .. }) || bytes.len() < FIXED_LEN {
        return fault;
    }
    let (body, crc) = bytes.split_at(bytes.len() - 4);
    let stored = u32::from_be_bytes([crc[0], crc[1], crc[2], crc[3]]);
    let computed = crc32(body);
    if stored == computed {
        fault
    } else {
        Fault::BadCrc { stored, computed }
    }
}

/// The fields of a packet as raw bytes. Strings are checked (UTF-8, no NUL)
/// only once the lengths have proved the layout: a stray 0xB3 in text can
/// claim strings as long as the text, and checking those for every such
/// byte would cost time proportional to the text each time.
#[derive(Default)]
struct RawFields<'a> {
    timestamp: Option<Timestamp>,
    test_id: Option<&'a [u8]>,
    /// The tag count and the bytes holding the tags, read again when needed
    /// rather than collected, so a bogus count allocates nothing.
    tags: Option<(usize, &'a [u8])>,
    mime_type: Option<&'a [u8]>,
    file: Option<(&'a [u8], &'a [u8])>,
    route_code: Option<&'a [u8]>,
}

/// Fields whose strings have been checked.
struct Fields<'a> {
    timestamp: Option<Timestamp>,
    test_id: Option<&'a str>,
    tags: Option<Vec<&'a str>>,
    mime_type: Option<&'a str>,
    file: Option<(&'a str, &'a [u8])>,
    route_code: Option<&'a str>,
}

fn check_string<'a>(bytes: &'a [u8], what: &'static str) -> Result<&'a str, Fault> {
    if bytes.contains(&0) {
        return Err(Fault::Nul(what));
    }
    std::str::from_utf8(bytes).map_err(|_| Fault::NotUtf8(what))
}

/// The strings of `count` tags laid out in `region` (already read once, so
/// every length fits).
fn tags_in(region: &[u8], count: usize) -> impl Iterator<Item = &[u8]> {
    let mut rest = region;
    (0..count).map_while(move |_| match get_varint(rest) {
        Varint::Value(len, size) => {
            let tag = rest.get(size..size + len as usize)?;
            rest = &rest[size + len as usize..];
            Some(tag)
        }
        Varint::Short(_) => None,
    })
}

impl<'a> RawFields<'a> {
    fn check(&self) -> Result<Fields<'a>, Fault> {
        let string = |s: Option<&'a [u8]>, what| s.map(|s| check_string(s, what)).transpose();
        let tags = match self.tags {
            Some((count, region)) => Some(
                tags_in(region, count)
                    .map(|tag| check_string(tag, "tag"))
                    .collect::<Result<Vec<_>, _>>()?,
            ),
            None => None,
        };
        let file = match self.file {
            Some((name, content)) => Some((check_string(name, "file name")?, content)),
            None => None,
        };
        Ok(Fields {
            timestamp: self.timestamp,
            test_id: string(self.test_id, "test id")?,
            tags,
            mime_type: string(self.mime_type, "mime type")?,
            file,
            route_code: string(self.route_code, "route code")?,
        })
    }
}

impl Fields<'_> {
    fn into_packet(self, flags: u16) -> Packet {
        // The mask keeps the value within 0..=7, and 0 means no status.
        let status = Status::from_wire_code((flags & STATUS_MASK) as u8);
        Packet {
            status,
            test_id: self.test_id.map(str::to_owned),
            route_code: self.route_code.map(str::to_owned),
            timestamp: self.timestamp,
            runnable: flags & FLAG_RUNNABLE != 0,
            tags: self
                .tags
                .map(|tags| tags.into_iter().map(str::to_owned).collect()),
            mime_type: self.mime_type.map(str::to_owned),
            file: self.file.map(|(name, content)| FileChunk {
                name: name.to_owned(),
                content: content.to_vec(),
            }),
            eof: flags & FLAG_EOF != 0,
        }
    }
}

/// Why reading fields stopped early.
enum Stop {
    /// The bytes so far are consistent but end before the field does.
    Short,
    /// The packet can never be valid.
    Bad(Fault),
}

/// Reads fields from the available bytes of one packet.
struct Cursor<'a> {
    /// The bytes of the packet that are buffered (at most its length).
    avail: &'a [u8],
    pos: usize,
    /// Where the fields must end: the claimed length minus the CRC.
    body_end: usize,
    /// Set once the end of the last field is known and matches `body_end`.
    exact: bool,
}

impl<'a> Cursor<'a> {
    fn take(&mut self, n: usize, what: &'static str) -> Result<&'a [u8], Stop> {
        let end = self
            .pos
            .checked_add(n)
            .filter(|&end| end <= self.body_end)
            .ok_or(Stop::Bad(Fault::PastEnd(what)))?;
        let bytes = self.avail.get(self.pos..end).ok_or(Stop::Short)?;
        self.pos = end;
        Ok(bytes)
    }

    fn varint(&mut self, what: &'static str) -> Result<u32, Stop> {
        let rest = self.avail.get(self.pos..).unwrap_or_default();
        let size = match get_varint(rest) {
            Varint::Value(_, size) | Varint::Short(size) => size,
        };
        let bytes = self.take(size, what)?;
        match get_varint(bytes) {
            Varint::Value(value, _) => Ok(value),
            // `take` returned the whole varint, so this cannot be short.
            Varint::Short(_) => Err(Stop::Short),
        }
    }

    /// Checks that a field of `n` more bytes from here ends the packet
    /// exactly, for the last field present.
    fn ends_with(&mut self, n: usize) -> Result<(), Stop> {
        let fields_end = self.pos.saturating_add(n);
        if fields_end != self.body_end {
            return Err(Stop::Bad(Fault::LengthMismatch {
                claimed: self.body_end + 4,
                fields_end: fields_end.saturating_add(4),
            }));
        }
        self.exact = true;
        Ok(())
    }

    fn string(&mut self, what: &'static str, last: bool) -> Result<&'a [u8], Stop> {
        let len = self.varint(what)? as usize;
        if last {
            self.ends_with(len)?;
        }
        self.take(len, what)
    }
}

/// Reads every field `flags` announces, in wire order. Each field knows
/// whether it is the last, so that the packet length is checked as soon as
/// the last field's size is known.
fn read_fields<'a>(
    flags: u16,
    cur: &mut Cursor<'a>,
    fields: &mut RawFields<'a>,
) -> Result<(), Stop> {
    let order = [
        FLAG_TIMESTAMP,
        FLAG_TEST_ID,
        FLAG_TAGS,
        FLAG_MIME_TYPE,
        FLAG_FILE_CONTENT,
        FLAG_ROUTE_CODE,
    ];
    let last = order.iter().rev().find(|&&flag| flags & flag != 0).copied();
    let is_last = |flag: u16| last == Some(flag);
    if last.is_none() {
        cur.ends_with(0)?;
    }
    if flags & FLAG_TIMESTAMP != 0 {
        let secs = cur.take(4, "timestamp")?;
        let secs = u32::from_be_bytes([secs[0], secs[1], secs[2], secs[3]]);
        let nanos = cur.varint("timestamp")?;
        fields.timestamp = Some(Timestamp { secs, nanos });
        if is_last(FLAG_TIMESTAMP) {
            cur.ends_with(0)?;
        }
    }
    if flags & FLAG_TEST_ID != 0 {
        fields.test_id = Some(cur.string("test id", is_last(FLAG_TEST_ID))?);
    }
    if flags & FLAG_TAGS != 0 {
        let count = cur.varint("tags")? as usize;
        let last_field = is_last(FLAG_TAGS);
        if count == 0 && last_field {
            cur.ends_with(0)?;
        }
        // Every tag takes at least a byte; checking first stops a bogus
        // count from driving the loop past the packet.
        if count > cur.body_end - cur.pos {
            return Err(Stop::Bad(Fault::PastEnd("tags")));
        }
        let start = cur.pos;
        for i in 0..count {
            cur.string("tag", last_field && i + 1 == count)?;
        }
        fields.tags = Some((count, &cur.avail[start..cur.pos]));
    }
    if flags & FLAG_MIME_TYPE != 0 {
        fields.mime_type = Some(cur.string("mime type", is_last(FLAG_MIME_TYPE))?);
    }
    if flags & FLAG_FILE_CONTENT != 0 {
        let name = cur.string("file name", false)?;
        let len = cur.varint("file content")? as usize;
        if is_last(FLAG_FILE_CONTENT) {
            cur.ends_with(len)?;
        }
        fields.file = Some((name, cur.take(len, "file content")?));
    }
    if flags & FLAG_ROUTE_CODE != 0 {
        fields.route_code = Some(cur.string("route code", true)?);
    }
    Ok(())
}

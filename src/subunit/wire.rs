//! Wire-level constants and primitives shared by the decoder and encoder:
//! the signature, flag bits, varints and the packet CRC.

/// The first byte of every subunit v2 packet.
pub(super) const SIGNATURE: u8 = 0xB3;

/// The version nibble every v2 packet carries in its flags.
pub(super) const VERSION_MASK: u16 = 0xF000;
pub(super) const VERSION_2: u16 = 0x2000;
pub(super) const FLAG_TEST_ID: u16 = 0x0800;
pub(super) const FLAG_ROUTE_CODE: u16 = 0x0400;
pub(super) const FLAG_TIMESTAMP: u16 = 0x0200;
pub(super) const FLAG_RUNNABLE: u16 = 0x0100;
pub(super) const FLAG_TAGS: u16 = 0x0080;
pub(super) const FLAG_FILE_CONTENT: u16 = 0x0040;
pub(super) const FLAG_MIME_TYPE: u16 = 0x0020;
pub(super) const FLAG_EOF: u16 = 0x0010;
/// Unused in v2; a packet with it set is not one we understand.
pub(super) const FLAG_RESERVED: u16 = 0x0008;
pub(super) const STATUS_MASK: u16 = 0x0007;

/// The largest value a varint holds (4 bytes, 30 bits).
pub(super) const VARINT_MAX: u32 = (1 << 30) - 1;

/// Bytes a packet needs besides its length varint and fields: signature,
/// flags and CRC.
pub(super) const FIXED_LEN: usize = 1 + 2 + 4;

/// The number of bytes `value` takes as a varint, or `None` past 2^30-1.
pub(super) fn varint_len(value: u64) -> Option<usize> {
    match value {
        0..0x40 => Some(1),
        0x40..0x4000 => Some(2),
        0x4000..0x40_0000 => Some(3),
        0x40_0000..=0x3FFF_FFFF => Some(4),
        _ => None,
    }
}

/// Appends `value` as a varint (the caller checked it with [`varint_len`]).
pub(super) fn put_varint(value: u32, out: &mut Vec<u8>) {
    let [b0, b1, b2, b3] = value.to_be_bytes();
    match value {
        0..0x40 => out.push(b3),
        0x40..0x4000 => out.extend_from_slice(&[b2 | 0x40, b3]),
        0x4000..0x40_0000 => out.extend_from_slice(&[b1 | 0x80, b2, b3]),
        _ => out.extend_from_slice(&[b0 | 0xC0, b1, b2, b3]),
    }
}

/// How a varint at the front of `bytes` reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Varint {
    /// The value and the bytes it took.
    Value(u32, usize),
    /// `bytes` ends before the varint does; it needs this many bytes in all.
    Short(usize),
}

/// Reads a varint from the front of `bytes`. Non-minimal encodings are
/// accepted, as python-subunit accepts them.
pub(super) fn get_varint(bytes: &[u8]) -> Varint {
    let Some(&first) = bytes.first() else {
        return Varint::Short(1);
    };
    let size = usize::from(first >> 6) + 1;
    let Some(rest) = bytes.get(1..size) else {
        return Varint::Short(size);
    };
    let value = rest
        .iter()
        .fold(u32::from(first & 0x3F), |acc, &b| (acc << 8) | u32::from(b));
    Varint::Value(value, size)
}

/// zlib's CRC-32 (CRC-32/ISO-HDLC), which subunit v2 uses.
pub(super) fn crc32(bytes: &[u8]) -> u32 {
    crc32fast::hash(bytes)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn varint_round_trips_at_every_size_edge() {
        let edges = [
            (0, 1),
            (63, 1),
            (64, 2),
            (16_383, 2),
            (16_384, 3),
            (4_194_303, 3),
            (4_194_304, 4),
            (VARINT_MAX, 4),
        ];
        for (value, size) in edges {
            assert_eq!(varint_len(u64::from(value)), Some(size), "{value}");
            let mut out = Vec::new();
            put_varint(value, &mut out);
            assert_eq!(out.len(), size, "{value}");
            assert_eq!(get_varint(&out), Varint::Value(value, size), "{value}");
            // One byte short of the varint asks for exactly the whole varint.
            assert_eq!(get_varint(&out[..size - 1]), Varint::Short(size));
        }
        assert_eq!(varint_len(u64::from(VARINT_MAX) + 1), None);
    }

    #[test]
    fn varint_matches_python_subunit_bytes() {
        // Values from python-subunit's StreamResultToBytes._encode_number.
        let cases: [(u32, &[u8]); 4] = [
            (12, &[0x0C]),
            (300, &[0x41, 0x2C]),
            (70_000, &[0x81, 0x11, 0x70]),
            (5_000_000, &[0xC0, 0x4C, 0x4B, 0x40]),
        ];
        for (value, bytes) in cases {
            let mut out = Vec::new();
            put_varint(value, &mut out);
            assert_eq!(out, bytes, "{value}");
        }
    }

    #[test]
    fn varint_accepts_non_minimal_encodings() {
        assert_eq!(get_varint(&[0x40, 0x05]), Varint::Value(5, 2));
        assert_eq!(get_varint(&[0xC0, 0, 0, 1]), Varint::Value(1, 4));
        assert_eq!(get_varint(&[]), Varint::Short(1));
    }

    #[test]
    fn crc_is_zlibs() {
        // zlib.crc32(b"123456789") == 0xCBF43926, the CRC-32 check value.
        assert_eq!(crc32(b"123456789"), 0xCBF4_3926);
    }
}

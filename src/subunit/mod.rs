//! Subunit v2: a sans-IO decoder (bytes in, items out) and encoder (packets
//! in, bytes out), and a decoder of subunit v1 (stestr's run files) into
//! the same items. No I/O, no async, no knowledge of the repository.

mod decode;
mod encode;
mod event;
mod parse;
mod v1;
mod wire;

pub use decode::{Decoder, Items, StreamDecoder};
pub use encode::{EncodeError, MAX_PACKET_LEN, encode_file, encode_packet};
pub use event::{FileChunk, Item, Packet, Timestamp};
pub use v1::{V1Decoder, format_v1_time};

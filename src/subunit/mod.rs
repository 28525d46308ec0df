//! Subunit v2: a sans-IO decoder (bytes in, items out) and encoder (packets
//! in, bytes out). No I/O, no async, no knowledge of the repository.

mod decode;
mod encode;
mod event;
mod parse;
mod wire;

pub use decode::{Decoder, Items};
pub use encode::{EncodeError, MAX_PACKET_LEN, encode_file, encode_packet};
pub use event::{FileChunk, Item, Packet, Timestamp};

//! The codec's integration tests: property tests of the decoder and encoder,
//! and differential tests against the `subunit` crate and python-subunit
//! (the v1 decoder too).

mod crate_diff;
mod fixtures;
mod properties;
mod python;
mod support;
mod throughput;
mod v1_python;

//! Writes stored results back out as subunit v2, so python-subunit's tools
//! read the same tests, statuses, tags, timestamps and attachments.

use std::io::{self, Write};

use crate::model::{Attachment, Status, TestResult};
use crate::subunit::{EncodeError, Packet, Timestamp, encode_file, encode_packet};

/// Encodes results and run output to a writer, one test at a time.
pub struct SubunitWriter<W: Write> {
    out: W,
    buffer: Vec<u8>,
}

impl<W: Write> SubunitWriter<W> {
    pub fn new(out: W) -> SubunitWriter<W> {
        SubunitWriter {
            out,
            buffer: Vec::new(),
        }
    }

    /// Writes one test: `inprogress` at its start time, its attachments,
    /// then its final status at its stop time.
    pub fn write_result(&mut self, result: &TestResult) -> io::Result<()> {
        let template = Packet {
            test_id: Some(result.id.0.clone()),
            route_code: result.route_code.clone(),
            tags: (!result.tags.is_empty()).then(|| result.tags.clone()),
            ..Packet::default()
        };
        let at = |nanos: Option<i64>| nanos.map(Timestamp::from_nanos);
        self.buffer.clear();
        let encoded = (|| -> Result<(), EncodeError> {
            if result.started_at.is_some() || result.status == Status::InProgress {
                let start = Packet {
                    status: Some(Status::InProgress),
                    timestamp: at(result.started_at),
                    ..template.clone()
                };
                encode_packet(&start, &mut self.buffer)?;
            }
            for attachment in &result.attachments {
                let file = Packet {
                    mime_type: attachment.mime_type.clone(),
                    ..template.clone()
                };
                encode_file(
                    &file,
                    &attachment.name,
                    &attachment.content,
                    &mut self.buffer,
                )?;
            }
            if result.status != Status::InProgress {
                let end = Packet {
                    status: Some(result.status),
                    timestamp: at(result.stopped_at),
                    ..template.clone()
                };
                encode_packet(&end, &mut self.buffer)?;
            }
            Ok(())
        })();
        encoded.map_err(|e| io::Error::new(io::ErrorKind::InvalidData, e))?;
        self.out.write_all(&self.buffer)
    }

    /// Writes output that belongs to no test as a file event.
    pub fn write_output(&mut self, output: &Attachment) -> io::Result<()> {
        self.buffer.clear();
        let template = Packet {
            mime_type: output.mime_type.clone(),
            ..Packet::default()
        };
        encode_file(&template, &output.name, &output.content, &mut self.buffer)
            .map_err(|e| io::Error::new(io::ErrorKind::InvalidData, e))?;
        self.out.write_all(&self.buffer)
    }

    pub fn flush(&mut self) -> io::Result<()> {
        self.out.flush()
    }
}

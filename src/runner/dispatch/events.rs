//! The events of a run on their way to the consumer: held, and sent in
//! batches, so that many results cost the consumer's thread one wake-up.

use std::sync::mpsc::Sender;
use std::time::Duration;

use tokio::time::Instant;

use crate::runner::event::RunEvent;

/// How long events may wait to be sent to the consumer in one batch.
const EVENT_BATCH: Duration = Duration::from_millis(10);

/// Events not sent yet, and where they go.
pub(super) struct EventBatch {
    consumer: Sender<Vec<RunEvent>>,
    pending: Vec<RunEvent>,
    flushed: Instant,
}

impl EventBatch {
    pub(super) fn new(consumer: Sender<Vec<RunEvent>>) -> EventBatch {
        EventBatch {
            consumer,
            pending: Vec::new(),
            flushed: Instant::now(),
        }
    }

    pub(super) fn push(&mut self, event: RunEvent) {
        self.pending.push(event);
    }

    /// When the events held must go out, if any are held.
    pub(super) fn due(&self) -> Option<Instant> {
        (!self.pending.is_empty()).then(|| self.flushed + EVENT_BATCH)
    }

    /// Sends what is held if the last batch went out [`EVENT_BATCH`] ago.
    pub(super) fn flush_if_due(&mut self) {
        if self.flushed.elapsed() >= EVENT_BATCH {
            self.flush();
            self.flushed = Instant::now();
        }
    }

    /// Sends what is held now.
    pub(super) fn flush(&mut self) {
        if !self.pending.is_empty() {
            // The consumer only goes away when the command is failing anyway.
            let _ = self.consumer.send(std::mem::take(&mut self.pending));
        }
    }
}

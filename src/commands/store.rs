//! Storing what `load` and `run` collect: each result under its profile,
//! in one transaction by `load`, as it goes by `run` (docs/repository.md).

use std::sync::mpsc;
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use crate::collect::Collected;
use crate::model::{Profile, RunCounts, RunId, TimeSpan};
use crate::repo::{self, LiveRun, Repository, ResultSink, RunEnd, RunMeta};

/// Stores one collected item under its profile.
pub fn item(
    sink: &mut impl ResultSink,
    collected: &Collected,
    profile: Option<&Profile>,
) -> Result<(), repo::Error> {
    match (collected, profile) {
        (Collected::Test(result), Some(profile)) => sink.add_result(result, profile),
        (Collected::Output(output), _) => sink.add_output(output),
        (Collected::Test(_), None) => unreachable!("the tallier gives every result a profile"),
    }
}

/// How long a finished test may wait in memory before it is stored: what
/// `kill -9` of testr can lose.
const STORE_WITHIN: Duration = Duration::from_millis(500);

/// How many collected items one transaction stores at most, so that a fast
/// run holds the write lock a short while at a time.
const STORE_AT_MOST: usize = 2_000;

/// A run stored as its results arrive (docs/repository.md), on a thread of
/// its own that owns the repository meanwhile: the results of each half
/// second commit together, whole tests only, and the run is marked finished
/// at its end. Dropped without [`RunStore::finish`], it stores what it was
/// given and leaves the run not finished (removed when it holds no test).
pub struct RunStore {
    messages: Option<mpsc::Sender<Message>>,
    thread: Option<JoinHandle<Result<Option<Stored>, repo::Error>>>,
}

/// A finished run: the repository back, and the run's id.
type Stored = (Repository, RunId);

enum Message {
    /// A collected item, its profile, and the run's counts with it.
    Collected(Collected, Option<Profile>, RunCounts),
    Finish(RunEnd),
    Abandon,
}

impl RunStore {
    /// Creates the run, marked not finished, and starts storing.
    pub fn start(repo: Repository, meta: &RunMeta) -> Result<RunStore, repo::Error> {
        Ok(RunStore::storing(repo.begin_live_run(meta)?))
    }

    /// Goes on storing `run`, after the results it holds (`run --combine`).
    pub fn resume(repo: Repository, run: RunId, meta: &RunMeta) -> Result<RunStore, repo::Error> {
        Ok(RunStore::storing(repo.resume_live_run(run, meta)?))
    }

    fn storing(live: LiveRun) -> RunStore {
        let (messages, received) = mpsc::channel();
        let thread = std::thread::Builder::new()
            .name("testr-store".to_owned())
            .spawn(move || store_as_it_goes(live, received))
            .expect("a thread starts");
        RunStore {
            messages: Some(messages),
            thread: Some(thread),
        }
    }

    /// Stores a collected item under its profile (see
    /// [`Tallier::take`](super::tally::Tallier::take));
    /// `counts` are the run's counts with it.
    pub fn add(&mut self, collected: Collected, profile: Option<Profile>, counts: RunCounts) {
        if let Some(messages) = &self.messages {
            // The thread only stops early on an error, which `finish` gives.
            let _ = messages.send(Message::Collected(collected, profile, counts));
        }
    }

    /// Stores what is left and marks the run finished; gives the
    /// repository back.
    pub fn finish(mut self, end: RunEnd) -> Result<(Repository, RunId), repo::Error> {
        let ended = self.end(Message::Finish(end))?;
        Ok(ended.expect("a finished run gives its repository back"))
    }

    /// Ends without finishing the run: a run that stored no test is
    /// removed, one that did is left not finished.
    pub fn abandon(mut self) -> Result<(), repo::Error> {
        self.end(Message::Abandon).map(drop)
    }

    fn end(&mut self, last: Message) -> Result<Option<Stored>, repo::Error> {
        if let Some(messages) = self.messages.take() {
            let _ = messages.send(last);
        }
        match self.thread.take() {
            Some(thread) => thread.join().expect("the store thread does not panic"),
            None => Ok(None),
        }
    }
}

impl Drop for RunStore {
    fn drop(&mut self) {
        // Whatever the command failed with comes first.
        let _ = self.end(Message::Abandon);
    }
}

/// The store thread: items wait at most [`STORE_WITHIN`], and at most
/// [`STORE_AT_MOST`] of them, before they commit together.
fn store_as_it_goes(
    mut live: LiveRun,
    received: mpsc::Receiver<Message>,
) -> Result<Option<Stored>, repo::Error> {
    let mut waiting = Waiting::default();
    loop {
        let message = match waiting.due {
            None => received.recv().ok(),
            Some(due) => {
                match received.recv_timeout(due.saturating_duration_since(Instant::now())) {
                    Ok(message) => Some(message),
                    Err(mpsc::RecvTimeoutError::Timeout) => {
                        waiting.store(&mut live)?;
                        continue;
                    }
                    Err(mpsc::RecvTimeoutError::Disconnected) => None,
                }
            }
        };
        match message {
            Some(Message::Collected(collected, profile, counts)) => {
                waiting.push(collected, profile, counts);
                if waiting.is_due() {
                    waiting.store(&mut live)?;
                }
            }
            Some(Message::Finish(end)) => {
                waiting.store(&mut live)?;
                return live.finish(end).map(Some);
            }
            Some(Message::Abandon) | None => {
                waiting.store(&mut live)?;
                live.abandon()?;
                return Ok(None);
            }
        }
    }
}

/// What the store thread holds until it is due.
#[derive(Default)]
struct Waiting {
    items: Vec<(Collected, Option<Profile>)>,
    /// The run's counts with the last item.
    counts: RunCounts,
    /// The time span of every result so far.
    span: TimeSpan,
    /// When the oldest item must be stored.
    due: Option<Instant>,
}

impl Waiting {
    fn push(&mut self, collected: Collected, profile: Option<Profile>, counts: RunCounts) {
        if let Collected::Test(result) = &collected {
            result.timestamps().for_each(|at| self.span.include(at));
        }
        self.counts = counts;
        self.items.push((collected, profile));
        self.due
            .get_or_insert_with(|| Instant::now() + STORE_WITHIN);
    }

    fn is_due(&self) -> bool {
        self.items.len() >= STORE_AT_MOST || self.due.is_some_and(|due| Instant::now() >= due)
    }

    /// Commits every waiting item in one batch.
    fn store(&mut self, live: &mut LiveRun) -> Result<(), repo::Error> {
        self.due = None;
        if self.items.is_empty() {
            return Ok(());
        }
        let mut batch = live.batch()?;
        for (collected, profile) in self.items.drain(..) {
            item(&mut batch, &collected, profile.as_ref())?;
        }
        batch.commit(self.counts, self.span.bounds())
    }
}

//! The dispatcher: one loop that starts processes, reads what they write,
//! hands out tests as workers are about to run out, and deals with crashes,
//! timeouts and Ctrl-C. It emits [`RunEvent`]s and never prints or stores.

mod ending;
mod handout;
mod output;
mod phase;
mod segments;
mod stopping;

use std::path::PathBuf;
use std::process::ExitStatus;
use std::sync::mpsc::Sender;
use std::time::Duration;

use rustc_hash::{FxHashMap as HashMap, FxHashSet as HashSet};
use tokio::signal::unix::{SignalKind, signal};
use tokio::sync::mpsc::{UnboundedReceiver, UnboundedSender, unbounded_channel};
use tokio::time::{Instant, sleep_until};

use super::assigned::Assignments;
use super::command::{self, Ids, Substitutions};
use super::event::StopSignal;
use super::listing::{Listing, WANTS_NEXT_TAG};
use super::process::{self, Child, Envelope, Output, ProcessGroups, ProcessId};
use super::python_worker;
use super::schedule::{
    Grouping, LOOKAHEAD, MAX_AHEAD, Scheduler, UNKNOWN_TAIL_PER_WORKER, Unit, make_units,
};
use super::spec::{ProfileRun, RunSpec};
use super::startup::StartupCosts;
use super::{RunError, RunEvent, RunReport, WorkerBalance};
use crate::collect::{Collected, Collector};
use crate::config::{ClassicCommand, DEFAULT_LIST_TIMEOUT, Launch};
use crate::model::{Attachment, SegmentRun, Status, TestId, TestResult};
use crate::subunit::{Decoder, Item, Packet};
use phase::{Kill, Kind, Listening, Phase, Process, Verdict};

/// The file a worker sends, with no test id, when its listing is complete
/// (docs/worker-protocol.md).
pub const LISTING_DONE: &str = "testr-listing-done";

/// How long events may wait to be sent to the consumer in one batch.
const EVENT_BATCH: Duration = Duration::from_millis(10);

/// The longest the dispatcher leaves output unread, when no worker can run
/// out of work meanwhile (it pauses for a third of the least work queued: a
/// timer may oversleep).
const COALESCE: Duration = Duration::from_millis(1);

/// A shorter pause than this saves too few wake-ups to be worth taking.
const MIN_COALESCE: Duration = Duration::from_micros(200);

/// How long workers get to stop after the first Ctrl-C before they are killed.
const GRACE: Duration = Duration::from_secs(5);

/// A streaming worker is started for a profile that already has one only
/// when its remaining work per worker is worth a start-up.
const WORKER_START_COST: Duration = Duration::from_millis(300);

/// How much of a process's stderr is kept to explain its death.
const STDERR_TAIL: usize = 4096;

/// The attachment that says why testr failed a test itself.
const EXPLANATION: &str = "testr";

/// Whether the dispatcher runs the tests or only lists them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    Run,
    List,
}

/// What a dispatch gives back: the report, and in list mode the selected
/// tests of each profile.
pub struct Dispatched {
    pub report: RunReport,
    pub listed: Vec<Vec<String>>,
}

pub async fn dispatch(
    spec: RunSpec,
    mode: Mode,
    events: Sender<Vec<RunEvent>>,
) -> Result<Dispatched, RunError> {
    let mut dispatcher = Dispatcher::new(spec, mode, events)?;
    let outcome = dispatcher.run().await;
    // After an error, nothing may outlive the run; after a signal, nothing
    // a process left running when it exited in the grace period.
    dispatcher.groups.kill_all();
    outcome
}

enum ListingState {
    NotStarted,
    Running,
    /// Its classic command is listing, and its batches run the tests of
    /// its last whole run meanwhile.
    RunningAhead(Ahead),
    Done,
}

impl ListingState {
    fn is_done(&self) -> bool {
        matches!(self, ListingState::Done)
    }
}

/// A profile running ahead of its listing.
#[derive(Default)]
struct Ahead {
    /// The tests handed to the scheduler before the listing came.
    started: HashSet<String>,
    /// Batches that ended meanwhile with tests unreported or a failing
    /// status: whether the tests they did not report still exist, and so
    /// what their end means, is known only from the listing.
    ended: Vec<(Process, ExitStatus, bool)>,
}

struct ProfileState {
    listing: ListingState,
    /// Tests run ahead of the listing that it did not list: gone from the
    /// project since the last run, so never reported.
    gone: HashSet<String>,
    /// The groups its worker named in its listing, by test id.
    groups: HashMap<String, String>,
    /// Whether the `Started` event was sent.
    announced: bool,
    /// A classic command that cannot select tests runs once, whole.
    whole_run_started: bool,
}

#[derive(Default)]
struct Slot {
    process: Option<ProcessId>,
    /// Whether a process ever ran in it (the balance leaves out the rest).
    used: bool,
    tests: usize,
    last_finish: Option<Instant>,
}

struct Interrupt {
    signal: StopSignal,
    grace_until: Instant,
    killed: bool,
}

/// A segment of the scheduler, as the plan gave it.
struct SegmentInfo {
    plan_index: Option<usize>,
    exclusive: bool,
    max_workers: Option<usize>,
}

/// The segment running now: since when, and how many tests finished in it.
#[derive(Default)]
struct SegmentProgress {
    since: Option<Instant>,
    tests: usize,
}

struct Dispatcher {
    spec: RunSpec,
    mode: Mode,
    events: Sender<Vec<RunEvent>>,
    /// Events not sent yet: they go out in batches.
    pending_events: Vec<RunEvent>,
    scheduler: Scheduler,
    startups: StartupCosts,
    profiles: Vec<ProfileState>,
    slots: Vec<Slot>,
    processes: HashMap<ProcessId, Process>,
    next_process: u64,
    outbox: UnboundedSender<Envelope>,
    inbox: UnboundedReceiver<Envelope>,
    /// The process groups started and not killed yet.
    groups: ProcessGroups,
    /// Holds the id files of batches, the profiles' shared directories,
    /// and the shipped Python worker when there is no cache for it.
    files: tempfile::TempDir,
    python_workers: Option<python_worker::Launchers>,
    started: Instant,
    any_results: bool,
    interrupt: Option<Interrupt>,
    listed: Vec<Vec<String>>,
    /// The scheduler's segments (one, unlimited, without a plan).
    segments: Vec<SegmentInfo>,
    segment: SegmentProgress,
    segment_reports: Vec<SegmentRun>,
    /// With a plan, each profile's listing waits here until every profile
    /// is listed: the plan is checked whole before any test runs.
    held_listings: Vec<Option<Listing>>,
}

impl Dispatcher {
    fn new(
        spec: RunSpec,
        mode: Mode,
        events: Sender<Vec<RunEvent>>,
    ) -> Result<Dispatcher, RunError> {
        let files = tempfile::Builder::new().prefix("testr-run-").tempdir()?;
        let uses_worker = spec.profiles.iter().any(|p| match p.launch() {
            Launch::Worker { command } => command::uses_python_worker(command),
            Launch::Classic(classic) => command::uses_python_worker(&classic.command),
        });
        let python_workers = if uses_worker {
            Some(python_worker::install(
                spec.cache_dir.as_deref(),
                files.path(),
            )?)
        } else {
            None
        };
        let (outbox, inbox) = unbounded_channel();
        let profile_count = spec.profiles.len();
        for profile in 0..profile_count {
            std::fs::create_dir(shared_dir(files.path(), profile))?;
        }
        let slot_count = match mode {
            Mode::Run => spec.concurrency.max(1),
            Mode::List => 0,
        };
        // The plan's segments, then the tests it names not, then the tests
        // a worker said must run alone (`Dispatcher::alone_segment`).
        let planned = spec.plan.iter().flat_map(|planned| {
            planned
                .plan
                .segments
                .iter()
                .enumerate()
                .map(|(index, s)| SegmentInfo {
                    plan_index: Some(index),
                    exclusive: s.exclusive,
                    max_workers: s.max_workers,
                })
        });
        let unplanned = SegmentInfo {
            plan_index: None,
            exclusive: false,
            max_workers: None,
        };
        let alone = SegmentInfo {
            plan_index: None,
            exclusive: true,
            max_workers: None,
        };
        let segments: Vec<SegmentInfo> = planned.chain([unplanned, alone]).collect();
        let limits: Vec<Option<usize>> = segments
            .iter()
            .map(|s| if s.exclusive { Some(1) } else { s.max_workers })
            .collect();
        Ok(Dispatcher {
            scheduler: Scheduler::with_segments(profile_count, &limits),
            startups: StartupCosts::new(
                &spec
                    .profiles
                    .iter()
                    .map(|p| p.history.startup)
                    .collect::<Vec<_>>(),
            ),
            segments,
            segment: SegmentProgress::default(),
            segment_reports: Vec::new(),
            held_listings: vec![None; profile_count],
            profiles: (0..profile_count)
                .map(|_| ProfileState {
                    listing: ListingState::NotStarted,
                    gone: HashSet::default(),
                    groups: HashMap::default(),
                    announced: false,
                    whole_run_started: false,
                })
                .collect(),
            slots: (0..slot_count).map(|_| Slot::default()).collect(),
            processes: HashMap::default(),
            next_process: 0,
            outbox,
            inbox,
            groups: ProcessGroups::new().map_err(|source| RunError::Spawn {
                command: "the watchdog `/bin/sh -c ...` that ends the workers if testr dies"
                    .to_owned(),
                source,
            })?,
            files,
            python_workers,
            started: Instant::now(),
            any_results: false,
            interrupt: None,
            listed: vec![Vec::new(); profile_count],
            spec,
            mode,
            events,
            pending_events: Vec::new(),
        })
    }

    async fn run(&mut self) -> Result<Dispatched, RunError> {
        let mut interrupts = signal(SignalKind::interrupt())?;
        let mut terminations = signal(SignalKind::terminate())?;
        let mut hangups = signal(SignalKind::hangup())?;
        self.start()?;
        let mut flushed = Instant::now();
        while !self.processes.is_empty() {
            // Events go to the consumer at most every EVENT_BATCH: one
            // message (and one wake-up of its thread) for many results.
            let flush_at = (!self.pending_events.is_empty()).then(|| flushed + EVENT_BATCH);
            let wake = self.next_deadline().into_iter().chain(flush_at).min();
            tokio::select! {
                Some(envelope) = self.inbox.recv() => self.handle(envelope)?,
                () = sleep_until_some(wake) => self.deadlines_passed()?,
                _ = interrupts.recv() => self.interrupted(StopSignal::Interrupt),
                _ = terminations.recv() => self.interrupted(StopSignal::Terminate),
                _ = hangups.recv() => self.interrupted(StopSignal::Hangup),
            }
            while let Ok(envelope) = self.inbox.try_recv() {
                self.handle(envelope)?;
            }
            if flushed.elapsed() >= EVENT_BATCH {
                self.flush_events();
                flushed = Instant::now();
            }
            if let Some(pause) = self.coalesce_for() {
                // Every worker has work queued: let their output pile up in
                // the pipes and read it in one go. The sleep blocks the
                // runtime's thread on purpose: an async sleep would still
                // wake the thread for every packet a worker writes.
                std::thread::sleep(pause);
            }
        }
        self.flush_events();
        Ok(Dispatched {
            report: self.report(),
            listed: std::mem::take(&mut self.listed),
        })
    }

    // -- starting processes ------------------------------------------------

    fn start(&mut self) -> Result<(), RunError> {
        for profile in 0..self.spec.profiles.len() {
            let classic = match self.spec.profiles[profile].launch() {
                Launch::Classic(classic) => classic.clone(),
                Launch::Worker { .. } => {
                    if self.mode == Mode::List {
                        self.spawn(profile, Kind::Worker, None, None)?;
                        self.profiles[profile].listing = ListingState::Running;
                    }
                    continue;
                }
            };
            let can_list = classic.list_option.is_some();
            if can_select(&classic) || (self.mode == Mode::List && can_list) {
                self.spawn(profile, Kind::Lister, None, None)?;
                self.profiles[profile].listing = match self.run_ahead(profile) {
                    Some(ahead) => ListingState::RunningAhead(ahead),
                    None => ListingState::Running,
                };
            } else if self.spec.selection.is_narrowed()
                || self.spec.plan.is_some()
                || self.mode == Mode::List
            {
                return Err(RunError::CannotSelect {
                    profile: self.spec.profiles[profile].name.clone(),
                });
            } else {
                // Nothing to list: the command runs everything, once.
                self.profiles[profile].listing = ListingState::Done;
            }
        }
        self.fill_slots()
    }

    /// Queues the tests of the profile's last whole run, to start its
    /// batches on while its listing runs, when it is safe to: a classic
    /// command whose listing costs a start-up of its own, with no plan to
    /// check against the listing first and no `group_regex` (a group must
    /// not be split between what ran ahead and what the listing adds).
    fn run_ahead(&mut self, profile: usize) -> Option<Ahead> {
        let run = &self.spec.profiles[profile];
        if self.mode != Mode::Run || self.spec.plan.is_some() || run.settings.group_regex.is_some()
        {
            return None;
        }
        let mut started = HashSet::default();
        let ids: Vec<String> = run
            .history
            .last_run
            .iter()
            .filter(|id| self.spec.selection.admits(&run.profile, id))
            .filter(|id| started.insert((*id).clone()))
            .cloned()
            .collect();
        if ids.is_empty() {
            return None;
        }
        let grouping = handout::grouping(run, &self.profiles[profile]);
        self.scheduler
            .add(0, profile, ids, Some(&run.history.estimates), grouping);
        Some(Ahead {
            started,
            ended: Vec::new(),
        })
    }

    fn fill_slots(&mut self) -> Result<(), RunError> {
        for slot in 0..self.slots.len() {
            if self.slots[slot].process.is_none() {
                self.fill_slot(slot)?;
            }
        }
        Ok(())
    }

    /// Starts the next process in a free slot, if there is work for one.
    fn fill_slot(&mut self, slot: usize) -> Result<(), RunError> {
        if self.interrupt.is_some() {
            return Ok(());
        }
        let Some(profile) = self.profile_for_free_slot() else {
            return Ok(());
        };
        match self.spec.profiles[profile].launch().clone() {
            Launch::Worker { .. } => {
                if matches!(self.profiles[profile].listing, ListingState::NotStarted) {
                    self.profiles[profile].listing = ListingState::Running;
                }
                let id = self.spawn(profile, Kind::Worker, Some(slot), None)?;
                self.top_up(id);
            }
            Launch::Classic(classic) if can_select(&classic) => {
                if self.at_limit() {
                    return Ok(());
                }
                let workers = self
                    .scheduler
                    .limit()
                    .map_or(self.slots.len(), |limit| limit.min(self.slots.len()));
                let startup = self.startups.expected(profile);
                let busy = self.batches_left(profile, startup);
                let batch = self.scheduler.batch(profile, &busy, workers, startup);
                self.segment.since.get_or_insert_with(Instant::now);
                self.spawn(profile, Kind::Batch, Some(slot), Some(batch))?;
            }
            Launch::Classic(_) => {
                self.profiles[profile].whole_run_started = true;
                self.spawn(profile, Kind::Batch, Some(slot), None)?;
            }
        }
        Ok(())
    }

    /// The profile a free slot should work for: the one with the most work
    /// left per worker. A profile not listed yet has unknown work, and comes
    /// first while it has no worker.
    fn profile_for_free_slot(&self) -> Option<usize> {
        let mut best: Option<(f64, usize)> = None;
        for (index, profile) in self.spec.profiles.iter().enumerate() {
            let state = &self.profiles[index];
            let workers = self.workers_of(index);
            let per_worker = |work: f64| work / (workers + 1) as f64;
            let score = match (profile.launch(), &state.listing) {
                (Launch::Worker { .. }, ListingState::NotStarted | ListingState::Running) => {
                    // Until its tests are listed, a profile gets no more
                    // workers than history says it has tests (`-j 300` for
                    // three tests starts three), or without history than
                    // `unlisted_workers()`: the others would wait a start-up
                    // if only one listed first.
                    let known = self.spec.profiles[index].history.estimates.len();
                    let cap = if known > 0 { known } else { unlisted_workers() };
                    if workers >= cap {
                        continue;
                    }
                    per_worker(f64::MAX / 4.0)
                }
                (Launch::Classic(c), ListingState::Done) if !can_select(c) => {
                    if state.whole_run_started {
                        continue;
                    }
                    f64::MAX
                }
                (_, ListingState::Done | ListingState::RunningAhead(_))
                    if self.scheduler.has_work(index) =>
                {
                    let (units, nanos) = self.scheduler.remaining(index);
                    let share = per_worker(nanos as f64);
                    let is_worker = matches!(profile.launch(), Launch::Worker { .. });
                    // No more workers wait for tests than there are units
                    // left to hand out.
                    if is_worker && self.waiting_workers_of(index) >= units {
                        continue;
                    }
                    // Without history the share is a guess, and the workers
                    // that would have started with the first did not.
                    let known = !self.spec.profiles[index].history.estimates.is_empty();
                    if is_worker
                        && workers > 0
                        && known
                        && share < WORKER_START_COST.as_nanos() as f64
                    {
                        continue;
                    }
                    share
                }
                _ => continue,
            };
            if best.is_none_or(|(best_score, _)| score > best_score) {
                best = Some((score, index));
            }
        }
        best.map(|(_, index)| index)
    }

    /// The workers of `profile` that hold no tests (listing, or idle).
    fn waiting_workers_of(&self, profile: usize) -> usize {
        self.processes
            .values()
            .filter(|p| {
                p.profile == profile
                    && p.kind == Kind::Worker
                    && p.slot.is_some()
                    && p.takes_ids()
                    && p.assigned.is_empty()
            })
            .count()
    }

    /// How much longer each running batch of `profile` is expected to
    /// take, in nanoseconds: the start-up it has still to pay, and its
    /// tests not finished yet.
    fn batches_left(&self, profile: usize, startup: Option<Duration>) -> Vec<i64> {
        let cost = self.scheduler.cost(profile);
        self.processes
            .values()
            .filter(|p| p.profile == profile && p.slot.is_some())
            .map(|p| {
                let starting = match startup {
                    Some(startup) if p.awaiting_first_test => {
                        startup.saturating_sub(p.spawned_at.elapsed())
                    }
                    _ => Duration::ZERO,
                };
                let starting = i64::try_from(starting.as_nanos()).unwrap_or(i64::MAX);
                p.assigned.held().nanos(cost).saturating_add(starting)
            })
            .collect()
    }

    fn workers_of(&self, profile: usize) -> usize {
        self.processes
            .values()
            .filter(|p| p.profile == profile && p.slot.is_some())
            .count()
    }

    fn spawn(
        &mut self,
        profile: usize,
        kind: Kind,
        slot: Option<usize>,
        batch: Option<Vec<Unit>>,
    ) -> Result<ProcessId, RunError> {
        let run = &self.spec.profiles[profile];
        let subs = Substitutions {
            profile: &run.name,
            python_workers: self.python_workers.as_ref(),
            extra_args: &self.spec.extra_args,
        };
        let mut assigned = Assignments::default();
        let mut id_file = None;
        let command = match (run.launch(), kind) {
            (Launch::Worker { command }, _) => command::worker(command, &subs),
            (Launch::Classic(classic), Kind::Lister) => command::classic_list(classic, &subs),
            (Launch::Classic(classic), _) => match batch {
                Some(units) => {
                    let ids: Vec<String> = units.into_iter().flat_map(|u| u.ids).collect();
                    let file = self.write_id_file(&ids)?;
                    let command = command::classic_run(
                        classic,
                        Some(Ids {
                            ids: &ids,
                            file: &file,
                        }),
                        &subs,
                    );
                    id_file = Some(file);
                    let estimates = &self.spec.profiles[profile].history.estimates;
                    for id in ids {
                        let estimate = estimates.get(&id).copied();
                        assigned.push(id, estimate);
                    }
                    command
                }
                None => command::classic_run(classic, None, &subs),
            },
        };
        let env = [
            (
                "TESTR_WORKER",
                slot.map(|s| s.to_string()).unwrap_or_default(),
            ),
            ("TESTR_PROFILE", run.name.clone()),
            (
                "TESTR_SHARED_DIR",
                shared_dir(self.files.path(), profile)
                    .to_string_lossy()
                    .into_owned(),
            ),
        ];
        let id = ProcessId(self.next_process);
        self.next_process += 1;
        let launch = process::Launch {
            command: &command,
            dir: &self.spec.project,
            env: &env,
            stdin: kind == Kind::Worker,
        };
        let Child { pid, stdin } =
            process::spawn(id, &launch, &self.outbox).map_err(|source| RunError::Spawn {
                command: command.clone(),
                source,
            })?;
        self.groups.started(pid);
        let mut tags: Vec<String> = run.profile.tags().to_vec();
        if let Some(slot) = slot {
            tags.push(format!("worker-{slot}"));
            self.slots[slot].process = Some(id);
            self.slots[slot].used = true;
        }
        if kind != Kind::Lister && !self.profiles[profile].announced {
            self.profiles[profile].announced = true;
            self.emit(RunEvent::Started {
                profile: run.profile.clone(),
                command: command.clone(),
            });
        }
        let now = Instant::now();
        self.processes.insert(
            id,
            Process {
                kind,
                profile,
                slot,
                command,
                pid,
                phase: match kind {
                    Kind::Worker | Kind::Lister => Phase::Listing(Listening {
                        stdin,
                        ..Listening::default()
                    }),
                    Kind::Batch => Phase::Finishing,
                },
                decoder: Decoder::new(),
                collector: Collector::new(tags),
                clock: (kind == Kind::Batch).then_some(now),
                last_stop: None,
                spawned_at: now,
                awaiting_first_test: kind == Kind::Batch,
                wants_next: false,
                assigned,
                stderr: Vec::new(),
                exit: None,
                open_pipes: 2,
                results: 0,
                failures: 0,
                _id_file: id_file,
            },
        );
        Ok(id)
    }

    fn write_id_file(&self, ids: &[String]) -> Result<tempfile::TempPath, RunError> {
        use std::io::Write;
        // One id a line: an id holding a line break would reach a command
        // that reads the file as two ids (a reader in text mode ends a line
        // at a lone carriage return too). Only a command that reads the
        // file is misled; the batch's own command is not known here, so
        // any command of the run that names $IDFILE counts.
        let reads_file = || {
            self.spec.profiles.iter().any(|p| match p.launch() {
                Launch::Classic(classic) => [Some(&classic.command), classic.id_option.as_ref()]
                    .into_iter()
                    .flatten()
                    .any(|template| template.contains("$IDFILE")),
                Launch::Worker { .. } => false,
            })
        };
        if let Some(id) = ids.iter().find(|id| id.contains(['\n', '\r'])) {
            if reads_file() {
                return Err(RunError::IdFileLineBreak { id: id.clone() });
            }
        }
        let mut file = tempfile::Builder::new()
            .prefix("ids-")
            .tempfile_in(self.files.path())?;
        for id in ids {
            writeln!(file, "{id}")?;
        }
        file.flush()?;
        Ok(file.into_temp_path())
    }

    // -- the end -----------------------------------------------------------

    fn report(&mut self) -> RunReport {
        if self.spec.plan.is_some() && self.interrupt.is_none() {
            self.close_segment();
        }
        let end = self.slots.iter().filter_map(|s| s.last_finish).max();
        let workers = self
            .slots
            .iter()
            .enumerate()
            .filter(|(_, s)| s.used)
            .map(|(slot, s)| WorkerBalance {
                slot,
                tests: s.tests,
                idle_at_end: end.map_or(Duration::ZERO, |end| {
                    end.duration_since(s.last_finish.unwrap_or(self.started))
                }),
            })
            .collect();
        RunReport {
            interrupted: self.interrupt.is_some(),
            stopped_by: self.interrupt.as_ref().map(|i| i.signal),
            workers,
            segments: std::mem::take(&mut self.segment_reports),
            startups: self.startups.measured(),
        }
    }

    fn emit(&mut self, event: RunEvent) {
        self.pending_events.push(event);
    }

    fn flush_events(&mut self) {
        if !self.pending_events.is_empty() {
            // The consumer only goes away when the command is failing anyway.
            let _ = self.events.send(std::mem::take(&mut self.pending_events));
        }
    }
}

/// A directory the processes of one profile share for this run only (a
/// worker may keep there what its siblings can reuse).
fn shared_dir(run_files: &std::path::Path, profile: usize) -> PathBuf {
    run_files.join(format!("profile-{profile}"))
}

/// How many workers a profile with no history starts before its tests are
/// listed: twice the CPUs, and at least 4. More could each pay a start-up
/// for nothing; fewer would make the rest of a cold run wait one.
fn unlisted_workers() -> usize {
    let cpus = std::thread::available_parallelism().map_or(1, |n| n.get());
    (2 * cpus).max(4)
}

/// Whether a classic command can list tests and run chosen ones.
fn can_select(classic: &ClassicCommand) -> bool {
    classic.list_option.is_some() && classic.id_option.is_some()
}

async fn sleep_until_some(deadline: Option<Instant>) {
    match deadline {
        Some(deadline) => sleep_until(deadline).await,
        None => std::future::pending().await,
    }
}

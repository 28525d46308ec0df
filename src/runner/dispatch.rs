//! The dispatcher: one loop that starts processes, reads what they write,
//! hands out tests as workers are about to run out, and deals with crashes,
//! timeouts and Ctrl-C. It emits [`RunEvent`]s and never prints or stores.

use std::path::PathBuf;
use std::process::ExitStatus;
use std::sync::mpsc::Sender;
use std::time::Duration;

use rustc_hash::FxHashMap as HashMap;
use tokio::signal::unix::{SignalKind, signal};
use tokio::sync::mpsc::{UnboundedReceiver, UnboundedSender, unbounded_channel};
use tokio::time::{Instant, sleep_until};

use super::assigned::Assignments;
use super::command::{self, Ids, Substitutions};
use super::process::{self, Child, Envelope, Output, ProcessId};
use super::schedule::{LOOKAHEAD, MAX_AHEAD, Scheduler, Unit, make_units, weight};
use super::spec::RunSpec;
use super::{PYTHON_WORKER, RunError, RunEvent, RunReport, WorkerBalance};
use crate::collect::{Collected, Collector};
use crate::config::{ClassicCommand, Launch};
use crate::model::{Attachment, SegmentRun, Status, TestId, TestResult};
use crate::subunit::{Decoder, Item, Packet};

/// The file a worker sends, with no test id, when its listing is complete
/// (docs/worker-protocol.md).
pub const LISTING_DONE: &str = "testr-listing-done";

/// How long events may wait to be sent to the consumer in one batch.
const EVENT_BATCH: Duration = Duration::from_millis(10);

/// How long the dispatcher may leave output unread when no worker can run
/// out of work meanwhile (at least three times this much queued: a timer
/// may oversleep by a tick).
const COALESCE: Duration = Duration::from_millis(1);

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
    // After an error, nothing may outlive the run.
    for process in dispatcher.processes.values() {
        process::kill(process.pid);
    }
    outcome
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    /// A long-lived worker (docs/worker-protocol.md).
    Worker,
    /// A classic command running a batch of ids (or everything).
    Batch,
    /// A classic command listing the tests.
    Lister,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum ListingState {
    NotStarted,
    Running,
    Done,
}

struct ProfileState {
    listing: ListingState,
    /// Whether the `Started` event was sent.
    announced: bool,
    /// A classic command that cannot select tests runs once, whole.
    whole_run_started: bool,
}

#[derive(Default)]
struct Slot {
    process: Option<ProcessId>,
    tests: usize,
    last_finish: Option<Instant>,
}

#[derive(Debug, Clone)]
enum Kill {
    Timeout { after: Duration },
    Interrupt,
}

struct Process {
    kind: Kind,
    profile: usize,
    slot: Option<usize>,
    command: String,
    pid: i32,
    stdin: Option<UnboundedSender<Vec<u8>>>,
    /// The ids listed so far, while the process is listing.
    listing: Option<Vec<String>>,
    /// Text a classic lister wrote: a plain list of ids, if no packets came.
    listing_text: Vec<u8>,
    decoder: Decoder,
    collector: Collector,
    assigned: Assignments,
    /// Since when the process has owed us progress (a test starting or
    /// finishing): the timeout runs from here.
    clock: Option<Instant>,
    killed: Option<Kill>,
    stderr: Vec<u8>,
    stdout_open: bool,
    stderr_open: bool,
    exit: Option<ExitStatus>,
    results: usize,
    failures: usize,
    /// The `$IDFILE` of a batch, deleted with the process.
    _id_file: Option<tempfile::TempPath>,
}

impl Process {
    fn is_done(&self) -> bool {
        self.exit.is_some() && !self.stdout_open && !self.stderr_open
    }

    fn worker_name(&self) -> String {
        match self.slot {
            Some(slot) => format!("worker-{slot}"),
            None => "the test command".to_owned(),
        }
    }

    /// The last lines of its stderr, for a message.
    fn stderr_tail(&self) -> String {
        String::from_utf8_lossy(&self.stderr).trim_end().to_owned()
    }
}

/// How a process ended, for the explanations of the failures it caused.
struct Ending {
    headline: String,
    stderr: String,
}

impl Ending {
    fn text(&self, when: &str) -> String {
        let mut text = format!("{} {when}.\n", self.headline);
        if !self.stderr.is_empty() {
            text.push_str("\nThe end of its stderr:\n");
            text.push_str(&self.stderr);
            text.push('\n');
        }
        text
    }
}

struct Interrupt {
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
    profiles: Vec<ProfileState>,
    slots: Vec<Slot>,
    processes: HashMap<ProcessId, Process>,
    next_process: u64,
    outbox: UnboundedSender<Envelope>,
    inbox: UnboundedReceiver<Envelope>,
    /// Holds the shipped Python worker and the id files of batches.
    files: tempfile::TempDir,
    python_worker: Option<PathBuf>,
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
    held_listings: Vec<Option<Vec<String>>>,
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
        let python_worker = if uses_worker {
            let path = files.path().join("testr_subunit.py");
            std::fs::write(&path, PYTHON_WORKER)?;
            Some(path)
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
        let segments: Vec<SegmentInfo> = match &spec.plan {
            Some(planned) => planned
                .plan
                .segments
                .iter()
                .enumerate()
                .map(|(index, s)| SegmentInfo {
                    plan_index: Some(index),
                    exclusive: s.exclusive,
                    max_workers: s.max_workers,
                })
                .chain(std::iter::once(SegmentInfo {
                    plan_index: None,
                    exclusive: false,
                    max_workers: None,
                }))
                .collect(),
            None => vec![SegmentInfo {
                plan_index: None,
                exclusive: false,
                max_workers: None,
            }],
        };
        let limits: Vec<Option<usize>> = segments
            .iter()
            .map(|s| if s.exclusive { Some(1) } else { s.max_workers })
            .collect();
        Ok(Dispatcher {
            scheduler: Scheduler::with_segments(profile_count, &limits),
            segments,
            segment: SegmentProgress::default(),
            segment_reports: Vec::new(),
            held_listings: vec![None; profile_count],
            profiles: (0..profile_count)
                .map(|_| ProfileState {
                    listing: ListingState::NotStarted,
                    announced: false,
                    whole_run_started: false,
                })
                .collect(),
            slots: (0..slot_count).map(|_| Slot::default()).collect(),
            processes: HashMap::default(),
            next_process: 0,
            outbox,
            inbox,
            files,
            python_worker,
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
        self.start()?;
        let mut flushed = Instant::now();
        while !self.processes.is_empty() {
            // Events go to the consumer at most every EVENT_BATCH: one
            // message (and one wake-up of its thread) for many results.
            let flush_at = (!self.pending_events.is_empty()).then(|| flushed + EVENT_BATCH);
            let wake = self.next_deadline().into_iter().chain(flush_at).min();
            tokio::select! {
                Some(envelope) = self.inbox.recv() => self.handle(envelope)?,
                () = sleep_until_some(wake) => self.deadlines_passed(),
                _ = interrupts.recv() => self.interrupted(),
            }
            while let Ok(envelope) = self.inbox.try_recv() {
                self.handle(envelope)?;
            }
            if flushed.elapsed() >= EVENT_BATCH {
                self.flush_events();
                flushed = Instant::now();
            }
            if self.can_coalesce() {
                // Every worker has work queued: let their output pile up in
                // the pipes and read it in one go. The sleep blocks the
                // runtime's thread on purpose: an async sleep would still
                // wake the thread for every packet a worker writes.
                std::thread::sleep(COALESCE);
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
                self.profiles[profile].listing = ListingState::Running;
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
                if self.profiles[profile].listing == ListingState::NotStarted {
                    self.profiles[profile].listing = ListingState::Running;
                }
                let id = self.spawn(profile, Kind::Worker, Some(slot), None)?;
                self.top_up(id);
            }
            Launch::Classic(classic) if can_select(&classic) => {
                if self.at_limit() {
                    return Ok(());
                }
                let workers = self.workers_of(profile) + 1;
                let batch = self.scheduler.batch(profile, workers);
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
            let score = match (profile.launch(), state.listing) {
                (Launch::Worker { .. }, ListingState::NotStarted | ListingState::Running) => {
                    per_worker(f64::MAX / 4.0)
                }
                (Launch::Classic(c), ListingState::Done) if !can_select(c) => {
                    if state.whole_run_started {
                        continue;
                    }
                    f64::MAX
                }
                (_, ListingState::Done) if self.scheduler.has_work(index) => {
                    let (_, nanos) = self.scheduler.remaining(index);
                    let share = per_worker(nanos as f64);
                    let is_worker = matches!(profile.launch(), Launch::Worker { .. });
                    if is_worker && workers > 0 && share < WORKER_START_COST.as_nanos() as f64 {
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

    /// Whether as many workers hold tests as the current segment allows.
    fn at_limit(&self) -> bool {
        self.scheduler.limit().is_some_and(|limit| {
            let busy = self
                .processes
                .values()
                .filter(|p| p.slot.is_some() && !p.assigned.is_empty())
                .count();
            busy >= limit
        })
    }

    /// Whether no streaming worker can run out of tests within a few
    /// [`COALESCE`]s, so that reading their output can wait that long.
    fn can_coalesce(&self) -> bool {
        let needed = 3 * COALESCE.as_nanos() as i64;
        self.interrupt.is_none()
            && self.processes.values().all(|p| {
                let running = p.kind == Kind::Worker && p.listing.is_none() && p.stdin.is_some();
                !running || {
                    let unknown = self.scheduler.expected(p.profile, None);
                    p.assigned.ahead().nanos(unknown) >= needed
                }
            })
    }

    /// Tests handed out and not finished, over every worker.
    fn in_flight(&self) -> usize {
        self.processes.values().map(|p| p.assigned.len()).sum()
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
            python_worker: self.python_worker.as_deref(),
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
                    let estimates = &self.spec.estimates[profile];
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
        let mut tags: Vec<String> = run.profile.tags().to_vec();
        if let Some(slot) = slot {
            tags.push(format!("worker-{slot}"));
            self.slots[slot].process = Some(id);
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
                stdin,
                listing: matches!(kind, Kind::Worker | Kind::Lister).then(Vec::new),
                listing_text: Vec::new(),
                decoder: Decoder::new(),
                collector: Collector::new(tags),
                clock: (kind == Kind::Batch).then_some(now),
                assigned,
                killed: None,
                stderr: Vec::new(),
                stdout_open: true,
                stderr_open: true,
                exit: None,
                results: 0,
                failures: 0,
                _id_file: id_file,
            },
        );
        Ok(id)
    }

    fn write_id_file(&self, ids: &[String]) -> Result<tempfile::TempPath, RunError> {
        use std::io::Write;
        let mut file = tempfile::Builder::new()
            .prefix("ids-")
            .tempfile_in(self.files.path())?;
        for id in ids {
            writeln!(file, "{id}")?;
        }
        file.flush()?;
        Ok(file.into_temp_path())
    }

    // -- handing out tests -------------------------------------------------

    /// Gives a streaming worker tests until it holds [`LOOKAHEAD`] of
    /// expected work; closes its stdin when there is nothing left for it.
    fn top_up(&mut self, id: ProcessId) {
        let Some(mut process) = self.processes.remove(&id) else {
            return;
        };
        self.top_up_process(&mut process);
        self.processes.insert(id, process);
    }

    fn top_up_process(&mut self, process: &mut Process) {
        let profile = process.profile;
        if process.kind != Kind::Worker
            || process.stdin.is_none()
            || self.profiles[profile].listing != ListingState::Done
        {
            return;
        }
        if process.assigned.is_empty() && self.at_limit() {
            // The segment allows no more tests at once; this worker waits.
            return;
        }
        let lookahead = LOOKAHEAD.as_nanos() as i64;
        let mut outstanding = process
            .assigned
            .held()
            .weight(self.scheduler.expected(profile, None));
        // Refilled below half the lookahead, up to all of it: a worker on
        // tiny tests gets its ids in a few writes, not one per test.
        let refill = process.assigned.is_empty() || outstanding < lookahead / 2;
        let mut lines = Vec::new();
        let mut unstarted = process.assigned.unstarted();
        while refill && unstarted < MAX_AHEAD {
            if !process.assigned.is_empty() && outstanding >= lookahead {
                break;
            }
            let Some(unit) = self.scheduler.next(profile) else {
                break;
            };
            if process.assigned.is_empty() && process.listing.is_none() {
                process.clock = Some(Instant::now());
            }
            self.segment.since.get_or_insert_with(Instant::now);
            let estimates = &self.spec.estimates[profile];
            for test in unit.ids {
                let estimate = estimates.get(&test).copied();
                outstanding += weight(self.scheduler.expected(profile, estimate));
                unstarted += 1;
                lines.extend_from_slice(test.as_bytes());
                lines.push(b'\n');
                process.assigned.push(test, estimate);
            }
        }
        if let (Some(stdin), false) = (&process.stdin, lines.is_empty()) {
            let _ = stdin.send(lines);
        }
        if process.assigned.is_empty() && !self.scheduler.has_work(profile) {
            // Closing stdin is how a worker is told to finish.
            process.stdin = None;
        }
    }

    /// Tops up every worker of `profile` (its tests were just planned).
    fn top_up_profile(&mut self, profile: usize) {
        let ids: Vec<ProcessId> = self
            .processes
            .iter()
            .filter(|(_, p)| p.profile == profile && p.kind == Kind::Worker)
            .map(|(id, _)| *id)
            .collect();
        for id in ids {
            self.top_up(id);
        }
    }

    /// A profile's tests are known: select, then plan or (listing only)
    /// keep. With a plan, wait for every profile's listing.
    fn listed(&mut self, profile: usize, ids: Vec<String>) -> Result<(), RunError> {
        if self.spec.plan.is_some() && self.mode == Mode::Run {
            self.held_listings[profile] = Some(ids);
            if self.held_listings.iter().all(Option::is_some) {
                self.follow_plan()?;
            }
            return Ok(());
        }
        let tags = self.spec.profiles[profile].profile.clone();
        let selected = self.spec.selection.select(&tags, ids)?;
        self.profiles[profile].listing = ListingState::Done;
        if self.mode == Mode::List {
            self.listed[profile] = selected;
            return Ok(());
        }
        self.emit(RunEvent::Planned {
            profile: tags,
            tests: selected.len(),
        });
        let group = self.spec.profiles[profile].settings.group_regex.as_ref();
        self.scheduler.plan(
            profile,
            selected,
            Some(&self.spec.estimates[profile]),
            group,
        );
        self.top_up_profile(profile);
        self.fill_slots()
    }

    /// Every profile is listed: checks the plan against the listings, puts
    /// each selected test in its segment, and starts.
    fn follow_plan(&mut self) -> Result<(), RunError> {
        let planned = self.spec.plan.as_ref().expect("a plan is followed");
        let rest = planned.plan.segments.len();
        let mut unknown: Vec<String> = Vec::new();
        let mut unplanned: Vec<String> = Vec::new();
        let mut buckets: Vec<Vec<Vec<String>>> = Vec::new();
        let listings: Vec<Vec<String>> = self
            .held_listings
            .iter_mut()
            .map(|l| l.take().unwrap_or_default())
            .collect();
        for (run, listed) in self.spec.profiles.iter().zip(&listings) {
            let placement = planned.plan.placement(&run.profile);
            let known: std::collections::HashSet<&str> =
                listed.iter().map(String::as_str).collect();
            let selected = self.spec.selection.select(&run.profile, listed.clone())?;
            let mut bucket = vec![Vec::new(); rest + 1];
            for id in selected {
                let segment = match placement.get(id.as_str()) {
                    Some(&segment) => segment,
                    None => {
                        unplanned.push(id.clone());
                        rest
                    }
                };
                bucket[segment].push(id);
            }
            buckets.push(bucket);
            // A record names a test of its profile; a plain id, of any.
            for segment in &planned.plan.segments {
                for entry in &segment.tests {
                    let missing = match &entry.profile {
                        Some(p) => *p == run.profile && !known.contains(entry.id.as_str()),
                        None => !listings.iter().any(|l| l.contains(&entry.id)),
                    };
                    if missing {
                        unknown.push(entry.id.clone());
                    }
                }
            }
        }
        let source = format!("the plan {}", planned.plan.source.display());
        if !unknown.is_empty() {
            unknown.sort();
            unknown.dedup();
            return Err(RunError::UnknownIds {
                origin: source,
                profile: Default::default(),
                count: unknown.len(),
                ids: unknown,
            });
        }
        if planned.strict && !unplanned.is_empty() {
            unplanned.sort();
            unplanned.dedup();
            return Err(RunError::Unplanned {
                plan: planned.plan.source.display().to_string(),
                count: unplanned.len(),
                ids: unplanned,
            });
        }
        for (profile, bucket) in buckets.into_iter().enumerate() {
            self.profiles[profile].listing = ListingState::Done;
            self.emit(RunEvent::Planned {
                profile: self.spec.profiles[profile].profile.clone(),
                tests: bucket.iter().map(Vec::len).sum(),
            });
            let group = self.spec.profiles[profile].settings.group_regex.as_ref();
            for (segment, ids) in bucket.into_iter().enumerate() {
                self.scheduler.add(
                    segment,
                    profile,
                    ids,
                    Some(&self.spec.estimates[profile]),
                    group,
                );
            }
        }
        if self.scheduler.segment_handed_out() {
            self.scheduler.advance();
        }
        self.start_segment()
    }

    /// Hands out the current segment's first tests.
    fn start_segment(&mut self) -> Result<(), RunError> {
        for profile in 0..self.spec.profiles.len() {
            self.top_up_profile(profile);
        }
        self.fill_slots()
    }

    /// When every test of the current segment has finished, records it and
    /// moves on to the next segment that has tests.
    fn maybe_advance(&mut self) -> Result<(), RunError> {
        if self.spec.plan.is_none() || self.interrupt.is_some() || self.segment.since.is_none() {
            return Ok(());
        }
        if !self.scheduler.segment_handed_out() || self.in_flight() > 0 {
            return Ok(());
        }
        self.close_segment();
        if self.scheduler.advance() {
            self.start_segment()?;
        } else {
            // Nothing is left anywhere: let every worker finish.
            for profile in 0..self.spec.profiles.len() {
                self.top_up_profile(profile);
            }
        }
        Ok(())
    }

    fn close_segment(&mut self) {
        let progress = std::mem::take(&mut self.segment);
        let Some(since) = progress.since else {
            return;
        };
        let info = &self.segments[self.scheduler.current()];
        self.segment_reports.push(SegmentRun {
            plan_index: info.plan_index,
            exclusive: info.exclusive,
            max_workers: info.max_workers,
            tests: progress.tests,
            duration: since.elapsed(),
        });
    }

    // -- what processes write ----------------------------------------------

    fn handle(&mut self, envelope: Envelope) -> Result<(), RunError> {
        let Some(mut process) = self.processes.remove(&envelope.process) else {
            return Ok(());
        };
        let mut listed = None;
        match envelope.output {
            Output::Stdout(bytes) => {
                process.decoder.feed(&bytes);
                while let Some(item) = process.decoder.next_item() {
                    if let Some(ids) = self.take_item(&mut process, item) {
                        listed = Some(ids);
                    }
                }
            }
            Output::StdoutClosed => process.stdout_open = false,
            Output::Stderr(bytes) => {
                process.stderr.extend_from_slice(&bytes);
                if process.stderr.len() > STDERR_TAIL {
                    let cut = process.stderr.len() - STDERR_TAIL;
                    process.stderr.drain(..cut);
                }
                self.emit(RunEvent::Stderr(bytes));
            }
            Output::StderrClosed => process.stderr_open = false,
            Output::Exited(status) => {
                process.exit = Some(status);
                // Whatever the worker left running in its group goes with
                // it, unless Ctrl-C gave the group time to stop.
                if self.interrupt.is_none() {
                    process::kill(process.pid);
                }
            }
        }
        if process.is_done() {
            return self.finished(process);
        }
        let profile = process.profile;
        self.top_up_process(&mut process);
        self.processes.insert(envelope.process, process);
        if let Some(ids) = listed {
            if self.profiles[profile].listing != ListingState::Done {
                self.listed(profile, ids)?;
            }
        }
        self.maybe_advance()
    }

    /// Takes one decoded item; returns the listing when this item completed it.
    fn take_item(&mut self, process: &mut Process, item: Item) -> Option<Vec<String>> {
        if let Some(listing) = &mut process.listing {
            match &item {
                Item::Packet(Packet {
                    test_id: Some(id),
                    status: Some(Status::Exists),
                    ..
                }) => {
                    listing.push(id.clone());
                    return None;
                }
                Item::Packet(Packet {
                    test_id: None,
                    file: Some(file),
                    ..
                }) if file.name == LISTING_DONE && process.kind == Kind::Worker => {
                    let ids = process.listing.take().unwrap_or_default();
                    if !process.assigned.is_empty() {
                        process.clock = Some(Instant::now());
                    }
                    if self.mode == Mode::List {
                        process.stdin = None;
                    }
                    return Some(ids);
                }
                Item::Text(text) if process.kind == Kind::Lister => {
                    process.listing_text.extend_from_slice(text);
                    return None;
                }
                _ => {}
            }
        }
        if let Item::Packet(Packet {
            test_id: Some(id),
            status: Some(status),
            ..
        }) = &item
        {
            self.track(process, id, *status);
        }
        let mut collected = Vec::new();
        process.collector.push(item, &mut |c| collected.push(c));
        for c in collected {
            self.collected(process, c);
        }
        None
    }

    /// Follows a test's progress on its worker: starting, or finishing
    /// (then the worker may need more work).
    fn track(&mut self, process: &mut Process, id: &str, status: Status) {
        let now = Instant::now();
        if status == Status::InProgress {
            process.assigned.start(id);
            process.clock = Some(now);
        } else if status.is_final() {
            process.assigned.finish(id);
            process.clock = Some(now);
            self.segment.tests += 1;
            if let Some(slot) = process.slot {
                self.slots[slot].tests += 1;
                self.slots[slot].last_finish = Some(now);
            }
        }
    }

    fn collected(&mut self, process: &mut Process, collected: Collected) {
        if let Collected::Test(result) = &collected {
            process.results += 1;
            self.any_results = true;
            if result.status.is_failure() {
                process.failures += 1;
            }
            if let Some(nanos) = result.duration_nanos() {
                self.scheduler.observe(process.profile, nanos);
            }
        }
        if self.mode == Mode::Run {
            self.emit(RunEvent::Collected(collected));
        }
    }

    // -- processes ending --------------------------------------------------

    fn finished(&mut self, mut process: Process) -> Result<(), RunError> {
        process.decoder.finish();
        let mut listed = None;
        while let Some(item) = process.decoder.next_item() {
            if let Some(ids) = self.take_item(&mut process, item) {
                listed = Some(ids);
            }
        }
        let status = process.exit.expect("a finished process has exited");
        let profile = process.profile;
        if let Some(ids) = listed {
            if self.profiles[profile].listing != ListingState::Done {
                self.listed(profile, ids)?;
            }
        }
        match process.kind {
            Kind::Lister => self.lister_finished(process, status)?,
            Kind::Worker | Kind::Batch => self.runner_finished(process, status)?,
        }
        self.maybe_advance()?;
        self.fill_slots()
    }

    fn lister_finished(
        &mut self,
        mut process: Process,
        status: ExitStatus,
    ) -> Result<(), RunError> {
        if self.interrupt.is_some() {
            return Ok(());
        }
        let mut ids = process.listing.take().unwrap_or_default();
        if ids.is_empty() {
            // A plain list of ids, one a line, is a listing too.
            ids = String::from_utf8_lossy(&process.listing_text)
                .lines()
                .map(str::trim)
                .filter(|l| !l.is_empty())
                .map(str::to_owned)
                .collect();
        }
        if !status.success() {
            if ids.is_empty() {
                return Err(RunError::Listing {
                    command: process.command.clone(),
                    status: process::describe(status),
                    stderr: process.stderr_tail(),
                });
            }
            self.emit(RunEvent::Notice(format!(
                "the listing command {}; running the {} tests it listed",
                process::describe(status),
                ids.len()
            )));
        }
        self.listed(process.profile, ids)
    }

    fn runner_finished(
        &mut self,
        mut process: Process,
        status: ExitStatus,
    ) -> Result<(), RunError> {
        if let Some(slot) = process.slot {
            self.slots[slot].process = None;
        }
        let interrupted = self.interrupt.is_some();
        if process.listing.is_some() && !interrupted && process.killed.is_none() {
            // It never finished listing: the command itself is broken.
            return Err(RunError::Listing {
                command: process.command.clone(),
                status: process::describe(status),
                stderr: process.stderr_tail(),
            });
        }
        let asked_to_finish = process.kind == Kind::Batch || process.stdin.is_none();
        let clean = status.success() && process.killed.is_none() && asked_to_finish;
        let ending = self.ending(&process, status);
        let mut blamed = false;
        let mut collected = Vec::new();
        process.collector.finish(&mut |c| collected.push(c));
        for mut c in collected {
            if let Collected::Test(result) = &mut c {
                if result.status == Status::InProgress {
                    if interrupted {
                        // It did not finish: an interrupted run keeps only what did.
                        continue;
                    }
                    result.status = Status::Fail;
                    result
                        .attachments
                        .push(explanation(ending.text("while this test was running")));
                    blamed = true;
                }
            }
            self.collected(&mut process, c);
        }
        let unstarted = process.assigned.take_unstarted();
        if interrupted {
            return Ok(());
        }
        if !clean && !unstarted.is_empty() {
            if !self.any_results && process.killed.is_none() {
                return Err(RunError::NoResults {
                    command: process.command.clone(),
                    status: process::describe(status),
                    stderr: process.stderr_tail(),
                });
            }
            let mut rest = unstarted.into_iter();
            if !blamed {
                // Nothing was running, so the test it was about to start
                // (or hung before starting) is the one to fail; the run
                // still moves on if a test kills every worker that tries it.
                if let Some(first) = rest.next() {
                    let text = ending.text("before this test (the next it had been given) started");
                    let result = self.synthetic_failure(&process, first.id, text);
                    self.collected(&mut process, Collected::Test(result));
                    blamed = true;
                }
            }
            let rest: Vec<String> = rest.map(|a| a.id).collect();
            if !rest.is_empty() {
                self.emit(RunEvent::Notice(format!(
                    "{} {}; its {} unstarted test(s) go to another worker",
                    process.worker_name(),
                    process::describe(status),
                    rest.len()
                )));
                let run = &self.spec.profiles[process.profile];
                let units = make_units(
                    rest,
                    run.settings.group_regex.as_ref(),
                    Some(&self.spec.estimates[process.profile]),
                );
                self.scheduler.requeue(process.profile, units);
            }
        } else if !unstarted.is_empty() {
            self.emit(RunEvent::Notice(format!(
                "{} exited without reporting {} of the tests it was given (first: {})",
                process.worker_name(),
                unstarted.len(),
                unstarted[0].id
            )));
        }
        if !status.success() && process.killed.is_none() && !blamed && process.failures == 0 {
            if !self.any_results {
                return Err(RunError::NoResults {
                    command: process.command.clone(),
                    status: process::describe(status),
                    stderr: process.stderr_tail(),
                });
            }
            let result = self.synthetic_failure(
                &process,
                "process-returncode".to_owned(),
                ending.text("though none of its tests failed"),
            );
            self.collected(&mut process, Collected::Test(result));
        }
        Ok(())
    }

    /// Why a process ended, to explain the failures testr gives its tests.
    fn ending(&self, process: &Process, status: ExitStatus) -> Ending {
        let name = process.worker_name();
        let headline = match &process.killed {
            Some(Kill::Timeout { after }) => format!(
                "Timed out: testr killed {name} (`{}`) after {} s without progress",
                process.command,
                after.as_secs_f64()
            ),
            Some(Kill::Interrupt) => format!("{name} was stopped by Ctrl-C"),
            None => format!(
                "{name} (`{}`) {}",
                process.command,
                process::describe(status)
            ),
        };
        Ending {
            headline,
            stderr: process.stderr_tail(),
        }
    }

    fn synthetic_failure(&self, process: &Process, id: String, text: String) -> TestResult {
        let mut tags = self.spec.profiles[process.profile].profile.tags().to_vec();
        if let Some(slot) = process.slot {
            tags.push(format!("worker-{slot}"));
        }
        tags.sort();
        TestResult {
            id: TestId(id),
            status: Status::Fail,
            started_at: None,
            stopped_at: None,
            tags,
            route_code: None,
            attachments: vec![explanation(text)],
        }
    }

    // -- timeouts and Ctrl-C -----------------------------------------------

    fn next_deadline(&self) -> Option<Instant> {
        let timeouts = self.processes.values().filter_map(|p| self.deadline_of(p));
        let grace = self
            .interrupt
            .as_ref()
            .filter(|i| !i.killed)
            .map(|i| i.grace_until);
        timeouts.chain(grace).min()
    }

    fn deadline_of(&self, process: &Process) -> Option<Instant> {
        let timeout = self.spec.profiles[process.profile].settings.timeout?;
        if process.killed.is_some() || process.assigned.is_empty() {
            return None;
        }
        process.clock.map(|since| since + timeout)
    }

    fn deadlines_passed(&mut self) {
        let now = Instant::now();
        let late: Vec<ProcessId> = self
            .processes
            .iter()
            .filter(|(_, p)| self.deadline_of(p).is_some_and(|d| d <= now))
            .map(|(id, _)| *id)
            .collect();
        for id in late {
            let process = self.processes.get_mut(&id).expect("a late process exists");
            let after = self.spec.profiles[process.profile]
                .settings
                .timeout
                .expect("only a process with a timeout is late");
            process.killed = Some(Kill::Timeout { after });
            process::kill(process.pid);
            let name = process.worker_name();
            self.emit(RunEvent::Notice(format!(
                "{name} made no progress for {} s: killed it",
                after.as_secs_f64()
            )));
        }
        if let Some(interrupt) = &mut self.interrupt {
            if !interrupt.killed && interrupt.grace_until <= now {
                interrupt.killed = true;
                for process in self.processes.values() {
                    process::kill(process.pid);
                }
            }
        }
    }

    fn interrupted(&mut self) {
        match &mut self.interrupt {
            None => {
                self.emit(RunEvent::Notice(
                    "interrupted: stopping the tests (Ctrl-C again to kill them at once)".into(),
                ));
                self.scheduler.clear();
                for process in self.processes.values_mut() {
                    process.stdin = None;
                    process.killed = Some(Kill::Interrupt);
                    process::terminate(process.pid);
                }
                self.interrupt = Some(Interrupt {
                    grace_until: Instant::now() + GRACE,
                    killed: false,
                });
            }
            Some(interrupt) if !interrupt.killed => {
                interrupt.killed = true;
                self.emit(RunEvent::Notice(
                    "interrupted again: killing the tests".into(),
                ));
                for process in self.processes.values() {
                    process::kill(process.pid);
                }
            }
            Some(_) => {}
        }
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
            workers,
            segments: std::mem::take(&mut self.segment_reports),
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

/// Whether a classic command can list tests and run chosen ones.
fn can_select(classic: &ClassicCommand) -> bool {
    classic.list_option.is_some() && classic.id_option.is_some()
}

fn explanation(text: String) -> Attachment {
    Attachment {
        name: EXPLANATION.to_owned(),
        mime_type: Some("text/plain;charset=utf8".to_owned()),
        content: text.into_bytes(),
    }
}

async fn sleep_until_some(deadline: Option<Instant>) {
    match deadline {
        Some(deadline) => sleep_until(deadline).await,
        None => std::future::pending().await,
    }
}

//! Starting processes: a listing for each profile, and in each free
//! worker slot the process the work needs most (a worker, a batch of a
//! classic command, or its one whole run).

use std::time::Duration;

use rustc_hash::FxHashSet as HashSet;
use tokio::time::Instant;

use super::dispatcher::{Dispatcher, Mode};
use super::phase::{Kind, Listening, Phase, Process};
use super::profiles::{Ahead, ListingState, grouping};
use crate::collect::Collector;
use crate::config::{ClassicCommand, Launch};
use crate::runner::assigned::Assignments;
use crate::runner::command::{self, Ids, Substitutions};
use crate::runner::error::RunError;
use crate::runner::event::RunEvent;
use crate::runner::process::{self, Child, Priority, ProcessId};
use crate::runner::schedule::nanos;
use crate::runner::spec::ProfileIndex;
use crate::runner::unit::Unit;
use crate::subunit::Decoder;

/// A streaming worker is started for a profile that already has one only
/// when its remaining work per worker is worth a start-up.
const WORKER_START_COST: Duration = Duration::from_millis(300);

impl Dispatcher {
    pub(super) fn start(&mut self) -> Result<(), RunError> {
        for profile in self.spec.profiles.indices() {
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
                self.profiles[profile].listing = match self.run_ahead(profile) {
                    Some(ahead) => ListingState::RunningAhead(ahead),
                    None => ListingState::Running,
                };
                self.spawn(profile, Kind::Lister, None, None)?;
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
    fn run_ahead(&mut self, profile: ProfileIndex) -> Option<Ahead> {
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
            .filter(|id| self.spec.selection.admits(&run.tags, id))
            .filter(|id| started.insert((*id).clone()))
            .cloned()
            .collect();
        if ids.is_empty() {
            return None;
        }
        let grouping = grouping(run, &self.profiles[profile]);
        self.scheduler
            .add(0, profile, ids, Some(&run.history.estimates), grouping);
        Some(Ahead {
            started,
            ended: Vec::new(),
        })
    }

    pub(super) fn fill_slots(&mut self) -> Result<(), RunError> {
        for slot in 0..self.slots.len() {
            if self.slots.is_free(slot) {
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
                // A worker's start-up (the interpreter, imports, collecting
                // the tests) is CPU-bound: more at once than there are CPUs
                // only make each later, and the first test with them.
                if self.processes.starting_workers() >= cpus() {
                    return Ok(());
                }
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
                self.segments.started();
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
    fn profile_for_free_slot(&self) -> Option<ProfileIndex> {
        let mut best: Option<(f64, ProfileIndex)> = None;
        for (index, profile) in self.spec.profiles.enumerate() {
            let state = &self.profiles[index];
            let workers = self.processes.workers_of(index);
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
                    if is_worker && self.processes.waiting_workers_of(index) >= units {
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

    /// How much longer each running batch of `profile` is expected to
    /// take, in nanoseconds: the start-up it has still to pay, and its
    /// tests not finished yet.
    fn batches_left(&self, profile: ProfileIndex, startup: Option<Duration>) -> Vec<i64> {
        let cost = self.scheduler.cost(profile);
        self.processes
            .values()
            .filter(|p| p.profile == profile && p.slot.is_some())
            .map(|p| {
                let starting = match startup {
                    Some(startup) if p.awaiting_first_test => {
                        nanos(startup.saturating_sub(p.spawned_at.elapsed()))
                    }
                    _ => 0,
                };
                p.assigned.held().nanos(cost).saturating_add(starting)
            })
            .collect()
    }

    fn spawn(
        &mut self,
        profile: ProfileIndex,
        kind: Kind,
        slot: Option<usize>,
        batch: Option<Vec<Unit>>,
    ) -> Result<ProcessId, RunError> {
        let run = &self.spec.profiles[profile];
        let subs = Substitutions {
            profile: &run.name,
            python_workers: self.files.python_workers(),
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
                self.files
                    .shared_dir(profile)
                    .to_string_lossy()
                    .into_owned(),
            ),
        ];
        // A listing beside batches running ahead of it only checks what
        // they run: their start-up goes first.
        let checks_ahead = kind == Kind::Lister
            && matches!(
                self.profiles[profile].listing,
                ListingState::RunningAhead(_)
            );
        let launch = process::Launch {
            command: &command,
            dir: &self.spec.project,
            env: &env,
            stdin: kind == Kind::Worker,
            priority: if checks_ahead {
                Priority::Background
            } else {
                Priority::Normal
            },
        };
        let (id, Child { pid, stdin }) =
            self.processes
                .spawn(&launch)
                .map_err(|source| RunError::Spawn {
                    command: command.clone(),
                    source,
                })?;
        let mut tags: Vec<String> = run.tags.tags().to_vec();
        if let Some(slot) = slot {
            tags.push(format!("worker-{slot}"));
            self.slots.occupy(slot, id);
        }
        if kind != Kind::Lister && !self.profiles[profile].announced {
            self.profiles[profile].announced = true;
            self.emit(RunEvent::Started {
                tags: run.tags.clone(),
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
        self.files.write_ids(ids)
    }
}

/// How many workers a profile with no history starts before its tests are
/// listed: twice the CPUs, and at least 4. More could each pay a start-up
/// for nothing; fewer would make the rest of a cold run wait one.
fn unlisted_workers() -> usize {
    (2 * cpus()).max(4)
}

fn cpus() -> usize {
    std::thread::available_parallelism().map_or(1, |n| n.get())
}

/// Whether a classic command can list tests and run chosen ones.
fn can_select(classic: &ClassicCommand) -> bool {
    classic.list_option.is_some() && classic.id_option.is_some()
}

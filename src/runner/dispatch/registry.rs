//! The process registry: every process of the run that has not ended yet,
//! by id, the channel their output arrives on, and their process groups,
//! so that nothing the run started outlives it.

use rustc_hash::FxHashMap as HashMap;
use tokio::sync::mpsc::{UnboundedReceiver, UnboundedSender, unbounded_channel};

use super::phase::{Kill, Kind, Process};
use crate::runner::process::{self, Child, Envelope, Launch, ProcessGroups, ProcessId};
use crate::runner::spec::ProfileIndex;

pub(super) struct Registry {
    processes: HashMap<ProcessId, Process>,
    next: u64,
    outbox: UnboundedSender<Envelope>,
    inbox: UnboundedReceiver<Envelope>,
    /// The process groups started and not killed yet.
    groups: ProcessGroups,
}

impl Registry {
    /// An empty registry, with the watchdog that kills every group left if
    /// testr dies.
    pub(super) fn new() -> std::io::Result<Registry> {
        let (outbox, inbox) = unbounded_channel();
        Ok(Registry {
            processes: HashMap::default(),
            next: 0,
            outbox,
            inbox,
            groups: ProcessGroups::new()?,
        })
    }

    /// Starts a process; it is registered with [`Registry::insert`] once
    /// the caller has made its [`Process`].
    pub(super) fn spawn(&mut self, launch: &Launch<'_>) -> std::io::Result<(ProcessId, Child)> {
        let id = ProcessId(self.next);
        self.next += 1;
        let child = process::spawn(id, launch, &self.outbox)?;
        self.groups.started(child.pid);
        Ok((id, child))
    }

    /// The next output of any process.
    pub(super) async fn recv(&mut self) -> Option<Envelope> {
        self.inbox.recv().await
    }

    /// Output that has already arrived, if any.
    pub(super) fn try_recv(&mut self) -> Option<Envelope> {
        self.inbox.try_recv().ok()
    }

    pub(super) fn insert(&mut self, id: ProcessId, process: Process) {
        self.processes.insert(id, process);
    }

    pub(super) fn remove(&mut self, id: &ProcessId) -> Option<Process> {
        self.processes.remove(id)
    }

    pub(super) fn get_mut(&mut self, id: &ProcessId) -> Option<&mut Process> {
        self.processes.get_mut(id)
    }

    pub(super) fn is_empty(&self) -> bool {
        self.processes.is_empty()
    }

    pub(super) fn iter(&self) -> impl Iterator<Item = (&ProcessId, &Process)> {
        self.processes.iter()
    }

    pub(super) fn values(&self) -> impl Iterator<Item = &Process> {
        self.processes.values()
    }

    /// The processes of `profile` that hold a worker slot.
    pub(super) fn workers_of(&self, profile: ProfileIndex) -> usize {
        self.values()
            .filter(|p| p.profile == profile && p.slot.is_some())
            .count()
    }

    /// The workers of `profile` that hold no tests (listing, or idle).
    /// Workers of any profile still starting: not listed yet.
    pub(super) fn starting_workers(&self) -> usize {
        self.values()
            .filter(|p| p.kind == Kind::Worker && p.is_listing())
            .count()
    }

    pub(super) fn waiting_workers_of(&self, profile: ProfileIndex) -> usize {
        self.values()
            .filter(|p| {
                p.profile == profile
                    && p.kind == Kind::Worker
                    && p.slot.is_some()
                    && p.takes_ids()
                    && p.assigned.is_empty()
            })
            .count()
    }

    /// How many processes in a slot hold tests.
    pub(super) fn busy(&self) -> usize {
        self.values()
            .filter(|p| p.slot.is_some() && !p.assigned.is_empty())
            .count()
    }

    /// Tests handed out and not finished, over every process.
    pub(super) fn in_flight(&self) -> usize {
        self.values().map(|p| p.assigned.len()).sum()
    }

    /// Kills a process's group at once (SIGKILL).
    pub(super) fn kill(&mut self, pid: i32) {
        self.groups.kill(pid);
    }

    /// Kills every process's group at once.
    pub(super) fn kill_each(&mut self) {
        for process in self.processes.values() {
            self.groups.kill(process.pid);
        }
    }

    /// Stops every process for `kill`, asking its group to stop (SIGTERM).
    pub(super) fn stop_each(&mut self, kill: Kill) {
        for process in self.processes.values_mut() {
            process.stop(kill);
            self.groups.terminate(process.pid);
        }
    }

    /// Kills every group not killed yet, those of ended processes too:
    /// what a process left running.
    pub(super) fn kill_all(&mut self) {
        self.groups.kill_all();
    }
}

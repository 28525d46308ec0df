//! Unix process groups and signals: stopping a worker's process group, a
//! watchdog that kills every group left if testr itself dies (even by
//! SIGKILL), the parent-death signal, and exit statuses in words.

use std::collections::HashSet;
use std::io::Write;
use std::process::{ChildStdin, ExitStatus, Stdio};

/// What the watchdog runs: it learns each process group as it starts
/// (`watch PGID`) and as testr kills it (`forget PGID`), and at the end of
/// its stdin (testr is gone, however it died, since no other process holds
/// the pipe's other end) kills the groups it still knows. It ignores the
/// signals that stop testr: outliving testr is its whole purpose.
const WATCHDOG_SCRIPT: &str = r#"trap '' INT TERM HUP
live=
while read -r op group; do
  case $op in
    watch) live="$live $group" ;;
    forget)
      rest=
      for g in $live; do [ "$g" = "$group" ] || rest="$rest $g"; done
      live=$rest ;;
  esac
done
for g in $live; do kill -s KILL -- "-$g" 2>/dev/null; done
"#;

/// The process groups a run started and has not killed yet: each
/// process's group, and anything its members left running. Dropping it
/// kills them all; if testr dies first, its watchdog does.
pub struct ProcessGroups {
    live: HashSet<i32>,
    watchdog: Watchdog,
}

struct Watchdog {
    child: std::process::Child,
    stdin: ChildStdin,
}

impl ProcessGroups {
    /// Starts the watchdog (in a process group of its own, so that Ctrl-C
    /// at the terminal does not reach it).
    pub fn new() -> std::io::Result<ProcessGroups> {
        use std::os::unix::process::CommandExt;
        let mut child = std::process::Command::new("/bin/sh")
            .arg("-c")
            .arg(WATCHDOG_SCRIPT)
            .stdin(Stdio::piped())
            // It must not hold testr's own output open after testr ends.
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .process_group(0)
            .spawn()?;
        let stdin = child.stdin.take().expect("stdin is piped");
        Ok(ProcessGroups {
            live: HashSet::new(),
            watchdog: Watchdog { child, stdin },
        })
    }

    /// A process group was started.
    pub fn started(&mut self, group: i32) {
        self.live.insert(group);
        self.tell_watchdog("watch", group);
    }

    /// Asks a process group to stop (SIGTERM).
    pub fn terminate(&self, group: i32) {
        signal_group(group, libc::SIGTERM);
    }

    /// Stops a process group at once (SIGKILL); it is forgotten, since
    /// nothing in it survives, and its id may go to another group.
    pub fn kill(&mut self, group: i32) {
        signal_group(group, libc::SIGKILL);
        if self.live.remove(&group) {
            self.tell_watchdog("forget", group);
        }
    }

    /// Kills every group not killed yet: what a process left running when
    /// it exited during the grace period of a signal, or everything after
    /// an error.
    pub fn kill_all(&mut self) {
        for group in std::mem::take(&mut self.live) {
            signal_group(group, libc::SIGKILL);
            self.tell_watchdog("forget", group);
        }
    }

    fn tell_watchdog(&mut self, op: &str, group: i32) {
        // A watchdog someone killed cannot be told; the run goes on.
        let _ = writeln!(self.watchdog.stdin, "{op} {group}");
    }
}

impl Drop for ProcessGroups {
    fn drop(&mut self) {
        self.kill_all();
        // Every group is dead: the watchdog has nothing left to do.
        let _ = self.watchdog.child.kill();
        let _ = self.watchdog.child.wait();
    }
}

/// Has the process started by `command` get SIGKILL when testr's thread
/// that started it ends, on Linux (the parent-death signal): a shell
/// `exec`s a simple command, which keeps it. Elsewhere this does nothing,
/// and the watchdog alone ends what testr leaves.
#[cfg(target_os = "linux")]
pub fn die_with_parent(command: &mut tokio::process::Command) {
    let parent = std::process::id() as libc::pid_t;
    // SAFETY: the closure runs between fork and exec, and calls only
    // prctl and getppid, which are async-signal-safe, and allocates nothing.
    unsafe {
        command.pre_exec(move || {
            if libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGKILL) == -1 {
                return Err(std::io::Error::last_os_error());
            }
            // testr died before the signal was set: it would never come.
            if libc::getppid() != parent {
                return Err(std::io::Error::from_raw_os_error(libc::ESRCH));
            }
            Ok(())
        });
    }
}

#[cfg(not(target_os = "linux"))]
pub fn die_with_parent(_command: &mut tokio::process::Command) {}

/// Starts the process at `nice` 10 above testr's (at most 19), so that the
/// CPU goes to the run's other processes first.
pub fn lower_priority(command: &mut tokio::process::Command) {
    // SAFETY: the closure runs between fork and exec, and makes one system
    // call through nice, which allocates nothing and takes no lock.
    unsafe {
        command.pre_exec(|| {
            // Best effort: a process that keeps its priority only runs
            // sooner than it needs to.
            libc::nice(10);
            Ok(())
        });
    }
}

fn signal_group(pid: i32, signal: libc::c_int) {
    // SAFETY: killpg has no memory effects; a group that is gone gives
    // ESRCH, which is what we want to ignore.
    unsafe {
        libc::killpg(pid, signal);
    }
}

/// An exit status in words: "exited with status 3", "was killed by signal 9 (SIGKILL)".
pub fn describe(status: ExitStatus) -> String {
    use std::os::unix::process::ExitStatusExt;
    if let Some(code) = status.code() {
        // A shell whose command was killed by signal N exits with 128 + N.
        return match code.checked_sub(128).map(signal_name) {
            Some(name) if !name.is_empty() => {
                format!(
                    "exited with status {code}: killed by signal {}{name}",
                    code - 128
                )
            }
            _ => format!("exited with status {code}"),
        };
    }
    match status.signal() {
        Some(signal) => format!("was killed by signal {signal}{}", signal_name(signal)),
        None => "ended".to_owned(),
    }
}

fn signal_name(signal: i32) -> &'static str {
    match signal {
        libc::SIGKILL => " (SIGKILL)",
        libc::SIGSEGV => " (SIGSEGV)",
        libc::SIGTERM => " (SIGTERM)",
        libc::SIGABRT => " (SIGABRT)",
        libc::SIGBUS => " (SIGBUS)",
        libc::SIGINT => " (SIGINT)",
        libc::SIGHUP => " (SIGHUP)",
        libc::SIGFPE => " (SIGFPE)",
        libc::SIGILL => " (SIGILL)",
        _ => "",
    }
}

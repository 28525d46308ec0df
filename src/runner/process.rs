//! Child processes: started through `/bin/sh -c` in their own process group,
//! with a task per pipe and one waiting for the exit, each reporting to the
//! dispatcher as an [`Envelope`].

use std::path::Path;
use std::process::{ExitStatus, Stdio};

use tokio::io::{AsyncRead, AsyncReadExt, AsyncWriteExt};
use tokio::process::Command;
use tokio::sync::mpsc::{UnboundedReceiver, UnboundedSender, unbounded_channel};

pub use super::unix::{ProcessGroups, describe};

/// Which process an envelope comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct ProcessId(pub u64);

/// What a process did.
#[derive(Debug)]
pub enum Output {
    Stdout(Vec<u8>),
    StdoutClosed,
    Stderr(Vec<u8>),
    StderrClosed,
    Exited(ExitStatus),
}

#[derive(Debug)]
pub struct Envelope {
    pub process: ProcessId,
    pub output: Output,
}

/// A started process.
#[derive(Debug)]
pub struct Child {
    /// The process (and process group) id.
    pub pid: i32,
    /// Lines for its stdin; dropping it closes stdin. None when the process
    /// reads no stdin.
    pub stdin: Option<UnboundedSender<Vec<u8>>>,
}

/// How a process is started.
pub struct Launch<'a> {
    pub command: &'a str,
    pub dir: &'a Path,
    pub env: &'a [(&'a str, String)],
    /// Whether it reads test ids from stdin (a worker) or nothing.
    pub stdin: bool,
    pub priority: Priority,
}

/// How much of the CPU a process gets when the run's processes want more
/// than there is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Priority {
    /// As testr's own.
    Normal,
    /// Less (`nice` 10): work off the run's critical path, done with what
    /// the others leave idle.
    Background,
}

const READ_SIZE: usize = 64 * 1024;

/// Starts `launch.command`; everything it does arrives on `to`.
pub fn spawn(
    id: ProcessId,
    launch: &Launch<'_>,
    to: &UnboundedSender<Envelope>,
) -> std::io::Result<Child> {
    let mut command = Command::new("/bin/sh");
    command
        .arg("-c")
        .arg(launch.command)
        .current_dir(launch.dir)
        .stdin(if launch.stdin {
            Stdio::piped()
        } else {
            Stdio::null()
        })
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        // Its own group: Ctrl-C at the terminal reaches testr alone, and
        // testr can signal the worker with everything it started.
        .process_group(0);
    // On Linux it dies with testr (through the shell it runs in, if the
    // shell `exec`s it); the watchdog of [`ProcessGroups`] kills its group.
    super::unix::die_with_parent(&mut command);
    if launch.priority == Priority::Background {
        super::unix::lower_priority(&mut command);
    }
    for (key, value) in launch.env {
        command.env(key, value);
    }
    let mut child = command.spawn()?;
    let pid = child.id().expect("a child that was just spawned has a pid") as i32;
    let stdout = child.stdout.take().expect("stdout is piped");
    let stderr = child.stderr.take().expect("stderr is piped");
    tokio::spawn(forward(
        stdout,
        id,
        to.clone(),
        Output::Stdout,
        Output::StdoutClosed,
    ));
    tokio::spawn(forward(
        stderr,
        id,
        to.clone(),
        Output::Stderr,
        Output::StderrClosed,
    ));
    let stdin = child.stdin.take().map(|mut pipe| {
        let (lines, mut next): (_, UnboundedReceiver<Vec<u8>>) = unbounded_channel();
        tokio::spawn(async move {
            while let Some(line) = next.recv().await {
                // A worker that is gone is reported by its exit, not here.
                if pipe.write_all(&line).await.is_err() {
                    break;
                }
            }
        });
        lines
    });
    let exits = to.clone();
    tokio::spawn(async move {
        if let Ok(status) = child.wait().await {
            let _ = exits.send(Envelope {
                process: id,
                output: Output::Exited(status),
            });
        }
    });
    Ok(Child { pid, stdin })
}

async fn forward(
    mut pipe: impl AsyncRead + Unpin,
    id: ProcessId,
    to: UnboundedSender<Envelope>,
    data: fn(Vec<u8>) -> Output,
    closed: Output,
) {
    let mut buffer = vec![0; READ_SIZE];
    loop {
        match pipe.read(&mut buffer).await {
            Ok(0) | Err(_) => break,
            Ok(n) => {
                let sent = to.send(Envelope {
                    process: id,
                    output: data(buffer[..n].to_vec()),
                });
                if sent.is_err() {
                    return;
                }
            }
        }
    }
    let _ = to.send(Envelope {
        process: id,
        output: closed,
    });
}

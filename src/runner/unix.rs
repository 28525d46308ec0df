//! Unix signals: stopping a worker's process group, and exit statuses in words.

use std::process::ExitStatus;

/// Asks a process group to stop (SIGTERM).
pub fn terminate(pid: i32) {
    signal_group(pid, libc::SIGTERM);
}

/// Stops a process group at once (SIGKILL).
pub fn kill(pid: i32) {
    signal_group(pid, libc::SIGKILL);
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
        libc::SIGFPE => " (SIGFPE)",
        libc::SIGILL => " (SIGILL)",
        _ => "",
    }
}

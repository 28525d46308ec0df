//! How a run ends when it is stopped from outside: SIGTERM and SIGHUP as
//! Ctrl-C, `kill -9` of testr, a worker that never lists, and more workers
//! asked for than there are tests. Whatever happens, no process testr
//! started outlives it: each test marks testr's environment (which every
//! worker inherits) and looks for live processes holding the mark.

use std::io::{BufRead, BufReader, Read};
use std::path::Path;
use std::process::Child;
use std::sync::mpsc;
use std::time::{Duration, Instant};

use serde_json::json;

use crate::harness::{Project, fake_worker};

/// The variable that marks the processes of one test's run.
const MARK: &str = "TESTR_LIFECYCLE_TEST";

/// How long a test waits for something that should come at once before
/// it fails instead of hanging.
const PATIENCE: Duration = Duration::from_secs(60);

/// A project whose fake workers list `ids`, started by the shell command
/// `template` with `{worker}` in it.
fn project(ids: &[&str], template: &str) -> Project {
    let worker = format!(
        "python3 {} --worker {}",
        fake_worker().display(),
        ids.join(" ")
    );
    Project::with_config(format!(
        "[DEFAULT]\nworker_command={}\n",
        template.replace("{worker}", &worker)
    ))
}

/// A line testr wrote, on the stream it wrote it to.
enum Line {
    Out(String),
    Err(String),
}

/// A `testr run` being watched line by line.
pub(crate) struct Running {
    child: Child,
    lines: mpsc::Receiver<Line>,
    readers: Vec<std::thread::JoinHandle<()>>,
    /// Every line so far, with whether it came on stdout.
    seen: Vec<(bool, String)>,
}

impl Running {
    pub(crate) fn start(project: &Project, args: &[&str]) -> Running {
        let mut child = project
            .testr(args)
            .command_env(MARK, project.path())
            .spawn();
        let (sender, lines) = mpsc::channel();
        let out = child.stdout.take().unwrap();
        let err = child.stderr.take().unwrap();
        let readers = vec![
            forward(out, sender.clone(), Line::Out),
            forward(err, sender, Line::Err),
        ];
        Running {
            child,
            lines,
            readers,
            seen: Vec::new(),
        }
    }

    /// Waits until `count` lines of stdout (`on_stdout`) or stderr, counted
    /// from the start, hold `wanted`.
    pub(crate) fn wait_for(&mut self, on_stdout: bool, wanted: &str, count: usize) {
        let deadline = Instant::now() + PATIENCE;
        let matches =
            |(is_stdout, text): &(bool, String)| *is_stdout == on_stdout && text.contains(wanted);
        let mut found = self.seen.iter().filter(|line| matches(line)).count();
        while found < count {
            let left = deadline.saturating_duration_since(Instant::now());
            let line = match self.lines.recv_timeout(left) {
                Ok(line) => line,
                Err(_) => panic!(
                    "no {count} line(s) with {wanted:?}; testr wrote:\n{}",
                    self.text()
                ),
            };
            let (is_stdout, text) = match line {
                Line::Out(text) => (true, text),
                Line::Err(text) => (false, text),
            };
            let line = (is_stdout, text);
            found += usize::from(matches(&line));
            self.seen.push(line);
        }
    }

    pub(crate) fn signal(&self, name: &str) {
        let status = std::process::Command::new("kill")
            .args([&format!("-{name}"), &self.child.id().to_string()])
            .status()
            .unwrap();
        assert!(status.success());
    }

    /// Waits for testr to end; gives its exit status and everything it wrote.
    pub(crate) fn finish(mut self) -> (std::process::ExitStatus, String) {
        let status = self.child.wait().unwrap();
        for reader in self.readers.drain(..) {
            reader.join().unwrap();
        }
        let rest: Vec<Line> = self.lines.try_iter().collect();
        for line in rest {
            self.seen.push(match line {
                Line::Out(text) => (true, text),
                Line::Err(text) => (false, text),
            });
        }
        (status, self.text())
    }

    fn text(&self) -> String {
        let lines: Vec<&str> = self.seen.iter().map(|(_, text)| text.as_str()).collect();
        lines.join("\n")
    }
}

/// A test that fails mid-way leaves nothing running: testr is killed, and
/// its watchdog ends the workers.
impl Drop for Running {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn forward(
    pipe: impl Read + Send + 'static,
    to: mpsc::Sender<Line>,
    wrap: fn(String) -> Line,
) -> std::thread::JoinHandle<()> {
    std::thread::spawn(move || {
        for line in BufReader::new(pipe).lines() {
            let Ok(line) = line else { return };
            if to.send(wrap(line)).is_err() {
                return;
            }
        }
    })
}

/// The live processes (zombies aside) whose environment holds the mark of
/// `project`, with their command lines.
fn marked_processes(project: &Path) -> Vec<(u32, String)> {
    let mark = format!("{MARK}={}\0", project.display());
    let mut found = Vec::new();
    for entry in std::fs::read_dir("/proc").unwrap().flatten() {
        let Some(pid) = entry
            .file_name()
            .to_str()
            .and_then(|n| n.parse::<u32>().ok())
        else {
            continue;
        };
        let Ok(environ) = std::fs::read(entry.path().join("environ")) else {
            continue;
        };
        if !environ
            .windows(mark.len())
            .any(|window| window == mark.as_bytes())
        {
            continue;
        }
        let stat = std::fs::read_to_string(entry.path().join("stat")).unwrap_or_default();
        // The state follows the parenthesised command name.
        let state = stat.rsplit(')').next().unwrap_or("").trim_start();
        if state.starts_with('Z') || state.starts_with('X') || stat.is_empty() {
            continue;
        }
        let cmdline = std::fs::read(entry.path().join("cmdline")).unwrap_or_default();
        found.push((pid, String::from_utf8_lossy(&cmdline).replace('\0', " ")));
    }
    found
}

/// Waits until no process of `project`'s run is alive. Killed processes
/// take a moment to die, and the watchdog that kills what testr left
/// notices testr's death only when the kernel closes its pipe: there is no
/// event to wait on from here, so this looks again until a deadline.
fn assert_nothing_left(project: &Path) {
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let left = marked_processes(project);
        if left.is_empty() {
            return;
        }
        assert!(
            Instant::now() < deadline,
            "processes outlived testr: {left:?}"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
}

#[test]
fn sigterm_and_sighup_store_what_finished_as_ctrl_c_does() {
    for (signal, status) in [("TERM", 143), ("HUP", 129)] {
        let project = project(&["fake.fail_1", "fake.hang_a", "fake.hang_b"], "{worker}");
        let mut run = Running::start(&project, &["run", "--concurrency", "3"]);
        run.wait_for(true, "fake.fail_1", 1);
        run.wait_for(false, "fake worker: hanging in", 2);
        assert!(marked_processes(project.path()).len() >= 2);
        run.signal(signal);
        let (exit, output) = run.finish();
        assert_eq!(exit.code(), Some(status), "SIG{signal}:\n{output}");
        assert!(
            output.contains(&format!("interrupted by SIG{signal}: stored the tests")),
            "{output}"
        );
        let last = project.json(["last", "--json"]);
        assert_eq!(last["run"]["interrupted"], json!(true));
        assert_eq!(last["run"]["partial"], json!(true));
        assert_eq!(
            project.statuses(),
            [("fake.fail_1".to_owned(), "fail".to_owned())]
        );
        assert_nothing_left(project.path());
    }
}

#[test]
fn a_second_signal_of_another_kind_kills_at_once() {
    let project = project(&["fake.pass_1", "fake.hangterm_x"], "{worker}");
    let mut run = Running::start(&project, &["run", "--concurrency", "1"]);
    run.wait_for(false, "fake worker: hanging in", 1);
    run.signal("TERM");
    run.wait_for(false, "fake worker: ignoring SIGTERM", 1);
    run.signal("HUP");
    run.wait_for(false, "interrupted again: killing the tests", 1);
    let (exit, output) = run.finish();
    // The first signal is the one that stopped the run.
    assert_eq!(exit.code(), Some(143), "{output}");
    assert_eq!(
        project.statuses(),
        [("fake.pass_1".to_owned(), "success".to_owned())]
    );
    assert_nothing_left(project.path());
}

#[test]
fn kill_9_of_testr_leaves_no_worker_alive() {
    // The shell `exec`s a simple command; it must fork one with a command
    // after it, and the worker is then its child.
    for template in ["{worker}", "{worker}; exit $?"] {
        let project = project(&["fake.pass_1", "fake.hang_a", "fake.hang_b"], template);
        let mut run = Running::start(&project, &["run", "--concurrency", "3"]);
        run.wait_for(false, "fake worker: hanging in", 2);
        let before = marked_processes(project.path());
        assert!(
            before.iter().filter(|(_, c)| c.contains("hang_a")).count() >= 2,
            "{before:?}"
        );
        run.signal("KILL");
        let (exit, output) = run.finish();
        assert_eq!(exit.code(), None, "{output}");
        assert_nothing_left(project.path());
    }
}

#[test]
fn a_worker_that_never_lists_fails_the_run_within_the_list_timeout() {
    let project = Project::with_config("[DEFAULT]\nworker_command=sleep 300\n");
    let started = Instant::now();
    project
        .testr(["run", "--list-timeout", "1"])
        .command_env(MARK, project.path())
        .run()
        .status(3)
        .error_line(&["`sleep 300`", "after 1 s", "--list-timeout"]);
    assert!(started.elapsed() < Duration::from_secs(60));
    assert_nothing_left(project.path());
    project
        .testr(["last"])
        .run()
        .status(3)
        .error_line(&["no tests in repository"]);
    // The key does the same, and both are bounded as `timeout` is.
    project.write(
        ".testr.conf",
        "[DEFAULT]\nworker_command=sleep 300\nlist_timeout=0.5\n",
    );
    project
        .testr(["run"])
        .command_env(MARK, project.path())
        .run()
        .status(3)
        .error_line(&["`sleep 300`", "after 0.5 s"]);
    assert_nothing_left(project.path());
    for bad in ["0", "1e30", "18446744073709551615", "soon"] {
        project
            .testr(["run", "--list-timeout", bad])
            .run()
            .status(3)
            .one_line_error(&[&format!("bad --list-timeout `{bad}`")]);
    }
    project.write(
        ".testr.conf",
        "[DEFAULT]\nworker_command=sleep 300\nlist_timeout=1e19\n",
    );
    project
        .testr(["run"])
        .run()
        .status(3)
        .one_line_error(&["bad list_timeout `1e19` in [DEFAULT]"]);
}

#[test]
fn workers_are_capped_at_the_tests_to_run() {
    let ids = ["fake.pass_1", "fake.pass_2", "fake.pass_3"];
    let project = project(&ids, "echo $$ >> started; exec {worker}");
    // The first run has no history: before the listing, no more workers
    // start than twice the CPUs (at least 4). The second knows three tests.
    let cpus = std::thread::available_parallelism().map_or(1, |n| n.get());
    for (run, most) in [(1, (2 * cpus).max(4)), (2, 3)] {
        std::fs::write(project.path().join("started"), "").unwrap();
        project.testr(["run", "-j", "300"]).run().success();
        let started = std::fs::read_to_string(project.path().join("started")).unwrap();
        let workers = started.lines().count();
        assert!(
            (1..=most).contains(&workers),
            "run {run}: {workers} workers started"
        );
        assert_eq!(project.statuses().len(), 3);
    }
}

#[test]
fn a_listing_marker_that_does_not_count_the_tests_listed_is_refused() {
    for (marker, shown) in [
        ("7", "`7`"),
        ("99999999999999999999999", "`9999"),
        ("x", "`x`"),
    ] {
        let mut listing = Vec::new();
        for id in ["a.one", "a.two"] {
            let exists = testr::subunit::Packet {
                test_id: Some(id.to_owned()),
                status: Some(testr::model::Status::Exists),
                ..Default::default()
            };
            testr::subunit::encode_packet(&exists, &mut listing).unwrap();
        }
        let template = testr::subunit::Packet {
            mime_type: Some("text/plain;charset=utf8".to_owned()),
            ..Default::default()
        };
        testr::subunit::encode_file(
            &template,
            testr::runner::LISTING_DONE,
            marker.as_bytes(),
            &mut listing,
        )
        .unwrap();
        let project =
            Project::with_config("[DEFAULT]\nworker_command=cat listing; cat >/dev/null\n");
        project.write("listing", &listing);
        project
            .testr(["run"])
            .command_env(MARK, project.path())
            .run()
            .status(3)
            .error_line(&["`cat listing; cat >/dev/null`", shown, "listed 2 test(s)"]);
        assert_nothing_left(project.path());
    }
}

//! The harness: a temporary project directory, a builder for testr
//! invocations, and a builder for subunit v2 streams.

use std::collections::BTreeMap;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

use testr::model::Status;
use testr::subunit::{Item, Items, Packet, Timestamp, encode_file, encode_packet};

/// The path of the binary under test.
pub fn testr_bin() -> &'static str {
    env!("CARGO_BIN_EXE_testr")
}

/// The scriptable fake worker of the runner tests (tests/fixtures/fake_worker.py).
pub fn fake_worker() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/fake_worker.py")
}

/// A project whose workers are fake workers listing `ids`; `more` is added
/// to `[DEFAULT]`.
pub fn fake_project(ids: &[&str], more: &str) -> Project {
    Project::with_config(format!(
        "[DEFAULT]\nworker_command=python3 {} --worker {}\n{more}",
        fake_worker().display(),
        ids.join(" ")
    ))
}

/// The id and status of each test of a `last --json` document, in stream
/// order.
pub fn tests_of(last: &serde_json::Value) -> Vec<(String, String)> {
    last["tests"]
        .as_array()
        .expect("last --json has tests")
        .iter()
        .map(|t| {
            (
                t["id"].as_str().unwrap().to_owned(),
                t["status"].as_str().unwrap().to_owned(),
            )
        })
        .collect()
}

/// `(id, status)` pairs as `Project::statuses` gives them.
pub fn statuses_of(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
    pairs
        .iter()
        .map(|(id, status)| (id.to_string(), status.to_string()))
        .collect()
}

/// A temporary project directory, removed when dropped.
pub struct Project {
    dir: tempfile::TempDir,
}

impl Project {
    /// An empty project without a repository.
    pub fn empty() -> Project {
        Project {
            dir: tempfile::tempdir().expect("a temporary directory"),
        }
    }

    /// A project with a repository (`testr init` has run).
    pub fn new() -> Project {
        let project = Project::empty();
        project.testr(["init"]).run().success();
        project
    }

    /// A copy of the fixture project `tests/fixtures/NAME`, without a
    /// repository.
    pub fn fixture(name: &str) -> Project {
        let project = Project::empty();
        let source = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
            .join("tests/fixtures")
            .join(name);
        copy_dir(&source, project.path());
        project
    }

    /// A project with a repository and this `.testr.conf`.
    pub fn with_config(conf: impl AsRef<[u8]>) -> Project {
        let project = Project::new();
        project.write(".testr.conf", conf);
        project
    }

    pub fn path(&self) -> &Path {
        self.dir.path()
    }

    pub fn write(&self, name: &str, content: impl AsRef<[u8]>) -> PathBuf {
        let path = self.path().join(name);
        std::fs::write(&path, content).expect("a writable temporary directory");
        path
    }

    /// A testr invocation in this project (`-d PROJECT ARGS...`).
    pub fn testr<I, S>(&self, args: I) -> Invocation
    where
        I: IntoIterator<Item = S>,
        S: AsRef<std::ffi::OsStr>,
    {
        let mut command = Command::new(testr_bin());
        command.arg("-d").arg(self.path()).args(args);
        Invocation {
            command,
            stdin: Vec::new(),
        }
    }

    /// The (start, stop) of every test of the latest run, in nanoseconds,
    /// from the timestamps its workers sent.
    pub fn spans(&self) -> BTreeMap<String, (i64, i64)> {
        let last = self.testr(["last", "--subunit"]).run();
        let mut starts = BTreeMap::new();
        let mut spans = BTreeMap::new();
        for item in Items::new(last.output.stdout.as_slice()) {
            let Item::Packet(packet) = item.unwrap() else {
                continue;
            };
            let (Some(id), Some(status), Some(at)) =
                (packet.test_id, packet.status, packet.timestamp)
            else {
                continue;
            };
            if status == Status::InProgress {
                starts.insert(id, at.as_nanos());
            } else if status.is_final() {
                spans.insert(id.clone(), (starts[&id], at.as_nanos()));
            }
        }
        spans
    }

    /// Every test of the latest run as stored: its final status, its tags
    /// but the `worker-N` one (which depends on the scheduling), and its
    /// attachments by name, from `last --subunit`.
    pub fn results(&self) -> BTreeMap<String, StoredTest> {
        let last = self.testr(["last", "--subunit"]).run();
        let mut results: BTreeMap<String, StoredTest> = BTreeMap::new();
        for item in Items::new(last.output.stdout.as_slice()) {
            let Item::Packet(packet) = item.unwrap() else {
                continue;
            };
            let Some(id) = packet.test_id else { continue };
            let test = results.entry(id).or_default();
            if let Some(file) = packet.file {
                let content = test.attachments.entry(file.name).or_default();
                content.push_str(&String::from_utf8_lossy(&file.content));
            }
            if let Some(status) = packet.status.filter(|s| s.is_final()) {
                test.status = Some(status);
                test.tags = packet
                    .tags
                    .unwrap_or_default()
                    .into_iter()
                    .filter(|t| !t.starts_with("worker-"))
                    .collect();
            }
        }
        results
    }

    /// The `worker-N` tag of every test of the latest run.
    pub fn workers(&self) -> BTreeMap<String, String> {
        let last = self.testr(["last", "--subunit"]).run();
        let mut workers = BTreeMap::new();
        for item in Items::new(last.output.stdout.as_slice()) {
            let Item::Packet(packet) = item.unwrap() else {
                continue;
            };
            let (Some(id), Some(tags)) = (packet.test_id, packet.tags) else {
                continue;
            };
            if let Some(worker) = tags.into_iter().find(|t| t.starts_with("worker-")) {
                workers.insert(id, worker);
            }
        }
        workers
    }

    /// What `testr ARGS` prints as JSON (it must succeed).
    pub fn json<I, S>(&self, args: I) -> serde_json::Value
    where
        I: IntoIterator<Item = S>,
        S: AsRef<std::ffi::OsStr>,
    {
        let finished = self.testr(args).run();
        serde_json::from_str(&finished.stdout())
            .unwrap_or_else(|e| panic!("not JSON ({e}):\n{}", finished.stdout()))
    }

    /// The id and status of each test of the latest run, sorted.
    pub fn statuses(&self) -> Vec<(String, String)> {
        let mut statuses = tests_of(&self.json(["last", "--json"]));
        statuses.sort();
        statuses
    }

    /// Loads a stream and checks the exit status.
    pub fn load(&self, stream: &[u8], expected_status: i32) -> Finished {
        self.testr(["load"])
            .stdin(stream)
            .run()
            .status(expected_status)
    }

    /// Snapshot settings that redact what changes from one test run to the
    /// next in this project's output: its temporary path, the source tree's
    /// path, the hash in the worker cache's name, and with
    /// [`Durations::Redacted`] every duration. Bind them around
    /// `insta::assert_snapshot!` (`let _r = p.redactions(..).bind_to_scope();`).
    pub fn redactions(&self, durations: Durations) -> insta::Settings {
        let mut settings = insta::Settings::clone_current();
        settings.set_snapshot_path("snapshots");
        settings.set_prepend_module_to_snapshot(false);
        settings.add_filter(&regex::escape(env!("CARGO_MANIFEST_DIR")), "[SOURCE]");
        settings.add_filter(&regex::escape(&self.path().to_string_lossy()), "[PROJECT]");
        settings.add_filter(r"python-worker-[0-9a-f]+", "python-worker-[HASH]");
        if durations == Durations::Redacted {
            settings.add_filter(r"[+-]?\b\d+\.\d+s\b", "[DURATION]");
        }
        settings
    }
}

/// Whether a snapshot keeps the durations in an output: exact for streams
/// with fixed timestamps (`load`), redacted for tests that really ran.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Durations {
    Exact,
    Redacted,
}

fn copy_dir(from: &Path, to: &Path) {
    for entry in std::fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        let target = to.join(entry.file_name());
        if entry.file_type().unwrap().is_dir() {
            if entry.file_name() != "__pycache__" {
                std::fs::create_dir_all(&target).unwrap();
                copy_dir(&entry.path(), &target);
            }
        } else {
            std::fs::copy(entry.path(), target).unwrap();
        }
    }
}

/// One test of a stored run, as [`Project::results`] reads it.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct StoredTest {
    pub status: Option<Status>,
    pub tags: Vec<String>,
    pub attachments: BTreeMap<String, String>,
}

pub struct Invocation {
    command: Command,
    stdin: Vec<u8>,
}

impl Invocation {
    pub fn arg(mut self, arg: impl AsRef<std::ffi::OsStr>) -> Invocation {
        self.command.arg(arg);
        self
    }

    /// Sets a variable in testr's environment (and so its workers').
    pub fn command_env(mut self, key: &str, value: impl AsRef<std::ffi::OsStr>) -> Invocation {
        self.command.env(key, value);
        self
    }

    /// Removes a variable from testr's environment (and so its workers').
    pub fn command_env_remove(mut self, key: &str) -> Invocation {
        self.command.env_remove(key);
        self
    }

    pub fn stdin(mut self, bytes: &[u8]) -> Invocation {
        self.stdin = bytes.to_vec();
        self
    }

    /// Starts testr without waiting for it; stdin is empty.
    pub fn spawn(mut self) -> std::process::Child {
        self.command
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("testr starts")
    }

    pub fn run(mut self) -> Finished {
        let mut child = self
            .command
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("testr starts");
        let mut stdin = child.stdin.take().expect("piped stdin");
        let bytes = std::mem::take(&mut self.stdin);
        let feeder = std::thread::spawn(move || {
            // testr may stop reading early on bad input; that is not our concern here.
            let _ = stdin.write_all(&bytes);
        });
        let output = child.wait_with_output().expect("testr runs");
        feeder.join().expect("the stdin feeder does not panic");
        Finished { output }
    }
}

/// A finished invocation, with assertions that print everything on failure.
pub struct Finished {
    pub output: Output,
}

impl Finished {
    pub fn stdout(&self) -> String {
        String::from_utf8_lossy(&self.output.stdout).into_owned()
    }

    pub fn stderr(&self) -> String {
        String::from_utf8_lossy(&self.output.stderr).into_owned()
    }

    pub fn status(self, expected: i32) -> Finished {
        assert_eq!(
            self.output.status.code(),
            Some(expected),
            "exit status\n--- stdout:\n{}\n--- stderr:\n{}",
            self.stdout(),
            self.stderr()
        );
        self
    }

    /// Everything a person saw, for a snapshot: the exit status, then
    /// stdout and stderr whole.
    pub fn transcript(&self) -> String {
        let status = match self.output.status.code() {
            Some(code) => code.to_string(),
            None => format!("{:?}", self.output.status),
        };
        format!(
            "status: {status}\n--- stdout\n{}--- stderr\n{}",
            self.stdout(),
            self.stderr()
        )
    }

    pub fn success(self) -> Finished {
        self.status(0)
    }

    /// Checks that stdout holds every fragment.
    pub fn stdout_has(self, fragments: &[&str]) -> Finished {
        let stdout = self.stdout();
        for fragment in fragments {
            assert!(
                stdout.contains(fragment),
                "{fragment:?} not in stdout:\n{stdout}"
            );
        }
        self
    }

    /// Checks that testr's error is the last line of stderr (what a test
    /// process wrote comes before it) and holds every fragment.
    pub fn error_line(self, fragments: &[&str]) -> Finished {
        let stderr = self.stderr();
        let errors: Vec<&str> = stderr
            .lines()
            .filter(|l| l.starts_with("testr: error:"))
            .collect();
        assert_eq!(errors.len(), 1, "one error line, got:\n{stderr}");
        assert_eq!(stderr.lines().last(), Some(errors[0]), "{stderr}");
        for fragment in fragments {
            assert!(
                errors[0].contains(fragment),
                "{fragment:?} not in {stderr:?}"
            );
        }
        self
    }

    /// Checks that stderr is one line containing every fragment.
    pub fn one_line_error(self, fragments: &[&str]) -> Finished {
        let stderr = self.stderr();
        assert_eq!(
            stderr.lines().count(),
            1,
            "one line of error, got:\n{stderr}"
        );
        for fragment in fragments {
            assert!(stderr.contains(fragment), "{fragment:?} not in {stderr:?}");
        }
        self
    }
}

/// Builds subunit v2 streams with known contents.
#[derive(Default)]
pub struct Stream {
    bytes: Vec<u8>,
    clock: u32,
}

pub const TRACEBACK: &str =
    "Traceback (most recent call last):\n  File \"t.py\", line 1\nAssertionError: 1 != 2\n";

/// The epoch second test streams start at (2026-01-01).
pub const START: u32 = 1_767_225_600;

impl Stream {
    pub fn new() -> Stream {
        Stream {
            bytes: Vec::new(),
            clock: 0,
        }
    }

    fn at(&self, millis: u32) -> Timestamp {
        Timestamp {
            secs: START + millis / 1000,
            nanos: (millis % 1000) * 1_000_000,
        }
    }

    fn packet(&mut self, packet: &Packet) {
        encode_packet(packet, &mut self.bytes).expect("the packet encodes");
    }

    /// A test that starts now, runs `millis`, and ends with `status`; a
    /// failure carries a traceback.
    pub fn test_with_tags(
        mut self,
        id: &str,
        status: Status,
        millis: u32,
        tags: &[&str],
    ) -> Stream {
        let tags = (!tags.is_empty()).then(|| tags.iter().map(|t| t.to_string()).collect());
        let base = Packet {
            test_id: Some(id.to_owned()),
            tags,
            ..Packet::default()
        };
        self.packet(&Packet {
            status: Some(Status::InProgress),
            timestamp: Some(self.at(self.clock)),
            ..base.clone()
        });
        if status == Status::Fail {
            let file = Packet {
                mime_type: Some("text/x-traceback; charset=utf8".into()),
                ..base.clone()
            };
            encode_file(&file, "traceback", TRACEBACK.as_bytes(), &mut self.bytes)
                .expect("the attachment encodes");
        }
        self.clock += millis;
        self.packet(&Packet {
            status: Some(status),
            timestamp: Some(self.at(self.clock)),
            ..base
        });
        self
    }

    pub fn test(self, id: &str, status: Status, millis: u32) -> Stream {
        self.test_with_tags(id, status, millis, &[])
    }

    /// A test that starts and never finishes.
    pub fn unfinished(mut self, id: &str) -> Stream {
        self.packet(&Packet {
            test_id: Some(id.to_owned()),
            status: Some(Status::InProgress),
            timestamp: Some(self.at(self.clock)),
            ..Packet::default()
        });
        self
    }

    /// Bytes that are not subunit, as a test process printing.
    pub fn text(mut self, text: &str) -> Stream {
        self.bytes.extend_from_slice(text.as_bytes());
        self
    }

    pub fn bytes(self) -> Vec<u8> {
        self.bytes
    }
}

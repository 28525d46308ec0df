//! `testr run` stores its results as they finish: a testr killed with
//! `kill -9` leaves a run marked not finished with the tests stored before,
//! and the run never holds the write lock for long, so a `load` elsewhere
//! goes on meanwhile. `load` still stores a stream whole or not at all.

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, Command};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use serde_json::{Value, json};
use testr::model::Status;

use crate::harness::{Project, Stream, fake_project, tests_of};

/// How long a test waits for testr to store something before it fails.
const PATIENCE: Duration = Duration::from_secs(30);
/// How often it looks meanwhile.
const POLL: Duration = Duration::from_millis(50);

/// Checks `document` against `docs/schema/NAME.json`.
fn check_schema(name: &str, document: &Value) {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join(format!("docs/schema/{name}.json"));
    let schema: Value = serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
    let validator = jsonschema::validator_for(&schema).expect("the schema is valid");
    let errors: Vec<String> = validator
        .iter_errors(document)
        .map(|e| e.to_string())
        .collect();
    assert!(errors.is_empty(), "{name}: {errors:?}\n{document}");
}

/// Polls `last --json` until run `run` holds test `id`.
fn wait_until_stored(project: &Project, run: i64, id: &str) -> Value {
    let deadline = Instant::now() + PATIENCE;
    loop {
        let last = project.testr(["last", "--json"]).run();
        if let Ok(doc) = serde_json::from_str::<Value>(&last.stdout())
            && doc["run"]["id"] == json!(run)
            && tests_of(&doc).iter().any(|(stored, _)| stored == id)
        {
            return doc;
        }
        assert!(
            Instant::now() < deadline,
            "run {run} did not store {id} within {PATIENCE:?}:\n{}{}",
            last.stdout(),
            last.stderr()
        );
        std::thread::sleep(POLL);
    }
}

/// The processes `pid` started, from every thread of it.
fn children_of(pid: u32) -> Vec<i32> {
    let mut children = Vec::new();
    for task in std::fs::read_dir(format!("/proc/{pid}/task")).unwrap() {
        let path = task.unwrap().path().join("children");
        let listed = std::fs::read_to_string(path).unwrap_or_default();
        children.extend(listed.split_whitespace().map(|p| p.parse::<i32>().unwrap()));
    }
    children
}

/// Sends `signal` to a process, or to a process group when `target` is `-PGID`.
fn kill(signal: &str, target: &str) -> bool {
    Command::new("kill")
        .args([signal, "--", target])
        .stderr(std::process::Stdio::null())
        .status()
        .unwrap()
        .success()
}

/// The lines of the child's stderr, as they come.
fn stderr_lines(child: &mut Child) -> (mpsc::Receiver<String>, std::thread::JoinHandle<()>) {
    let stderr = child.stderr.take().unwrap();
    let (sender, lines) = mpsc::channel();
    let reader = std::thread::spawn(move || {
        for line in BufReader::new(stderr).lines() {
            if sender.send(line.unwrap()).is_err() {
                break;
            }
        }
    });
    (lines, reader)
}

fn wait_for_line(lines: &mpsc::Receiver<String>, wanted: &str) {
    for line in lines.iter() {
        if line.contains(wanted) {
            return;
        }
    }
    panic!("stderr ended without {wanted:?}");
}

#[test]
fn kill_9_of_testr_leaves_the_run_not_finished_with_what_had_finished() {
    let project = fake_project(&["fake.fail_1", "fake.sleep-60_a", "fake.sleep-60_b"], "");
    // An earlier run: a run that did not finish resets none of its failures.
    project.load(
        &Stream::new()
            .test("old.failure", Status::Fail, 5)
            .test("fake.sleep-60_a", Status::Fail, 5)
            .bytes(),
        1,
    );
    let mut child = project.testr(["run", "--concurrency", "3"]).spawn();
    let running = wait_until_stored(&project, 1, "fake.fail_1");
    assert_eq!(running["run"]["finished"], json!(false));
    let workers = children_of(child.id());
    child.kill().unwrap();
    child.wait().unwrap();
    for worker in workers {
        // Workers run in process groups of their own.
        kill("-KILL", &format!("-{worker}"));
    }

    let last = project.json(["last", "--json"]);
    check_schema("last", &last);
    assert_eq!(last["run"]["id"], json!(1));
    assert_eq!(last["run"]["finished"], json!(false));
    assert_eq!(last["run"]["partial"], json!(true));
    assert_eq!(last["run"]["failures"], json!(1));
    assert_eq!(tests_of(&last), [("fake.fail_1".into(), "fail".into())]);
    let text = project.testr(["last"]).run().status(1);
    assert!(
        text.stderr().contains("run 1 did not finish"),
        "{}",
        text.stderr()
    );
    assert!(
        text.stdout().contains("FAIL: fake.fail_1"),
        "{}",
        text.stdout()
    );
    // The failing set counts what was stored, as a partial run: the earlier
    // failures of tests that never finished stay.
    let failing = project.testr(["failing", "--list"]).run().status(1);
    assert_eq!(
        failing.stdout(),
        "fake.fail_1\nfake.sleep-60_a\nold.failure\n"
    );
    let slowest = project.json(["slowest", "--json"]);
    assert_eq!(slowest["run"], json!(1));
    let slow: Vec<&str> = slowest["tests"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["id"].as_str().unwrap())
        .collect();
    assert_eq!(slow, ["fake.fail_1"]);
    assert_eq!(project.testr(["stats"]).run().stdout(), "runs=2\n");
    // The next run goes on from there.
    let next = project.load(&Stream::new().test("after", Status::Success, 1).bytes(), 0);
    assert!(next.stdout().contains("PASSED (id=2)"), "{}", next.stdout());
}

#[test]
fn a_load_elsewhere_goes_on_while_a_run_is_in_progress() {
    let project = fake_project(&["fake.pass_1", "fake.hang_x"], "");
    let mut child = project.testr(["run", "--concurrency", "1"]).spawn();
    let (lines, reader) = stderr_lines(&mut child);
    wait_for_line(&lines, "fake worker: hanging in");
    // The run holds the write lock for a batch at a time, never while it
    // waits for a test: this load does not wait for the run to end.
    let loaded = project.load(
        &Stream::new().test("elsewhere", Status::Success, 1).bytes(),
        0,
    );
    assert!(
        loaded.stdout().contains("PASSED (id=1)"),
        "{}",
        loaded.stdout()
    );
    assert!(kill("-INT", &child.id().to_string()));
    wait_for_line(&lines, "stored the tests that finished as partial run 0");
    let status = child.wait().unwrap();
    drop(lines);
    reader.join().unwrap();
    assert_eq!(status.code(), Some(130));
    let last = project.json(["last", "--json"]);
    assert_eq!(tests_of(&last), [("elsewhere".into(), "success".into())]);
    assert_eq!(project.testr(["stats"]).run().stdout(), "runs=2\n");
}

#[test]
fn a_run_that_finishes_is_marked_finished() {
    let project = fake_project(&["fake.pass_1", "fake.fail_2"], "");
    project.testr(["run"]).run().status(1);
    let last = project.json(["last", "--json"]);
    assert_eq!(last["run"]["finished"], json!(true));
    assert_eq!(last["run"]["partial"], json!(false));
    let text = project.testr(["last"]).run().status(1);
    assert!(
        !text.stderr().contains("did not finish"),
        "{}",
        text.stderr()
    );
}

#[test]
fn a_load_that_breaks_in_a_later_stream_stores_nothing_of_the_earlier_ones() {
    let project = Project::new();
    let good = project.write(
        "good.subunit",
        Stream::new().test("first.failure", Status::Fail, 5).bytes(),
    );
    let corrupt = project.write("corrupt.subunit", b"\xb3\x29\x01\x0cnot subunit at all");
    project
        .testr(["load"])
        .arg(&good)
        .arg(&corrupt)
        .run()
        .status(3);
    assert_eq!(project.testr(["stats"]).run().stdout(), "runs=0\n");
    let failing = project.testr(["failing", "--list"]).run().success();
    assert_eq!(failing.stdout(), "");
}

//! Interoperability with python-subunit: streams it writes load whole, and
//! what `last --subunit` / `failing --subunit` write, its tools read back
//! with the same tests, statuses, tags, timestamps and attachments.
//!
//! These tests need a Python with python-subunit: `TESTR_TEST_PYTHON`, or
//! `python3`. `.ci/run` installs it into a venv.

use std::path::{Path, PathBuf};
use std::process::Command;

use crate::harness::Project;

fn python() -> String {
    std::env::var("TESTR_TEST_PYTHON").unwrap_or_else(|_| "python3".to_owned())
}

/// Runs a Python snippet; fails the test with a clear message when
/// python-subunit is missing.
fn run_python(script: &str, args: &[&Path]) -> Vec<u8> {
    let output = Command::new(python())
        .arg("-c")
        .arg(script)
        .args(args)
        .output()
        .unwrap_or_else(|e| panic!("failed to start {}: {e}", python()));
    assert!(
        output.status.success(),
        "python failed (set TESTR_TEST_PYTHON to a Python with python-subunit: \
         `pip install python-subunit`):\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
    output.stdout
}

fn shared_bench() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/bench")
}

/// Reads a v2 stream with python-subunit and prints, as sorted JSON, every
/// test with its status, tags (worker tags left out: testr adds them),
/// timestamps and attachments.
const DESCRIBE: &str = r#"
import json, sys
import subunit, testtools
from testtools import StreamToDict
tests = []
def on_test(t):
    tests.append({
        "id": t["id"], "status": t["status"],
        "tags": sorted(x for x in t["tags"] if not x.startswith("worker-")),
        "timestamps": [str(x) for x in t["timestamps"]],
        "details": {k: [str(v.content_type), b"".join(v.iter_bytes()).decode("latin-1")]
                    for k, v in t["details"].items()},
    })
with open(sys.argv[1], "rb") as f:
    case = subunit.ByteStreamToStreamResult(f, non_subunit_name="stdout")
    result = StreamToDict(on_test)
    result.startTestRun(); case.run(result); result.stopTestRun()
tests.sort(key=lambda t: (t["id"], t["timestamps"]))
print(json.dumps(tests, sort_keys=True))
"#;

fn describe(stream: &Path) -> serde_json::Value {
    let out = run_python(DESCRIBE, &[stream]);
    serde_json::from_slice(&out).expect("the describe script prints JSON")
}

/// A realistic stream from python-subunit, with stdout noise in it.
fn generated_stream(project: &Project, tests: usize) -> PathBuf {
    let path = project.path().join("generated.subunit");
    let status = Command::new(python())
        .arg(shared_bench().join("gen_stream.py"))
        .arg(&path)
        .args([
            "--tests",
            &tests.to_string(),
            "--fail-ratio",
            "0.2",
            "--skip-ratio",
            "0.1",
        ])
        .args(["--tags", "py311", "--stdout-noise", "--seed", "7"])
        .status()
        .expect("python runs gen_stream.py");
    assert!(status.success(), "gen_stream.py needs python-subunit");
    path
}

#[test]
fn last_subunit_round_trips_through_python_subunit() {
    let project = Project::new();
    let original = generated_stream(&project, 300);
    let loaded = project
        .testr(["load".as_ref(), original.as_os_str()])
        .run()
        .status(1);
    assert!(
        loaded.stdout().contains("Ran 300 tests"),
        "{}",
        loaded.stdout()
    );
    let replay = project.testr(["last", "--subunit"]).run().status(1);
    let replayed = project.write("replayed.subunit", &replay.output.stdout);
    let before = describe(&original);
    let after = describe(&replayed);
    assert_eq!(before.as_array().map(Vec::len), Some(300));
    assert_eq!(before, after);
}

#[test]
fn failing_subunit_holds_exactly_the_failures() {
    let project = Project::new();
    let original = generated_stream(&project, 200);
    project
        .testr(["load".as_ref(), original.as_os_str()])
        .run()
        .status(1);
    let out = project.testr(["failing", "--subunit"]).run().status(1);
    let failing = project.write("failing.subunit", &out.output.stdout);
    let described = describe(&failing);
    let tests = described.as_array().unwrap();
    assert!(!tests.is_empty());
    assert!(tests.iter().all(|t| t["status"] == "fail"), "{described}");
    let listed = project
        .testr(["failing", "--list"])
        .run()
        .status(1)
        .stdout();
    assert_eq!(listed.lines().count(), tests.len());
    assert!(tests.iter().all(|t| {
        t["details"]["traceback"][1]
            .as_str()
            .is_some_and(|tb| tb.contains("AssertionError"))
    }));
}

#[test]
fn python_subunit_tools_read_our_output() {
    let project = Project::new();
    let original = generated_stream(&project, 100);
    project
        .testr(["load".as_ref(), original.as_os_str()])
        .run()
        .status(1);
    let out = project.testr(["last", "--subunit"]).run().status(1);
    let replayed = project.write("replayed.subunit", &out.output.stdout);
    let script = r#"
import sys, io
from subunit import ByteStreamToStreamResult
from testtools import StreamToExtendedDecorator
from subunit import TestResultStats
with open(sys.argv[1], "rb") as f:
    stats = TestResultStats(io.StringIO())
    result = StreamToExtendedDecorator(stats)
    result.startTestRun()
    ByteStreamToStreamResult(f, non_subunit_name="stdout").run(result)
    result.stopTestRun()
print(stats.total_tests, stats.passed_tests, stats.failed_tests, stats.skipped_tests)
"#;
    let from_ours = String::from_utf8(run_python(script, &[&replayed])).unwrap();
    let from_original = String::from_utf8(run_python(script, &[&original])).unwrap();
    assert_eq!(from_ours, from_original);
    assert!(from_ours.starts_with("100 "), "{from_ours}");
}

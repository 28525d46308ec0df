//! `--junit FILE` on `load` and `last`, read back by a real JUnit consumer,
//! the `junitparser` Python package, which must agree with every count and
//! time; ids and output that XML cannot carry as they are; and a file that
//! cannot be written.
//!
//! These tests need junitparser in `$TESTR_TEST_PYTHON` (or `python3`):
//! `pip install junitparser`; `.ci/run` installs it.

use std::collections::BTreeMap;
use std::path::Path;
use std::process::Command;

use serde_json::{Value, json};
use testr::model::Status;
use testr::subunit::{Packet, Timestamp, encode_file, encode_packet};

use crate::harness::{Project, START, Stream};

fn python() -> String {
    std::env::var("TESTR_TEST_PYTHON").unwrap_or_else(|_| "python3".to_owned())
}

/// Reads a JUnit XML file with junitparser and prints what it found: the
/// attributes as written, the counts junitparser makes of the test cases
/// itself, and every test case with its results and output.
const READ: &str = r#"
import copy, json, sys
from junitparser import JUnitXml
xml = JUnitXml.fromfile(sys.argv[1])
def counts(e):
    return {k: e._elem.attrib.get(k) for k in ("tests", "failures", "errors", "skipped", "time")}
def counted(suite):
    suite = copy.deepcopy(suite)
    suite.update_statistics()
    return {k: getattr(suite, k) for k in ("tests", "failures", "errors", "skipped")}
doc = {"top": counts(xml), "suites": []}
for suite in xml:
    cases = []
    for case in suite:
        cases.append({
            "classname": case.classname, "name": case.name, "time": case.time,
            "results": [{"kind": type(r).__name__, "message": r.message, "type": r.type,
                         "text": r.text} for r in case.result],
            "out": case.system_out, "err": case.system_err,
        })
    doc["suites"].append({"name": suite.name, "written": counts(suite),
                          "counted": counted(suite), "cases": cases})
print(json.dumps(doc))
"#;

fn read_junit(path: &Path) -> Value {
    let output = Command::new(python())
        .args(["-c", READ])
        .arg(path)
        .output()
        .unwrap_or_else(|e| panic!("failed to start {}: {e}", python()));
    assert!(
        output.status.success(),
        "junitparser could not read {} (set TESTR_TEST_PYTHON to a Python with \
         junitparser: `pip install junitparser`):\n{}",
        path.display(),
        String::from_utf8_lossy(&output.stderr)
    );
    serde_json::from_slice(&output.stdout).expect("the reader prints JSON")
}

/// One test of the generated run, as the stream holds it.
struct Case {
    id: &'static str,
    status: Status,
    millis: u32,
    profile: &'static str,
}

const CASES: [Case; 8] = [
    Case {
        id: "pkg.tests.test_a.TestA.test_ok",
        status: Status::Success,
        millis: 250,
        profile: "py311",
    },
    Case {
        id: "pkg.tests.test_a.TestA.test_fail",
        status: Status::Fail,
        millis: 1_500,
        profile: "py311",
    },
    Case {
        id: "pkg.tests.test_a.TestA.test_skip",
        status: Status::Skip,
        millis: 1,
        profile: "py311",
    },
    Case {
        id: "tests/test_b.py::test_param[1.5]",
        status: Status::XFail,
        millis: 30,
        profile: "py312",
    },
    Case {
        id: "tests/test_b.py::TestB::test_ux",
        status: Status::UxSuccess,
        millis: 7,
        profile: "py312",
    },
    Case {
        id: "test_no_dots",
        status: Status::Success,
        millis: 0,
        profile: "py312",
    },
    Case {
        id: "pkg.tests.test_c.TestC.test_ok",
        status: Status::Success,
        millis: 2_000,
        profile: "",
    },
    Case {
        id: "pkg.tests.test_c.TestC.test_fail",
        status: Status::Fail,
        millis: 10,
        profile: "",
    },
];

fn stream() -> Vec<u8> {
    let mut stream = Stream::new();
    for case in &CASES {
        let tags: Vec<&str> = [case.profile]
            .into_iter()
            .filter(|p| !p.is_empty())
            .collect();
        stream = stream.test_with_tags(case.id, case.status, case.millis, &tags);
    }
    // A test whose worker died: it never finished.
    stream
        .unfinished("pkg.tests.test_c.TestC.test_hangs")
        .bytes()
}

fn seconds(text: &Value) -> f64 {
    text.as_str()
        .unwrap_or_else(|| panic!("a time attribute, got {text}"))
        .parse()
        .unwrap()
}

#[test]
fn junitparser_reads_every_count_and_time_of_a_loaded_run() {
    let project = Project::with_config("[DEFAULT]\nprofile_tags = py311 py312\n");
    let junit = project.path().join("out/junit.xml");
    std::fs::create_dir(project.path().join("out")).unwrap();
    project
        .testr(["load", "--junit"])
        .arg(&junit)
        .stdin(&stream())
        .run()
        .status(1);
    let doc = read_junit(&junit);

    // What the stream says, worked out here: the clock runs test after
    // test, each for its millis; the unfinished test starts at the end.
    let mut expected: BTreeMap<&str, (Value, Vec<Value>)> = BTreeMap::new();
    let mut clock = 0u32;
    let mut spans: BTreeMap<&str, (u32, u32)> = BTreeMap::new();
    for case in &CASES {
        let suite = if case.profile.is_empty() {
            "testr"
        } else {
            case.profile
        };
        let span = spans.entry(suite).or_insert((clock, clock));
        span.1 = clock + case.millis;
        clock += case.millis;
        let traceback = Some(
            "Traceback (most recent call last):\n  File \"t.py\", line 1\nAssertionError: 1 != 2\n",
        );
        let result = match case.status {
            Status::Success => None,
            Status::Fail => Some(
                json!({"kind": "Failure", "message": "AssertionError: 1 != 2",
                                        "type": "AssertionError", "text": traceback}),
            ),
            Status::Skip => {
                Some(json!({"kind": "Skipped", "message": null, "type": null, "text": null}))
            }
            Status::XFail => Some(json!({"kind": "Skipped", "message": "expected failure",
                                         "type": "xfail", "text": null})),
            Status::UxSuccess => Some(json!({"kind": "Failure", "message": "unexpected success",
                                             "type": "uxsuccess", "text": null})),
            other => panic!("no {other} in CASES"),
        };
        let (classname, name) = match case.id {
            "tests/test_b.py::test_param[1.5]" => ("tests.test_b", "test_param[1.5]"),
            "tests/test_b.py::TestB::test_ux" => ("tests.test_b.TestB", "test_ux"),
            "test_no_dots" => ("", "test_no_dots"),
            id => id.rsplit_once('.').unwrap(),
        };
        expected.entry(suite).or_default().1.push(json!({
            "classname": classname, "name": name, "time": f64::from(case.millis) / 1000.0,
            "results": result.into_iter().collect::<Vec<_>>(), "out": null, "err": null,
        }));
    }
    spans.get_mut("testr").unwrap().1 = clock;
    expected.get_mut("testr").unwrap().1.push(json!({
        "classname": "pkg.tests.test_c.TestC", "name": "test_hangs", "time": null,
        "results": [{"kind": "Error", "message": "the test did not finish",
                     "type": "inprogress", "text": null}],
        "out": null, "err": null,
    }));

    let suites = doc["suites"].as_array().unwrap();
    let names: Vec<&str> = suites.iter().map(|s| s["name"].as_str().unwrap()).collect();
    assert_eq!(
        names,
        ["testr", "py311", "py312"],
        "one suite per profile, unnamed first"
    );
    let mut total = [0u64; 4];
    for suite in suites {
        let name = suite["name"].as_str().unwrap();
        let cases = &expected[name].1;
        assert_eq!(suite["cases"].as_array().unwrap(), cases, "suite {name}");
        let kind = |k: &str| {
            cases
                .iter()
                .filter(|c| {
                    c["results"]
                        .as_array()
                        .unwrap()
                        .iter()
                        .any(|r| r["kind"] == k)
                })
                .count() as u64
        };
        let counts = [
            cases.len() as u64,
            kind("Failure"),
            kind("Error"),
            kind("Skipped"),
        ];
        for (i, key) in ["tests", "failures", "errors", "skipped"]
            .into_iter()
            .enumerate()
        {
            assert_eq!(suite["written"][key], counts[i].to_string(), "{name} {key}");
            assert_eq!(
                suite["counted"][key], counts[i],
                "junitparser counts {name} {key}"
            );
            total[i] += counts[i];
        }
        let (first, last) = spans[name];
        let time = seconds(&suite["written"]["time"]);
        assert!(
            (time - f64::from(last - first) / 1000.0).abs() < 1e-9,
            "{name} time {time}"
        );
    }
    for (i, key) in ["tests", "failures", "errors", "skipped"]
        .into_iter()
        .enumerate()
    {
        assert_eq!(doc["top"][key], total[i].to_string(), "top {key}");
    }
    assert!((seconds(&doc["top"]["time"]) - f64::from(clock) / 1000.0).abs() < 1e-9);

    // `last --junit` writes the same file from the stored run.
    let again = project.path().join("again.xml");
    project
        .testr(["last", "--junit"])
        .arg(&again)
        .run()
        .status(1);
    assert_eq!(
        std::fs::read(&again).unwrap(),
        std::fs::read(&junit).unwrap()
    );
    // With --profile, the suite of that profile alone.
    project
        .testr(["last", "--profile", "py312", "--junit"])
        .arg(&again)
        .run()
        .success();
    let doc = read_junit(&again);
    let names: Vec<&Value> = doc["suites"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| &s["name"])
        .collect();
    assert_eq!(names, ["py312"]);
}

/// A packet of a test with the given fields.
fn packet(id: &str, status: Option<Status>, millis: u32) -> Packet {
    Packet {
        test_id: Some(id.to_owned()),
        status,
        timestamp: Some(Timestamp {
            secs: START,
            nanos: millis * 1_000_000,
        }),
        ..Packet::default()
    }
}

#[test]
fn ids_and_output_that_xml_cannot_carry_come_through_escaped() {
    let odd_id = "pkg.T.test_<&\"'>\u{1b}[31m]]>ünï";
    let mut bytes = Vec::new();
    encode_packet(&packet(odd_id, Some(Status::InProgress), 0), &mut bytes).unwrap();
    let text = |name: &str, content: &[u8], bytes: &mut Vec<u8>| {
        let file = Packet {
            mime_type: Some("text/plain; charset=utf8".to_owned()),
            ..packet(odd_id, None, 1)
        };
        encode_file(&file, name, content, bytes).unwrap();
    };
    text("stdout", b"out <b>\r\n\x07bell nul\0 \xff\xfe", &mut bytes);
    text("stderr", b"err ]]> &amp;", &mut bytes);
    text(
        "traceback",
        b"Traceback (most recent call last):\nValueError: bad \"value\" \x1b[0m\n",
        &mut bytes,
    );
    encode_packet(&packet(odd_id, Some(Status::Fail), 5), &mut bytes).unwrap();
    let project = Project::new();
    let junit = project.path().join("junit.xml");
    project
        .testr(["load", "--junit"])
        .arg(&junit)
        .stdin(&bytes)
        .run()
        .status(1);
    let doc = read_junit(&junit);
    let case = &doc["suites"][0]["cases"][0];
    assert_eq!(case["classname"], "pkg.T");
    assert_eq!(case["name"], "test_<&\"'>\\u{1b}[31m]]>ünï");
    assert_eq!(case["out"], "out <b>\r\n\\u{7}bell nul\\0 \u{fffd}\u{fffd}");
    assert_eq!(case["err"], "err ]]> &amp;");
    assert_eq!(
        case["results"][0]["message"],
        "ValueError: bad \"value\" \\u{1b}[0m"
    );
    assert_eq!(case["results"][0]["type"], "ValueError");
    assert_eq!(case["time"], 0.005);
}

#[test]
fn a_junit_file_that_cannot_be_written_is_an_error_and_the_run_is_stored() {
    let project = Project::new();
    let unwritable = project.path().join("no/such/dir/junit.xml");
    let stream = Stream::new()
        .test("pkg.T.test_a", Status::Success, 10)
        .bytes();
    let loaded = project
        .testr(["load", "--junit"])
        .arg(&unwritable)
        .stdin(&stream)
        .run()
        .status(3)
        .one_line_error(&[&format!(
            "testr: error: failed to write JUnit XML to {}: No such file or directory",
            unwritable.display()
        )]);
    // The summary still came, and the run is stored.
    assert!(
        loaded.stdout().contains("PASSED (id=0)"),
        "{}",
        loaded.stdout()
    );
    assert_eq!(
        project.statuses(),
        [("pkg.T.test_a".to_owned(), "success".to_owned())]
    );
    project
        .testr(["last", "--junit"])
        .arg(project.path())
        .run()
        .status(3)
        .one_line_error(&[&format!(
            "failed to write JUnit XML to {}",
            project.path().display()
        )]);
}

#[test]
fn run_writes_the_run_it_stored_as_junit_too() {
    let project = crate::harness::fake_project(&["fake.pass_1", "fake.fail_2", "fake.skip_3"], "");
    let path = project.path().join("junit.xml");
    project.testr(["run", "--junit"]).arg(&path).run().status(1);
    let doc = read_junit(&path);
    assert_eq!(doc["suites"].as_array().unwrap().len(), 1);
    let suite = &doc["suites"][0];
    assert_eq!(suite["name"], json!("testr"));
    assert_eq!(
        suite["counted"],
        json!({"tests": 3, "failures": 1, "errors": 0, "skipped": 1})
    );
    let mut names: Vec<&str> = suite["cases"]
        .as_array()
        .unwrap()
        .iter()
        .map(|case| case["name"].as_str().unwrap())
        .collect();
    names.sort_unstable();
    assert_eq!(names, ["fail_2", "pass_1", "skip_3"]);
}

//! `--json`: every document validates against its schema in docs/schema/,
//! and the README's `jq` pipeline works with the real jq.

use std::path::Path;
use std::process::{Command, Stdio};

use testr::model::Status;

use crate::harness::{Project, Stream, fake_worker};

/// Checks `document` against `docs/schema/NAME.json` and returns it parsed.
fn validated(name: &str, document: &str) -> serde_json::Value {
    let schema_path =
        Path::new(env!("CARGO_MANIFEST_DIR")).join(format!("docs/schema/{name}.json"));
    let schema: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&schema_path).unwrap()).unwrap();
    let validator = jsonschema::validator_for(&schema).expect("the schema is valid");
    let value: serde_json::Value = serde_json::from_str(document).expect("one JSON document");
    let errors: Vec<String> = validator
        .iter_errors(&value)
        .map(|e| e.to_string())
        .collect();
    assert!(errors.is_empty(), "{name}: {errors:?}\n{document}");
    value
}

/// A 2×2 matrix where x fails on py311 only, loaded as two runs.
fn matrix() -> Project {
    let project = Project::with_config("[DEFAULT]\nprofile_tags = py311 py312\n");
    let py311 = Stream::new()
        .test_with_tags("x", Status::Fail, 3, &["py311"])
        .test_with_tags("y", Status::Skip, 1, &["py311"])
        .bytes();
    let py312 = Stream::new()
        .test_with_tags("x", Status::Success, 2, &["py312"])
        .test_with_tags("y", Status::Success, 5, &["py312"])
        .bytes();
    project.load(&[py311, py312].concat(), 1);
    project
}

#[test]
fn failing_json_covers_every_profile() {
    let project = matrix();
    let out = project
        .testr(["failing", "--json"])
        .run()
        .status(1)
        .stdout();
    let doc = validated("failing", &out);
    assert_eq!(doc["profiles"], serde_json::json!([["py311"], ["py312"]]));
    assert_eq!(
        doc["tests"],
        serde_json::json!([{"id": "x", "profile": ["py311"], "status": "fail", "run": 0}])
    );
    let one = project
        .testr(["failing", "--json", "--profile", "py312"])
        .run()
        .success()
        .stdout();
    let doc = validated("failing", &one);
    assert_eq!(doc["tests"], serde_json::json!([]));
}

#[test]
fn last_json_has_the_run_and_each_test() {
    let project = matrix();
    let out = project.testr(["last", "--json"]).run().status(1).stdout();
    let doc = validated("last", &out);
    assert_eq!(doc["run"]["id"], 0);
    assert_eq!(doc["run"]["tests_run"], 4);
    assert_eq!(doc["run"]["failures"], 1);
    // Both streams start at the same instant: the span is the longer one.
    assert_eq!(doc["run"]["duration"], 0.007);
    assert_eq!(
        doc["run"]["profiles"],
        serde_json::json!([
            {"profile": ["py311"], "tests_run": 2, "failures": 1, "skips": 1},
            {"profile": ["py312"], "tests_run": 2, "failures": 0, "skips": 0},
        ])
    );
    assert_eq!(
        doc["tests"][0],
        serde_json::json!({"id": "x", "profile": ["py311"], "status": "fail", "duration": 0.003})
    );
    assert_eq!(doc["tests"].as_array().unwrap().len(), 4);
}

#[test]
fn slowest_stats_and_profiles_json() {
    let project = matrix();
    let slowest = project
        .testr(["slowest", "--json"])
        .run()
        .success()
        .stdout();
    let doc = validated("slowest", &slowest);
    assert_eq!(
        doc["tests"][0],
        serde_json::json!({"id": "y", "profile": ["py312"], "duration": 0.005})
    );
    let stats = project.testr(["stats", "--json"]).run().success().stdout();
    let doc = validated("stats", &stats);
    assert_eq!(doc["runs"], 1);
    for command in ["failing", "last", "slowest"] {
        let out = project
            .testr([command, "--profiles", "--json"])
            .run()
            .success()
            .stdout();
        let doc = validated("profiles", &out);
        assert_eq!(
            out,
            "{\"version\":1,\"profiles\":[[\"py311\"],[\"py312\"]]}\n"
        );
        assert_eq!(doc["version"], 1);
    }
}

#[test]
fn json_and_subunit_do_not_mix() {
    let project = matrix();
    let out = project
        .testr(["failing", "--json", "--subunit"])
        .run()
        .status(2);
    let first = out.stderr().lines().next().unwrap_or_default().to_owned();
    assert!(
        first.contains("--json") && first.contains("--subunit"),
        "{first}"
    );
    project
        .testr(["last", "--json", "--subunit"])
        .run()
        .status(2);
}

#[test]
fn jq_selects_one_profiles_failures() {
    let project = matrix();
    let out = project.testr(["failing", "--json"]).run().status(1);
    let mut jq = Command::new("jq")
        .args(["-r", r#".tests[] | select(.profile == ["py311"]) | .id"#])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .expect("jq is installed (.ci/run installs it)");
    std::io::Write::write_all(&mut jq.stdin.take().unwrap(), &out.output.stdout).unwrap();
    let listed = jq.wait_with_output().unwrap();
    assert!(listed.status.success());
    assert_eq!(String::from_utf8(listed.stdout).unwrap(), "x\n");
}

/// Runs `jq FILTER` on `input`.
fn jq(filter: &str, input: &[u8]) -> Vec<u8> {
    let mut jq = Command::new("jq")
        .args(["-c", filter])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .expect("jq is installed (.ci/run installs it)");
    std::io::Write::write_all(&mut jq.stdin.take().unwrap(), input).unwrap();
    let out = jq.wait_with_output().unwrap();
    assert!(out.status.success());
    out.stdout
}

#[test]
fn list_tests_json_validates_and_a_jq_selection_round_trips_into_run() {
    let project = Project::with_config(format!(
        "[DEFAULT]\nprofiles = py311 py312\nworker_command=python3 {} --worker fake.pass_1 fake.fail_2\n",
        fake_worker().display()
    ));
    let listed = project.testr(["list-tests", "--json"]).run().success();
    let doc = validated("list-tests", &listed.stdout());
    assert_eq!(doc["tests"].as_array().unwrap().len(), 4);
    let profiles = project
        .testr(["list-tests", "--profiles", "--json"])
        .run()
        .success();
    validated("profiles", &profiles.stdout());

    project.testr(["run"]).run().status(1);
    let failing = project.testr(["failing", "--json"]).run().status(1);
    let selection = jq(
        r#".tests |= map(select(.profile == ["py312"]))"#,
        &failing.output.stdout,
    );
    let path = project.write("selection.json", selection);
    project
        .testr(["run", "--load-list-json", "--load-list"])
        .arg(&path)
        .run()
        .status(1);
    let last = validated(
        "last",
        &project.testr(["last", "--json"]).run().status(1).stdout(),
    );
    assert_eq!(
        last["tests"],
        serde_json::json!([{"id": "fake.fail_2", "profile": ["py312"], "status": "fail",
                            "duration": last["tests"][0]["duration"]}])
    );
    assert_eq!(last["run"]["partial"], serde_json::json!(true));
}

#[test]
fn the_example_plan_follows_the_plan_schema() {
    let example = Path::new(env!("CARGO_MANIFEST_DIR")).join("example/plan.json");
    let plan = validated("plan", &std::fs::read_to_string(example).unwrap());
    assert_eq!(plan["segments"][0]["exclusive"], serde_json::json!(true));
}

#[test]
fn history_list_json_has_every_run_oldest_first() {
    let project = Project::new();
    assert_eq!(
        validated(
            "history",
            &project
                .testr(["history", "list", "--json"])
                .run()
                .success()
                .stdout()
        )["runs"],
        serde_json::json!([])
    );
    project.load(&Stream::new().test("a", Status::Fail, 5).bytes(), 1);
    project
        .testr(["load", "--partial"])
        .stdin(&Stream::new().test("a", Status::Success, 7).bytes())
        .run()
        .success();
    let doc = validated(
        "history",
        &project
            .testr(["history", "list", "--json"])
            .run()
            .success()
            .stdout(),
    );
    let runs = doc["runs"].as_array().unwrap();
    let summary: Vec<(i64, i64, bool, f64)> = runs
        .iter()
        .map(|run| {
            (
                run["id"].as_i64().unwrap(),
                run["failures"].as_i64().unwrap(),
                run["partial"].as_bool().unwrap(),
                run["duration"].as_f64().unwrap(),
            )
        })
        .collect();
    assert_eq!(summary, [(0, 1, false, 0.005), (1, 0, true, 0.007)]);
    assert!(
        runs.iter()
            .all(|run| run["finished"] == true && run["interrupted"] == false)
    );
}

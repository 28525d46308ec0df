//! `testr run --plan`: segments run in order, an exclusive test runs with
//! nothing else, `max_workers` caps a segment; proved from the start and
//! stop timestamps the workers stored. And every bad plan is refused before
//! anything runs.

use serde_json::json;

use crate::harness::{Project, fake_project, fake_worker};

const PARALLEL: [&str; 6] = [
    "fake.sleep-0.2_a",
    "fake.sleep-0.2_b",
    "fake.sleep-0.2_c",
    "fake.sleep-0.2_d",
    "fake.sleep-0.1_e",
    "fake.sleep-0.1_f",
];

fn plan_text() -> String {
    json!({"version": 1, "segments": [
        {"tests": ["fake.sleep-0.2_quota1", "fake.sleep-0.1_quota2"], "exclusive": true},
        {"tests": PARALLEL, "max_workers": 2},
        {"tests": ["fake.sleep-0.1_net"], "exclusive": true},
    ]})
    .to_string()
}

fn all_ids() -> Vec<&'static str> {
    let mut ids = vec!["fake.sleep-0.1_net", "fake.sleep-0.2_quota1"];
    ids.extend(PARALLEL);
    ids.extend(["fake.sleep-0.1_quota2", "fake.pass_rest"]);
    ids
}

#[test]
fn segments_run_in_order_and_exclusive_tests_run_alone() {
    let project = fake_project(&all_ids(), "");
    let plan = project.write("plan.json", plan_text());
    let run = project
        .testr(["run", "--concurrency", "4", "--plan"])
        .arg(&plan)
        .run()
        .success();
    let stdout = run.stdout();
    assert!(
        stdout.contains("Segment 0 (exclusive): 2 tests in"),
        "{stdout}"
    );
    assert!(
        stdout.contains("Segment 1 (at most 2 at once): 6 tests in"),
        "{stdout}"
    );
    assert!(
        stdout.contains("Segment 2 (exclusive): 1 test in"),
        "{stdout}"
    );
    assert!(
        stdout.contains("Tests no segment names: 1 test in"),
        "{stdout}"
    );

    let spans = project.spans();
    assert_eq!(spans.len(), 10);
    let segment_of = |id: &str| -> usize {
        if id.contains("quota") {
            0
        } else if id.contains("_net") {
            2
        } else if id.contains("pass_rest") {
            3
        } else {
            1
        }
    };
    let overlaps = |a: (i64, i64), b: (i64, i64)| a.0 < b.1 && b.0 < a.1;
    for (id, span) in &spans {
        for (other, other_span) in &spans {
            if id == other {
                continue;
            }
            let (mine, theirs) = (segment_of(id), segment_of(other));
            if mine == 0 || mine == 2 {
                assert!(
                    !overlaps(*span, *other_span),
                    "{other} ran during exclusive {id}"
                );
            }
            if theirs > mine {
                assert!(
                    other_span.0 >= span.1,
                    "{other} (segment {theirs}) started before {id} (segment {mine}) ended"
                );
            }
        }
    }
    // max_workers 2: at no start of a segment-1 test were two others running.
    for (id, span) in spans.iter().filter(|(id, _)| segment_of(id) == 1) {
        let running = spans
            .iter()
            .filter(|(other, _)| *other != id && segment_of(other) == 1)
            .filter(|(_, s)| s.0 <= span.0 && span.0 < s.1)
            .count();
        assert!(
            running < 2,
            "{id} started with {running} others of its segment running"
        );
    }
    let last = project.json(["last", "--json"]);
    let segments = last["run"]["segments"].as_array().unwrap();
    let shape: Vec<(serde_json::Value, serde_json::Value, serde_json::Value)> = segments
        .iter()
        .map(|s| {
            (
                s["segment"].clone(),
                s["exclusive"].clone(),
                s["tests"].clone(),
            )
        })
        .collect();
    assert_eq!(
        shape,
        [
            (json!(0), json!(true), json!(2)),
            (json!(1), json!(false), json!(6)),
            (json!(2), json!(true), json!(1)),
            (json!(null), json!(false), json!(1)),
        ]
    );
}

#[test]
fn filters_narrow_a_plan_and_empty_segments_are_skipped() {
    let project = fake_project(&all_ids(), "plan = plan.json\n");
    project.write("plan.json", plan_text());
    let run = project.testr(["run", "_[ab]$"]).run().success();
    let stdout = run.stdout();
    assert!(stdout.contains("Ran 2 tests"), "{stdout}");
    assert!(
        stdout.contains("Segment 1 (at most 2 at once): 2 tests"),
        "{stdout}"
    );
    assert!(!stdout.contains("Segment 0"), "{stdout}");
    assert!(!stdout.contains("Segment 2"), "{stdout}");
}

#[test]
fn plan_strict_refuses_tests_no_segment_names() {
    let project = fake_project(&all_ids(), "");
    let plan = project.write("plan.json", plan_text());
    project
        .testr(["run", "--plan-strict", "--plan"])
        .arg(&plan)
        .run()
        .status(3)
        .one_line_error(&["1 selected test(s) are in no segment", "fake.pass_rest"]);
    project
        .testr(["run", "--plan-strict"])
        .run()
        .status(3)
        .one_line_error(&["--plan-strict needs a plan"]);
    assert_eq!(project.testr(["stats"]).run().stdout(), "runs=0\n");
}

#[test]
fn records_place_a_test_per_profile() {
    let fake = fake_worker();
    let project = Project::with_config(format!(
        "[DEFAULT]\nprofiles = py311 py312\n\
             worker_command=python3 {} --worker fake.sleep-0.1_x fake.pass_y\n",
        fake.display()
    ));
    let plan = project.write(
        "plan.json",
        json!({"version": 1, "segments": [
            {"tests": [{"id": "fake.sleep-0.1_x", "profile": ["py312"]}], "exclusive": true},
            {"tests": ["fake.pass_y", {"id": "fake.sleep-0.1_x", "profile": ["py311"]}]},
        ]})
        .to_string(),
    );
    let run = project.testr(["run", "--plan"]).arg(&plan).run().success();
    assert!(
        run.stdout().contains("Segment 0 (exclusive): 1 test in"),
        "{}",
        run.stdout()
    );
    assert!(
        run.stdout().contains("Segment 1: 3 tests in"),
        "{}",
        run.stdout()
    );
}

#[test]
fn bad_plans_are_refused_and_nothing_is_stored() {
    let project = fake_project(&["fake.pass_a", "fake.pass_b"], "");
    for (text, fragments) in [
        (
            "{\"version\": 1,\n  \"segments\": [\n    {\"tests\": [\"fake.pass_a\",]}]}",
            vec!["malformed JSON at line 3 column"],
        ),
        (
            r#"{"version": 7, "segments": [{"tests": ["fake.pass_a"]}]}"#,
            vec!["unknown version 7"],
        ),
        (
            r#"{"version": 1, "segments": [{"tests": ["fake.pass_a"]}, {"tests": ["fake.pass_a"]}]}"#,
            vec!["test fake.pass_a is named in segments[0] and in segments[1]"],
        ),
        (
            r#"{"version": 1, "segments": [{"tests": ["fake.pass_a"], "max_workers": 0}]}"#,
            vec!["segments[0].max_workers is 0"],
        ),
        (
            r#"{"version": 1, "segments": [{"tests": ["fake.pass_a"], "max_workers": -2}]}"#,
            vec!["segments[0].max_workers is -2"],
        ),
        (
            r#"{"version": 1, "segments": []}"#,
            vec!["the plan names no tests"],
        ),
        (
            r#"{"version": 1, "segments": [{"tests": ["fake.pass_a", "no.such", "nor.this"]}]}"#,
            vec!["2 id(s) of the plan", "no.such, nor.this"],
        ),
    ] {
        let plan = project.write("plan.json", text);
        project
            .testr(["run", "--plan"])
            .arg(&plan)
            .run()
            .status(3)
            .one_line_error(&fragments);
    }
    project
        .testr(["run", "--plan", "missing.json"])
        .run()
        .status(3)
        .one_line_error(&["bad plan missing.json: cannot read it"]);
    assert_eq!(project.testr(["stats"]).run().stdout(), "runs=0\n");
}

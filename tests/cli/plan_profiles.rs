//! A plan record `{id, profile}` must name a profile the project has: one
//! that matches nothing would leave its test to run outside its segment,
//! free of an `exclusive` it was given.

use serde_json::json;

use crate::harness::{Project, fake_project, fake_worker};

#[test]
fn a_record_of_a_profile_that_is_not_configured_is_refused() {
    let project = fake_project(&["fake.sleep-0.1_x", "fake.pass_y"], "");
    let plan = project.write(
        "plan.json",
        json!({"version": 1, "segments": [
            {"tests": [{"id": "fake.sleep-0.1_x", "profile": ["py311"]}], "exclusive": true},
            {"tests": ["fake.pass_y"]},
        ]})
        .to_string(),
    );
    project
        .testr(["run", "--plan"])
        .arg(&plan)
        .run()
        .status(3)
        .one_line_error(&[
            "bad plan",
            "plan.json",
            "segments[0].tests[0] places fake.sleep-0.1_x in profile [\"py311\"]",
            "not configured",
        ]);
    assert_eq!(project.testr(["stats"]).run().stdout(), "runs=0\n");
}

#[test]
fn records_of_configured_profiles_not_chosen_for_the_run_are_fine() {
    let project = Project::with_config(format!(
        "[DEFAULT]\nprofiles = py311 py312\nplan = plan.json\n\
         worker_command=python3 {} --worker fake.sleep-0.1_x fake.pass_y\n",
        fake_worker().display()
    ));
    project.write(
        "plan.json",
        json!({"version": 1, "segments": [
            {"tests": [{"id": "fake.sleep-0.1_x", "profile": ["py312"]}], "exclusive": true},
            {"tests": ["fake.pass_y", {"id": "fake.sleep-0.1_x", "profile": ["py311"]}]},
        ]})
        .to_string(),
    );
    project
        .testr(["run", "--profile", "py311"])
        .run()
        .success()
        .stdout_has(&["Segment 1: 2 tests in"]);
}

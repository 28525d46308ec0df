//! What a run writes outside the repository (its temporary files: the ids
//! of batches, the shipped Python workers when there is no cache): a place
//! that cannot be written is an error naming it, and nothing is stored.

use crate::harness::fake_project;

#[test]
fn a_temporary_directory_that_cannot_be_written_is_named() {
    let project = fake_project(&["fake.pass_a"], "");
    let missing = project.path().join("no-such-tmp");
    project
        .testr(["run"])
        .command_env("TMPDIR", &missing)
        .run()
        .status(3)
        .error_line(&[
            "failed to create the run's temporary files in",
            &missing.display().to_string(),
            "TMPDIR",
        ]);
    assert_eq!(project.testr(["stats"]).run().stdout(), "runs=0\n");
    project
        .testr(["list-tests"])
        .command_env("TMPDIR", &missing)
        .run()
        .status(3)
        .error_line(&[&missing.display().to_string()]);
}

//! `testr import`: repositories made by the real stestr and the real Python
//! testr, imported run by run; importing again; damaged run files; and
//! directories that are not repositories to import.
//!
//! The stestr and testrepository tests need those tools beside
//! `$TESTR_TEST_PYTHON` (its venv's `bin/`), or on PATH; without them they
//! say so and pass.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;

use serde_json::Value;

use crate::harness::Project;

fn python() -> String {
    std::env::var("TESTR_TEST_PYTHON").unwrap_or_else(|_| "python3".to_owned())
}

/// The script `name` of the Python package `package` (`stestr`, or
/// `testrepository`'s `testr`), from the scripts directory of
/// `$TESTR_TEST_PYTHON` (else `python3`), when that Python has it.
fn python_tool(name: &str, package: &str) -> Option<PathBuf> {
    let probe = format!("import sysconfig, {package}; print(sysconfig.get_path('scripts'))");
    let scripts = Command::new(python())
        .args(["-c", &probe])
        .output()
        .ok()
        .filter(|out| out.status.success())
        .map(|out| PathBuf::from(String::from_utf8_lossy(&out.stdout).trim()));
    let tool = scripts
        .map(|dir| dir.join(name))
        .filter(|tool| tool.is_file());
    if tool.is_none() {
        eprintln!(
            "skipping: {} has no {package} (pip install {package}, or set TESTR_TEST_PYTHON \
             to a Python that has it)",
            python()
        );
    }
    tool
}

/// Runs a Python tool in the project, with the interpreter of
/// `$TESTR_TEST_PYTHON` for the tests it starts; checks its exit status.
fn run_tool(project: &Project, tool: &Path, args: &[&str], fail: bool, expected: i32) {
    let mut command = Command::new(tool);
    command.args(args).current_dir(project.path());
    if let Some(python) = std::env::var_os("TESTR_TEST_PYTHON") {
        command.env("PYTHON", python);
    }
    if fail {
        command.env("IMPORT_FAIL", "1");
    } else {
        command.env_remove("IMPORT_FAIL");
    }
    let output = command.output().expect("the tool starts");
    assert_eq!(
        output.status.code(),
        Some(expected),
        "{} {args:?}\n{}\n{}",
        tool.display(),
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
}

/// Every file under `dir` with its bytes.
fn snapshot(dir: &Path) -> BTreeMap<PathBuf, Vec<u8>> {
    let mut files = BTreeMap::new();
    let mut pending = vec![dir.to_owned()];
    while let Some(dir) = pending.pop() {
        for entry in std::fs::read_dir(&dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                pending.push(path);
            } else {
                files.insert(path.clone(), std::fs::read(&path).unwrap());
            }
        }
    }
    files
}

/// The id, status and (when known) duration of each test of the latest run.
fn last_tests(project: &Project) -> BTreeMap<String, (String, Option<f64>)> {
    let last = project.json(["last", "--json"]);
    last["tests"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| {
            (
                t["id"].as_str().unwrap().to_owned(),
                (
                    t["status"].as_str().unwrap().to_owned(),
                    t["duration"].as_f64(),
                ),
            )
        })
        .collect()
}

/// The span of a v1 run file's `time:` lines, in seconds: what its run
/// took by its own clock.
fn time_span(run_file: &Path) -> f64 {
    let text = std::fs::read_to_string(run_file).unwrap();
    let seconds: Vec<f64> = text
        .lines()
        .filter_map(|line| line.strip_prefix("time: "))
        .map(|time| {
            // `YYYY-MM-DD HH:MM:SS.ffffffZ`, all on one day in these tests.
            let clock = &time[11..time.len() - 1];
            let parts: Vec<f64> = clock.split(':').map(|p| p.parse().unwrap()).collect();
            parts[0] * 3600.0 + parts[1] * 60.0 + parts[2]
        })
        .collect();
    let first = seconds.iter().copied().fold(f64::INFINITY, f64::min);
    let last = seconds.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    last - first
}

const PASSES: &str = "importproj.tests.test_things.TestThings.test_passes";
const SOMETIMES: &str = "importproj.tests.test_things.TestThings.test_sometimes_fails";
const SKIPS: &str = "importproj.tests.test_things.TestThings.test_skips";
const XFAIL: &str = "importproj.tests.test_things.TestThings.test_expected_failure";

#[test]
fn a_stestr_repository_is_imported_run_by_run_and_again_only_what_is_new() {
    let Some(stestr) = python_tool("stestr", "stestr") else {
        return;
    };
    let project = Project::fixture("import/project");
    run_tool(&project, &stestr, &["run"], false, 0);
    run_tool(&project, &stestr, &["run"], true, 1);
    let source = project.path().join(".stestr");
    let before = snapshot(&source);

    let shown = source.display().to_string();
    let imported = project
        .testr(["import", source.to_str().unwrap()])
        .run()
        .success();
    assert_eq!(
        imported.stdout(),
        format!("imported 2 runs (8 tests) from {shown}\n")
    );
    assert_eq!(
        imported.stderr(),
        format!(
            "testr: created the repository {}\n",
            project.path().join(".testrepository").display()
        )
    );
    assert_eq!(
        snapshot(&source),
        before,
        "the stestr repository is only read"
    );

    let tests = last_tests(&project);
    let statuses: Vec<(&str, &str)> = tests
        .iter()
        .map(|(id, (status, _))| (id.as_str(), status.as_str()))
        .collect();
    assert_eq!(
        statuses,
        [
            (XFAIL, "xfail"),
            (PASSES, "success"),
            (SKIPS, "skip"),
            (SOMETIMES, "fail"),
        ]
    );
    assert!(tests[PASSES].1.unwrap() >= 0.02, "{tests:?}");
    let last = project.json(["last", "--json"]);
    let run = &last["run"];
    assert_eq!(run["id"], 1);
    assert_eq!(
        (run["tests_run"].as_i64(), run["failures"].as_i64()),
        (Some(4), Some(1))
    );
    let command = run["command"].as_str().unwrap();
    let marker = format!(
        "imported from {} run 1, started 20",
        source.canonicalize().unwrap().display()
    );
    assert!(command.starts_with(&marker), "{command}");
    let duration = run["duration"].as_f64().unwrap();
    assert!(
        (duration - time_span(&source.join("1"))).abs() < 1e-6,
        "{duration}"
    );
    project
        .testr(["failing", "--list"])
        .run()
        .status(1)
        .stdout_has(&[SOMETIMES]);
    // The run's own times came in with it.
    let slowest = project.json(["slowest", "--json"]);
    assert_eq!(slowest["tests"][0]["id"], PASSES);

    // Again: nothing new. Then a third stestr run: only it comes in.
    let quiet = project
        .testr(["-q", "import", source.to_str().unwrap()])
        .run()
        .success();
    assert_eq!(quiet.stdout(), "");
    let again = project
        .testr(["import", source.to_str().unwrap()])
        .run()
        .success();
    assert_eq!(
        again.stdout(),
        format!("imported 0 runs (0 tests) from {shown}, skipped 2 imported before\n")
    );
    run_tool(&project, &stestr, &["run"], false, 0);
    // The project directory names the repository in it.
    let third = project
        .testr(["import", project.path().to_str().unwrap()])
        .run()
        .success();
    assert_eq!(
        third.stdout(),
        format!("imported 1 run (4 tests) from {shown}, skipped 2 imported before\n")
    );
    assert_eq!(project.json(["stats", "--json"])["runs"], 3);
    project.testr(["failing", "--list"]).run().success();
    assert_eq!(last_tests(&project)[SOMETIMES].0, "success");
}

#[test]
fn a_python_testr_repository_is_imported_once_moved_aside() {
    let Some(py_testr) = python_tool("testr", "testrepository") else {
        return;
    };
    let project = Project::fixture("import/project");
    run_tool(&project, &py_testr, &["init"], false, 0);
    run_tool(&project, &py_testr, &["run"], false, 0);
    run_tool(&project, &py_testr, &["run"], true, 1);

    // It sits where testr's own repository goes.
    let in_place = project.path().join(".testrepository");
    project
        .testr(["import", in_place.to_str().unwrap()])
        .run()
        .status(3)
        .one_line_error(&[
            ".testrepository is where this project's testr repository goes",
            "mv .testrepository .testrepository.python",
        ]);
    let moved = project.path().join(".testrepository.python");
    std::fs::rename(project.path().join(".testrepository"), &moved).unwrap();
    let imported = project
        .testr(["import", moved.to_str().unwrap()])
        .run()
        .success();
    assert_eq!(
        imported.stdout(),
        format!("imported 2 runs (8 tests) from {}\n", moved.display())
    );
    project
        .testr(["failing", "--list"])
        .run()
        .status(1)
        .stdout_has(&[SOMETIMES]);
    let last = project.json(["last", "--json"]);
    assert_eq!(last["run"]["failures"], 1);
    let duration = last["run"]["duration"].as_f64().unwrap();
    assert!(
        (duration - time_span(&moved.join("1"))).abs() < 1e-6,
        "{duration}"
    );
}

#[test]
fn damaged_runs_are_named_and_nothing_of_them_is_stored() {
    let project = Project::fixture("import/damaged");
    let source = project.path().join(".stestr");
    let shown = source.display().to_string();
    let imported = project
        .testr(["import", source.to_str().unwrap()])
        .run()
        .status(3);
    assert_eq!(
        imported.stdout(),
        format!("imported 3 runs (6 tests) from {shown}, 2 not imported\n")
    );
    let stderr = imported.stderr();
    let lines: Vec<&str> = stderr.lines().collect();
    assert_eq!(
        lines,
        [
            "testr: created the repository ".to_owned()
                + &project.path().join(".testrepository").display().to_string(),
            format!(
                "testr: error: run 2 of {shown} not imported, nothing of it stored: line 14: \
                 bad chunk header `zz` (expected hexadecimal digits and CR LF)"
            ),
            format!(
                "testr: error: run 3 of {shown} not imported, nothing of it stored: line 8: \
                 the stream ends inside the details of test `pkg.T.test_a`"
            ),
            format!("testr: warning: run 4 of {shown} holds no test results; nothing to import"),
        ]
    );
    assert_eq!(project.json(["stats", "--json"])["runs"], 3);
    let last = project.json(["last", "--json"]);
    assert_eq!(last["run"]["id"], 2);
    assert_eq!(last["run"]["skips"], 1);
    assert_eq!(last["run"]["duration"], 0.7);
    // Run 0's failure was cleared by run 1, the runs after it whole.
    project.testr(["failing", "--list"]).run().success();

    let again = project
        .testr(["import", source.to_str().unwrap()])
        .run()
        .status(3);
    assert_eq!(
        again.stdout(),
        format!(
            "imported 0 runs (0 tests) from {shown}, skipped 3 imported before, 2 not imported\n"
        )
    );
    assert_eq!(project.json(["stats", "--json"])["runs"], 3);
}

#[test]
fn what_is_not_a_repository_to_import_is_refused() {
    let project = Project::new();
    let path = |name: &str| project.path().join(name).display().to_string();
    project
        .testr(["import", &path("missing")])
        .run()
        .status(3)
        .one_line_error(&["failed to read", "missing: No such file or directory"]);
    std::fs::create_dir(project.path().join("plain")).unwrap();
    project
        .testr(["import", &path("plain")])
        .run()
        .status(3)
        .one_line_error(&["plain is not a stestr or Python testr repository"]);
    project
        .testr(["import", project.path().to_str().unwrap()])
        .run()
        .status(3)
        .one_line_error(&[".testrepository is a testr repository already"]);
    std::fs::create_dir(project.path().join("odd")).unwrap();
    project.write("odd/format", "2\n");
    project
        .testr(["import", &path("odd")])
        .run()
        .status(3)
        .one_line_error(&["odd/format has format \"2\\n\"; the Python tools write `1`"]);
    for dir in ["both/.stestr", "both/.testrepository"] {
        std::fs::create_dir_all(project.path().join(dir)).unwrap();
        project.write(&format!("{dir}/format"), "1\n");
    }
    project
        .testr(["import", &path("both")])
        .run()
        .status(3)
        .one_line_error(&["holds both .stestr/ and .testrepository/: name the one to import"]);
    // Nothing was stored by any of these.
    assert_eq!(project.json(["stats", "--json"])["runs"], Value::from(0));
}

//! Crashes and concurrency: a killed load stores nothing half-way, and
//! concurrent loads all land.

use std::io::Write;
use std::process::{Command, Stdio};

use testr::model::Status;

use crate::harness::{Project, Stream, testr_bin};

fn many_tests(prefix: &str, count: usize) -> Vec<u8> {
    let mut stream = Stream::new();
    for i in 0..count {
        stream = stream.test(&format!("{prefix}.test_{i:06}"), Status::Success, 1);
    }
    stream.bytes()
}

#[test]
fn kill_9_mid_load_keeps_every_earlier_run_and_no_half_run() {
    let project = Project::new();
    project.load(&Stream::new().test("earlier", Status::Fail, 1).bytes(), 1);
    let big = many_tests("pkg.big", 100_000);
    let mut child = Command::new(testr_bin())
        .arg("-d")
        .arg(project.path())
        .arg("load")
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut stdin = child.stdin.take().unwrap();
    // Once half the stream has gone through the pipe (far more than a pipe
    // buffers), testr is busy writing results into its open transaction.
    stdin.write_all(&big[..big.len() / 2]).unwrap();
    stdin.flush().unwrap();
    child.kill().unwrap();
    child.wait().unwrap();
    drop(stdin);

    assert_eq!(
        project.testr(["stats"]).run().success().stdout(),
        "runs=1\n"
    );
    let failing = project
        .testr(["failing", "--list"])
        .run()
        .status(1)
        .stdout();
    assert_eq!(failing, "earlier\n");
    let next = project.load(&Stream::new().test("after", Status::Success, 1).bytes(), 0);
    assert!(next.stdout().contains("PASSED (id=1)"), "{}", next.stdout());
}

#[test]
fn eight_concurrent_loads_all_land_with_distinct_ids() {
    let project = Project::new();
    let children: Vec<_> = (0..8)
        .map(|n| {
            let stream = many_tests(&format!("pkg.w{n}"), 2_000);
            let mut child = Command::new(testr_bin())
                .arg("-d")
                .arg(project.path())
                .arg("load")
                .stdin(Stdio::piped())
                .stdout(Stdio::piped())
                .stderr(Stdio::piped())
                .spawn()
                .unwrap();
            let mut stdin = child.stdin.take().unwrap();
            let feeder = std::thread::spawn(move || stdin.write_all(&stream).unwrap());
            (child, feeder)
        })
        .collect();
    let mut ids = Vec::new();
    for (child, feeder) in children {
        feeder.join().unwrap();
        let output = child.wait_with_output().unwrap();
        let stdout = String::from_utf8_lossy(&output.stdout).into_owned();
        assert_eq!(
            output.status.code(),
            Some(0),
            "{stdout}{}",
            String::from_utf8_lossy(&output.stderr)
        );
        let id = stdout
            .split("PASSED (id=")
            .nth(1)
            .and_then(|rest| rest.split(')').next())
            .and_then(|id| id.parse::<i64>().ok())
            .unwrap_or_else(|| panic!("a run id in {stdout:?}"));
        ids.push(id);
    }
    ids.sort();
    assert_eq!(ids, (0..8).collect::<Vec<_>>());
    assert_eq!(
        project.testr(["stats"]).run().success().stdout(),
        "runs=8\n"
    );
}

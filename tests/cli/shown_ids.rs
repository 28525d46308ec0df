//! Ids holding control characters (an escape sequence, a carriage return, a
//! newline) are shown escaped to people, and kept as they are in what is
//! stored and in the outputs for tools (`--subunit`, `--json`, a piped
//! `failing --list`).

use std::fs::File;
use std::io::Read;
use std::os::fd::{FromRawFd, OwnedFd};
use std::process::{Command, Stdio};

use testr::model::Status;
use testr::subunit::{Item, Items};

use crate::harness::{Project, Stream, fake_project, testr_bin};

/// A failing test whose id clears the screen, goes back to the start of
/// the line and starts a new one.
const HOSTILE: &str = "pkg.T.test_\u{1b}[2J\rfake\nline";
const SHOWN: &str = r"pkg.T.test_\u{1b}[2J\rfake\nline";

fn loaded() -> (Project, String) {
    let project = Project::new();
    let stream = Stream::new()
        .test("pkg.T.test_ok", Status::Success, 1)
        .test(HOSTILE, Status::Fail, 40)
        .bytes();
    let echoed = project.load(&stream, 1).stdout();
    (project, echoed)
}

/// Checks that `text` shows the id escaped and holds no control character
/// but newlines.
fn shows_escaped(text: &str) {
    assert!(text.contains(SHOWN), "{text:?}");
    assert!(
        !text.chars().any(|c| c.is_control() && c != '\n'),
        "{text:?}"
    );
}

#[test]
fn fail_lines_and_tables_show_ids_escaped() {
    let (project, echoed) = loaded();
    shows_escaped(&echoed);
    assert!(echoed.contains(&format!("FAIL: {SHOWN}\n")), "{echoed:?}");
    for args in [&["last"][..], &["failing"]] {
        let shown = project.testr(args).run().status(1).stdout();
        shows_escaped(&shown);
        assert!(shown.contains(&format!("FAIL: {SHOWN}\n")), "{shown:?}");
    }
    let slowest = project.testr(["slowest"]).run().success().stdout();
    shows_escaped(&slowest);
    assert!(
        slowest.contains(&format!("{SHOWN}  0.040\npkg.T.test_ok")),
        "{slowest:?}"
    );
}

#[test]
fn outputs_for_tools_keep_the_id_as_stored() {
    let (project, _) = loaded();
    let listed = project.testr(["failing", "--list"]).run().status(1);
    assert_eq!(listed.stdout(), format!("{HOSTILE}\n"));
    let json = project.json(["failing", "--json"]);
    assert_eq!(json["tests"][0]["id"], HOSTILE);
    let subunit = project.testr(["last", "--subunit"]).run().status(1);
    let ids: Vec<String> = Items::new(subunit.output.stdout.as_slice())
        .filter_map(|item| match item.unwrap() {
            Item::Packet(packet) => packet.test_id,
            _ => None,
        })
        .collect();
    assert!(ids.iter().any(|id| id == HOSTILE), "{ids:?}");
}

#[test]
fn failing_list_on_a_terminal_shows_ids_escaped() {
    let (project, _) = loaded();
    let (mut master, slave) = pseudo_terminal();
    let mut command = Command::new(testr_bin());
    command
        .arg("-d")
        .arg(project.path())
        .args(["failing", "--list"])
        .stdin(Stdio::null())
        .stdout(Stdio::from(slave))
        .stderr(Stdio::piped());
    let child = command.spawn().expect("testr starts");
    // Only the child may hold the terminal open, so that reading ends.
    drop(command);
    let finished = child.wait_with_output().expect("testr runs");
    assert_eq!(finished.status.code(), Some(1), "{finished:?}");
    let mut shown = Vec::new();
    let mut chunk = [0; 4096];
    loop {
        match master.read(&mut chunk) {
            Ok(0) => break,
            Ok(n) => shown.extend_from_slice(&chunk[..n]),
            // Linux reports the closed far end of a terminal as EIO.
            Err(e) if e.raw_os_error() == Some(libc::EIO) => break,
            Err(e) => panic!("reading the terminal: {e}"),
        }
    }
    // The terminal turns each newline into CR LF.
    assert_eq!(String::from_utf8(shown).unwrap(), format!("{SHOWN}\r\n"));
}

/// A pseudo-terminal: the end to read what is written, and the terminal.
fn pseudo_terminal() -> (File, OwnedFd) {
    let (mut master, mut slave) = (0, 0);
    // SAFETY: openpty writes two descriptors into the integers given; the
    // name, settings and size may be null.
    let status = unsafe {
        libc::openpty(
            &mut master,
            &mut slave,
            std::ptr::null_mut(),
            std::ptr::null(),
            std::ptr::null(),
        )
    };
    assert_eq!(status, 0, "openpty: {}", std::io::Error::last_os_error());
    // SAFETY: both descriptors were just opened and nothing else owns them.
    unsafe { (File::from_raw_fd(master), OwnedFd::from_raw_fd(slave)) }
}

#[test]
fn ids_named_in_an_error_are_escaped() {
    let project = fake_project(&["fake.pass_1"], "");
    let list = project.write("ids.txt", "fake.pass_1\nno.such_\u{1b}[2J\r\n");
    let refused = project
        .testr(["run", "--load-list"])
        .arg(&list)
        .run()
        .status(3)
        .error_line(&[r"no.such_\u{1b}[2J"]);
    assert!(
        !refused.stderr().contains('\u{1b}'),
        "{:?}",
        refused.stderr()
    );
}

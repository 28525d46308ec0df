//! Unit tests for the JUnit writer: the whole document for a small run,
//! the id split, and escaping.

use super::*;
use crate::model::TestId;

const T0: i64 = 1_767_225_600_000_000_000;

fn result(id: &str, status: Status, millis: Option<i64>) -> TestResult {
    TestResult {
        id: TestId(id.to_owned()),
        status,
        started_at: millis.map(|_| T0),
        stopped_at: millis.map(|m| T0 + m * 1_000_000 + 123),
        tags: Vec::new(),
        route_code: None,
        attachments: Vec::new(),
    }
}

fn text(name: &str, content: &str) -> Attachment {
    Attachment {
        name: name.to_owned(),
        mime_type: Some("text/plain; charset=utf8".to_owned()),
        content: content.as_bytes().to_vec(),
    }
}

fn document(report: &JunitReport) -> String {
    let mut out = Vec::new();
    report.write(&mut out).unwrap();
    String::from_utf8(out).unwrap()
}

#[test]
fn a_run_is_one_suite_per_profile_with_every_outcome() {
    let mut report = JunitReport::new();
    let none = Profile::default();
    let py311 = Profile::new(["py311".to_owned(), "sqlite".to_owned()]);
    let mut fail = result("pkg.T.test_fail", Status::Fail, Some(250));
    fail.attachments = vec![
        Attachment {
            name: "traceback".to_owned(),
            mime_type: Some("text/x-traceback; charset=utf8".to_owned()),
            content:
                b"Traceback (most recent call last):\n  File \"t.py\"\nAssertionError: 1 != 2\n"
                    .to_vec(),
        },
        text("stdout", "printed\n"),
        text("stderr", "warned\n"),
    ];
    let mut skip = result("pkg.T.test_skip", Status::Skip, Some(0));
    skip.attachments = vec![text("reason", "no network\n")];
    let mut ok = result("pkg.T.test_ok", Status::Success, Some(1500));
    ok.attachments = vec![
        text("stdout", "a"),
        text("pythonlogging:''", "b"),
        Attachment {
            name: "blob".to_owned(),
            mime_type: Some("application/octet-stream".to_owned()),
            content: vec![0, 1],
        },
    ];
    for (profile, r) in [
        (&py311, result("pkg.T.test_listed", Status::Exists, None)),
        (&py311, ok),
        (&py311, fail),
        (&py311, skip),
        (&none, result("test_bare", Status::XFail, Some(1))),
        (&none, result("a.b", Status::UxSuccess, None)),
        (&none, result("a.c", Status::InProgress, None)),
    ] {
        report.add(profile, &r);
    }
    let expected = r#"<?xml version="1.0" encoding="UTF-8"?>
<testsuites name="testr" tests="6" failures="2" errors="1" skipped="2" time="1.500000">
  <testsuite name="testr" tests="3" failures="1" errors="1" skipped="1" time="0.001000">
    <testcase classname="" name="test_bare" time="0.001000">
      <skipped message="expected failure" type="xfail"/>
    </testcase>
    <testcase classname="a" name="b">
      <failure message="unexpected success" type="uxsuccess"/>
    </testcase>
    <testcase classname="a" name="c">
      <error message="the test did not finish" type="inprogress"/>
    </testcase>
  </testsuite>
  <testsuite name="py311,sqlite" tests="3" failures="1" errors="0" skipped="1" time="1.500000">
    <testcase classname="pkg.T" name="test_ok" time="1.500000">
      <system-out>--- stdout ---
a
--- pythonlogging:'' ---
b
</system-out>
    </testcase>
    <testcase classname="pkg.T" name="test_fail" time="0.250000">
      <failure message="AssertionError: 1 != 2" type="AssertionError">Traceback (most recent call last):
  File "t.py"
AssertionError: 1 != 2
</failure>
      <system-out>printed
</system-out>
      <system-err>warned
</system-err>
    </testcase>
    <testcase classname="pkg.T" name="test_skip" time="0.000000">
      <skipped message="no network"/>
    </testcase>
  </testsuite>
</testsuites>
"#;
    assert_eq!(document(&report), expected);
}

#[test]
fn an_empty_run_is_an_empty_document() {
    assert_eq!(
        document(&JunitReport::new()),
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n\
         <testsuites name=\"testr\" tests=\"0\" failures=\"0\" errors=\"0\" skipped=\"0\">\n\
         </testsuites>\n"
    );
}

#[test]
fn ids_split_into_class_and_name() {
    for (id, classname, name) in [
        (
            "pkg.tests.test_x.TestX.test_y",
            "pkg.tests.test_x.TestX",
            "test_y",
        ),
        ("test_y", "", "test_y"),
        ("", "", ""),
        ("pkg.T.test_y[a.b]", "pkg.T", "test_y[a.b]"),
        (
            "pkg.T.test_y(scenario.one)",
            "pkg.T",
            "test_y(scenario.one)",
        ),
        (
            "tempest.api.T.test_y[id-1a2b,smoke]",
            "tempest.api.T",
            "test_y[id-1a2b,smoke]",
        ),
        (
            "tests/test_x.py::test_y[a.b]",
            "tests.test_x",
            "test_y[a.b]",
        ),
        (
            "tests/test_x.py::TestC::test_y[a::b]",
            "tests.test_x.TestC",
            "test_y[a::b]",
        ),
        ("test_x.py::test_y", "test_x", "test_y"),
        (
            "setUpClass (pkg.tests.TestX)",
            "pkg.tests.TestX",
            "setUpClass",
        ),
        (
            "pkg.T.test_y (with a note)",
            "pkg.T",
            "test_y (with a note)",
        ),
    ] {
        assert_eq!(split_id(id), (classname.to_owned(), name), "{id:?}");
    }
}

#[test]
fn text_and_attributes_are_escaped_and_control_characters_replaced() {
    assert_eq!(
        attribute("a<b>&\"c\"\n\t\r'"),
        "a&lt;b&gt;&amp;&quot;c&quot;&#10;&#9;&#13;'"
    );
    assert_eq!(text_content("a<b>&\"\n\t\r"), "a&lt;b&gt;&amp;\"\n\t&#13;");
    assert_eq!(
        text_content("esc\u{1b}[2J nul\0 ff\u{c} \u{fffe}\u{ffff} ok\u{fffd}\u{10000}"),
        "esc\\u{1b}[2J nul\\0 ff\\u{c} \\u{fffe}\\u{ffff} ok\u{fffd}\u{10000}"
    );
}

#[test]
fn exception_lines_and_types_come_from_the_traceback() {
    let tb = "Traceback (most recent call last):\n  File \"x\", line 1\n    raise E\n\
              testtools.matchers._impl.MismatchError: 'a' != 'b'\n\n";
    let line = exception_line(tb).unwrap();
    assert_eq!(line, "testtools.matchers._impl.MismatchError: 'a' != 'b'");
    assert_eq!(
        exception_type(line),
        Some("testtools.matchers._impl.MismatchError")
    );
    assert_eq!(exception_type("RuntimeError"), Some("RuntimeError"));
    assert_eq!(exception_type("tests/test_x.py:3: AssertionError"), None);
    assert_eq!(exception_line("   \n"), None);
}

//! The FAIL block printed for each failing test, as the Python testr prints it.

use std::io::{self, Write};

use super::escape_controls;
use crate::model::{Attachment, Profile, TestResult};

const HEAVY_RULE: &str = "======================================================================";
const LIGHT_RULE: &str = "----------------------------------------------------------------------";
/// The attachment drawn last, after the others, as testtools does.
const TRACEBACK: &str = "traceback";

/// Writes one FAIL block: the id, the tags (sorted; none when empty), the
/// profile when it is not the empty one, then the attachments. The id,
/// tags and profile come from the stream and are shown escaped; the
/// attachments are the test's own output (a traceback may be coloured)
/// and are written as they are, as the Python testr does.
pub fn write_failure(
    out: &mut dyn Write,
    result: &TestResult,
    profile: &Profile,
) -> io::Result<()> {
    writeln!(out, "{HEAVY_RULE}")?;
    writeln!(out, "FAIL: {}", escape_controls(result.id.as_str()))?;
    if !result.tags.is_empty() {
        writeln!(out, "tags: {}", escape_controls(&result.tags.join(" ")))?;
    }
    if !profile.is_empty() {
        writeln!(out, "profile: {}", escape_controls(&profile.to_string()))?;
    }
    writeln!(out, "{LIGHT_RULE}")?;
    out.write_all(details_text(&result.attachments).as_bytes())
}

/// Renders attachments the way testtools renders a test's details: binary
/// and empty ones by name, short text inline as `name: {{{text}}}`, and the
/// traceback last.
fn details_text(attachments: &[Attachment]) -> String {
    let mut sorted: Vec<&Attachment> = attachments.iter().collect();
    sorted.sort_by(|a, b| a.name.cmp(&b.name));
    let mut binary = Vec::new();
    let mut empty = Vec::new();
    let mut texts = Vec::new();
    let mut traceback = None;
    for attachment in sorted {
        if !attachment.is_text() {
            let mime = attachment
                .mime_type
                .as_deref()
                .unwrap_or("application/octet-stream");
            binary.push(format!("  {} ({mime})\n", attachment.name));
            continue;
        }
        let text = String::from_utf8_lossy(&attachment.content);
        let text = text.trim();
        if text.is_empty() {
            empty.push(format!("  {}\n", attachment.name));
        } else if attachment.name == TRACEBACK {
            traceback = Some(format!("{text}\n"));
        } else if text.contains('\n') {
            texts.push(format!("{}: {{{{{{\n{text}\n}}}}}}\n", attachment.name));
        } else {
            texts.push(format!("{}: {{{{{{{text}}}}}}}", attachment.name));
        }
    }
    if texts.last().is_some_and(|t| !t.ends_with('\n')) {
        texts.push(String::new());
    }
    texts.extend(traceback);
    let mut out = String::new();
    if !binary.is_empty() {
        out.push_str("Binary content:\n");
        binary.iter().for_each(|line| out.push_str(line));
    }
    if !empty.is_empty() {
        out.push_str("Empty attachments:\n");
        empty.iter().for_each(|line| out.push_str(line));
    }
    if (!binary.is_empty() || !empty.is_empty()) && !texts.is_empty() {
        out.push('\n');
    }
    out.push_str(&texts.join("\n"));
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{Status, TestId};

    fn text(name: &str, content: &str) -> Attachment {
        Attachment {
            name: name.into(),
            mime_type: Some("text/plain; charset=utf8".into()),
            content: content.as_bytes().to_vec(),
        }
    }

    #[test]
    fn block_shows_tags_other_text_then_the_traceback() {
        let result = TestResult {
            id: TestId("pkg.T.test_x".into()),
            status: Status::Fail,
            started_at: None,
            stopped_at: None,
            tags: vec!["py311".into(), "worker-0".into()],
            route_code: None,
            attachments: vec![
                text("traceback", "Traceback:\n  boom\nError: x\n"),
                text("stdout", "hello"),
                Attachment {
                    name: "core".into(),
                    mime_type: None,
                    content: vec![0, 1],
                },
            ],
        };
        let mut out = Vec::new();
        write_failure(&mut out, &result, &Profile::default()).unwrap();
        let expected = format!(
            "{HEAVY_RULE}\nFAIL: pkg.T.test_x\ntags: py311 worker-0\n{LIGHT_RULE}\n\
             Binary content:\n  core (application/octet-stream)\n\n\
             stdout: {{{{{{hello}}}}}}\n\nTraceback:\n  boom\nError: x\n"
        );
        assert_eq!(String::from_utf8(out).unwrap(), expected);
    }

    #[test]
    fn the_id_tags_and_profile_are_shown_escaped() {
        let result = TestResult {
            id: TestId("pkg.T.test_\u{1b}[2J\r\nx".into()),
            status: Status::Fail,
            started_at: None,
            stopped_at: None,
            tags: vec!["a\u{7f}".into()],
            route_code: None,
            attachments: vec![],
        };
        let profile = Profile::new(["p\u{85}".to_owned()]);
        let mut out = Vec::new();
        write_failure(&mut out, &result, &profile).unwrap();
        let text = String::from_utf8(out).unwrap();
        assert!(
            text.contains(
                "FAIL: pkg.T.test_\\u{1b}[2J\\r\\nx\ntags: a\\u{7f}\nprofile: p\\u{85}\n"
            ),
            "{text}"
        );
    }
}

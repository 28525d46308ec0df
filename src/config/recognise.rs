//! Recognising a classic `test_command` that runs a Python unittest runner
//! testr understands, so that it runs on the shipped streaming worker
//! instead, with the same interpreter, environment and selection: one
//! process per worker instead of one per batch.
//!
//! Recognised: environment assignments, then an interpreter (`python`,
//! `python3.12`, a path to one, `$PYTHON`, `${PYTHON:-python}`) with
//! optional interpreter flags, then `-m` and one of the runners below,
//! then `discover` with its options and positional arguments or module,
//! package, class or test names, and `$LISTOPT $IDOPTION`.

use crate::shell::{self, Word};

use super::ClassicCommand;

/// The runners whose command line the shipped worker accepts.
const RUNNERS: &[&str] = &[
    "subunit.run",
    "testtools.run",
    "stestr.subunit_runner.run",
    "unittest",
];

/// Options of `discover` the worker takes, each with a value.
const DISCOVER_OPTIONS: &[&str] = &[
    "-s",
    "--start-directory",
    "-p",
    "--pattern",
    "-t",
    "--top-level-directory",
];

/// Interpreter flags that take no value and change nothing testr relies on.
const INTERPRETER_FLAGS: &[&str] = &["-u", "-b", "-bb", "-B", "-E", "-s", "-O", "-OO", "-q"];

/// Interpreter flags followed by a value (`-W error`, `-X dev`).
const INTERPRETER_OPTIONS: &[&str] = &["-W", "-X"];

/// What testr makes of a classic command.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Recognition {
    /// Runs on the shipped worker: this is its `worker_command`.
    Streamed { worker_command: String },
    /// Runs as classic batches. `reason` says why when the command looked
    /// like one testr streams but has something the worker does not take.
    Classic { reason: Option<String> },
}

/// Whether `classic` can run on the shipped worker, and how.
pub fn recognise(classic: &ClassicCommand) -> Recognition {
    match streamed_command(classic) {
        Ok(worker_command) => Recognition::Streamed { worker_command },
        Err(NotStreamed::Unrecognised) => Recognition::Classic { reason: None },
        Err(NotStreamed::Because(reason)) => Recognition::Classic {
            reason: Some(reason),
        },
    }
}

enum NotStreamed {
    /// Not a unittest runner's command line at all.
    Unrecognised,
    /// A runner's command line with something the worker does not take.
    Because(String),
}

fn streamed_command(classic: &ClassicCommand) -> Result<String, NotStreamed> {
    let words = shell::split(&classic.command).map_err(|_| NotStreamed::Unrecognised)?;
    let mut at = 0;
    while words.get(at).is_some_and(is_assignment) {
        at += 1;
    }
    let assignments = &words[..at];
    let interpreter = words.get(at).filter(|w| is_interpreter(w));
    let Some(interpreter) = interpreter else {
        return Err(NotStreamed::Unrecognised);
    };
    at += 1;
    let flags_start = at;
    while let Some(word) = words.get(at) {
        if INTERPRETER_FLAGS.iter().any(|f| word.is(f)) {
            at += 1;
        } else if INTERPRETER_OPTIONS.iter().any(|f| word.is(f)) {
            at += 2;
        } else if INTERPRETER_OPTIONS
            .iter()
            .any(|f| word.literal.as_deref().is_some_and(|l| l.starts_with(f)))
        {
            at += 1;
        } else {
            break;
        }
    }
    let flags = words
        .get(flags_start..at)
        .ok_or(NotStreamed::Unrecognised)?;
    if !words.get(at).is_some_and(|w| w.is("-m")) {
        return Err(NotStreamed::Unrecognised);
    }
    let runner = words
        .get(at + 1)
        .and_then(|w| w.literal.as_deref())
        .filter(|m| RUNNERS.contains(m))
        .ok_or(NotStreamed::Unrecognised)?;
    let arguments = runner_arguments(runner, &words[at + 2..])?;
    check_options(classic, runner)?;

    let mut command: Vec<&str> = assignments.iter().map(|w| w.raw.as_str()).collect();
    command.push(&interpreter.raw);
    command.extend(flags.iter().map(|w| w.raw.as_str()));
    command.extend(["$PYTHON_WORKER", "--worker"]);
    command.extend(arguments.iter().map(|w| w.raw.as_str()));
    Ok(command.join(" "))
}

/// The runner's arguments without `$LISTOPT` and `$IDOPTION`, checked to
/// be ones the worker takes.
fn runner_arguments<'a>(runner: &str, words: &'a [Word]) -> Result<Vec<&'a Word>, NotStreamed> {
    let is_placeholder =
        |w: &Word, name: &str| w.raw == format!("${name}") || w.raw == format!("${{{name}}}");
    let has = |name: &str| words.iter().any(|w| is_placeholder(w, name));
    if !has("LISTOPT") || !has("IDOPTION") {
        // It cannot list or select tests: it runs whole, as it is.
        return Err(NotStreamed::Unrecognised);
    }
    let arguments: Vec<&Word> = words
        .iter()
        .filter(|w| !is_placeholder(w, "LISTOPT") && !is_placeholder(w, "IDOPTION"))
        .collect();
    let unknown = |word: &Word| {
        NotStreamed::Because(format!(
            "test_command gives {runner} `{}`, which testr's worker does not take",
            word.raw
        ))
    };
    let mut rest = arguments.iter();
    if arguments.first().is_some_and(|w| w.is("discover")) {
        rest.next();
        let mut positional = 0;
        while let Some(word) = rest.next() {
            let text = word.literal.as_deref().unwrap_or("");
            if DISCOVER_OPTIONS.contains(&text) {
                rest.next().ok_or_else(|| unknown(word))?;
            } else if DISCOVER_OPTIONS
                .iter()
                .any(|o| o.starts_with("--") && text.starts_with(&format!("{o}=")))
            {
            } else if text.starts_with('-') {
                return Err(unknown(word));
            } else {
                positional += 1;
                if positional > 3 {
                    return Err(unknown(word));
                }
            }
        }
    } else {
        if arguments.is_empty() {
            return Err(NotStreamed::Unrecognised);
        }
        if let Some(option) = arguments
            .iter()
            .find(|w| w.literal.as_deref().is_some_and(|l| l.starts_with('-')))
        {
            return Err(unknown(option));
        }
    }
    Ok(arguments)
}

/// The keys that fill in `$LISTOPT` and `$IDOPTION` must be the runner's
/// own listing and selection options: the worker does both its own way.
fn check_options(classic: &ClassicCommand, runner: &str) -> Result<(), NotStreamed> {
    if let Some(option) = classic
        .list_option
        .as_deref()
        .filter(|o| o.trim() != "--list")
    {
        return Err(NotStreamed::Because(format!(
            "test_list_option is `{option}`, not {runner}'s `--list`"
        )));
    }
    if classic.list_option.is_none() || classic.id_option.is_none() {
        return Err(NotStreamed::Unrecognised);
    }
    if let Some(option) = classic.id_option.as_deref() {
        let known = ["--load-list $IDFILE", "$IDLIST"];
        if !known.contains(
            &option
                .split_whitespace()
                .collect::<Vec<_>>()
                .join(" ")
                .as_str(),
        ) {
            return Err(NotStreamed::Because(format!(
                "test_id_option is `{option}`, not `--load-list $IDFILE` or `$IDLIST`"
            )));
        }
    }
    if classic.id_list_default.is_some() {
        return Err(NotStreamed::Because(
            "test_id_list_default is set; the worker runs what it is given".to_owned(),
        ));
    }
    Ok(())
}

/// `NAME=value`.
fn is_assignment(word: &Word) -> bool {
    let raw = &word.raw;
    match raw.find('=') {
        Some(at) if at > 0 => {
            let name = &raw[..at];
            name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
                && !name.starts_with(|c: char| c.is_ascii_digit())
        }
        _ => false,
    }
}

/// A Python interpreter: a name or path such as `python3.12`, or the
/// `PYTHON` variable (`$PYTHON`, `${PYTHON}`, `${PYTHON:-python3}`).
fn is_interpreter(word: &Word) -> bool {
    let unquoted = word.raw.trim_matches('"');
    if unquoted == "$PYTHON" || unquoted == "${PYTHON}" {
        return true;
    }
    if let Some(default) = unquoted
        .strip_prefix("${PYTHON:-")
        .or_else(|| unquoted.strip_prefix("${PYTHON-"))
        .and_then(|rest| rest.strip_suffix('}'))
    {
        return is_python_name(default);
    }
    word.literal.as_deref().is_some_and(is_python_name)
}

fn is_python_name(path: &str) -> bool {
    let name = path.rsplit('/').next().unwrap_or(path);
    let Some(version) = name.strip_prefix("python") else {
        return false;
    };
    version
        .split('.')
        .all(|part| part.is_empty() || part.chars().all(|c| c.is_ascii_digit()))
        && !version.starts_with('.')
}

#[cfg(test)]
mod tests {
    use super::*;

    fn classic(command: &str) -> ClassicCommand {
        ClassicCommand {
            command: command.to_owned(),
            id_option: Some("--load-list $IDFILE".to_owned()),
            list_option: Some("--list".to_owned()),
            id_list_default: None,
        }
    }

    fn streamed(command: &str) -> String {
        match recognise(&classic(command)) {
            Recognition::Streamed { worker_command } => worker_command,
            other => panic!("{command}: {other:?}"),
        }
    }

    fn reason(classic: &ClassicCommand) -> Option<String> {
        match recognise(classic) {
            Recognition::Classic { reason } => reason,
            other => panic!("{}: {other:?}", classic.command),
        }
    }

    #[test]
    fn the_common_forms_stream_with_the_same_interpreter_and_environment() {
        assert_eq!(
            streamed("${PYTHON:-python} -m subunit.run discover -t . synth $LISTOPT $IDOPTION"),
            "${PYTHON:-python} $PYTHON_WORKER --worker discover -t . synth"
        );
        assert_eq!(
            streamed(
                "OS_STDOUT_CAPTURE=${OS_STDOUT_CAPTURE:-1} \\\n OS_TEST_TIMEOUT=60 \\\n \
                 ${PYTHON:-python} -m subunit.run discover -t ./ ${OS_TEST_PATH:-./nova/tests} \
                 $LISTOPT $IDOPTION"
            ),
            "OS_STDOUT_CAPTURE=${OS_STDOUT_CAPTURE:-1} OS_TEST_TIMEOUT=60 ${PYTHON:-python} \
             $PYTHON_WORKER --worker discover -t ./ ${OS_TEST_PATH:-./nova/tests}"
        );
        assert_eq!(
            streamed(
                "python3 -m testtools.run pkg.tests.test_a pkg.tests.test_b $LISTOPT $IDOPTION"
            ),
            "python3 $PYTHON_WORKER --worker pkg.tests.test_a pkg.tests.test_b"
        );
        assert_eq!(
            streamed(
                "/opt/venv/bin/python3.12 -W ignore -m stestr.subunit_runner.run discover \
                 -t \"./\" \"./pkg/tests\" $LISTOPT $IDOPTION"
            ),
            "/opt/venv/bin/python3.12 -W ignore $PYTHON_WORKER --worker discover -t \"./\" \
             \"./pkg/tests\""
        );
        assert_eq!(
            streamed("$PYTHON -m unittest discover -s tests -p 'test_*.py' $LISTOPT $IDOPTION"),
            "$PYTHON $PYTHON_WORKER --worker discover -s tests -p 'test_*.py'"
        );
        let mut ids = classic("python -m subunit.run $IDOPTION pkg $LISTOPT");
        ids.id_option = Some("$IDLIST".to_owned());
        assert!(matches!(recognise(&ids), Recognition::Streamed { .. }));
    }

    #[test]
    fn what_is_not_a_unittest_runner_stays_classic_without_a_word() {
        for command in [
            "./run-tests.sh $LISTOPT $IDOPTION",
            "python -m pytest $LISTOPT $IDOPTION",
            "python -m subunit.run discover | tee out $LISTOPT $IDOPTION",
            "python -m subunit.run discover",
            "cd tests && python -m subunit.run discover $LISTOPT $IDOPTION",
            "pythonista -m subunit.run discover $LISTOPT $IDOPTION",
            "coverage run -m subunit.run discover $LISTOPT $IDOPTION",
        ] {
            assert_eq!(reason(&classic(command)), None, "{command}");
        }
    }

    #[test]
    fn a_runner_with_options_the_worker_does_not_take_says_why() {
        let verbose = classic("python -m subunit.run discover -v . $LISTOPT $IDOPTION");
        assert_eq!(
            reason(&verbose).unwrap(),
            "test_command gives subunit.run `-v`, which testr's worker does not take"
        );
        let names = classic("python -m testtools.run --failfast pkg $LISTOPT $IDOPTION");
        assert!(reason(&names).unwrap().contains("`--failfast`"));
        let mut list = classic("python -m subunit.run discover $LISTOPT $IDOPTION");
        list.list_option = Some("--list-tests".to_owned());
        assert_eq!(
            reason(&list).unwrap(),
            "test_list_option is `--list-tests`, not subunit.run's `--list`"
        );
        let mut ids = classic("python -m subunit.run discover $LISTOPT $IDOPTION");
        ids.id_list_default = Some("smoke".to_owned());
        assert!(reason(&ids).unwrap().contains("test_id_list_default"));
    }
}

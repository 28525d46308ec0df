//! Shell commands from `.testr.conf` templates: the Python testr's
//! `$IDOPTION`, `$IDFILE`, `$IDLIST` and `$LISTOPT`, and testr's own
//! `$PROFILE`, `$PYTHON_WORKER` and `$PYTEST_WORKER`, with every value
//! quoted for the shell.

use std::path::Path;

use super::python_worker::Launchers;
use crate::config::ClassicCommand;
use crate::shell::quote;

/// What a template's variables stand for, besides the ids.
#[derive(Debug, Clone, Copy)]
pub struct Substitutions<'a> {
    /// The profile's name as written in `profiles` (empty when none).
    pub profile: &'a str,
    /// Where the shipped Python workers were written, if a command uses one.
    pub python_workers: Option<&'a Launchers>,
    /// Arguments given after `--`, appended to every command.
    pub extra_args: &'a [String],
}

/// The ids a classic command is to run.
#[derive(Debug, Clone, Copy)]
pub struct Ids<'a> {
    pub ids: &'a [String],
    /// The file that holds them one a line, for `$IDFILE`.
    pub file: &'a Path,
}

/// A long-lived worker's command.
pub fn worker(template: &str, subs: &Substitutions<'_>) -> String {
    finish(template.to_owned(), subs)
}

/// The classic command that lists the tests (`$LISTOPT` given, no ids).
pub fn classic_list(classic: &ClassicCommand, subs: &Substitutions<'_>) -> String {
    let command = classic
        .command
        .replace("$IDOPTION", "")
        .replace("$LISTOPT", classic.list_option.as_deref().unwrap_or(""));
    finish(command, subs)
}

/// The classic command that runs `ids`, or every test when `ids` is None
/// (then `test_id_list_default`, if set, stands for the ids).
pub fn classic_run(
    classic: &ClassicCommand,
    ids: Option<Ids<'_>>,
    subs: &Substitutions<'_>,
) -> String {
    let id_list = match ids {
        Some(ids) => ids
            .ids
            .iter()
            .map(|id| quote(id))
            .collect::<Vec<_>>()
            .join(" "),
        None => classic.id_list_default.clone().unwrap_or_default(),
    };
    let given = ids.is_some() || classic.id_list_default.is_some();
    let id_option = match (&classic.id_option, given) {
        (Some(option), true) => option.as_str(),
        _ => "",
    };
    let id_file = ids.map(|ids| quote(&ids.file.to_string_lossy()).into_owned());
    let command = classic
        .command
        .replace("$IDOPTION", id_option)
        .replace("$IDFILE", id_file.as_deref().unwrap_or(""))
        .replace("$IDLIST", &id_list)
        .replace("$LISTOPT", "");
    finish(command, subs)
}

/// Substitutes testr's own variables and appends the extra arguments.
fn finish(command: String, subs: &Substitutions<'_>) -> String {
    let mut command = command.replace("$PROFILE", &quote(subs.profile));
    if let Some(launchers) = subs.python_workers {
        for (variable, path) in [
            (PYTHON_WORKER, &launchers.unittest),
            (PYTEST_WORKER, &launchers.pytest),
        ] {
            command = command.replace(variable, &quote(&path.to_string_lossy()));
        }
    }
    for arg in subs.extra_args {
        command.push(' ');
        command.push_str(&quote(arg));
    }
    command
}

/// The variable that stands for the shipped unittest worker's launcher.
pub const PYTHON_WORKER: &str = "$PYTHON_WORKER";

/// The variable that stands for the shipped pytest worker's launcher.
pub const PYTEST_WORKER: &str = "$PYTEST_WORKER";

/// Whether a template uses one of the shipped Python workers.
pub fn uses_python_worker(template: &str) -> bool {
    template.contains(PYTHON_WORKER) || template.contains(PYTEST_WORKER)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn classic(command: &str, id_option: Option<&str>) -> ClassicCommand {
        ClassicCommand {
            command: command.to_owned(),
            id_option: id_option.map(str::to_owned),
            list_option: Some("--list".to_owned()),
            id_list_default: None,
        }
    }

    const NO_SUBS: Substitutions<'static> = Substitutions {
        profile: "",
        python_workers: None,
        extra_args: &[],
    };

    #[test]
    fn classic_substitutions() {
        let c = classic("run $LISTOPT $IDOPTION", Some("--load-list $IDFILE"));
        assert_eq!(classic_list(&c, &NO_SUBS), "run --list ");
        let ids = ["a.b".to_owned(), "c d".to_owned()];
        let file = Path::new("/tmp/x y/ids");
        let run = classic_run(&c, Some(Ids { ids: &ids, file }), &NO_SUBS);
        assert_eq!(run, "run  --load-list '/tmp/x y/ids'");
        let c = classic("run $IDOPTION", Some("$IDLIST"));
        let run = classic_run(&c, Some(Ids { ids: &ids, file }), &NO_SUBS);
        assert_eq!(run, "run a.b 'c d'");
        assert_eq!(classic_run(&c, None, &NO_SUBS), "run ");
        let mut c = classic("run $IDOPTION", Some("--ids $IDLIST"));
        c.id_list_default = Some("smoke".into());
        assert_eq!(classic_run(&c, None, &NO_SUBS), "run --ids smoke");
    }

    #[test]
    fn profile_worker_and_extra_arguments() {
        let launchers = Launchers {
            unittest: "/tmp/w.py".into(),
            pytest: "/tmp/p.py".into(),
        };
        let extra = ["-v".to_owned(), "a b".to_owned()];
        let subs = Substitutions {
            profile: "py311,sqlite",
            python_workers: Some(&launchers),
            extra_args: &extra,
        };
        assert_eq!(
            worker("${PYTHON:-python3} $PYTHON_WORKER --tag=$PROFILE", &subs),
            "${PYTHON:-python3} /tmp/w.py --tag=py311,sqlite -v 'a b'"
        );
        assert!(uses_python_worker("x $PYTHON_WORKER"));
        assert_eq!(
            worker("python3 $PYTEST_WORKER --worker -k 'a b'", &subs),
            "python3 /tmp/p.py --worker -k 'a b' -v 'a b'"
        );
        assert!(uses_python_worker("x $PYTEST_WORKER"));
    }
}

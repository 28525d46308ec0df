//! `testr list-tests`: the tests the test command lists (filtered), one a
//! line for one profile, or as JSON for every selected profile.

use serde::Serialize;

use super::{Context, Error, select};
use crate::cli::ListTestsArgs;
use crate::exit_codes;
use crate::repo;
use crate::report::json::{self, ProfilesDoc};
use crate::runner::{self, Order, RunEvent, RunSpec, Selection};

/// `list-tests --json`: the records are those `run --load-list-json` reads.
#[derive(Debug, Serialize)]
struct ListTestsDoc {
    version: u32,
    tests: Vec<ListedTest>,
}

#[derive(Debug, Serialize)]
struct ListedTest {
    id: String,
    profile: Vec<String>,
}

pub fn run(ctx: &mut Context<'_>, args: &ListTestsArgs) -> anyhow::Result<u8> {
    let config = select::load_config(ctx)?;
    if args.profiles {
        let configured = config.profiles();
        if args.json {
            let profiles = configured
                .iter()
                .map(|p| json::profile_tags(&p.tags))
                .collect();
            json::write_json(
                ctx.stdout,
                &ProfilesDoc {
                    version: json::VERSION,
                    profiles,
                },
            )?;
        } else {
            for profile in configured {
                writeln!(ctx.stdout, "{}", profile.name)?;
            }
        }
        return Ok(exit_codes::SUCCESS);
    }
    let profiles = select::chosen_profiles(&config, &args.profile, None)?;
    if profiles.len() > 1 && !args.json {
        return Err(Error::SeveralConfiguredProfiles {
            known: profiles
                .iter()
                .map(|p| p.name.as_str())
                .collect::<Vec<_>>()
                .join(", "),
        }
        .into());
    }
    let spec = RunSpec {
        project: ctx.project.to_owned(),
        profiles: profiles.clone().into(),
        concurrency: 1,
        selection: {
            let (filters, exclusions) =
                select::regex_selection(&args.tests.filters, &args.regexes)?;
            Selection {
                filters,
                exclusions,
                ..Selection::default()
            }
        },
        extra_args: args.tests.extra_args.clone(),
        plan: None,
        order: Order::default(),
        cache_dir: repo::cache_dir(ctx.project),
    };
    let listed = list(ctx, spec)?;
    if args.json {
        let tests = profiles
            .iter()
            .zip(listed)
            .flat_map(|(run, ids)| {
                let profile = json::profile_tags(&run.tags);
                ids.into_iter().map(move |id| ListedTest {
                    id,
                    profile: profile.clone(),
                })
            })
            .collect();
        json::write_json(
            ctx.stdout,
            &ListTestsDoc {
                version: json::VERSION,
                tests,
            },
        )?;
    } else {
        for id in listed.into_iter().flatten() {
            writeln!(ctx.stdout, "{id}")?;
        }
    }
    Ok(exit_codes::SUCCESS)
}

/// The selected tests of each profile of `spec`, in its order; what the
/// listing processes say on stderr shows on ours.
pub(super) fn list(ctx: &mut Context<'_>, spec: RunSpec) -> anyhow::Result<Vec<Vec<String>>> {
    let listed = runner::list(spec, |batch| {
        for event in batch {
            // Listing writes no results; what a lister says on stderr shows.
            let _ = match event {
                RunEvent::Stderr(bytes) => ctx.stderr.write_all(&bytes),
                RunEvent::Notice(notice) => writeln!(ctx.stderr, "testr: {notice}"),
                _ => Ok(()),
            };
        }
    })?;
    Ok(listed)
}

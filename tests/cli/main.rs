//! Integration tests of the testr binary: one test binary, driven through a
//! small harness (a temporary project, arguments, stdin, expected output).

mod bad_input;
mod end_to_end;
mod existing_projects;
mod harness;
mod history;
mod id_file;
mod import;
mod interop;
mod json;
mod junit;
mod lifecycle;
mod load;
mod plan;
mod plan_profiles;
mod profiles;
mod pytest_project;
mod queries;
mod read_only;
mod reliability;
mod run;
mod run_files;
mod shown_ids;
mod snapshots;
mod stestr_options;
mod stored_as_it_goes;
mod trace;

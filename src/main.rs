//! The `testr` binary: everything lives in the library.

fn main() -> std::process::ExitCode {
    testr::run(std::env::args_os())
}

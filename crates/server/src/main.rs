//! `pregon`: see `pregon --help`.

fn main() -> std::process::ExitCode {
    pregon::cli::run()
}

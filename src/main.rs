//! The `integration-connector` binary: see `cli.rs` for commands and exit codes.

fn main() -> std::process::ExitCode {
    integration_connector::cli::main()
}

//! The `integration-connector` binary: see `cli.rs` for commands and exit codes.

fn main() -> std::process::ExitCode {
    // glibc gives each thread that allocates its own arena; with the runtime's worker
    // threads that fragmented memory during long imports (peak RSS grew with directory
    // size). Two arenas keep it flat at no measurable cost (README "Benchmarks").
    // SAFETY: called before any other thread exists. (musl has no arenas to limit.)
    #[cfg(target_env = "gnu")]
    unsafe {
        libc::mallopt(libc::M_ARENA_MAX, 2);
    }
    integration_connector::cli::main()
}

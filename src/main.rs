//! The `integration-connector` binary: see `cli.rs` for commands and exit codes.

/// mimalloc: an import allocates and frees a few dozen small buffers per entry (BER
/// tags, values, JSON text); glibc's malloc took a third of the import thread's time
/// and musl's (the static .deb) is slower still. Built without transparent huge pages,
/// which tripled peak RSS (README "Benchmarks").
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> std::process::ExitCode {
    integration_connector::cli::main()
}

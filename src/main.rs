//! The `integration-connector` binary: see `cli.rs` for commands and exit codes.

// Imports allocate per attribute value; mimalloc measured ~x faster than glibc's malloc
// with two worker threads (see README "Benchmarks").
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> std::process::ExitCode {
    integration_connector::cli::main()
}

//! The `integration-connector` binary: see `commands.rs` for commands and exit codes.

/// mimalloc: an import allocates and frees a few dozen small buffers per entry (BER
/// tags, values, JSON text); glibc's malloc took a third of the import thread's time
/// and musl's (the static .deb) is slower still. Built without transparent huge pages,
/// which tripled peak RSS (README "Benchmarks").
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() {
    let code = integration_connector::commands::main();
    use std::io::Write;
    let _ = std::io::stdout().flush();
    let _ = std::io::stderr().flush();
    leave(code)
}

/// Ends the process without the C library's exit handlers: mimalloc's exit-time heap
/// collection can spin for ever while sled's I/O threads still run (seen: `queue list`
/// at 100 % CPU after `main` had returned). Everything durable was flushed and dropped
/// before this point, and the standard streams were flushed above.
#[cfg(unix)]
fn leave(code: u8) -> ! {
    // SAFETY: `_exit` only ends the process; no Rust state is used after it.
    unsafe { libc::_exit(i32::from(code)) }
}

#[cfg(not(unix))]
fn leave(code: u8) -> ! {
    std::process::exit(i32::from(code))
}

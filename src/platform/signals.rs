//! What asks the process to drain, as one stream of reasons.
//!
//! Unix: SIGTERM and SIGINT. Windows: Ctrl+C, Ctrl+Break, console close and system
//! shutdown when a console is attached (each may be missing in a service, which has
//! none), and the SCM's Stop and Shutdown, handed over by `src/service/` on a channel.
//! The first reason starts the drain, the second ends it at once (lifecycle.rs).

use std::io;

use tokio::sync::mpsc::UnboundedReceiver;

/// The stop requests of this process. Create it inside the tokio runtime.
pub struct StopRequests {
    /// Stop requests from a service manager that calls rather than signals (the SCM).
    manager: Option<UnboundedReceiver<&'static str>>,
    os: imp::OsSignals,
}

impl StopRequests {
    /// Listens to the OS signals, and to `manager` when a service manager hands them over.
    /// Errors when a signal handler cannot be installed (Unix only: on Windows a missing
    /// console is normal for a service).
    pub fn listen(manager: Option<UnboundedReceiver<&'static str>>) -> io::Result<StopRequests> {
        Ok(StopRequests { manager, os: imp::OsSignals::listen()? })
    }

    /// The next request, named for the log: "SIGTERM", "SIGINT", "service stop", …
    pub async fn next(&mut self) -> &'static str {
        let manager = async {
            match self.manager.as_mut() {
                Some(rx) => match rx.recv().await {
                    Some(why) => why,
                    // The service side is gone: only OS signals remain.
                    None => std::future::pending().await,
                },
                None => std::future::pending().await,
            }
        };
        tokio::select! {
            why = manager => why,
            why = self.os.next() => why,
        }
    }
}

#[cfg(unix)]
mod imp {
    use std::io;

    use tokio::signal::unix::{signal, Signal, SignalKind};

    pub struct OsSignals {
        term: Signal,
        int: Signal,
    }

    impl OsSignals {
        pub fn listen() -> io::Result<OsSignals> {
            Ok(OsSignals { term: signal(SignalKind::terminate())?, int: signal(SignalKind::interrupt())? })
        }

        pub async fn next(&mut self) -> &'static str {
            tokio::select! {
                _ = self.term.recv() => "SIGTERM",
                _ = self.int.recv() => "SIGINT",
            }
        }
    }
}

#[cfg(windows)]
mod imp {
    use std::io;

    use tokio::signal::windows::{
        ctrl_break, ctrl_c, ctrl_close, ctrl_shutdown, CtrlBreak, CtrlC, CtrlClose, CtrlShutdown,
    };

    pub struct OsSignals {
        c: Option<CtrlC>,
        brk: Option<CtrlBreak>,
        close: Option<CtrlClose>,
        shutdown: Option<CtrlShutdown>,
    }

    async fn wait<T>(
        signal: &mut Option<T>,
        recv: impl FnOnce(&mut T) -> futures_util::future::BoxFuture<'_, Option<()>>,
    ) {
        match signal.as_mut() {
            Some(s) => {
                if recv(s).await.is_none() {
                    std::future::pending::<()>().await
                }
            }
            None => std::future::pending::<()>().await,
        }
    }

    impl OsSignals {
        pub fn listen() -> io::Result<OsSignals> {
            Ok(OsSignals {
                c: ctrl_c().ok(),
                brk: ctrl_break().ok(),
                close: ctrl_close().ok(),
                shutdown: ctrl_shutdown().ok(),
            })
        }

        pub async fn next(&mut self) -> &'static str {
            use futures_util::FutureExt;
            tokio::select! {
                _ = wait(&mut self.c, |s| s.recv().boxed()) => "Ctrl+C",
                _ = wait(&mut self.brk, |s| s.recv().boxed()) => "Ctrl+Break",
                _ = wait(&mut self.close, |s| s.recv().boxed()) => "console close",
                _ = wait(&mut self.shutdown, |s| s.recv().boxed()) => "system shutdown",
            }
        }
    }
}

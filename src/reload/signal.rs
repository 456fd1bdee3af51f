//! SIGHUP, the reload request (`systemctl reload` sends it through the unit's
//! `ExecReload=/bin/kill -HUP $MAINPID`). Installing the handler also keeps SIGHUP's
//! default action (terminate) from stopping the connector.
//!
//! Windows has no SIGHUP: a reload there needs a restart of the service for now (the
//! service's control handler in `src/service/` does not take a "param change" control).

/// The reload requests of this process. Create it inside the tokio runtime.
pub struct Hangups(imp::Os);

impl Hangups {
    pub fn listen() -> std::io::Result<Hangups> {
        Ok(Hangups(imp::Os::listen()?))
    }

    /// Waits for the next request (for ever where there are none).
    pub async fn next(&mut self) {
        self.0.next().await
    }
}

#[cfg(unix)]
mod imp {
    use tokio::signal::unix::{signal, Signal, SignalKind};

    pub struct Os(Signal);

    impl Os {
        pub fn listen() -> std::io::Result<Os> {
            Ok(Os(signal(SignalKind::hangup())?))
        }

        pub async fn next(&mut self) {
            if self.0.recv().await.is_none() {
                std::future::pending::<()>().await;
            }
        }
    }
}

#[cfg(not(unix))]
mod imp {
    pub struct Os;

    impl Os {
        pub fn listen() -> std::io::Result<Os> {
            Ok(Os)
        }

        pub async fn next(&mut self) {
            std::future::pending::<()>().await
        }
    }
}

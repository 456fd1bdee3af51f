//! The Windows service: the SCM dispatcher for `service run`, `service install` and
//! `service uninstall`, and the recovery actions.
//!
//! Stop and Shutdown from the SCM become stop requests on the channel that
//! `platform::signals` reads, so the drain is SIGTERM's (lifecycle.rs); the drain's
//! progress reaches the SCM as STOP_PENDING with a new checkpoint and a wait hint of
//! `drain_grace` + 15 s (notify.rs, [`ScmSink`]).

use std::ffi::OsString;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::{Arc, OnceLock};
use std::time::Duration;

use windows_service::service::{
    ServiceAccess, ServiceAction, ServiceActionType, ServiceControl, ServiceControlAccept, ServiceErrorControl,
    ServiceExitCode, ServiceFailureActions, ServiceFailureResetPeriod, ServiceInfo, ServiceStartType, ServiceState,
    ServiceStatus, ServiceType,
};
use windows_service::service_control_handler::{self, ServiceControlHandlerResult, ServiceStatusHandle};
use windows_service::service_manager::{ServiceManager, ServiceManagerAccess};
use windows_service::{define_windows_service, service_dispatcher};

use super::{DISPLAY_NAME, SERVICE_NAME};
use crate::exit;
use crate::lifecycle::{self, Manager};
use crate::notify::{Notifier, StatusSink};

const DESCRIPTION: &str =
    "Lets the ServiceOps portal reach Active Directory and LDAP: dials out over HTTPS, runs jobs, delivers results.";

/// The config path of `service run --config FILE`, for the service main (the SCM passes
/// its own start arguments, not the command line).
static CONFIG: OnceLock<PathBuf> = OnceLock::new();

define_windows_service!(ffi_service_main, service_main);

pub fn run(config: &Path) -> u8 {
    let _ = CONFIG.set(config.to_path_buf());
    match service_dispatcher::start(SERVICE_NAME, ffi_service_main) {
        Ok(()) => exit::OK,
        Err(e) => {
            eprintln!(
                "`service run` is what the Windows service manager starts ({e}); to run in a console use `integration-connector run --config {}`",
                config.display()
            );
            exit::USAGE
        }
    }
}

/// The SCM side of the notifier: RUNNING, then STOP_PENDING with growing checkpoints.
#[derive(Debug)]
struct ScmSink {
    handle: ServiceStatusHandle,
    checkpoint: AtomicU32,
}

impl ScmSink {
    fn set(&self, state: ServiceState, accept: ServiceControlAccept, wait: Duration, code: ServiceExitCode) {
        let status = ServiceStatus {
            service_type: ServiceType::OWN_PROCESS,
            current_state: state,
            controls_accepted: accept,
            exit_code: code,
            checkpoint: self.checkpoint.fetch_add(1, Ordering::Relaxed),
            wait_hint: wait,
            process_id: None,
        };
        if let Err(e) = self.handle.set_service_status(status) {
            tracing::warn!(error = %e, "cannot report the service state to the service manager");
        }
    }
}

impl StatusSink for ScmSink {
    fn running(&self) {
        self.checkpoint.store(0, Ordering::Relaxed);
        let accept = ServiceControlAccept::STOP | ServiceControlAccept::SHUTDOWN;
        self.set(ServiceState::Running, accept, Duration::ZERO, ServiceExitCode::Win32(0));
    }

    fn stop_pending(&self, wait: Duration) {
        self.set(ServiceState::StopPending, ServiceControlAccept::empty(), wait, ServiceExitCode::Win32(0));
    }
}

fn service_main(_arguments: Vec<OsString>) {
    let (tx, rx) = tokio::sync::mpsc::unbounded_channel();
    let handler = move |control| match control {
        ServiceControl::Stop => {
            let _ = tx.send("service stop");
            ServiceControlHandlerResult::NoError
        }
        ServiceControl::Shutdown => {
            let _ = tx.send("system shutdown");
            ServiceControlHandlerResult::NoError
        }
        ServiceControl::Interrogate => ServiceControlHandlerResult::NoError,
        _ => ServiceControlHandlerResult::NotImplemented,
    };
    let handle = match service_control_handler::register(SERVICE_NAME, handler) {
        Ok(h) => h,
        Err(e) => {
            tracing::error!(error = %e, "cannot register with the service manager");
            return;
        }
    };
    let sink = Arc::new(ScmSink { handle, checkpoint: AtomicU32::new(1) });
    sink.set(
        ServiceState::StartPending,
        ServiceControlAccept::empty(),
        Duration::from_secs(30),
        ServiceExitCode::Win32(0),
    );
    let code = match CONFIG.get().map(|c| crate::cli::load(c)) {
        Some(Ok(settings)) => {
            // RUNNING as soon as the config is good: the MSI's StartServices waits for
            // RUNNING, and the queue's lock may take a moment to come free (the MSI's
            // `configure` just held it). Stop is accepted from here on: a request that
            // comes before the drain can listen waits in `rx`.
            sink.running();
            let notifier = Notifier::disabled().with_sink(sink.clone());
            let manager = Manager { stops: Some(rx), notifier, lock_patience: Duration::from_secs(20) };
            lifecycle::run_managed(settings, manager)
        }
        Some(Err(code)) => code,
        None => exit::USAGE,
    };
    let exit_code =
        if code == exit::OK { ServiceExitCode::Win32(0) } else { ServiceExitCode::ServiceSpecific(u32::from(code)) };
    sink.set(ServiceState::Stopped, ServiceControlAccept::empty(), Duration::ZERO, exit_code);
}

/// Restart 5 s after each of the first three failures in a day, also after a stop with
/// an error code (not only after a crash). A step the service manager refuses is
/// reported and the install goes on (Wine's refuses failure actions): verify with
/// `sc qfailure integration-connector` (packaging/windows/README.md).
///
/// Also rewrites the service's command line as [`service_info`] builds it: Wine's
/// msiexec registers the program path of a ServiceInstall row without quotes, so a path
/// with spaces ("C:\Program Files\…") would not start.
pub fn set_recovery(config: &Path) -> anyhow::Result<()> {
    let manager = ServiceManager::local_computer(None::<&str>, ServiceManagerAccess::CONNECT)?;
    let service = match manager.open_service(SERVICE_NAME, ServiceAccess::CHANGE_CONFIG | ServiceAccess::QUERY_CONFIG) {
        Ok(s) => s,
        // Not installed as a service (configure run by hand): nothing to set.
        Err(_) => return Ok(()),
    };
    service.change_config(&service_info(config)?)?;
    let restart = ServiceAction { action_type: ServiceActionType::Restart, delay: Duration::from_secs(5) };
    let steps: [(&str, windows_service::Result<()>); 3] = [
        ("description", service.set_description(DESCRIPTION)),
        (
            "failure actions",
            service.update_failure_actions(ServiceFailureActions {
                reset_period: ServiceFailureResetPeriod::After(Duration::from_secs(24 * 3600)),
                reboot_msg: None,
                command: None,
                actions: Some(vec![restart.clone(), restart.clone(), restart]),
            }),
        ),
        ("failure actions on non-crash failures", service.set_failure_actions_on_non_crash_failures(true)),
    ];
    for (step, result) in steps {
        match result {
            Ok(()) => println!("configure: {SERVICE_NAME}: {step} set"),
            Err(e) => eprintln!(
                "configure: WARNING: {SERVICE_NAME}: the service manager refused the {step} ({e}); set them with `sc failure {SERVICE_NAME} reset= 86400 actions= restart/5000/restart/5000/restart/5000`"
            ),
        }
    }
    Ok(())
}

/// The registration: automatic start, LocalSystem, `<this exe> service run --config <config>`.
fn service_info(config: &Path) -> anyhow::Result<ServiceInfo> {
    Ok(ServiceInfo {
        name: SERVICE_NAME.into(),
        display_name: DISPLAY_NAME.into(),
        service_type: ServiceType::OWN_PROCESS,
        start_type: ServiceStartType::AutoStart,
        error_control: ServiceErrorControl::Normal,
        executable_path: std::env::current_exe()?,
        launch_arguments: vec![
            "service".into(),
            "run".into(),
            "--config".into(),
            std::path::absolute(config)?.into_os_string(),
        ],
        dependencies: vec![],
        account_name: None,
        account_password: None,
    })
}

fn start(service: &windows_service::service::Service) -> anyhow::Result<()> {
    if let Err(e) = service.start::<&str>(&[]) {
        // Started already (Wine's manager starts an auto-start service on its own).
        let state = service.query_status()?.current_state;
        anyhow::ensure!(
            matches!(state, ServiceState::Running | ServiceState::StartPending),
            "cannot start {SERVICE_NAME}: {e}"
        );
    }
    Ok(())
}

pub fn install(config: &Path) -> u8 {
    match try_install(config) {
        Ok(()) => exit::OK,
        Err(e) => {
            eprintln!("service install: {e}");
            exit::FAILURE
        }
    }
}

fn try_install(config: &Path) -> anyhow::Result<()> {
    let config = std::path::absolute(config)?;
    let settings = crate::cli::load(&config).map_err(|_| anyhow::anyhow!("fix {} first", config.display()))?;
    crate::platform::perms::protect(&config, crate::platform::perms::Kind::Secret)?;
    std::fs::create_dir_all(&settings.queue.path)?;
    crate::platform::perms::protect(&settings.queue.path, crate::platform::perms::Kind::Folder)?;
    let manager = ServiceManager::local_computer(
        None::<&str>,
        ServiceManagerAccess::CONNECT | ServiceManagerAccess::CREATE_SERVICE,
    )?;
    let service =
        manager.create_service(&service_info(&config)?, ServiceAccess::START | ServiceAccess::QUERY_STATUS)?;
    set_recovery(&config)?;
    start(&service)?;
    println!("service install: {SERVICE_NAME} installed and started");
    Ok(())
}

pub fn uninstall() -> u8 {
    match try_uninstall() {
        Ok(()) => exit::OK,
        Err(e) => {
            eprintln!("service uninstall: {e}");
            exit::FAILURE
        }
    }
}

fn try_uninstall() -> anyhow::Result<()> {
    let manager = ServiceManager::local_computer(None::<&str>, ServiceManagerAccess::CONNECT)?;
    let access = ServiceAccess::QUERY_STATUS | ServiceAccess::STOP | ServiceAccess::DELETE;
    let service = manager.open_service(SERVICE_NAME, access)?;
    super::stop::stop_and_wait(&service)?;
    service.delete()?;
    println!("service uninstall: {SERVICE_NAME} removed (config and storage kept)");
    Ok(())
}

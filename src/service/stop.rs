//! `service stop`: stops the Windows service and waits, as the service manager's protocol
//! says, until it has drained and its process is gone.
//!
//! The MSI runs it before its own StopServices on uninstall and upgrade: Wine's
//! StopServices sends Stop and does not wait at all, Windows Installer's waits 30 s at
//! most, and a drain may take `drain_grace` + 15 s; a program file whose process still
//! runs cannot be removed (Wine leaves it behind, Windows wants a reboot).

use std::time::{Duration, Instant};

use windows_service::service::{Service, ServiceAccess, ServiceState};
use windows_service::service_manager::{ServiceManager, ServiceManagerAccess};
use windows_sys::Win32::Foundation::{CloseHandle, HANDLE, WAIT_OBJECT_0};
use windows_sys::Win32::System::Threading::{OpenProcess, WaitForSingleObject, PROCESS_SYNCHRONIZE};

use super::SERVICE_NAME;
use crate::exit;
use crate::notify::STOP_MARGIN;

/// The least time a stopping service gets to show progress: between the Stop control and
/// its first STOP_PENDING report the status still says RUNNING without a wait hint.
const LEAST_HINT: Duration = STOP_MARGIN;

pub fn run() -> u8 {
    match try_run() {
        Ok(()) => exit::OK,
        Err(e) => {
            eprintln!("service stop: {e}");
            exit::FAILURE
        }
    }
}

fn try_run() -> anyhow::Result<()> {
    let manager = ServiceManager::local_computer(None::<&str>, ServiceManagerAccess::CONNECT)?;
    let Ok(service) = manager.open_service(SERVICE_NAME, ServiceAccess::QUERY_STATUS | ServiceAccess::STOP) else {
        println!("service stop: {SERVICE_NAME} is not installed: nothing to stop");
        return Ok(());
    };
    stop_and_wait(&service)
}

/// Stops `service` (QUERY_STATUS and STOP access) unless it is stopped, then waits until
/// it reports STOPPED and its process has exited. While it stops, each new checkpoint
/// gives it its wait hint again (the drain reports `drain_grace` + 15 s and a new
/// checkpoint every 5 s: notify.rs); no progress within the hint is an error.
pub fn stop_and_wait(service: &Service) -> anyhow::Result<()> {
    let status = service.query_status()?;
    if status.current_state == ServiceState::Stopped {
        return Ok(());
    }
    // Opened before Stop, so the process id cannot be reused by another process meanwhile.
    let process = status.process_id.and_then(Process::open);
    if status.current_state != ServiceState::StopPending {
        println!("service stop: stopping {SERVICE_NAME} (running jobs get drain_grace to finish)");
        if let Err(e) = service.stop() {
            anyhow::ensure!(service.query_status()?.current_state == ServiceState::Stopped, "cannot stop it: {e}");
        }
    }
    let mut progress = (status.checkpoint, Instant::now());
    loop {
        let now = service.query_status()?;
        if now.current_state == ServiceState::Stopped {
            break;
        }
        if now.checkpoint != progress.0 {
            progress = (now.checkpoint, Instant::now());
        }
        let hint = now.wait_hint.max(LEAST_HINT);
        anyhow::ensure!(
            progress.1.elapsed() < hint,
            "{SERVICE_NAME} showed no progress stopping within its wait hint ({} s): see `sc query {SERVICE_NAME}` and its log",
            hint.as_secs()
        );
        std::thread::sleep(Duration::from_millis(200));
    }
    // The process outlives its last status report by a moment.
    if let Some(p) = process {
        anyhow::ensure!(p.wait(STOP_MARGIN), "{SERVICE_NAME} reported STOPPED but its process did not exit");
    }
    println!("service stop: {SERVICE_NAME} stopped");
    Ok(())
}

/// A process handle to wait on (SYNCHRONIZE access), closed on drop.
struct Process(HANDLE);

impl Process {
    fn open(pid: u32) -> Option<Process> {
        // SAFETY: OpenProcess takes no pointers; a null result means it failed.
        let handle = unsafe { OpenProcess(PROCESS_SYNCHRONIZE, 0, pid) };
        (!handle.is_null()).then_some(Process(handle))
    }

    /// Whether the process exited within `limit`.
    fn wait(&self, limit: Duration) -> bool {
        let ms = u32::try_from(limit.as_millis()).unwrap_or(u32::MAX);
        // SAFETY: the handle is open (closed only on drop).
        unsafe { WaitForSingleObject(self.0, ms) == WAIT_OBJECT_0 }
    }
}

impl Drop for Process {
    fn drop(&mut self) {
        // SAFETY: the handle came from OpenProcess and is closed once, here.
        unsafe { CloseHandle(self.0) };
    }
}

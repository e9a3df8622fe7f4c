//! Shutdown and power loss: how a run of the machine ends.
//!
//! * [`System::shutdown`] ends it as Windows shuts down: every process exits (§6.4: views
//!   unmapped, dirty bits captured, handles closed), every modified page of every file is
//!   written (the writers write everything at shutdown, nt_internals §4.6 `mm/shutdown.c`;
//!   cached `WriteFile` data included, §8), and every file is flushed, so its data and size are
//!   durable (host-volume files are `fsync`ed). Pagefile contents are discarded, as Windows
//!   discards them. A page that cannot be written is reported, never dropped silently.
//!   `Drop for System` shuts down when the system has not been shut down since its last
//!   process was created.
//! * [`System::crash`] is a power loss: every process, everything in memory and everything not
//!   durable is lost, and a new machine starts on what survived.

use crate::system::{System, SystemConfig, Volume};
use crate::win32::Win32Error;
use ntmm_vmm::{AsId, NtStatus, StoreError};
use std::fmt;
use std::sync::atomic::{AtomicBool, Ordering};

/// Where a system is in its life (for `Drop`).
#[derive(Debug, Default)]
pub(crate) struct Lifecycle {
    /// Shut down, and no process created since.
    shut_down: AtomicBool,
    /// Lost in a power loss: nothing may be written any more.
    crashed: AtomicBool,
}

impl Lifecycle {
    /// A process was created: a shutdown is due again.
    pub(crate) fn running(&self) {
        self.shut_down.store(false, Ordering::Relaxed);
    }
}

/// What a shutdown did.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ShutdownReport {
    /// Processes that exited.
    pub processes_exited: usize,
    /// File pages written.
    pub file_pages_written: u64,
    /// Files flushed (made durable).
    pub files_flushed: usize,
}

/// Something a shutdown or a power loss could not do.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ShutdownFailure {
    /// A process could not exit.
    Process {
        /// The process.
        pid: AsId,
        /// Why.
        error: Win32Error,
    },
    /// A file's page, or its flush (no page), could not be written.
    File {
        /// The file's name in the volume.
        file: String,
        /// The page (`None`: the flush or size change of the whole file).
        page: Option<u64>,
        /// The I/O status.
        status: NtStatus,
    },
}

impl ShutdownFailure {
    fn file(file: &str, e: &StoreError) -> Self {
        let page =
            matches!(e.op, ntmm_vmm::StoreOp::Read | ntmm_vmm::StoreOp::Write).then_some(e.page);
        ShutdownFailure::File {
            file: file.to_string(),
            page,
            status: e.status,
        }
    }
}

impl fmt::Display for ShutdownFailure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ShutdownFailure::Process { pid, error } => {
                write!(f, "process {} could not exit: {error}", pid.raw())
            }
            ShutdownFailure::File {
                file,
                page: Some(p),
                status,
            } => write!(f, "file {file:?} page {p} could not be written: {status}"),
            ShutdownFailure::File {
                file,
                page: None,
                status,
            } => write!(f, "file {file:?} could not be flushed: {status}"),
        }
    }
}

/// A shutdown that could not write everything: what failed, and what was done.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("shutdown could not write everything: {}", list(.failures))]
pub struct ShutdownError {
    /// What could not be done.
    pub failures: Vec<ShutdownFailure>,
    /// What was done.
    pub report: ShutdownReport,
}

fn list(failures: &[ShutdownFailure]) -> String {
    failures
        .iter()
        .map(ToString::to_string)
        .collect::<Vec<_>>()
        .join("; ")
}

/// What a power loss kept.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct CrashReport {
    /// Files of the volume the machine knew, each back at its durable contents and size.
    pub files_kept: usize,
    /// Files whose durable contents could not be put back (a host I/O error).
    pub failures: Vec<ShutdownFailure>,
}

impl System {
    /// Shuts the machine down as Windows does: every process exits, every modified file page
    /// is written, every file is made durable. Idempotent. Err if anything could not be
    /// written (each failure names the file, the page and the NTSTATUS); everything else is
    /// still done.
    pub fn shutdown(&self) -> Result<ShutdownReport, ShutdownError> {
        let mut report = ShutdownReport::default();
        let mut failures = Vec::new();
        for pid in self.processes() {
            match self.exit_process(pid) {
                Ok(()) => report.processes_exited += 1,
                Err(error) => failures.push(ShutdownFailure::Process { pid, error }),
            }
        }
        let files: Vec<(String, ntmm_section::StreamId)> = self
            .om
            .lock()
            .files
            .values()
            .map(|e| (e.name.clone(), e.stream))
            .collect();
        for (key, stream) in files {
            match self.ex.write_back_file(stream) {
                Ok((written, errors)) => {
                    report.file_pages_written += written;
                    if errors.is_empty() {
                        report.files_flushed += 1;
                    }
                    failures.extend(errors.iter().map(|e| ShutdownFailure::file(&key, e)));
                }
                Err(e) => failures.push(ShutdownFailure::File {
                    file: key,
                    page: None,
                    status: e.status(),
                }),
            }
        }
        self.lifecycle.shut_down.store(true, Ordering::Relaxed);
        tracing::debug!(?report, failures = failures.len(), "shutdown");
        if failures.is_empty() {
            Ok(report)
        } else {
            Err(ShutdownError { failures, report })
        }
    }

    /// A power loss: every process, everything in memory and everything not durable is lost;
    /// a new machine (same configuration, same volume) starts on what survived: memory-volume
    /// files with their durable contents and sizes, host-volume files restored on the host to
    /// theirs. File names survive as they were (the directory is treated as journaled).
    pub fn crash(self) -> Result<(System, CrashReport), Win32Error> {
        self.lifecycle.crashed.store(true, Ordering::Relaxed);
        // The machine that starts again has no injected faults (io_faults).
        self.heal();
        let config = SystemConfig {
            vmm: self.ex.vmm().config(),
            volume: self.volume.clone(),
        };
        let names: Vec<(ntmm_section::StreamId, String)> = self
            .om
            .lock()
            .files
            .values()
            .map(|e| (e.stream, e.name.clone()))
            .collect();
        let mut stores = self.ex.power_loss();
        let subscribers = self.events.list.all();
        drop(self);
        let mut report = CrashReport::default();
        let mut survivors = Vec::new();
        for (stream, key) in names {
            let Some(i) = stores.iter().position(|(s, _)| *s == stream) else {
                continue;
            };
            let (_, mut store) = stores.swap_remove(i);
            match store.crash() {
                Ok(()) => report.files_kept += 1,
                Err(e) => report.failures.push(ShutdownFailure::file(&key, &e)),
            }
            survivors.push((key, store));
        }
        let sys = System::new(config)?;
        for s in subscribers {
            sys.subscribe(s);
        }
        if sys.volume == Volume::Memory {
            for (key, store) in survivors {
                sys.attach_volume_file(&key, store)?;
            }
        }
        tracing::debug!(?report, "power lost; machine restarted");
        Ok((sys, report))
    }
}

impl Drop for System {
    fn drop(&mut self) {
        if self.lifecycle.crashed.load(Ordering::Relaxed)
            || self.lifecycle.shut_down.load(Ordering::Relaxed)
        {
            return;
        }
        if std::thread::panicking() {
            // The state may be half-changed by the panic; a shutdown could panic again.
            tracing::error!("system dropped while panicking: not shut down");
            return;
        }
        if let Err(e) = self.shutdown() {
            tracing::error!(%e, "shutdown of a dropped system");
        }
    }
}

//! Injected I/O faults: every file of the volume and the pagefile sit behind a fault-injecting
//! store ([`ntmm_vmm::FaultyStore`]) whose plan can be set later, by the file's name (SCENARIO.md,
//! additions of 2026-11-30, "I/O faults").
//!
//! * An injected failure completes the I/O with `STATUS_DEVICE_DATA_ERROR` and changes nothing
//!   in the store. It surfaces where Windows surfaces a failed paging I/O: a failed page read
//!   on an access raises `STATUS_IN_PAGE_ERROR` (nt_internals §3.4, §3.5: the in-page error is the
//!   fault's result), a failed read under `ReadFile` fails the call with the I/O's status
//!   (`ERROR_CRC`), and a failed write leaves the page modified, so `FlushViewOfFile` fails and
//!   a later flush or writer run, once healed, writes it (§4.6 `MiWriteComplete`: on error the
//!   page is modified again; §5.2).
//! * `expect disk` (and [`System::read_disk`]) inspects the store without the plan: it neither
//!   fails nor uses up an armed fault.
//! * A power loss ([`System::crash`]) heals every fault: the machine that starts again has none.
//! * A shutdown with a persistent write fault still set cannot write that page: the shutdown
//!   reports the file, the page and the status (a failure of the run), and the page's data,
//!   never on the disk, goes with the machine. Nothing is dropped without that report.

use crate::dos_path::FileName;
use crate::system::System;
use crate::win32::*;
use ntmm_section::StreamId;
use ntmm_vmm::{BackingStore, FaultDuration, FaultPlan, FaultyStore, StoreOp};
use parking_lot::Mutex;
use std::collections::BTreeMap;

/// The fault plans of a system: the pagefile's and each file stream's.
#[derive(Debug, Default)]
pub(crate) struct IoFaults {
    pagefile: FaultPlan,
    files: Mutex<BTreeMap<StreamId, FaultPlan>>,
}

impl IoFaults {
    /// The plans of a system whose pagefile lives in `store`: returns them and the wrapped
    /// store to hand to the machine.
    pub(crate) fn with_pagefile(store: Box<dyn BackingStore>) -> (Self, Box<dyn BackingStore>) {
        let (store, pagefile) = FaultyStore::new(store);
        pagefile.set_label("the pagefile");
        (
            IoFaults {
                pagefile,
                files: Mutex::default(),
            },
            Box::new(store),
        )
    }

    /// Wraps the store of the file `name`; register the plan with [`IoFaults::register`] once
    /// the stream exists.
    pub(crate) fn wrap(
        name: &FileName,
        store: Box<dyn BackingStore>,
    ) -> (Box<dyn BackingStore>, FaultPlan) {
        let (store, plan) = FaultyStore::new(store);
        plan.set_label(&format!("file {:?}", name.display()));
        (Box::new(store), plan)
    }

    /// Records the plan of a new stream.
    pub(crate) fn register(&self, stream: StreamId, plan: FaultPlan) {
        self.files.lock().insert(stream, plan);
    }

    /// Forgets a deleted stream's plan.
    pub(crate) fn forget(&self, stream: StreamId) {
        self.files.lock().remove(&stream);
    }

    /// The plan of a stream.
    pub(crate) fn plan(&self, stream: StreamId) -> Option<FaultPlan> {
        self.files.lock().get(&stream).cloned()
    }

    /// Clears every plan; returns how many armed faults were cleared.
    pub(crate) fn heal(&self) -> usize {
        self.pagefile.clear()
            + self
                .files
                .lock()
                .values()
                .map(FaultPlan::clear)
                .sum::<usize>()
    }
}

/// A page I/O a fault can be injected into.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum IoKind {
    /// A page read (a hard fault, a read under `ReadFile`).
    Read,
    /// A page write (a writer, a flush, a shutdown).
    Write,
}

impl IoKind {
    fn op(self) -> StoreOp {
        match self {
            IoKind::Read => StoreOp::Read,
            IoKind::Write => StoreOp::Write,
        }
    }
}

impl System {
    /// `fail read|write "NAME" page N [always]`: the next `kind` I/O of page `page` of the file
    /// `path` fails (with [`FaultDuration::UntilCleared`], every one until [`System::heal`]).
    /// A file that does not exist is `ERROR_FILE_NOT_FOUND`.
    pub fn inject_file_fault(
        &self,
        path: &str,
        kind: IoKind,
        page: u64,
        duration: FaultDuration,
    ) -> Result<(), Win32Error> {
        let mut om = self.om.lock();
        let (name, e) = self.existing_file(&mut om, path)?;
        let plan = self
            .faults
            .plan(e.stream)
            .ok_or(Win32Error(ERROR_FILE_NOT_FOUND))?;
        plan.fail_page(kind.op(), Some(page), duration);
        tracing::debug!(file = %name.display(), ?kind, page, ?duration, "I/O fault armed");
        Ok(())
    }

    /// `fail read|write pagefile [always]`: the next `kind` I/O of the pagefile (any page)
    /// fails (with [`FaultDuration::UntilCleared`], every one until [`System::heal`]).
    pub fn inject_pagefile_fault(&self, kind: IoKind, duration: FaultDuration) {
        self.faults.pagefile.fail_page(kind.op(), None, duration);
        tracing::debug!(?kind, ?duration, "pagefile I/O fault armed");
    }

    /// `heal`: clears every pending and persistent injected fault, of every file and of the
    /// pagefile. Returns how many were cleared. Pages whose writes failed are still modified;
    /// the next flush or writer run writes them.
    pub fn heal(&self) -> usize {
        self.faults.heal()
    }

    /// Runs `f` with the plan of `stream` suspended (an inspection of the disk).
    pub(crate) fn unchecked<R>(&self, stream: StreamId, f: impl FnOnce() -> R) -> R {
        match self.faults.plan(stream) {
            Some(plan) => plan.unchecked(f),
            None => f(),
        }
    }
}

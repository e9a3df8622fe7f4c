//! The modified page writer (to the pagefile) and the mapped page writer (to files),
//! run deterministically (nt_internals §4.6 \[design\]).

use crate::addr::{Pfn, Slot};
use crate::id::StoreId;
use crate::machine::Machine;
use crate::pfn::PageLocation;
use crate::pte::{OriginalPte, PteRef};
use crate::segment::SegmentKind;
use crate::store::StoreError;

/// What a writer run did.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct WriterReport {
    /// Pages written to the pagefile.
    pub pagefile_pages: u64,
    /// Pages written to files.
    pub file_pages: u64,
    /// Pages moved to the modified-no-write list.
    pub no_write_pages: u64,
    /// Writes that failed (each page stays modified; nothing is lost).
    pub errors: Vec<StoreError>,
    /// Whether pagefile-destined pages were left because the pagefile is full.
    pub pagefile_full: bool,
}

enum Target {
    Pagefile(Slot),
    File { store: StoreId, page: u64 },
}

impl Machine {
    /// Runs the mapped page writer, then the modified page writer.
    pub(crate) fn run_writers_internal(
        &mut self,
        trigger: crate::event::WriterTrigger,
    ) -> WriterReport {
        let mut report = self.run_mapped_page_writer(trigger);
        let pf = self.run_modified_page_writer(trigger);
        report.pagefile_pages = pf.pagefile_pages;
        report.pagefile_full = pf.pagefile_full;
        report.errors.extend(pf.errors);
        report
    }

    /// `MiModifiedPageWriter` (its gathering step, `MiGatherPagefilePages`): every
    /// pagefile-destined page of the modified list gets a slot
    /// and is written; it then sits on the standby list with the slot in its original PTE.
    pub(crate) fn run_modified_page_writer(
        &mut self,
        trigger: crate::event::WriterTrigger,
    ) -> WriterReport {
        let mut report = WriterReport::default();
        self.counters.writer_runs += 1;
        for pfn in self.pfn.list(PageLocation::Modified) {
            if !self.pfn.entry(pfn).original().is_pagefile_destined() {
                continue;
            }
            let Some(slot) = self.pagefile.allocate() else {
                report.pagefile_full = true;
                break;
            };
            match self.write_frame(pfn, Target::Pagefile(slot)) {
                Ok(()) => report.pagefile_pages += 1,
                Err(e) => report.errors.push(e),
            }
        }
        self.events.emit(crate::event::VmmEvent::WriterRan {
            writer: crate::event::Writer::ModifiedPageWriter,
            trigger,
            pages_written: report.pagefile_pages,
            failed: report.errors.len() as u64,
        });
        report
    }

    /// `MiMappedPageWriter` (its gathering step, `MiGatherMappedPages`): every file page of the
    /// modified list is written to its file at
    /// the offset given by its prototype PTE, unless its segment disables modified writing (then
    /// it moves to the modified-no-write list).
    pub(crate) fn run_mapped_page_writer(
        &mut self,
        trigger: crate::event::WriterTrigger,
    ) -> WriterReport {
        let mut report = WriterReport::default();
        self.counters.writer_runs += 1;
        for pfn in self.pfn.list(PageLocation::Modified) {
            let e = self.pfn.entry(pfn);
            let Some(PteRef::Proto(proto)) = e.pte() else {
                continue;
            };
            if e.original().is_pagefile_destined() {
                continue;
            }
            let Some(seg) = self.segments.get(&proto.segment) else {
                continue;
            };
            let SegmentKind::File { store } = seg.kind else {
                continue;
            };
            if seg.no_modified_writing {
                self.pfn.move_to_modified_no_write(pfn);
                report.no_write_pages += 1;
                continue;
            }
            match self.write_frame(
                pfn,
                Target::File {
                    store,
                    page: proto.index.raw(),
                },
            ) {
                Ok(()) => report.file_pages += 1,
                Err(e) => report.errors.push(e),
            }
        }
        self.events.emit(crate::event::VmmEvent::WriterRan {
            writer: crate::event::Writer::MappedPageWriter,
            trigger,
            pages_written: report.file_pages,
            failed: report.errors.len() as u64,
        });
        report
    }

    /// Writes one frame that is on the modified list or active: take a reference, clear
    /// `Modified`, write, and on completion (`MiWriteComplete`) drop the reference — the frame
    /// goes to standby, or back to modified if the write failed.
    fn write_frame(&mut self, pfn: Pfn, target: Target) -> Result<(), StoreError> {
        self.pfn.unlink_for_write(pfn);
        let e = self.pfn.entry_mut(pfn);
        e.reference_count += 1;
        e.set_modified(false);
        e.set_write_in_progress(true);
        let protection = e.original().protection();
        if let Target::Pagefile(slot) = target {
            e.set_original(OriginalPte::Pagefile { slot, protection });
        }
        let data = &self.memory.frame(&self.memory_right, pfn);
        let result = match target {
            Target::Pagefile(slot) => self.pagefile.write(slot, data),
            Target::File { store, page } => match self.stores.get_mut(&store) {
                Some(s) => s.write_page(page, data),
                None => Err(StoreError::new(
                    crate::store::StoreOp::Write,
                    page,
                    crate::status::NtStatus::STATUS_INVALID_PARAMETER,
                )),
            },
        };
        let e = self.pfn.entry_mut(pfn);
        e.set_write_in_progress(false);
        match &result {
            Ok(()) => match target {
                Target::Pagefile(_) => self.counters.pagefile_writes += 1,
                Target::File { .. } => self.counters.file_writes += 1,
            },
            Err(err) => {
                // Nothing is lost: the page is modified again and keeps no slot.
                e.set_modified(true);
                if let Target::Pagefile(slot) = target {
                    e.set_original(OriginalPte::DemandZero { protection });
                    self.pagefile.release(slot);
                }
                self.counters.io_errors += 1;
                tracing::warn!(pfn = pfn.raw(), %err, "page write failed; page stays modified");
                self.note_modified(pfn);
            }
        }
        let (io_target, page) = match target {
            Target::Pagefile(slot) => (crate::event::IoTarget::Pagefile, u64::from(slot.raw())),
            Target::File { store, page } => (crate::event::IoTarget::File(store), page),
        };
        self.events.emit(crate::event::VmmEvent::StoreIo {
            target: io_target,
            op: crate::store::StoreOp::Write,
            page,
            failed: result.as_ref().err().map(|e| e.status),
        });
        self.complete_write(pfn);
        result
    }

    /// Writes the modified frame `pfn` of a file segment to `store` page `page` (a flush).
    pub(crate) fn write_file_frame(
        &mut self,
        pfn: Pfn,
        store: StoreId,
        page: u64,
    ) -> Result<(), StoreError> {
        self.write_frame(pfn, Target::File { store, page })
    }
}

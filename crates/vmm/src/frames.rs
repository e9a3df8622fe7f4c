//! Frame allocation and the share/reference count decrements (nt_internals §4.2–§4.3, §4.7).
//!
//! Frames move between lists only through the named transitions of [`crate::pfn::PfnDatabase`];
//! the decrements here decide which list a frame leaves the working sets for (standby,
//! modified or free), and the taking of a frame decides which list it comes off.

use crate::addr::Pfn;
use crate::error::{Result, VmmError};
use crate::event::MoveReason;
use crate::machine::Machine;
use crate::pfn::PageLocation;
use crate::pte::{OriginalPte, ProtoPte, PteRef};

/// A frame taken off a list and not yet attached to a PTE: a move-only token, so a frame can
/// neither be attached twice nor forgotten without being given back.
///
/// ```compile_fail
/// fn dup(t: ntmm_vmm::frames::TakenFrame) -> (ntmm_vmm::frames::TakenFrame, ntmm_vmm::frames::TakenFrame) {
///     (t.clone(), t)
/// }
/// ```
#[derive(Debug)]
#[must_use = "a taken frame must be attached to a PTE or given back"]
pub struct TakenFrame(Pfn, PageLocation);

impl TakenFrame {
    /// The frame.
    pub fn pfn(&self) -> Pfn {
        self.0
    }
    /// The list it was taken from (`Standby`: it was repurposed).
    pub fn from(&self) -> PageLocation {
        self.1
    }
}

impl Machine {
    /// Takes a frame: `MiRemoveZeroPage` (zeroed, then free zeroed on demand, then standby)
    /// when `zeroed`, else `MiRemoveAnyPage` (free, zeroed, then standby). A standby frame is
    /// repurposed: its original PTE is written back first (§4.7). Callers make room first with
    /// `ensure_available`.
    pub(crate) fn take_frame(&mut self, zeroed: bool) -> Result<TakenFrame> {
        let taken = if zeroed {
            self.pfn.take_zeroed()
        } else {
            self.pfn.take_any()
        };
        let (pfn, from) = taken.ok_or(VmmError::NoFreeFrame)?;
        if from == PageLocation::Standby {
            self.restore_transition_pte(pfn);
        }
        let e = self.pfn.entry_mut(pfn);
        e.share_count = 0;
        e.reference_count = 0;
        e.set_modified(false);
        e.set_deleted(false);
        e.set_read_in_progress(false);
        e.set_write_in_progress(false);
        e.set_pte(None);
        if zeroed && from != PageLocation::Zeroed {
            self.memory.zero(&mut self.memory_right, pfn);
        }
        Ok(TakenFrame(pfn, from))
    }

    /// A demand-zero fault is about to take the head of the zeroed list, zeroed long ago and so
    /// likely out of the host's caches: prefetch the line its faulting access will store to
    /// (byte `offset` of the page), so that the miss overlaps the fault's bookkeeping. A hint
    /// only: which frame is taken, and everything observable, is unchanged.
    pub(crate) fn prefetch_zeroed_head(&self, offset: usize) {
        if let Some(pfn) = self.pfn.head(PageLocation::Zeroed) {
            self.memory.prefetch(pfn, offset);
        }
    }

    /// Gives back a frame that was taken but could not be used (e.g. its read failed).
    pub(crate) fn give_back(&mut self, frame: TakenFrame) {
        let pfn = frame.0;
        self.pfn.entry_mut(pfn).set_read_in_progress(false);
        self.pfn.move_to_free(pfn);
    }

    /// Attaches a taken frame to `pte` (`MiInitializePfn`): share 1, reference 1, active.
    pub(crate) fn attach_frame(
        &mut self,
        frame: TakenFrame,
        pte: PteRef,
        original: OriginalPte,
        modified: bool,
    ) -> Pfn {
        let pfn = frame.0;
        let e = self.pfn.entry_mut(pfn);
        e.share_count = 1;
        e.reference_count = 1;
        e.set_modified(modified);
        e.set_read_in_progress(false);
        e.set_pte(Some(pte));
        e.set_original(original);
        if modified {
            self.note_modified(pfn);
        }
        pfn
    }

    /// Records a modified prototype frame in its segment's dirty index.
    pub(crate) fn note_modified(&mut self, pfn: Pfn) {
        if let Some(PteRef::Proto(r)) = self.pfn.entry(pfn).pte() {
            if let Some(seg) = self.segments.get_mut(&r.segment) {
                seg.note_modified(r.index);
            }
        }
    }

    /// `MiRestoreTransitionPte`: the frame is being reused, so its PTE (process or prototype)
    /// gets the original PTE back; a prototype PTE's segment loses a PFN reference.
    fn restore_transition_pte(&mut self, pfn: Pfn) {
        let e = self.pfn.entry(pfn);
        let (pte, original) = (e.pte(), e.original());
        match pte {
            Some(PteRef::Proto(r)) => {
                if let Some(seg) = self.segments.get_mut(&r.segment) {
                    debug_assert_eq!(seg.get(r.index).pfn(), Some(pfn));
                    seg.set(r.index, original.to_proto());
                    seg.pfn_references -= 1;
                    if seg.is_reapable() {
                        self.deletion_queue.push(r.segment);
                    }
                }
            }
            Some(PteRef::Process { space, vpn }) => {
                if let Some(s) = self.spaces.get_mut(&space) {
                    s.page_table.set(vpn, original.to_process());
                }
            }
            None => {}
        }
        self.counters.repurposed += 1;
        self.events
            .emit(crate::event::VmmEvent::FrameRepurposed { pfn, pte, original });
    }

    /// Marks a frame modified (`MI_CAPTURE_DIRTY_BIT_TO_PFN`); a pagefile copy is now stale and
    /// its slot is released.
    pub(crate) fn mark_modified(&mut self, pfn: Pfn) {
        let e = self.pfn.entry_mut(pfn);
        e.set_modified(true);
        if let OriginalPte::Pagefile { slot, protection } = e.original() {
            e.set_original(OriginalPte::DemandZero { protection });
            self.pagefile.release(slot);
        }
        // An image page, once modified (a shared writable PE section), belongs to the pagefile:
        // image control areas are never written back to their file (nt_internals §4.6).
        if let (OriginalPte::Subsection { protection }, Some(PteRef::Proto(proto))) =
            (e.original(), e.pte())
        {
            if matches!(
                self.segments.get(&proto.segment).map(|s| s.kind),
                Some(crate::segment::SegmentKind::Image { .. })
            ) {
                self.pfn
                    .entry_mut(pfn)
                    .set_original(OriginalPte::DemandZero { protection });
            }
        }
        self.note_modified(pfn);
    }

    /// `MiDecrementShareCount`: one valid PTE less maps the frame. At zero, a prototype PTE goes
    /// to transition and the share reference is dropped.
    pub(crate) fn decrement_share_count(&mut self, pfn: Pfn) {
        let e = self.pfn.entry_mut(pfn);
        debug_assert!(e.share_count > 0, "share count underflow on {pfn:?}");
        e.share_count -= 1;
        if e.share_count > 0 {
            return;
        }
        let (pte, original, deleted) = (e.pte(), e.original(), e.deleted());
        if let (Some(PteRef::Proto(r)), false) = (pte, deleted) {
            if let Some(seg) = self.segments.get_mut(&r.segment) {
                seg.set(
                    r.index,
                    ProtoPte::Transition {
                        pfn,
                        protection: original.protection(),
                    },
                );
            }
        }
        self.pfn.move_to_transition(pfn);
        self.decrement_reference_count(pfn);
    }

    /// `MiDecrementReferenceCount`: at zero the frame goes to the free list (PTE gone), the
    /// modified list (modified), or the standby list.
    pub(crate) fn decrement_reference_count(&mut self, pfn: Pfn) {
        self.release_reference(pfn, MoveReason::LastReference);
    }

    /// The reference a page write held goes (`MiWriteComplete`, then
    /// `MiDecrementReferenceCount`): a frame nobody else holds goes to the standby list, now
    /// clean, or back to the modified list if it was modified again (or the write failed).
    pub(crate) fn complete_write(&mut self, pfn: Pfn) {
        self.release_reference(pfn, MoveReason::WriteCompleted);
    }

    fn release_reference(&mut self, pfn: Pfn, reason: MoveReason) {
        let e = self.pfn.entry_mut(pfn);
        debug_assert!(
            e.reference_count > 0,
            "reference count underflow on {pfn:?}"
        );
        e.reference_count -= 1;
        if e.reference_count > 0 {
            return;
        }
        let (deleted, modified) = (e.deleted(), e.modified());
        if deleted {
            self.free_deleted(pfn);
            return;
        }
        // A modified page of a no-write segment still goes to the modified list; the mapped
        // page writer moves it to the modified-no-write list (§4.2, MiGatherMappedPages).
        if modified {
            self.pfn.move_to_modified(pfn, reason);
        } else {
            self.pfn.move_to_standby(pfn, reason);
        }
    }

    /// Frees a frame whose PTE is gone: releases its pagefile slot and puts it on the free list.
    /// If it is on a list it is unlinked first. A frame still referenced (I/O) is only marked
    /// deleted; the last reference frees it.
    pub(crate) fn free_deleted(&mut self, pfn: Pfn) {
        let e = self.pfn.entry_mut(pfn);
        e.set_deleted(true);
        if e.reference_count > 0 {
            return;
        }
        let slot = e.original().slot();
        e.set_pte(None);
        e.set_modified(false);
        e.set_original(OriginalPte::DemandZero {
            protection: crate::protection::Protection::ZERO,
        });
        if let Some(slot) = slot {
            self.pagefile.release(slot);
        }
        self.pfn.move_to_free(pfn);
    }
}

//! Deleting regions and their PTEs: unmapping a view (`MiRemoveMappedView`), releasing private
//! memory, and tearing down an address space at process exit (nt_internals §4.4, §6.4).

use crate::addr::{Va, Vpn};
use crate::error::{Result, VmmError};
use crate::id::AsId;
use crate::machine::Machine;
use crate::pte::Pte;
use crate::vad::{Vad, VadKind};

impl Machine {
    /// Removes the region containing `va` (unmap a view, or release private memory) and
    /// returns it.
    pub(crate) fn free_region(&mut self, asid: AsId, va: Va) -> Result<Vad> {
        let vad = self
            .space(asid)?
            .vads
            .find(va.vpn())
            .ok_or(VmmError::NotAllocated(va))?;
        self.delete_region(asid, vad)?;
        Ok(vad)
    }

    /// `MiRemoveMappedView` for a view (or the release of a private region): every PTE of the
    /// region is deleted (`MiDeleteVirtualAddresses`), then the region itself (§4.4); a view's
    /// segment that is now [`Segment::is_reapable`](crate::segment::Segment::is_reapable) is
    /// queued for deletion.
    pub(crate) fn delete_region(&mut self, asid: AsId, vad: Vad) -> Result<()> {
        let ptes = self.space(asid)?.page_table.non_zero(vad.range());
        for (vpn, pte) in ptes {
            self.delete_pte(asid, vpn, pte);
        }
        self.space_mut(asid)?.vads.remove(vad.start);
        if let VadKind::Mapped { segment, .. } = vad.kind {
            if let Some(seg) = self.segments.get_mut(&segment) {
                seg.mapped -= 1;
                if seg.is_reapable() {
                    self.deletion_queue.push(segment);
                }
            }
        }
        self.release_process(asid, vad.commit_charge);
        self.events.emit(crate::event::VmmEvent::RegionDeleted {
            asid,
            base: vad.start.base(),
            pages: vad.pages(),
        });
        Ok(())
    }

    /// `MiDeletePte`: one process PTE goes away. A shared page's dirty bit is captured and its
    /// share count dropped (never written here); a private frame is freed with its slot.
    pub(crate) fn delete_pte(&mut self, asid: AsId, vpn: Vpn, pte: Pte) {
        if let Some(space) = self.spaces.get_mut(&asid) {
            space.page_table.set(vpn, Pte::Zero);
            if pte.is_valid() {
                space.ws.remove(vpn);
            }
        }
        match pte {
            Pte::Valid(h) => {
                if self.pfn.entry(h.pfn).is_prototype() {
                    if h.dirty {
                        self.mark_modified(h.pfn);
                    }
                } else {
                    self.pfn.entry_mut(h.pfn).set_deleted(true);
                }
                self.decrement_share_count(h.pfn);
            }
            Pte::Transition { pfn, .. } => self.free_deleted(pfn),
            Pte::Pagefile { slot, .. } => self.pagefile.release(slot),
            _ => {}
        }
    }

    /// Tears an address space down as process exit does (§6.4): every region is deleted through
    /// the unmap path, then the space itself.
    pub(crate) fn delete_space(&mut self, asid: AsId) -> Result<()> {
        let vads: Vec<Vad> = self.space(asid)?.vads.iter().copied().collect();
        for vad in vads {
            self.delete_region(asid, vad)?;
        }
        self.spaces.remove(&asid);
        self.events
            .emit(crate::event::VmmEvent::AddressSpaceDeleted { asid });
        Ok(())
    }
}

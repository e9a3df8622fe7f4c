//! Mapping a view of a segment into an address space (`MiMapViewOfSection`, nt_internals
//! §7.2–§7.3).

use crate::addr::{PageCount, ProtoIndex, Va};
use crate::error::{Result, VmmError};
use crate::id::{AsId, SegmentId};
use crate::machine::Machine;
use crate::protection::Protection;
use crate::region::Placement;
use crate::vad::{Vad, VadKind};

impl Machine {
    /// Maps `pages` prototype PTEs of `segment`, from `first_index`, as a view with
    /// `protection` (nt_internals §7.2–§7.3). The PTEs stay zero until touched. A copy-on-write
    /// view is charged one page of commit per page (§1.9).
    pub(crate) fn map_segment(
        &mut self,
        asid: AsId,
        segment: SegmentId,
        first_index: ProtoIndex,
        pages: PageCount,
        placement: Placement,
        protection: Protection,
    ) -> Result<Va> {
        // A guard view is legal (F53): each page raises once on first touch.
        if protection == Protection::DECOMMIT || protection == Protection::ZERO {
            return Err(VmmError::InvalidProtection);
        }
        let seg_pages = self.segment(segment)?.pages;
        let end = first_index
            .checked_add(pages)
            .ok_or(VmmError::RangeOverflow)?;
        if end.raw() > seg_pages {
            return Err(VmmError::BeyondSegment {
                segment,
                index: end.raw() - 1,
                pages: PageCount::new(seg_pages),
            });
        }
        let range = self.place(asid, pages, placement)?;
        let charge = if protection.is_copy_on_write() {
            pages
        } else {
            PageCount::ZERO
        };
        self.charge_process(asid, charge)?;
        let vad = Vad {
            start: range.start(),
            end: range.end(),
            protection,
            kind: VadKind::Mapped {
                segment,
                first_index,
            },
            commit_charge: charge,
            placeholder: false,
        };
        self.insert_region(asid, vad, placement)?;
        self.segment_mut(segment)?.mapped += 1;
        self.events.emit(crate::event::VmmEvent::SegmentMapped {
            asid,
            segment,
            first_index,
            pages: pages.raw(),
            protection,
            base: range.start().base(),
        });
        Ok(range.start().base())
    }
}

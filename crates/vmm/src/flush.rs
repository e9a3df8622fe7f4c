//! Flushing: dirty bits of a view's valid PTEs into their frames (`MiFlushDirtyBitsToPfn`),
//! and a file segment's modified pages to its file (`MiFlushSectionInternal`) — the two halves
//! of `FlushViewOfFile` (nt_internals §5.2, §8).

use crate::addr::{PageCount, PageRange, ProtoIndex};
use crate::error::{Result, VmmError};
use crate::id::{AsId, SegmentId};
use crate::machine::Machine;
use crate::pte::{ProtoPte, Pte};
use crate::segment::SegmentKind;

impl Machine {
    /// `MiFlushDirtyBitsToPfn`: moves the dirty bits of this address space's valid PTEs in
    /// `range` into their frames. Returns how many were dirty.
    pub(crate) fn harvest_dirty(&mut self, asid: AsId, range: PageRange) -> Result<u64> {
        // Only the pages the dirty index names can be dirty (checked by invariant 7).
        let vpns = self.space_mut(asid)?.page_table.take_dirty(range);
        let mut n = 0;
        for vpn in vpns {
            if let Pte::Valid(mut h) = self.space(asid)?.page_table.get(vpn) {
                if h.dirty {
                    self.mark_modified(h.pfn);
                    h.dirty = false;
                    self.space_mut(asid)?.page_table.set(vpn, Pte::Valid(h));
                    n += 1;
                }
            }
        }
        Ok(n)
    }

    /// `MiFlushSectionInternal` over prototype PTEs `[first, first + count)` of a file segment:
    /// every valid or transition page whose frame is modified is written to the file and made
    /// clean. Stops at the first failed write, whose page stays modified (nothing is lost).
    /// Returns the pages written. Dirty bits still in process PTEs are not looked at: the caller
    /// harvests its own first.
    pub(crate) fn flush_segment(
        &mut self,
        id: SegmentId,
        first: ProtoIndex,
        count: PageCount,
    ) -> Result<u64> {
        let seg = self.segment(id)?;
        let SegmentKind::File { store } = seg.kind else {
            return Err(VmmError::InvalidParameter(
                "only file segments are flushed to a file",
            ));
        };
        // Only the indices the dirty index names can hold modified frames (invariant 8).
        let end = first
            .checked_add(count)
            .unwrap_or(ProtoIndex::new(u64::MAX));
        let candidates = self.segment_mut(id)?.take_modified(first, end);
        let mut written = 0;
        for (n, &index) in candidates.iter().enumerate() {
            let pfn = match self.segment(id)?.get(index) {
                ProtoPte::Valid { pfn } | ProtoPte::Transition { pfn, .. } => Some(pfn),
                _ => None,
            };
            if let Some(pfn) = pfn.filter(|&pfn| self.pfn.entry(pfn).modified()) {
                if let Err(e) = self.write_file_frame(pfn, store, index.raw()) {
                    // The failed page and the ones not reached stay in the dirty index.
                    let seg = self.segment_mut(id)?;
                    for &rest in &candidates[n..] {
                        seg.note_modified(rest);
                    }
                    return Err(e.into());
                }
                written += 1;
            }
        }
        self.events.emit(crate::event::VmmEvent::SegmentFlushed {
            segment: id,
            first,
            count: count.raw(),
            written,
        });
        Ok(written)
    }
}

//! Regions of an address space: where a new one goes, the region holding a range, and whether
//! a page of one is committed — what mapping a view, private memory, protection changes and
//! deletion share (nt_internals §7). The mechanisms themselves: `map_view.rs`,
//! `private_memory.rs`, `protect.rs`, `delete.rs`, `flush.rs`.

use crate::addr::{PageCount, PageRange, Va, Vpn, ALLOCATION_GRANULARITY};
use crate::error::{Result, VmmError};
use crate::id::AsId;
use crate::machine::Machine;
use crate::protection::Protection;
use crate::pte::{ProtoPte, Pte};
use crate::vad::{Vad, VadKind};

/// Where a new region goes.
#[derive(Clone, Copy, PartialEq, Eq, Debug, Hash, Default)]
pub enum Placement {
    /// The lowest free 64 KiB-aligned range (bottom-up first fit from `USER_MIN`).
    #[default]
    BottomUp,
    /// The highest free 64 KiB-aligned range (`MEM_TOP_DOWN`).
    TopDown,
    /// Exactly here (must be 64 KiB-aligned and free).
    At(Va),
    /// Exactly in the placeholder that starts here and has exactly the region's size
    /// (`MEM_REPLACE_PLACEHOLDER`: page-aligned, F68; the placeholder must fit exactly, F69),
    /// which the new region replaces.
    Replace(Va),
}

impl Machine {
    /// Chooses and checks the pages of a new region.
    pub(crate) fn place(
        &self,
        asid: AsId,
        pages: PageCount,
        placement: Placement,
    ) -> Result<PageRange> {
        if pages.is_zero() {
            return Err(VmmError::InvalidParameter(
                "a region needs at least one page",
            ));
        }
        let bytes = pages.bytes().ok_or(VmmError::RangeOverflow)?;
        let space = self.space(asid)?;
        let start = match placement {
            Placement::At(base) => {
                if !base.is_aligned(ALLOCATION_GRANULARITY) {
                    return Err(VmmError::Misaligned {
                        value: base.raw(),
                        alignment: ALLOCATION_GRANULARITY,
                    });
                }
                Self::check_user_range(base, bytes.raw())?;
                base.vpn()
            }
            Placement::Replace(base) => {
                return self.placeholder_to_replace(asid, base, pages);
            }
            Placement::BottomUp | Placement::TopDown => space
                .vads
                .find_free(pages.raw(), placement == Placement::TopDown)
                .ok_or(VmmError::NoVirtualSpace(pages))?,
        };
        let end = start.checked_add(pages).ok_or(VmmError::RangeOverflow)?;
        let range = PageRange::new(start, end).ok_or(VmmError::RangeOverflow)?;
        // A searched placement comes out of a free gap; only a chosen base can collide.
        debug_assert!(matches!(placement, Placement::At(_)) || !space.vads.overlaps(range));
        if matches!(placement, Placement::At(_)) && space.vads.overlaps(range) {
            return Err(VmmError::ConflictingAddresses {
                start: start.base(),
                end: end.base(),
            });
        }
        Ok(range)
    }

    /// The region holding all of `[start, start + pages)`, or the error NT gives.
    pub(crate) fn region_for(
        &self,
        asid: AsId,
        start: Vpn,
        pages: PageCount,
    ) -> Result<(Vad, PageRange)> {
        let space = self.space(asid)?;
        let vad = space
            .vads
            .find(start)
            .ok_or(VmmError::NotAllocated(start.base()))?;
        let end = start.checked_add(pages).ok_or(VmmError::RangeOverflow)?;
        if pages.is_zero() || end > vad.end {
            return Err(VmmError::ConflictingAddresses {
                start: start.base(),
                end: end.base(),
            });
        }
        Ok((
            vad,
            PageRange::new(start, end).ok_or(VmmError::RangeOverflow)?,
        ))
    }

    /// Whether a page of a region is committed.
    pub(crate) fn is_committed(&self, vad: &Vad, pte: Pte, vpn: Vpn) -> bool {
        match (vad.kind, pte) {
            (VadKind::Private { committed }, Pte::Zero) => committed,
            (_, Pte::DemandZero { protection }) => protection != Protection::DECOMMIT,
            (VadKind::Mapped { .. }, Pte::Zero | Pte::PrototypeLookup { .. }) => {
                vad.proto_at(vpn).is_some_and(|proto| {
                    self.segments.get(&proto.segment).is_some_and(|s| {
                        s.holds(proto.index) && s.get(proto.index) != ProtoPte::Zero
                    })
                })
            }
            (VadKind::Private { .. }, Pte::PrototypeLookup { .. } | Pte::Prototype { .. }) => false,
            (VadKind::Placeholder, Pte::Zero | Pte::PrototypeLookup { .. }) => false,
            (_, Pte::Prototype { proto, .. }) => self
                .segments
                .get(&proto.segment)
                .is_some_and(|s| s.get(proto.index) != ProtoPte::Zero),
            (_, Pte::Valid(_) | Pte::Transition { .. } | Pte::Pagefile { .. }) => true,
        }
    }
}

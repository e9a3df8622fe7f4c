//! Regions of an address space: mapping segments, private memory, protection changes, and
//! deleting PTEs on unmap/release (nt_internals §4.4, §7).

use crate::addr::{PageCount, PageRange, Va, Vpn, ALLOCATION_GRANULARITY};
use crate::error::{Result, VmmError};
use crate::id::{AsId, SegmentId};
use crate::machine::Machine;
use crate::protection::Protection;
use crate::pte::{HardwarePte, OriginalPte, ProtoPte, Pte};
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
}

impl Machine {
    /// Chooses and checks the pages of a new region.
    fn place(&self, asid: AsId, pages: u64, placement: Placement) -> Result<PageRange> {
        if pages == 0 {
            return Err(VmmError::InvalidParameter(
                "a region needs at least one page",
            ));
        }
        let bytes = PageCount::new(pages)
            .bytes()
            .ok_or(VmmError::RangeOverflow)?;
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
            Placement::BottomUp | Placement::TopDown => space
                .vads
                .find_free(pages, placement == Placement::TopDown)
                .ok_or(VmmError::NoVirtualSpace(PageCount::new(pages)))?,
        };
        let end = start
            .checked_add(PageCount::new(pages))
            .ok_or(VmmError::RangeOverflow)?;
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

    /// Maps `pages` prototype PTEs of `segment`, from `first_index`, as a view with
    /// `protection` (nt_internals §7.2–§7.3). The PTEs stay zero until touched. A copy-on-write
    /// view is charged one page of commit per page (§1.9).
    pub(crate) fn map_segment(
        &mut self,
        asid: AsId,
        segment: SegmentId,
        first_index: u64,
        pages: u64,
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
        if end > seg_pages {
            return Err(VmmError::BeyondSegment {
                segment,
                index: end - 1,
                pages: PageCount::new(seg_pages),
            });
        }
        let range = self.place(asid, pages, placement)?;
        let charge = if protection.is_copy_on_write() {
            pages
        } else {
            0
        };
        self.commit.charge(charge)?;
        self.space_mut(asid)?.vads.insert(Vad {
            start: range.start(),
            end: range.end(),
            protection,
            kind: VadKind::Mapped {
                segment,
                first_index,
            },
            commit_charge: PageCount::new(charge),
        });
        self.segment_mut(segment)?.mapped += 1;
        tracing::debug!(?asid, ?segment, first_index, pages, ?protection, base = %range.start().base(), "segment mapped");
        Ok(range.start().base())
    }

    /// Reserves (and with `commit`, commits) a private region.
    pub(crate) fn allocate_private(
        &mut self,
        asid: AsId,
        pages: u64,
        placement: Placement,
        protection: Protection,
        commit: bool,
    ) -> Result<Va> {
        Self::check_private_protection(protection)?;
        let range = self.place(asid, pages, placement)?;
        let charge = if commit { pages } else { 0 };
        self.commit.charge(charge)?;
        self.space_mut(asid)?.vads.insert(Vad {
            start: range.start(),
            end: range.end(),
            protection,
            kind: VadKind::Private { committed: commit },
            commit_charge: PageCount::new(charge),
        });
        tracing::debug!(?asid, pages, ?protection, commit, base = %range.start().base(), "private region allocated");
        Ok(range.start().base())
    }

    fn check_private_protection(protection: Protection) -> Result<()> {
        if protection.is_copy_on_write()
            || protection == Protection::DECOMMIT
            || protection == Protection::ZERO
        {
            return Err(VmmError::InvalidProtection);
        }
        Ok(())
    }

    /// The region holding all of `[start, start + pages)`, or the error NT gives.
    fn region_for(&self, asid: AsId, start: Vpn, pages: u64) -> Result<(Vad, PageRange)> {
        let space = self.space(asid)?;
        let vad = space
            .vads
            .find(start)
            .ok_or(VmmError::NotAllocated(start.base()))?;
        let end = start
            .checked_add(PageCount::new(pages))
            .ok_or(VmmError::RangeOverflow)?;
        if pages == 0 || end > vad.end {
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
            (
                VadKind::Mapped {
                    segment,
                    first_index,
                },
                Pte::Zero | Pte::PrototypeLookup { .. },
            ) => {
                let index = first_index + (vpn.raw() - vad.start.raw());
                self.segments
                    .get(&segment)
                    .is_some_and(|s| index < s.pages && s.get(index) != ProtoPte::Zero)
            }
            (VadKind::Private { .. }, Pte::PrototypeLookup { .. } | Pte::Prototype { .. }) => false,
            (_, Pte::Prototype { proto, .. }) => self
                .segments
                .get(&proto.segment)
                .is_some_and(|s| s.get(proto.index) != ProtoPte::Zero),
            (_, Pte::Valid(_) | Pte::Transition { .. } | Pte::Pagefile { .. }) => true,
        }
    }

    /// Commits pages of a private region (pages already committed get the new protection, as
    /// NT's `NtAllocateVirtualMemory` does). Returns the pages newly committed and charged.
    pub(crate) fn commit_private(
        &mut self,
        asid: AsId,
        start: Vpn,
        pages: u64,
        protection: Protection,
    ) -> Result<u64> {
        Self::check_private_protection(protection)?;
        let (vad, range) = self.region_for(asid, start, pages)?;
        if !matches!(vad.kind, VadKind::Private { .. }) {
            return Err(VmmError::WrongRegionKind(start.base()));
        }
        let space = self.space(asid)?;
        let mut fresh = Vec::new();
        let mut already = Vec::new();
        for vpn in range.iter() {
            if self.is_committed(&vad, space.page_table.get(vpn), vpn) {
                already.push(vpn);
            } else {
                fresh.push(vpn);
            }
        }
        self.commit.charge(fresh.len() as u64)?;
        let space = self.space_mut(asid)?;
        for &vpn in &fresh {
            space.page_table.set(vpn, Pte::DemandZero { protection });
        }
        if let Some(v) = space.vads.find_mut(start) {
            v.commit_charge = PageCount::new(v.commit_charge.raw() + fresh.len() as u64);
        }
        for vpn in already {
            self.protect_page(asid, vpn, protection);
        }
        Ok(fresh.len() as u64)
    }

    /// Decommits pages of a private region, freeing their frames and slots. Returns the pages
    /// decommitted (and uncharged).
    pub(crate) fn decommit_private(&mut self, asid: AsId, start: Vpn, pages: u64) -> Result<u64> {
        let (vad, range) = self.region_for(asid, start, pages)?;
        let VadKind::Private { committed } = vad.kind else {
            return Err(VmmError::WrongRegionKind(start.base()));
        };
        let mut n = 0;
        for vpn in range.iter() {
            let pte = self.space(asid)?.page_table.get(vpn);
            if !self.is_committed(&vad, pte, vpn) {
                continue;
            }
            self.delete_pte(asid, vpn, pte);
            if committed {
                self.space_mut(asid)?.page_table.set(
                    vpn,
                    Pte::DemandZero {
                        protection: Protection::DECOMMIT,
                    },
                );
            }
            n += 1;
        }
        self.commit.release(n);
        if let Some(v) = self.space_mut(asid)?.vads.find_mut(start) {
            v.commit_charge = PageCount::new(v.commit_charge.raw() - n);
        }
        Ok(n)
    }

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
        self.commit.release(vad.commit_charge.raw());
        tracing::debug!(?asid, start = %vad.start.base(), pages = vad.pages(), "region deleted");
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

    /// Changes the protection of pages of one region (nt_internals §7.5) and returns the first
    /// page's old protection. Every page must be committed. The caller has checked the
    /// compatibility rules of the section layer.
    pub(crate) fn protect(
        &mut self,
        asid: AsId,
        start: Vpn,
        pages: u64,
        protection: Protection,
    ) -> Result<Protection> {
        if protection == Protection::DECOMMIT || protection == Protection::ZERO {
            return Err(VmmError::InvalidProtection);
        }
        let (vad, range) = self.region_for(asid, start, pages)?;
        if let VadKind::Private { .. } = vad.kind {
            Self::check_private_protection(protection)?;
        }
        let space = self.space(asid)?;
        for vpn in range.iter() {
            if !self.is_committed(&vad, space.page_table.get(vpn), vpn) {
                return Err(VmmError::NotCommitted(vpn.base()));
            }
        }
        let (_, old) = self.page_state(asid, start)?;
        if protection.is_copy_on_write() {
            // Changing to write-copy charges commit for pages not already charged (§1.9); the
            // charge is kept per region, not per page (a stated simplification).
            let extra = pages.min(vad.pages() - vad.commit_charge.raw());
            self.commit.charge(extra)?;
            if let Some(v) = self.space_mut(asid)?.vads.find_mut(start) {
                v.commit_charge = PageCount::new(v.commit_charge.raw() + extra);
            }
        }
        for vpn in range.iter() {
            self.protect_page(asid, vpn, protection);
        }
        Ok(old)
    }

    /// Applies a protection to one committed page (per-PTE rules of §7.5). Private copies in a
    /// view drop the "copy" part: they are already private.
    pub(crate) fn protect_page(&mut self, asid: AsId, vpn: Vpn, protection: Protection) {
        let Some(space) = self.spaces.get(&asid) else {
            return;
        };
        let pte = space.page_table.get(vpn);
        let private_page = match pte {
            Pte::Valid(h) => !self.pfn.entry(h.pfn).is_prototype(),
            Pte::Transition { .. } | Pte::Pagefile { .. } | Pte::DemandZero { .. } => true,
            _ => false,
        };
        let effective = if private_page {
            protection.without_copy()
        } else {
            protection
        };
        match pte {
            Pte::Valid(h) => {
                if h.dirty {
                    self.mark_modified(h.pfn);
                }
                if !effective.is_accessible() || effective.is_guard() {
                    // No-access and guard pages leave the working set.
                    self.trim_page(asid, vpn);
                    self.set_invalid_protection(asid, vpn, effective);
                    return;
                }
                if private_page {
                    let e = self.pfn.entry_mut(h.pfn);
                    e.set_original(match e.original() {
                        OriginalPte::Pagefile { slot, .. } => OriginalPte::Pagefile {
                            slot,
                            protection: effective,
                        },
                        _ => OriginalPte::DemandZero {
                            protection: effective,
                        },
                    });
                }
                if let Some(space) = self.spaces.get_mut(&asid) {
                    space.page_table.set(
                        vpn,
                        Pte::Valid(HardwarePte {
                            write: effective.is_writable(),
                            copy_on_write: effective.is_copy_on_write(),
                            dirty: false,
                            no_execute: !effective.is_executable(),
                            ..h
                        }),
                    );
                    space.ws.set_protection(vpn, effective);
                }
            }
            _ => self.set_invalid_protection(asid, vpn, effective),
        }
    }

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

    /// Tears an address space down as process exit does (§6.4): every region is deleted through
    /// the unmap path, then the space itself.
    pub(crate) fn delete_space(&mut self, asid: AsId) -> Result<()> {
        let vads: Vec<Vad> = self.space(asid)?.vads.iter().copied().collect();
        for vad in vads {
            self.delete_region(asid, vad)?;
        }
        self.spaces.remove(&asid);
        tracing::debug!(?asid, "address space deleted");
        Ok(())
    }
}

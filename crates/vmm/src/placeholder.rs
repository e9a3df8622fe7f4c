//! Placeholders (Windows 10 1803 and later; facts F68–F72): reserved address space that holds
//! nothing and exists to be split, coalesced, and replaced by a view or private memory of
//! exactly its size, at page granularity — the way one section is mapped twice back to back
//! (the ring-buffer idiom).
//!
//! A placeholder is a VAD of kind [`VadKind::Placeholder`]; a region that replaced one keeps
//! [`Vad::placeholder`] set, so that it may start on any page and can be turned back into a
//! placeholder. NT's internals (nt_internals §7) predate placeholders; the behaviour here is
//! the facts' (Wine kernelbase `test_VirtualAlloc2`, `test_MapViewOfFile3`), and every choice
//! the sources leave open is stated in DESIGN.md ("Placeholders").

use crate::addr::{PageCount, PageRange, Va, Vpn, PAGE_SIZE};
use crate::error::{Result, VmmError};
use crate::event::{PlaceholderChange, VmmEvent};
use crate::id::AsId;
use crate::machine::Machine;
use crate::protection::Protection;
use crate::region::Placement;
use crate::vad::{Vad, VadKind};

/// A placeholder VAD over `range`.
fn placeholder_vad(range: PageRange) -> Vad {
    Vad {
        start: range.start(),
        end: range.end(),
        // F72: a placeholder reports AllocationProtect PAGE_NOACCESS.
        protection: Protection::NOACCESS,
        kind: VadKind::Placeholder,
        commit_charge: PageCount::ZERO,
        placeholder: true,
    }
}

fn conflict(start: Vpn, end: Vpn) -> VmmError {
    VmmError::ConflictingAddresses {
        start: start.base(),
        end: end.base(),
    }
}

impl Machine {
    fn emit_placeholder(&self, asid: AsId, range: PageRange, change: PlaceholderChange) {
        self.events.emit(VmmEvent::Placeholder {
            asid,
            base: range.start().base(),
            pages: range.len().raw(),
            change,
        });
    }

    /// The placeholder a `MEM_REPLACE_PLACEHOLDER` region of `pages` pages at `base` replaces:
    /// `base` is page-aligned (F68: a placeholder relaxes alignment to pages) and a
    /// placeholder starts there with exactly `pages` pages (F69: it must fit exactly);
    /// otherwise `STATUS_CONFLICTING_ADDRESSES` (`ERROR_INVALID_ADDRESS`).
    pub(crate) fn placeholder_to_replace(
        &self,
        asid: AsId,
        base: Va,
        pages: PageCount,
    ) -> Result<PageRange> {
        if !base.is_aligned(PAGE_SIZE) {
            return Err(VmmError::Misaligned {
                value: base.raw(),
                alignment: PAGE_SIZE,
            });
        }
        let bytes = pages.bytes().ok_or(VmmError::RangeOverflow)?;
        Self::check_user_range(base, bytes.raw())?;
        let start = base.vpn();
        let end = start.checked_add(pages).ok_or(VmmError::RangeOverflow)?;
        match self.space(asid)?.vads.find(start) {
            Some(v) if v.kind == VadKind::Placeholder && v.start == start && v.end == end => {
                Ok(v.range())
            }
            _ => Err(conflict(start, end)),
        }
    }

    /// Inserts a new region placed by `placement`; a `Placement::Replace` region takes the
    /// place of its placeholder (checked by [`Machine::place`]) and keeps the placeholder flag.
    pub(crate) fn insert_region(
        &mut self,
        asid: AsId,
        mut vad: Vad,
        placement: Placement,
    ) -> Result<()> {
        let replaced = matches!(placement, Placement::Replace(_));
        let space = self.space_mut(asid)?;
        if replaced {
            space.vads.remove(vad.start);
            vad.placeholder = true;
        }
        space.vads.insert(vad);
        if replaced {
            self.emit_placeholder(asid, vad.range(), PlaceholderChange::Replaced);
        }
        Ok(())
    }

    /// Reserves a placeholder of `pages` pages (`MEM_RESERVE | MEM_RESERVE_PLACEHOLDER`): no
    /// commit is charged, nothing can be committed in it.
    pub(crate) fn reserve_placeholder(
        &mut self,
        asid: AsId,
        pages: PageCount,
        placement: Placement,
    ) -> Result<Va> {
        if matches!(placement, Placement::Replace(_)) {
            return Err(VmmError::InvalidParameter(
                "a placeholder cannot replace a placeholder",
            ));
        }
        let range = self.place(asid, pages, placement)?;
        self.space_mut(asid)?.vads.insert(placeholder_vad(range));
        self.emit_placeholder(asid, range, PlaceholderChange::Reserved);
        Ok(range.start().base())
    }

    /// Splits `[start, start + pages)` off the placeholder holding it
    /// (`VirtualFree(MEM_RELEASE | MEM_PRESERVE_PLACEHOLDER)`): the placeholder becomes up to
    /// three, the middle one exactly the range (Wine kernelbase `test_VirtualAlloc2`: "Split
    /// in three regions"). The range must lie inside one placeholder and differ from it —
    /// a range that is the whole placeholder splits nothing and fails, as does a region that
    /// is not a placeholder (both `ERROR_INVALID_ADDRESS` in the source test). Private memory
    /// that replaced a placeholder, released whole, becomes that placeholder again (Microsoft's
    /// documentation of `MEM_PRESERVE_PLACEHOLDER`).
    pub(crate) fn split_placeholder(
        &mut self,
        asid: AsId,
        start: Vpn,
        pages: PageCount,
    ) -> Result<()> {
        let end = start.checked_add(pages).ok_or(VmmError::RangeOverflow)?;
        let vad = self
            .space(asid)?
            .vads
            .find(start)
            .ok_or(VmmError::NotAllocated(start.base()))?;
        if pages.is_zero() || end > vad.end {
            return Err(conflict(start, end));
        }
        match vad.kind {
            VadKind::Placeholder if (start, end) != (vad.start, vad.end) => {}
            VadKind::Private { .. } if vad.placeholder && (start, end) == (vad.start, vad.end) => {
                self.restore_placeholder(asid, vad)?;
                return Ok(());
            }
            _ => return Err(conflict(start, end)),
        }
        let space = self.space_mut(asid)?;
        space.vads.remove(vad.start);
        for (s, e) in [(vad.start, start), (start, end), (end, vad.end)] {
            if let Some(r) = PageRange::new(s, e).filter(|r| !r.is_empty()) {
                space.vads.insert(placeholder_vad(r));
            }
        }
        let split = PageRange::new(start, end).ok_or(VmmError::RangeOverflow)?;
        self.emit_placeholder(asid, split, PlaceholderChange::Split);
        Ok(())
    }

    /// Coalesces the adjacent placeholders that exactly cover `[start, start + pages)` into one
    /// (`VirtualFree(MEM_RELEASE | MEM_COALESCE_PLACEHOLDERS)`: "lpAddress and dwSize must
    /// exactly match the overall range of the placeholders to be merged", Microsoft's
    /// documentation of `VirtualFree`). At least two placeholders, no gap and no other region
    /// between them; otherwise `STATUS_CONFLICTING_ADDRESSES` and nothing changes.
    pub(crate) fn coalesce_placeholders(
        &mut self,
        asid: AsId,
        start: Vpn,
        pages: PageCount,
    ) -> Result<()> {
        let end = start.checked_add(pages).ok_or(VmmError::RangeOverflow)?;
        let space = self.space(asid)?;
        let mut parts = Vec::new();
        let mut at = start;
        while at < end {
            match space.vads.find(at) {
                Some(v) if v.kind == VadKind::Placeholder && v.start == at && v.end <= end => {
                    parts.push(v.start);
                    at = v.end;
                }
                _ => return Err(conflict(start, end)),
            }
        }
        if parts.len() < 2 {
            return Err(conflict(start, end));
        }
        let space = self.space_mut(asid)?;
        for s in parts {
            space.vads.remove(s);
        }
        let range = PageRange::new(start, end).ok_or(VmmError::RangeOverflow)?;
        space.vads.insert(placeholder_vad(range));
        self.emit_placeholder(asid, range, PlaceholderChange::Coalesced);
        Ok(())
    }

    /// Removes a region that replaced a placeholder (a view unmapped with
    /// `MEM_PRESERVE_PLACEHOLDER`, F72, or such private memory released with it) and puts the
    /// placeholder back over its range. A region that never was a placeholder is
    /// `STATUS_CONFLICTING_ADDRESSES` (F71: `ERROR_INVALID_ADDRESS`) and stays.
    pub(crate) fn restore_placeholder(&mut self, asid: AsId, vad: Vad) -> Result<()> {
        if !vad.placeholder || vad.kind == VadKind::Placeholder {
            return Err(conflict(vad.start, vad.end));
        }
        self.delete_region(asid, vad)?;
        self.space_mut(asid)?
            .vads
            .insert(placeholder_vad(vad.range()));
        self.emit_placeholder(asid, vad.range(), PlaceholderChange::Restored);
        Ok(())
    }

    /// [`Machine::restore_placeholder`] for the region holding `va`.
    pub(crate) fn free_region_to_placeholder(&mut self, asid: AsId, va: Va) -> Result<Vad> {
        let vad = self
            .space(asid)?
            .vads
            .find(va.vpn())
            .ok_or(VmmError::NotAllocated(va))?;
        self.restore_placeholder(asid, vad)?;
        Ok(vad)
    }
}

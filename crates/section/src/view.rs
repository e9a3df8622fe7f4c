//! Views: `NtMapViewOfSection`, `NtUnmapViewOfSection`, `NtFlushVirtualMemory`
//! (nt_internals §4.4, §5.2, §7.2–§7.3; facts F2, F47–F67, F112–F114, F129–F130).

use crate::consts::*;
use crate::error::{Result, SectionError};
use crate::event::{CountChange, SectionEvent};
use crate::ids::SectionId;
use crate::state::{State, ViewRecord};
use ntmm_vmm::{
    AsId, PageCount, PageRange, Placement, Protection, ProtoIndex, Va, VadKind, Vmm, VmmError,
    ALLOCATION_GRANULARITY, PAGE_SIZE, USER_MAX,
};

/// The arguments of `NtMapViewOfSection` that matter to the model.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct MapView {
    /// `*BaseAddress`: `None` lets the system choose (64 KiB-aligned, F2).
    pub base: Option<Va>,
    /// `ZeroBits`: only 0 is modelled.
    pub zero_bits: u64,
    /// `CommitSize`: pages of a `SEC_RESERVE` pagefile section to commit now.
    pub commit_size: u64,
    /// `SectionOffset`: a multiple of 64 KiB.
    pub offset: u64,
    /// `ViewSize`: 0 means to the end of the section.
    pub view_size: u64,
    /// `AllocationType`: `MEM_TOP_DOWN`, or `MEM_RESERVE` for file sections.
    pub allocation_type: u32,
    /// `Win32Protect`: the view's `PAGE_*` protection.
    pub protection: u32,
}

/// The access set of a protection for the ceiling rule (facts §K): NOACCESS {}, READONLY and
/// WRITECOPY {R}, READWRITE {R,W}, EXECUTE/EXECUTE_READ/EXECUTE_WRITECOPY {R,X},
/// EXECUTE_READWRITE {R,W,X}. Modifiers are ignored.
pub(crate) fn access_set(p: Protection) -> u8 {
    const R: u8 = 1;
    const W: u8 = 2;
    const X: u8 = 4;
    match p.operation() {
        0 => 0,
        1 | 5 => R,
        4 => R | W,
        2 | 3 | 7 => R | X,
        _ => R | W | X,
    }
}

/// `MiIsProtectionCompatible`: may `new` be used under the ceiling `ceiling`?
pub(crate) fn compatible(new: Protection, ceiling: Protection) -> bool {
    access_set(new) & !access_set(ceiling) == 0
}

/// Adds the no-cache modifier for views of `SEC_NOCACHE` sections (F76).
pub(crate) fn with_nocache(p: Protection, nocache: bool) -> Protection {
    if nocache && p.is_accessible() && p.bits() & 0x18 == 0 {
        Protection::from_bits(p.bits() | Protection::NOCACHE_BIT).unwrap_or(p)
    } else {
        p
    }
}

impl State {
    /// `NtMapViewOfSection`. Returns the base and the page-rounded view size.
    pub(crate) fn map_view(
        &mut self,
        vmm: &Vmm,
        asid: AsId,
        section: SectionId,
        p: MapView,
    ) -> Result<(Va, u64)> {
        self.check_process(asid)?;
        let s = self
            .sections
            .get(&section)
            .ok_or(SectionError::UnknownSection(section))?
            .clone();
        let ca = self
            .control_areas
            .get(&s.control_area)
            .ok_or(SectionError::UnknownSection(section))?
            .clone();
        let file = ca.stream.is_some();
        // F51: an invalid Win32Protect.
        let protection = Protection::from_win32(p.protection)
            .ok_or(SectionError::InvalidPageProtection(p.protection))?;
        if p.zero_bits != 0 {
            return Err(SectionError::NotSupported(
                "zero bits (NtMapViewOfSection ZeroBits)",
            ));
        }
        let at = p.allocation_type;
        // MEM_REPLACE_PLACEHOLDER (NtMapViewOfSectionEx, MapViewOfFile3): the view replaces
        // the placeholder at its base, and base and offset need only be page-aligned (F68).
        let replace = at & MEM_REPLACE_PLACEHOLDER != 0;
        let granularity = if replace {
            PAGE_SIZE
        } else {
            ALLOCATION_GRANULARITY
        };
        let known = MEM_TOP_DOWN | MEM_RESERVE | MEM_COMMIT | MEM_REPLACE_PLACEHOLDER;
        if at & AT_ROUND_TO_PAGE != 0 || at & !known != 0 {
            return Err(SectionError::param(9, "allocation type")); // F64
        }
        if (!file && at & (MEM_RESERVE | MEM_COMMIT) != 0) || (file && at & MEM_COMMIT != 0) {
            return Err(SectionError::param(9, "allocation type")); // F62
        }
        if file && p.commit_size != 0 && at & MEM_RESERVE == 0 {
            return Err(SectionError::param(5, "commit size of a file view")); // F62
        }
        if p.view_size == u64::MAX {
            return Err(SectionError::param(3, "view size")); // F58
        }
        if let Some(b) = p.base {
            if b.raw() > USER_MAX {
                return Err(SectionError::param(3, "base above the user range"));
                // F58
            }
            if !b.is_aligned(granularity) {
                return Err(SectionError::MappedAlignment(b.raw())); // F56, F68
            }
        }
        if p.offset % granularity != 0 {
            return Err(SectionError::MappedAlignment(p.offset)); // F54, F68
        }
        if replace && p.base.is_none() {
            return Err(SectionError::param(
                3,
                "MEM_REPLACE_PLACEHOLDER needs the placeholder's address",
            ));
        }
        if let Some(image) = ca.image.clone() {
            return self.map_image_view(vmm, asid, section, &ca, &image, p, s.write_through);
        }
        // F50: the view protection must be compatible with the section's.
        if !compatible(protection, s.protection) {
            return Err(SectionError::SectionProtection);
        }
        // §7.2 / facts §3.5: the size check is exact, not page-rounded.
        if p.offset >= s.size {
            return Err(SectionError::InvalidViewSize);
        }
        let size = if p.view_size == 0 {
            s.size - p.offset
        } else {
            p.view_size
        };
        if p.offset.checked_add(size).is_none_or(|end| end > s.size) {
            return Err(SectionError::InvalidViewSize);
        }
        if !file && p.commit_size > size {
            return Err(SectionError::param(5, "commit size")); // F62
        }
        let pages = size.div_ceil(PAGE_SIZE);
        let first_index = ProtoIndex::of_byte(p.offset);
        let placement = match p.base {
            Some(b) if replace => Placement::Replace(b),
            Some(b) => Placement::At(b),
            None if at & MEM_TOP_DOWN != 0 => Placement::TopDown,
            None => Placement::BottomUp,
        };
        let protection = with_nocache(protection, ca.nocache);
        let base = vmm
            .map_segment(
                asid,
                ca.segment,
                first_index.raw(),
                PageCount::new(pages),
                placement,
                protection,
            )
            .map_err(|e| match e {
                VmmError::ConflictingAddresses { .. } if replace => SectionError::Placeholder(
                    "MEM_REPLACE_PLACEHOLDER needs a placeholder that starts at the base and has exactly the view's size",
                ), // F69
                VmmError::ConflictingAddresses { .. } => SectionError::ConflictingAddresses,
                VmmError::AddressOutOfRange(_) => {
                    SectionError::param(3, "view past the user range")
                }
                other => SectionError::Vmm(other),
            })?;
        if !file && p.commit_size > 0 {
            let commit = p.commit_size.div_ceil(PAGE_SIZE);
            if let Err(e) =
                vmm.commit_segment(ca.segment, first_index.raw(), PageCount::new(commit))
            {
                vmm.free_region(asid, base)?;
                return Err(e.into());
            }
        }
        self.views.insert(
            (asid, base.raw()),
            ViewRecord {
                control_area: ca.id,
                first_index,
                pages,
                write_through: s.write_through,
            },
        );
        self.events.emit(SectionEvent::ViewMapped {
            asid,
            section,
            control_area: ca.id,
            base,
            pages,
            protection,
        });
        // The counts change with the view, told after it.
        self.change_counts(ca.id, CountChange::ViewMapped);
        Ok((base, pages * PAGE_SIZE))
    }

    /// `MiMapViewOfImageSection`: the whole image (offset and size are ignored, a stated
    /// simplification of F133's partial views), at the image base when no base is asked and
    /// it is free, else where the system chooses (relocated: F132's `STATUS_IMAGE_NOT_AT_BASE`
    /// is the caller's to report, see [`State::image_base`]). The region is `MEM_IMAGE` with
    /// allocation protection `PAGE_EXECUTE_WRITECOPY`; each page takes its PE section's
    /// protection, whatever the view protection asked (F79, F134): headers read-only, code
    /// execute-read, writable sections copy-on-write, shared ones read-write on the prototype
    /// pages every process maps. The whole view is charged as copy-on-write (NT charges only
    /// the writable sections' image commitment: a stated simplification).
    #[allow(clippy::too_many_arguments)]
    fn map_image_view(
        &mut self,
        vmm: &Vmm,
        asid: AsId,
        section: SectionId,
        ca: &crate::control_area::ControlArea,
        image: &crate::control_area::ImageInfo,
        p: MapView,
        write_through: bool,
    ) -> Result<(Va, u64)> {
        let pages = image.pages;
        let map = |placement| {
            vmm.map_segment(
                asid,
                ca.segment,
                0,
                PageCount::new(pages),
                placement,
                Protection::EXECUTE_WRITECOPY,
            )
        };
        let mapped = match p.base {
            Some(b) => map(Placement::At(b)),
            None => match map(Placement::At(Va::new(image.image_base))) {
                Err(VmmError::ConflictingAddresses { .. }) => {
                    map(if p.allocation_type & MEM_TOP_DOWN != 0 {
                        Placement::TopDown
                    } else {
                        Placement::BottomUp
                    })
                }
                other => other,
            },
        };
        let base = mapped.map_err(|e| match e {
            VmmError::ConflictingAddresses { .. } => SectionError::ConflictingAddresses,
            VmmError::AddressOutOfRange(_) => SectionError::param(3, "view past the user range"),
            other => SectionError::Vmm(other),
        })?;
        for &(first, count, protection) in &image.runs {
            let at = Va::new(base.raw() + first * PAGE_SIZE);
            if let Err(e) = vmm.protect_while_mapping(asid, at, PageCount::new(count), protection) {
                vmm.free_region(asid, base)?;
                return Err(e.into());
            }
        }
        self.views.insert(
            (asid, base.raw()),
            ViewRecord {
                control_area: ca.id,
                first_index: ProtoIndex::ZERO,
                pages,
                write_through,
            },
        );
        self.events.emit(SectionEvent::ViewMapped {
            asid,
            section,
            control_area: ca.id,
            base,
            pages,
            protection: Protection::EXECUTE_WRITECOPY,
        });
        // The counts change with the view, told after it.
        self.change_counts(ca.id, CountChange::ViewMapped);
        Ok((base, pages * PAGE_SIZE))
    }

    /// The preferred base of an image section (`None` for a data or pagefile section).
    pub(crate) fn image_base(&self, section: SectionId) -> Result<Option<u64>> {
        let s = self
            .sections
            .get(&section)
            .ok_or(SectionError::UnknownSection(section))?;
        Ok(self
            .control_areas
            .get(&s.control_area)
            .and_then(|c| c.image.as_ref())
            .map(|i| i.image_base))
    }

    /// Whether the view at `va` is a view of an image (`MEM_IMAGE`).
    pub(crate) fn is_image_view(&self, vmm: &Vmm, asid: AsId, va: Va) -> bool {
        self.view_at(vmm, asid, va)
            .ok()
            .and_then(|(_, rec, _)| self.control_areas.get(&rec.control_area))
            .is_some_and(|c| c.image.is_some())
    }

    /// The view containing `va`: its base and record.
    pub(crate) fn view_at(
        &self,
        vmm: &Vmm,
        asid: AsId,
        va: Va,
    ) -> Result<(Va, ViewRecord, ntmm_vmm::Vad)> {
        let vad = vmm
            .region(asid, va)?
            .filter(|v| matches!(v.kind, VadKind::Mapped { .. }))
            .ok_or(SectionError::NotMappedView(va))?;
        let base = vad.start.base();
        let rec = *self
            .views
            .get(&(asid, base.raw()))
            .ok_or(SectionError::NotMappedView(va))?;
        Ok((base, rec, vad))
    }

    /// `NtUnmapViewOfSection`: any address inside the view (F112). Dirty bits are captured,
    /// share counts dropped, nothing is written (§4.4, §5.3).
    pub(crate) fn unmap_view(&mut self, vmm: &Vmm, asid: AsId, va: Va) -> Result<()> {
        self.unmap_view_as(vmm, asid, va, false)
    }

    /// [`State::unmap_view`]; with `to_placeholder` (`MEM_PRESERVE_PLACEHOLDER`), the view
    /// must have replaced a placeholder, which comes back over its range (F72); any other
    /// view stays mapped (F71).
    pub(crate) fn unmap_view_as(
        &mut self,
        vmm: &Vmm,
        asid: AsId,
        va: Va,
        to_placeholder: bool,
    ) -> Result<()> {
        self.check_process(asid)?;
        if !va.is_user() {
            return Err(SectionError::NotMappedView(va));
        }
        // The process's views are indexed by base here (rule 6 of the invariants keeps each
        // record equal to its mapped region), so the view holding `va` is found without
        // asking the machine: taken out at once when `va` is its base (the usual call), else
        // found as the last view starting at or below `va`.
        let (base, rec) = match self.views.remove(&(asid, va.raw())) {
            Some(rec) => (va, rec),
            None => {
                let (base, rec) = self
                    .views
                    .range((asid, 0)..=(asid, va.raw()))
                    .next_back()
                    .filter(|((_, b), r)| va.raw() - b < r.pages * PAGE_SIZE)
                    .map(|(&(_, b), &r)| (Va::new(b), r))
                    .ok_or(SectionError::NotMappedView(va))?;
                self.views.remove(&(asid, base.raw()));
                (base, rec)
            }
        };
        let freed = if to_placeholder {
            vmm.free_region_to_placeholder(asid, base)
        } else {
            vmm.free_region(asid, base)
        };
        let vad = match freed {
            Ok(vad) => vad,
            Err(e) => {
                // A view that is in no placeholder (F71); otherwise unreachable while rule 6
                // holds. The view stays as it was.
                self.views.insert((asid, base.raw()), rec);
                return Err(match e {
                    VmmError::ConflictingAddresses { .. } => SectionError::Placeholder(
                        "MEM_PRESERVE_PLACEHOLDER needs a view mapped into a placeholder, and this one is not",
                    ),
                    e => e.into(),
                });
            }
        };
        debug_assert!(matches!(vad.kind, VadKind::Mapped { .. }) && vad.pages() == rec.pages);
        self.events.emit(SectionEvent::ViewUnmapped {
            asid,
            base,
            control_area: rec.control_area,
        });
        self.change_counts(rec.control_area, CountChange::ViewUnmapped);
        self.check_control_area(vmm, rec.control_area)
    }

    /// `NtFlushVirtualMemory` (§5.2): harvest this process's dirty bits in the range, then write
    /// the range's modified pages. Size 0 means to the end of the view. Returns the rounded
    /// range. The pages reach the disk, not durable storage (`MmFlushVirtualMemory` does not
    /// flush the disk's cache, F130) — unless the view's section was created from a
    /// write-through file object, whose page writes are durable before they complete.
    pub(crate) fn flush_view(
        &mut self,
        vmm: &Vmm,
        asid: AsId,
        va: Va,
        size: u64,
    ) -> Result<(Va, u64)> {
        self.check_process(asid)?;
        if !va.is_user() {
            return Err(SectionError::NotMappedView(va));
        }
        let vad = vmm
            .region(asid, va)?
            .ok_or(SectionError::NotMappedView(va))?;
        if !matches!(vad.kind, VadKind::Mapped { .. }) {
            return Err(SectionError::NotMappedView(va));
        }
        let start = va.vpn();
        let end = if size == 0 {
            vad.end
        } else {
            PageRange::covering(va, ntmm_vmm::ByteCount::new(size))
                .ok_or(SectionError::NotMappedView(va))?
                .end()
        };
        if end > vad.end {
            return Err(SectionError::NotMappedView(va));
        }
        let (_, rec, _) = self.view_at(vmm, asid, va)?;
        let ca = self
            .control_areas
            .get(&rec.control_area)
            .ok_or(SectionError::NotMappedView(va))?;
        if ca.stream.is_none() {
            return Err(SectionError::NotMappedData(va));
        }
        if ca.image.is_some() {
            // An image is never written back to its file (§4.6): nothing to flush.
            return Ok((start.base(), (end.raw() - start.raw()) * PAGE_SIZE));
        }
        let pages = end.raw() - start.raw();
        vmm.harvest_dirty(asid, start.base(), PageCount::new(pages))?;
        let first = vad
            .proto_at(start)
            .ok_or(SectionError::NotMappedView(va))?
            .index;
        vmm.flush_segment(ca.segment, first.raw(), PageCount::new(pages))?;
        if rec.write_through {
            if let Some(stream) = ca.stream {
                let store = self.stream(stream)?.store;
                vmm.with_store(store, |st| st.flush())?
                    .map_err(ntmm_vmm::VmmError::from)?;
            }
        }
        self.events.emit(SectionEvent::Flushed {
            asid,
            base: start.base(),
            pages,
            control_area: rec.control_area,
            durable: rec.write_through,
        });
        Ok((start.base(), pages * PAGE_SIZE))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn test_ceiling_rule_table_facts_k() {
        let p = |w| Protection::from_win32(w).unwrap();
        assert!(
            compatible(p(PAGE_WRITECOPY), p(PAGE_READONLY)),
            "F50: WRITECOPY view of a READONLY section"
        );
        assert!(compatible(p(PAGE_NOACCESS), p(PAGE_READONLY)));
        assert!(!compatible(p(PAGE_READWRITE), p(PAGE_READONLY)));
        assert!(!compatible(p(PAGE_EXECUTE_READ), p(PAGE_READONLY)));
        assert!(
            !compatible(p(PAGE_EXECUTE_READWRITE), p(PAGE_READWRITE)),
            "F50"
        );
        assert!(
            !compatible(p(PAGE_EXECUTE_WRITECOPY), p(PAGE_READWRITE)),
            "F50"
        );
        assert!(compatible(p(PAGE_EXECUTE), p(PAGE_EXECUTE_READ)));
        for w in [
            PAGE_NOACCESS,
            PAGE_READONLY,
            PAGE_READWRITE,
            PAGE_WRITECOPY,
            PAGE_EXECUTE,
            PAGE_EXECUTE_READ,
            PAGE_EXECUTE_READWRITE,
            PAGE_EXECUTE_WRITECOPY,
        ] {
            assert!(
                compatible(p(w), p(PAGE_EXECUTE_READWRITE)),
                "F85: every single protection under ERW"
            );
        }
    }
}

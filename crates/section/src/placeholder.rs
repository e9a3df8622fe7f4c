//! Placeholders through the native services (facts F68–F72): `NtAllocateVirtualMemory(Ex)`
//! with `MEM_RESERVE_PLACEHOLDER` or `MEM_REPLACE_PLACEHOLDER`, and `NtFreeVirtualMemory` with
//! `MEM_PRESERVE_PLACEHOLDER` (split) or `MEM_COALESCE_PLACEHOLDERS`. Views replace a
//! placeholder through `map_view` (view.rs) and go back to one through `unmap_view_as`.
//! The machine's side is `ntmm_vmm`'s placeholder module.

use crate::consts::*;
use crate::error::{Result, SectionError};
use crate::state::State;
use ntmm_vmm::{
    AsId, ByteCount, PageCount, PageRange, Placement, Protection, Va, VadKind, Vmm, VmmError,
    ALLOCATION_GRANULARITY, PAGE_SIZE, USER_MAX,
};

fn range_of(base: Va, size: u64) -> Result<PageRange> {
    PageRange::covering(base, ByteCount::new(size)).ok_or(SectionError::param(3, "range overflows"))
}

/// The machine's "not that region" as the placeholder rule that failed.
fn placeholder_error(rule: &'static str) -> impl Fn(VmmError) -> SectionError {
    move |e| match e {
        VmmError::ConflictingAddresses { .. } | VmmError::NotAllocated(_) => {
            SectionError::Placeholder(rule)
        }
        VmmError::AddressOutOfRange(_) => SectionError::param(2, "range leaves the user range"),
        other => SectionError::Vmm(other),
    }
}

impl State {
    /// `NtAllocateVirtualMemory` with `MEM_RESERVE_PLACEHOLDER` (a new placeholder:
    /// `MEM_RESERVE | MEM_RESERVE_PLACEHOLDER`, `PAGE_NOACCESS`, as Microsoft documents
    /// `VirtualAlloc2`) or `MEM_REPLACE_PLACEHOLDER` (private memory of exactly a
    /// placeholder's size, at its page-aligned base, replaces it: `MEM_RESERVE`, optionally
    /// with `MEM_COMMIT`). Returns the base and size.
    pub(crate) fn allocate_placeholder(
        &mut self,
        vmm: &Vmm,
        asid: AsId,
        base: Option<Va>,
        size: u64,
        allocation_type: u32,
        protection: u32,
    ) -> Result<(Va, u64)> {
        self.check_process(asid)?;
        if size == 0 {
            return Err(SectionError::param(4, "size 0"));
        }
        if let Some(b) = base {
            if b.raw() > USER_MAX {
                return Err(SectionError::param(2, "base above the user range"));
            }
        }
        let p = Protection::from_win32(protection)
            .ok_or(SectionError::InvalidPageProtection(protection))?;
        if allocation_type & MEM_RESERVE_PLACEHOLDER != 0 {
            if allocation_type & !MEM_TOP_DOWN != MEM_RESERVE | MEM_RESERVE_PLACEHOLDER {
                return Err(SectionError::param(
                    5,
                    "MEM_RESERVE_PLACEHOLDER goes with MEM_RESERVE (and MEM_TOP_DOWN) only",
                ));
            }
            if p != Protection::NOACCESS {
                return Err(SectionError::param(
                    6,
                    "a placeholder is reserved PAGE_NOACCESS (F72)",
                ));
            }
            let (placement, pages) = match base {
                Some(b) => {
                    let start = b.align_down(ALLOCATION_GRANULARITY);
                    let end = range_of(b, size)?.end();
                    (Placement::At(start), end.raw() - start.vpn().raw())
                }
                None if allocation_type & MEM_TOP_DOWN != 0 => {
                    (Placement::TopDown, size.div_ceil(PAGE_SIZE))
                }
                None => (Placement::BottomUp, size.div_ceil(PAGE_SIZE)),
            };
            let va = vmm
                .reserve_placeholder(asid, PageCount::new(pages), placement)
                .map_err(|e| match e {
                    VmmError::ConflictingAddresses { .. } => SectionError::ConflictingAddresses,
                    VmmError::AddressOutOfRange(_) => {
                        SectionError::param(2, "range leaves the user range")
                    }
                    other => SectionError::Vmm(other),
                })?;
            return Ok((va, pages * PAGE_SIZE));
        }
        // MEM_REPLACE_PLACEHOLDER: private memory in a placeholder.
        let kind = allocation_type & !MEM_REPLACE_PLACEHOLDER;
        if kind != MEM_RESERVE && kind != MEM_RESERVE | MEM_COMMIT {
            return Err(SectionError::param(
                5,
                "MEM_REPLACE_PLACEHOLDER goes with MEM_RESERVE (and MEM_COMMIT) only",
            ));
        }
        let b = base.ok_or(SectionError::param(
            2,
            "MEM_REPLACE_PLACEHOLDER needs the placeholder's address",
        ))?;
        if p.is_copy_on_write() {
            return Err(SectionError::InvalidPageProtection(protection)); // F89
        }
        let pages = size.div_ceil(PAGE_SIZE);
        let va = vmm
            .allocate_private(
                asid,
                PageCount::new(pages),
                Placement::Replace(b),
                p,
                kind & MEM_COMMIT != 0,
            )
            .map_err(|e| match e {
                VmmError::Misaligned { value, .. } => SectionError::MappedAlignment(value),
                e => placeholder_error(
                    "MEM_REPLACE_PLACEHOLDER needs a placeholder that starts at the address and has exactly the size asked for",
                )(e),
            })?;
        Ok((va, pages * PAGE_SIZE))
    }

    /// `NtFreeVirtualMemory` with `MEM_RELEASE | MEM_PRESERVE_PLACEHOLDER` (split a
    /// placeholder, or give private memory that replaced one back to it) or
    /// `MEM_RELEASE | MEM_COALESCE_PLACEHOLDERS`. A view is never freed this way
    /// (`STATUS_UNABLE_TO_DELETE_SECTION`, `ERROR_INVALID_PARAMETER`: F71, F72), and the size
    /// may not be 0 (Wine kernelbase `test_VirtualAlloc2`). Returns the range.
    pub(crate) fn free_placeholder(
        &mut self,
        vmm: &Vmm,
        asid: AsId,
        base: Va,
        size: u64,
        free_type: u32,
    ) -> Result<(Va, u64)> {
        self.check_process(asid)?;
        let preserve = free_type == MEM_RELEASE | MEM_PRESERVE_PLACEHOLDER;
        if !preserve && free_type != MEM_RELEASE | MEM_COALESCE_PLACEHOLDERS {
            return Err(SectionError::param(4, "free type"));
        }
        if !base.is_user() {
            return Err(SectionError::param(2, "base outside the user range"));
        }
        let vad = vmm
            .region(asid, base)?
            .ok_or(SectionError::MemoryNotAllocated(base))?;
        if let VadKind::Mapped { .. } = vad.kind {
            return Err(SectionError::UnableToDeleteSection); // F71, F72
        }
        if size == 0 {
            return Err(SectionError::param(
                3,
                "a placeholder is split or coalesced over an explicit size",
            ));
        }
        let r = range_of(base, size)?;
        if preserve {
            vmm.split_placeholder(asid, r.start().base(), r.len())
                .map_err(placeholder_error(
                    "MEM_PRESERVE_PLACEHOLDER splits a range off a placeholder (a part of it, not the whole), or gives private memory that replaced a placeholder back to it",
                ))?;
        } else {
            vmm.coalesce_placeholders(asid, r.start().base(), r.len())
                .map_err(placeholder_error(
                    "MEM_COALESCE_PLACEHOLDERS needs a range that is exactly two or more adjacent placeholders",
                ))?;
        }
        Ok((r.start().base(), r.len().raw() * PAGE_SIZE))
    }
}

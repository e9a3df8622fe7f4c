//! `NtAllocateVirtualMemory`, `NtFreeVirtualMemory`, `NtProtectVirtualMemory`,
//! `NtQueryVirtualMemory` over private memory and views (nt_internals §7.4–§7.6; facts F73–F101,
//! F141).

use crate::consts::*;
use crate::error::{Result, SectionError};
use crate::state::State;
use crate::view::{compatible, with_nocache};
use ntmm_vmm::{
    AsId, ByteCount, MemState, PageCount, PageRange, Placement, Protection, RegionType, Va,
    VadKind, Vmm, VmmError, ALLOCATION_GRANULARITY, PAGE_SIZE, USER_MAX,
};

/// `MEMORY_BASIC_INFORMATION`, with Win32 values.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct MemoryBasicInformation {
    /// The queried address rounded down to its page.
    pub base_address: u64,
    /// The region's start (0 for free memory).
    pub allocation_base: u64,
    /// The protection the region was created with (`PAGE_*`; 0 for free memory).
    pub allocation_protect: u32,
    /// Bytes from `base_address` with the same state and protection.
    pub region_size: u64,
    /// `MEM_COMMIT`, `MEM_RESERVE` or `MEM_FREE`.
    pub state: u32,
    /// `PAGE_*` of committed pages; 0 when reserved; `PAGE_NOACCESS` when free.
    pub protect: u32,
    /// `MEM_PRIVATE`, `MEM_MAPPED`, or 0 when free.
    pub kind: u32,
}

fn range_of(base: Va, size: u64) -> Result<PageRange> {
    PageRange::covering(base, ByteCount::new(size)).ok_or(SectionError::param(3, "range overflows"))
}

fn private_protection(value: u32) -> Result<Protection> {
    let p = Protection::from_win32(value).ok_or(SectionError::InvalidPageProtection(value))?;
    if p.is_copy_on_write() {
        return Err(SectionError::InvalidPageProtection(value)); // F89
    }
    Ok(p)
}

/// The caching bits of a protection: `MM_NOCACHE` alone is `PAGE_NOCACHE` (the guard bit with
/// it is `PAGE_WRITECOMBINE`, and the guard bit alone with an operation is `PAGE_GUARD`).
fn is_nocache(p: Protection) -> bool {
    p.bits() & (Protection::NOCACHE_BIT | Protection::GUARD_BIT) == Protection::NOCACHE_BIT
        && p.is_accessible()
}

/// Current Windows fixes `PAGE_NOCACHE` on private memory when it is allocated (kernel32
/// test_VirtualAlloc: "PAGE_NOCACHE cannot be set per page in recent Windows"):
/// `VirtualProtect` keeps the allocation's `PAGE_NOCACHE` whatever it is asked for
/// (`PAGE_READWRITE` on `PAGE_READWRITE | PAGE_NOCACHE` memory stays `PAGE_READWRITE |
/// PAGE_NOCACHE`, and the region does not split), and never adds it to memory allocated
/// without it (`PAGE_READONLY | PAGE_NOCACHE` gives `PAGE_READONLY`). Only `PAGE_NOCACHE` is
/// covered by the source test; `PAGE_WRITECOMBINE` keeps its per-page behaviour (a documented
/// simplification).
fn keep_allocation_caching(new: Protection, allocation: Protection) -> Protection {
    let plain = if is_nocache(new) {
        Protection::from_bits(new.bits() & !Protection::NOCACHE_BIT).unwrap_or(new)
    } else {
        new
    };
    if is_nocache(allocation) && plain.is_accessible() && plain.bits() & Protection::GUARD_BIT == 0
    {
        Protection::from_bits(plain.bits() | Protection::NOCACHE_BIT).unwrap_or(plain)
    } else {
        plain
    }
}

impl State {
    /// `NtAllocateVirtualMemory`. Returns the base and size allocated or committed.
    pub(crate) fn allocate_virtual_memory(
        &mut self,
        vmm: &Vmm,
        asid: AsId,
        base: Option<Va>,
        size: u64,
        allocation_type: u32,
        protection: u32,
    ) -> Result<(Va, u64)> {
        self.check_process(asid)?;
        if allocation_type & (MEM_RESERVE_PLACEHOLDER | MEM_REPLACE_PLACEHOLDER) != 0 {
            return self.allocate_placeholder(vmm, asid, base, size, allocation_type, protection);
        }
        if allocation_type & (MEM_LARGE_PAGES | MEM_WRITE_WATCH) != 0 {
            return Err(SectionError::NotSupported("large pages and write watch"));
        }
        if allocation_type & !(MEM_COMMIT | MEM_RESERVE | MEM_RESET | MEM_TOP_DOWN) != 0 {
            return Err(SectionError::param(5, "allocation type"));
        }
        let p = Protection::from_win32(protection)
            .ok_or(SectionError::InvalidPageProtection(protection))?;
        if size == 0 {
            return Err(SectionError::param(4, "size 0"));
        }
        if let Some(b) = base {
            if b.raw() > USER_MAX {
                return Err(SectionError::param(2, "base above the user range"));
            }
        }
        if allocation_type & MEM_RESET != 0 {
            // MEM_RESET (F98): the pages' contents are no longer of interest. The model keeps
            // them (a permitted outcome) and only checks the range.
            if allocation_type != MEM_RESET {
                return Err(SectionError::param(5, "MEM_RESET with other flags"));
            }
            let b = base.ok_or(SectionError::param(2, "MEM_RESET needs a base"))?;
            let r = range_of(b, size)?;
            let vad = vmm
                .region(asid, b)?
                .ok_or(SectionError::ConflictingAddresses)?;
            if r.end() > vad.end {
                return Err(SectionError::ConflictingAddresses);
            }
            return Ok((r.start().base(), r.len().raw() * PAGE_SIZE));
        }
        let commit = allocation_type & MEM_COMMIT != 0;
        let reserve = allocation_type & MEM_RESERVE != 0 || (commit && base.is_none());
        if !commit && !reserve {
            return Err(SectionError::param(5, "neither MEM_COMMIT nor MEM_RESERVE"));
        }
        if reserve {
            let p = private_protection(protection)?;
            let (placement, pages) = match base {
                Some(b) => {
                    let start = b.align_down(ALLOCATION_GRANULARITY);
                    let end = range_of(b, size)?.end();
                    (Placement::At(start), end.raw() - start.vpn().raw())
                }
                None => {
                    let pages = size.div_ceil(PAGE_SIZE);
                    let place = if allocation_type & MEM_TOP_DOWN != 0 {
                        Placement::TopDown
                    } else {
                        Placement::BottomUp
                    };
                    (place, pages)
                }
            };
            let va = vmm
                .allocate_private(asid, PageCount::new(pages), placement, p, commit)
                .map_err(|e| match e {
                    VmmError::ConflictingAddresses { .. } => SectionError::ConflictingAddresses,
                    VmmError::AddressOutOfRange(_) => {
                        SectionError::param(2, "range leaves the user range")
                    }
                    other => SectionError::Vmm(other),
                })?;
            return Ok((va, pages * PAGE_SIZE));
        }
        // MEM_COMMIT inside an existing region.
        let b = base.ok_or(SectionError::param(2, "base"))?;
        let r = range_of(b, size)?;
        let vad = vmm
            .region(asid, b)?
            .ok_or(SectionError::ConflictingAddresses)?;
        if r.end() > vad.end {
            return Err(SectionError::ConflictingAddresses); // F101
        }
        match vad.kind {
            VadKind::Private { .. } => {
                let p = private_protection(protection)?;
                vmm.commit_private(asid, r.start().base(), r.len(), p)?;
            }
            VadKind::Placeholder => {
                return Err(SectionError::Placeholder(
                    "a placeholder cannot be committed: replace it first (MEM_REPLACE_PLACEHOLDER)",
                ));
            }
            VadKind::Mapped { segment, .. } => {
                let (_, rec, _) = self.view_at(vmm, asid, b)?;
                let ca = self
                    .control_areas
                    .get(&rec.control_area)
                    .ok_or(SectionError::NotMappedView(b))?;
                if ca.stream.is_some() {
                    return Err(SectionError::AlreadyCommitted); // F97
                }
                if !compatible(p, vad.protection) {
                    return Err(SectionError::SectionProtection); // F96
                }
                let first = vad
                    .proto_at(r.start())
                    .ok_or(SectionError::NotMappedView(b))?
                    .index;
                // F94: committing through one view commits the prototype PTEs for all views.
                vmm.commit_segment(segment, first.raw(), r.len())?;
                // F95: the range takes the requested protection.
                vmm.protect(asid, r.start().base(), r.len(), with_nocache(p, ca.nocache))?;
            }
        }
        Ok((r.start().base(), r.len().raw() * PAGE_SIZE))
    }

    /// `NtFreeVirtualMemory`. Returns the range freed or decommitted.
    pub(crate) fn free_virtual_memory(
        &mut self,
        vmm: &Vmm,
        asid: AsId,
        base: Va,
        size: u64,
        free_type: u32,
    ) -> Result<(Va, u64)> {
        self.check_process(asid)?;
        if free_type & (MEM_PRESERVE_PLACEHOLDER | MEM_COALESCE_PLACEHOLDERS) != 0 {
            return self.free_placeholder(vmm, asid, base, size, free_type);
        }
        if free_type != MEM_DECOMMIT && free_type != MEM_RELEASE {
            return Err(SectionError::param(4, "free type"));
        }
        if !base.is_user() {
            return Err(SectionError::param(2, "base outside the user range"));
        }
        let vad = vmm
            .region(asid, base)?
            .ok_or(SectionError::MemoryNotAllocated(base))?;
        if let VadKind::Mapped { .. } = vad.kind {
            return Err(SectionError::UnableToDeleteSection); // F100, §7.6
        }
        if vad.kind == VadKind::Placeholder && free_type == MEM_DECOMMIT {
            return Err(SectionError::Placeholder(
                "a placeholder has no pages to decommit: it is released, split or replaced",
            ));
        }
        let region_bytes = vad.pages() * PAGE_SIZE;
        if free_type == MEM_RELEASE {
            if base.vpn() != vad.start {
                return Err(SectionError::FreeVmNotAtBase);
            }
            if size != 0 && range_of(base, size)?.end() != vad.end {
                // Splitting a reservation is not modelled; kernel32 refuses it too (F141).
                return Err(SectionError::UnableToFreeVm);
            }
            vmm.free_region(asid, base)?;
            return Ok((vad.start.base(), region_bytes));
        }
        let r = if size == 0 {
            PageRange::new(base.vpn(), vad.end).ok_or(SectionError::UnableToFreeVm)?
        } else {
            range_of(base, size)?
        };
        if r.end() > vad.end {
            return Err(SectionError::UnableToFreeVm);
        }
        vmm.decommit_private(asid, r.start().base(), r.len())?;
        Ok((r.start().base(), r.len().raw() * PAGE_SIZE))
    }

    /// `NtProtectVirtualMemory`. Returns the first page's old protection and the range.
    pub(crate) fn protect_virtual_memory(
        &mut self,
        vmm: &Vmm,
        asid: AsId,
        base: Va,
        size: u64,
        protection: u32,
    ) -> Result<(u32, Va, u64)> {
        self.check_process(asid)?;
        let mut p = Protection::from_win32(protection)
            .ok_or(SectionError::InvalidPageProtection(protection))?;
        if size == 0 {
            return Err(SectionError::param(3, "size 0"));
        }
        if !base.is_user() {
            return Err(SectionError::param(2, "base outside the user range"));
        }
        let r = range_of(base, size)?;
        let vad = vmm
            .region(asid, base)?
            .ok_or(SectionError::ConflictingAddresses)?;
        if r.end() > vad.end {
            return Err(SectionError::ConflictingAddresses);
        }
        match vad.kind {
            VadKind::Private { .. } | VadKind::Placeholder => {
                private_protection(protection)?;
                p = keep_allocation_caching(p, vad.protection);
            }
            VadKind::Mapped { .. } => {
                if p.is_accessible() && p.bits() & Protection::NOCACHE_BIT != 0 {
                    return Err(SectionError::InvalidPageProtection(protection));
                    // §7.5
                }
                // F91: an image view turns a write request into copy-on-write, so every single
                // protection passes its EXECUTE_WRITECOPY ceiling.
                if self.is_image_view(vmm, asid, base) {
                    let cow = match p.operation() {
                        4 => Some(Protection::WRITECOPY),
                        6 => Some(Protection::EXECUTE_WRITECOPY),
                        _ => None,
                    };
                    if let Some(c) = cow {
                        p = Protection::from_bits(c.bits() | (p.bits() & !7)).unwrap_or(c);
                    }
                }
                if !compatible(p, vad.protection) {
                    return Err(SectionError::SectionProtection); // F82, F92
                }
            }
        }
        let old = vmm
            .protect(asid, r.start().base(), r.len(), p)
            .map_err(|e| match e {
                VmmError::NotCommitted(_) => SectionError::NotCommitted,
                other => SectionError::Vmm(other),
            })?;
        Ok((old.to_win32(), r.start().base(), r.len().raw() * PAGE_SIZE))
    }

    /// `NtQueryVirtualMemory(MemoryBasicInformation)`.
    pub(crate) fn query_virtual_memory(
        &self,
        vmm: &Vmm,
        asid: AsId,
        va: Va,
    ) -> Result<MemoryBasicInformation> {
        self.check_process(asid)?;
        if va.raw() > USER_MAX {
            return Err(SectionError::param(2, "address above the user range"));
        }
        let q = vmm.query(asid, va)?;
        let (state, protect) = match q.state {
            MemState::Free => (MEM_FREE, PAGE_NOACCESS),
            MemState::Reserve => (MEM_RESERVE, 0),
            MemState::Commit => (MEM_COMMIT, q.protect.to_win32()),
        };
        Ok(MemoryBasicInformation {
            base_address: q.base.raw(),
            allocation_base: q.allocation_base.map_or(0, |v| v.raw()),
            allocation_protect: q.allocation_protect.to_win32(),
            region_size: q.size.raw(),
            state,
            protect,
            kind: match q.kind {
                Some(RegionType::Private) => MEM_PRIVATE,
                Some(RegionType::Mapped) if self.is_image_view(vmm, asid, va) => MEM_IMAGE,
                Some(RegionType::Mapped) => MEM_MAPPED,
                None => 0,
            },
        })
    }
}

//! Placeholders at the Win32 and native surface (facts F68–F72, F139, F140): `VirtualAlloc2`,
//! `MapViewOfFile3` (and `MapViewOfFileFromApp`, its `FILE_MAP_*` sibling), and the native `NtAllocateVirtualMemoryEx`, `NtMapViewOfSectionEx`,
//! `NtUnmapViewOfSectionEx`. Splitting and coalescing go through `VirtualFree(Ex)` /
//! `NtFreeVirtualMemory` with `MEM_PRESERVE_PLACEHOLDER` / `MEM_COALESCE_PLACEHOLDERS`
//! (memory.rs), and `UnmapViewOfFile2(…, MEM_PRESERVE_PLACEHOLDER)` (mapping.rs) puts a
//! placeholder back. Extended parameters (`MEM_EXTENDED_PARAMETER`) are not modelled: every
//! function here takes none (DESIGN.md's table of facts not modelled, row F63/F66).

use crate::access::PROCESS_VM_OPERATION;
use crate::mapping::NtMapViewArgs;
use crate::object::Handle;
use crate::system::{Fail, System};
use crate::win32::*;
use ntmm_section::consts::*;
use ntmm_vmm::{AsId, NtStatus, Va};

/// `VirtualAlloc2`'s and `MapViewOfFile3`'s process argument: NULL is the current process
/// (Microsoft's documentation of both; Wine kernelbase `test_VirtualAlloc2` passes NULL).
fn process_or_current(process: Handle) -> Handle {
    if process == Handle::NULL {
        Handle::INVALID
    } else {
        process
    }
}

impl System {
    /// `VirtualAlloc2(Process, BaseAddress, Size, AllocationType, PageProtection, NULL, 0)`:
    /// `VirtualAllocEx` with a NULL process meaning the current one, plus placeholders:
    /// `MEM_RESERVE | MEM_RESERVE_PLACEHOLDER` with `PAGE_NOACCESS` reserves a placeholder
    /// (F72: `MEM_RESERVE`, `MEM_PRIVATE`, AllocationProtect `PAGE_NOACCESS`), and
    /// `MEM_RESERVE | MEM_REPLACE_PLACEHOLDER` (optionally with `MEM_COMMIT`) puts private
    /// memory in the placeholder at `BaseAddress`, which must have exactly `Size` bytes.
    pub fn virtual_alloc2(
        &self,
        pid: AsId,
        process: Handle,
        address: Option<Va>,
        size: u64,
        allocation_type: u32,
        protection: u32,
    ) -> Result<Va, Win32Error> {
        self.virtual_alloc_ex(
            pid,
            process_or_current(process),
            address,
            size,
            allocation_type,
            protection,
        )
    }

    /// `MapViewOfFile3(FileMapping, Process, BaseAddress, Offset, ViewSize, AllocationType,
    /// PageProtection, NULL, 0)`: a `ViewShare` view whose protection is a page protection
    /// (F140), checked against the section handle's rights (F48). A NULL process is the
    /// current one. With `MEM_REPLACE_PLACEHOLDER` the view replaces the placeholder at
    /// `BaseAddress` and returns exactly that address (F70); base and offset need then only be
    /// page-aligned (F68), and the placeholder must have exactly the view's size (F69).
    #[allow(clippy::too_many_arguments)]
    pub fn map_view_of_file3(
        &self,
        pid: AsId,
        section: Handle,
        process: Handle,
        base: Option<Va>,
        offset: u64,
        view_size: u64,
        allocation_type: u32,
        protection: u32,
    ) -> Result<Va, Win32Error> {
        let args = NtMapViewArgs::view_share(base, offset, view_size, allocation_type, protection);
        // The native call is made on the program's behalf (why::OnBehalf).
        let _on_behalf = crate::why::OnBehalf::enter();
        let r = self
            .nt_map_view_of_section(pid, section, process_or_current(process), args)
            .map(|(va, _)| va)
            .map_err(Fail::Status);
        self.win32(pid, r)
    }

    /// `MapViewOfFileFromApp(FileMapping, DesiredAccess, FileOffset, NumberOfBytesToMap)`:
    /// `MapViewOfFile` with a 64-bit offset. Its second argument is a `FILE_MAP_*` access mask,
    /// not a page protection (F139, narrowed 2026-11-30): a value with no `FILE_MAP` bit, such
    /// as the test's 0x40, succeeds and gives a `PAGE_NOACCESS` view (the documented decoding;
    /// the view protection Windows gives is untested, stated in DESIGN.md).
    pub fn map_view_of_file_from_app(
        &self,
        pid: AsId,
        section: Handle,
        access: u32,
        offset: u64,
        size: u64,
    ) -> Result<Va, Win32Error> {
        self.map_view_of_file_ex(
            pid,
            section,
            access,
            (offset >> 32) as u32,
            offset as u32,
            size,
            None,
        )
    }

    /// `NtAllocateVirtualMemoryEx(Process, &Base, &Size, AllocationType, PageProtection, NULL,
    /// 0)`: `NtAllocateVirtualMemory` without `ZeroBits`, placeholders included.
    pub fn nt_allocate_virtual_memory_ex(
        &self,
        pid: AsId,
        process: Handle,
        base: Option<Va>,
        size: u64,
        allocation_type: u32,
        protection: u32,
    ) -> Result<(Va, u64), NtStatus> {
        self.nt_allocate_virtual_memory(pid, process, base, size, allocation_type, protection)
    }

    /// `NtMapViewOfSectionEx(Section, Process, &Base, &Offset, &ViewSize, AllocationType,
    /// PageProtection, NULL, 0)`: `NtMapViewOfSection` as `ViewShare`, without `ZeroBits` and
    /// `CommitSize`; `MEM_REPLACE_PLACEHOLDER` maps into a placeholder (F68–F70).
    #[allow(clippy::too_many_arguments)]
    pub fn nt_map_view_of_section_ex(
        &self,
        pid: AsId,
        section: Handle,
        process: Handle,
        base: Option<Va>,
        offset: u64,
        view_size: u64,
        allocation_type: u32,
        protection: u32,
    ) -> Result<(Va, u64), NtStatus> {
        let args = NtMapViewArgs::view_share(base, offset, view_size, allocation_type, protection);
        self.nt_map_view_of_section(pid, section, process, args)
    }

    /// `NtUnmapViewOfSectionEx(Process, Base, Flags)`: `Flags` may hold
    /// `MEM_UNMAP_WITH_TRANSIENT_BOOST` (accepted, nothing to boost) and
    /// `MEM_PRESERVE_PLACEHOLDER`, which puts the placeholder the view replaced back (F72) and
    /// fails on a view in no placeholder, `STATUS_CONFLICTING_ADDRESSES` (F71: Win32's
    /// `ERROR_INVALID_ADDRESS`); any other bit is `STATUS_INVALID_PARAMETER`.
    pub fn nt_unmap_view_of_section_ex(
        &self,
        pid: AsId,
        process: Handle,
        base: Va,
        flags: u32,
    ) -> Result<(), NtStatus> {
        let r = (|| {
            if flags & !(MEM_UNMAP_WITH_TRANSIENT_BOOST | MEM_PRESERVE_PLACEHOLDER) != 0 {
                return Err(Fail::Rule(
                    NtStatus::STATUS_INVALID_PARAMETER,
                    "Flags may hold only MEM_UNMAP_WITH_TRANSIENT_BOOST and MEM_PRESERVE_PLACEHOLDER (F72)".into(),
                ));
            }
            let target = crate::why::process_with_access(
                &self.om.lock(),
                pid,
                process,
                PROCESS_VM_OPERATION,
            )?;
            Ok(self.unmap_in(target, base, flags)?)
        })();
        self.native(pid, r)
    }

    /// Unmaps the view at `base` in `target`, back to its placeholder with
    /// `MEM_PRESERVE_PLACEHOLDER` in `flags`.
    pub(crate) fn unmap_in(
        &self,
        target: AsId,
        base: Va,
        flags: u32,
    ) -> Result<(), ntmm_section::SectionError> {
        if flags & MEM_PRESERVE_PLACEHOLDER != 0 {
            self.ex.unmap_view_to_placeholder(target, base)
        } else {
            self.ex.unmap_view(target, base)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn test_null_process_is_the_current_one_for_virtual_alloc2_and_map_view_of_file3() {
        assert_eq!(process_or_current(Handle::NULL), Handle::INVALID);
        assert_eq!(process_or_current(Handle(8)), Handle(8));
        // ERROR_INVALID_ADDRESS is what F71/F72 report for STATUS_CONFLICTING_ADDRESSES.
        assert_eq!(
            dos_error(NtStatus::STATUS_CONFLICTING_ADDRESSES),
            ERROR_INVALID_ADDRESS
        );
    }
}

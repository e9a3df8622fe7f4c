//! `NtAllocateVirtualMemory` … `NtQueryVirtualMemory` and `VirtualAlloc`, `VirtualFree`,
//! `VirtualProtect`, `VirtualQuery` (facts §J–§L, F89, F90, F141).

use crate::object::Handle;
use crate::system::{Fail, System, R};
use crate::win32::*;
use ntmm_section::consts::*;
use ntmm_section::MemoryBasicInformation;
use ntmm_vmm::{AsId, NtStatus, Va};

impl System {
    fn target(&self, pid: AsId, process: Handle) -> R<AsId> {
        if process == Handle::NULL {
            return Err(NtStatus::STATUS_INVALID_HANDLE.into());
        }
        Ok(self.om.lock().process_of(pid, process)?)
    }

    /// `NtAllocateVirtualMemory`: returns the base and size.
    pub fn nt_allocate_virtual_memory(
        &self,
        pid: AsId,
        process: Handle,
        base: Option<Va>,
        size: u64,
        allocation_type: u32,
        protection: u32,
    ) -> Result<(Va, u64), NtStatus> {
        let r = (|| {
            let t = self.target(pid, process)?;
            Ok(self
                .ex
                .allocate_virtual_memory(t, base, size, allocation_type, protection)?)
        })();
        Self::native(r)
    }

    /// `NtFreeVirtualMemory`: returns the range freed.
    pub fn nt_free_virtual_memory(
        &self,
        pid: AsId,
        process: Handle,
        base: Va,
        size: u64,
        free_type: u32,
    ) -> Result<(Va, u64), NtStatus> {
        let r = (|| {
            let t = self.target(pid, process)?;
            Ok(self.ex.free_virtual_memory(t, base, size, free_type)?)
        })();
        Self::native(r)
    }

    /// `NtProtectVirtualMemory`: returns the old protection.
    pub fn nt_protect_virtual_memory(
        &self,
        pid: AsId,
        process: Handle,
        base: Va,
        size: u64,
        protection: u32,
    ) -> Result<u32, NtStatus> {
        let r = (|| {
            let t = self.target(pid, process)?;
            Ok(self.ex.protect_virtual_memory(t, base, size, protection)?.0)
        })();
        Self::native(r)
    }

    /// `NtQueryVirtualMemory(MemoryBasicInformation)`.
    pub fn nt_query_virtual_memory(
        &self,
        pid: AsId,
        process: Handle,
        va: Va,
    ) -> Result<MemoryBasicInformation, NtStatus> {
        let r = (|| {
            let t = self.target(pid, process)?;
            Ok(self.ex.query_virtual_memory(t, va)?)
        })();
        Self::native(r)
    }

    /// `VirtualAlloc`: returns the base.
    pub fn virtual_alloc(
        &self,
        pid: AsId,
        address: Option<Va>,
        size: u64,
        allocation_type: u32,
        protection: u32,
    ) -> Result<Va, Win32Error> {
        let r = self
            .nt_allocate_virtual_memory(
                pid,
                Handle::INVALID,
                address,
                size,
                allocation_type,
                protection,
            )
            .map(|(va, _)| va)
            .map_err(Fail::Status);
        self.win32(pid, r)
    }

    /// `VirtualFree`: `MEM_RELEASE` needs size 0 (F141).
    pub fn virtual_free(
        &self,
        pid: AsId,
        address: Va,
        size: u64,
        free_type: u32,
    ) -> Result<(), Win32Error> {
        let r = if free_type == MEM_RELEASE && size != 0 {
            Err(Fail::Win32(ERROR_INVALID_PARAMETER))
        } else {
            self.nt_free_virtual_memory(pid, Handle::INVALID, address, size, free_type)
                .map(|_| ())
                .map_err(Fail::Status)
        };
        self.win32(pid, r)
    }

    /// `VirtualProtect`: returns the first page's old protection.
    pub fn virtual_protect(
        &self,
        pid: AsId,
        address: Va,
        size: u64,
        protection: u32,
    ) -> Result<u32, Win32Error> {
        let r = self
            .nt_protect_virtual_memory(pid, Handle::INVALID, address, size, protection)
            .map_err(Fail::Status);
        self.win32(pid, r)
    }

    /// `VirtualQuery`: an address above user space is `ERROR_INVALID_PARAMETER`.
    pub fn virtual_query(
        &self,
        pid: AsId,
        address: Va,
    ) -> Result<MemoryBasicInformation, Win32Error> {
        let r = self
            .nt_query_virtual_memory(pid, Handle::INVALID, address)
            .map_err(Fail::Status);
        self.win32(pid, r)
    }
}

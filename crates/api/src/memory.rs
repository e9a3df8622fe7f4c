//! `NtAllocateVirtualMemory` … `NtQueryVirtualMemory` and `VirtualAlloc(Ex)`, `VirtualFree(Ex)`,
//! `VirtualProtect(Ex)`, `VirtualQuery(Ex)` (facts §J–§L, F89, F90, F141).
//!
//! Each native call checks its process handle's rights as NT does (Microsoft's documentation of
//! each function; Wine kernel32 `test_OpenProcess`): allocating, freeing and protecting need
//! `PROCESS_VM_OPERATION`; querying needs `PROCESS_QUERY_LIMITED_INFORMATION`, which every
//! handle with `PROCESS_QUERY_INFORMATION` holds too ([`crate::access::process_rights`]).

use crate::access::{PROCESS_QUERY_LIMITED_INFORMATION, PROCESS_VM_OPERATION};
use crate::object::Handle;
use crate::system::{Fail, System, R};
use crate::win32::*;
use ntmm_section::consts::*;
use ntmm_section::MemoryBasicInformation;
use ntmm_vmm::{AsId, NtStatus, Va};

impl System {
    /// The process a handle names, if the handle grants `need` (a NULL handle is
    /// `STATUS_INVALID_HANDLE`, F65).
    pub(crate) fn target(&self, pid: AsId, process: Handle, need: u32) -> R<AsId> {
        if process == Handle::NULL {
            return Err(NtStatus::STATUS_INVALID_HANDLE.into());
        }
        crate::why::process_with_access(&self.om.lock(), pid, process, need)
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
            let t = self.target(pid, process, PROCESS_VM_OPERATION)?;
            Ok(self
                .ex
                .allocate_virtual_memory(t, base, size, allocation_type, protection)?)
        })();
        self.native(pid, r)
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
            let t = self.target(pid, process, PROCESS_VM_OPERATION)?;
            Ok(self.ex.free_virtual_memory(t, base, size, free_type)?)
        })();
        self.native(pid, r)
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
            let t = self.target(pid, process, PROCESS_VM_OPERATION)?;
            Ok(self.ex.protect_virtual_memory(t, base, size, protection)?.0)
        })();
        self.native(pid, r)
    }

    /// `NtQueryVirtualMemory(MemoryBasicInformation)`.
    pub fn nt_query_virtual_memory(
        &self,
        pid: AsId,
        process: Handle,
        va: Va,
    ) -> Result<MemoryBasicInformation, NtStatus> {
        let r = (|| {
            let t = self.target(pid, process, PROCESS_QUERY_LIMITED_INFORMATION)?;
            Ok(self.ex.query_virtual_memory(t, va)?)
        })();
        self.native(pid, r)
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
        self.virtual_alloc_ex(
            pid,
            Handle::INVALID,
            address,
            size,
            allocation_type,
            protection,
        )
    }

    /// `VirtualAllocEx`: `VirtualAlloc` in the process `process` names (it needs
    /// `PROCESS_VM_OPERATION`; a NULL handle is `ERROR_INVALID_HANDLE`, Wine kernel32
    /// `test_VirtualAllocEx`).
    pub fn virtual_alloc_ex(
        &self,
        pid: AsId,
        process: Handle,
        address: Option<Va>,
        size: u64,
        allocation_type: u32,
        protection: u32,
    ) -> Result<Va, Win32Error> {
        // The native call is made on the program's behalf (why::OnBehalf).
        let _on_behalf = crate::why::OnBehalf::enter();
        let r = self
            .nt_allocate_virtual_memory(pid, process, address, size, allocation_type, protection)
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
        self.virtual_free_ex(pid, Handle::INVALID, address, size, free_type)
    }

    /// `VirtualFreeEx`: as `VirtualFree` (`MEM_RELEASE` with a size is
    /// `ERROR_INVALID_PARAMETER` before the handle is looked at, F141), in another process.
    pub fn virtual_free_ex(
        &self,
        pid: AsId,
        process: Handle,
        address: Va,
        size: u64,
        free_type: u32,
    ) -> Result<(), Win32Error> {
        // The native call is made on the program's behalf (why::OnBehalf).
        let _on_behalf = crate::why::OnBehalf::enter();
        let r = if free_type == MEM_RELEASE && size != 0 {
            Err(Fail::Win32(ERROR_INVALID_PARAMETER))
        } else {
            self.nt_free_virtual_memory(pid, process, address, size, free_type)
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
        self.virtual_protect_ex(pid, Handle::INVALID, address, size, protection)
    }

    /// `VirtualProtectEx`: `VirtualProtect` in another process (`PROCESS_VM_OPERATION`).
    pub fn virtual_protect_ex(
        &self,
        pid: AsId,
        process: Handle,
        address: Va,
        size: u64,
        protection: u32,
    ) -> Result<u32, Win32Error> {
        // The native call is made on the program's behalf (why::OnBehalf).
        let _on_behalf = crate::why::OnBehalf::enter();
        let r = self
            .nt_protect_virtual_memory(pid, process, address, size, protection)
            .map_err(Fail::Status);
        self.win32(pid, r)
    }

    /// `VirtualQuery`: an address above user space is `ERROR_INVALID_PARAMETER`.
    pub fn virtual_query(
        &self,
        pid: AsId,
        address: Va,
    ) -> Result<MemoryBasicInformation, Win32Error> {
        self.virtual_query_ex(pid, Handle::INVALID, address)
    }

    /// `VirtualQueryEx`: `VirtualQuery` in another process (`PROCESS_QUERY_INFORMATION` or
    /// `PROCESS_QUERY_LIMITED_INFORMATION`, Wine kernel32 `test_OpenProcess`, Windows 8 and
    /// later).
    pub fn virtual_query_ex(
        &self,
        pid: AsId,
        process: Handle,
        address: Va,
    ) -> Result<MemoryBasicInformation, Win32Error> {
        // The native call is made on the program's behalf (why::OnBehalf).
        let _on_behalf = crate::why::OnBehalf::enter();
        let r = self
            .nt_query_virtual_memory(pid, process, address)
            .map_err(Fail::Status);
        self.win32(pid, r)
    }
}

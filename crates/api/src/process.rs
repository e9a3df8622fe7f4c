//! Processes as handles, and calls on another process's memory: `GetCurrentProcess`,
//! `OpenProcess` (`NtOpenProcess`), `NtReadVirtualMemory`/`ReadProcessMemory` and
//! `NtWriteVirtualMemory`/`WriteProcessMemory` (docs/SCENARIO.md "Processes as handles",
//! "Calls on another process"; DESIGN.md "Process handles and their rights").
//!
//! The rights each call needs on its process handle, as Microsoft documents them and Wine's
//! kernel32 `test_OpenProcess` checks them on Windows: reading needs `PROCESS_VM_READ`, writing
//! `PROCESS_VM_WRITE` (and, for `WriteProcessMemory`, `PROCESS_VM_OPERATION` too: it may change
//! the page protection first). A missing right is `STATUS_ACCESS_DENIED`
//! (`ERROR_ACCESS_DENIED`); a process that has exited is `STATUS_PROCESS_IS_TERMINATING`
//! (`ERROR_ACCESS_DENIED`) — its handle stays valid.

use crate::access::*;
use crate::object::Handle;
use crate::system::{Fail, System};
use crate::win32::*;
use ntmm_section::consts::*;
use ntmm_section::MemoryBasicInformation;
use ntmm_vmm::{AsId, NtStatus, Va, USER_MAX};

const PAGE: u64 = 4096;

/// The protection bits that say what a page allows (no `PAGE_GUARD`/`PAGE_NOCACHE` modifiers).
fn base_protection(protect: u32) -> u32 {
    protect & 0xFF
}

/// A committed page the kernel may read on another process's behalf: anything but
/// `PAGE_NOACCESS` and guard pages.
fn readable(m: &MemoryBasicInformation) -> bool {
    m.state == MEM_COMMIT
        && m.protect & PAGE_GUARD == 0
        && !matches!(base_protection(m.protect), 0 | PAGE_NOACCESS)
}

/// A committed page that may be written: read-write, write-copy (the write makes the private
/// copy, §3.7) and their execute forms; never a guard page.
fn writable(m: &MemoryBasicInformation) -> bool {
    m.state == MEM_COMMIT
        && m.protect & PAGE_GUARD == 0
        && matches!(
            base_protection(m.protect),
            PAGE_READWRITE | PAGE_WRITECOPY | PAGE_EXECUTE_READWRITE | PAGE_EXECUTE_WRITECOPY
        )
}

/// The end of `[va, va + len)`, if the range lies in user space; otherwise NT's
/// `NtReadVirtualMemory`/`NtWriteVirtualMemory` refuse it with `STATUS_ACCESS_VIOLATION` before
/// copying anything.
fn user_range_end(va: Va, len: u64) -> Result<u64, NtStatus> {
    va.raw()
        .checked_add(len)
        .filter(|end| *end <= USER_MAX + 1)
        .ok_or(NtStatus::STATUS_ACCESS_VIOLATION)
}

impl System {
    /// `GetCurrentProcess`: the pseudo handle, all ones as on Windows, which every call taking
    /// a process handle accepts as the caller with `PROCESS_ALL_ACCESS`.
    pub fn get_current_process(&self) -> Handle {
        Handle::INVALID
    }

    fn open_process_in(
        &self,
        caller: AsId,
        access: u32,
        inherit: bool,
        target: AsId,
    ) -> Result<Handle, Fail> {
        let mut om = self.om.lock();
        om.processes
            .get(&caller)
            .ok_or(NtStatus::STATUS_INVALID_HANDLE)?;
        // A process id that names no live process: STATUS_INVALID_CID (ERROR_INVALID_PARAMETER).
        let obj = om
            .processes
            .get(&target)
            .map(|p| p.object)
            .ok_or(NtStatus::STATUS_INVALID_CID)?;
        Ok(om.insert_handle(caller, obj, process_rights(access), inherit)?)
    }

    /// `NtOpenProcess` by client id: a handle with the requested rights (generic rights mapped,
    /// `PROCESS_QUERY_LIMITED_INFORMATION` granted with `PROCESS_QUERY_INFORMATION`).
    pub fn nt_open_process(
        &self,
        caller: AsId,
        access: u32,
        inherit: bool,
        target: AsId,
    ) -> Result<Handle, NtStatus> {
        self.native(
            caller,
            self.open_process_in(caller, access, inherit, target),
        )
    }

    /// `OpenProcess(dwDesiredAccess, bInheritHandle, dwProcessId)`: a handle to `target` with
    /// exactly the rights asked for (and those Windows grants with them,
    /// [`process_rights`]). A process that does not exist is `ERROR_INVALID_PARAMETER`.
    pub fn open_process_access(
        &self,
        caller: AsId,
        access: u32,
        inherit: bool,
        target: AsId,
    ) -> Result<Handle, Win32Error> {
        let r = self.open_process_in(caller, access, inherit, target);
        self.win32(caller, r)
    }

    /// Copies up to `len` bytes of `target`'s memory from `va`, stopping at the first page it
    /// may not read; returns the status and the bytes copied.
    fn copy_from(&self, target: AsId, va: Va, len: u64) -> (NtStatus, Vec<u8>) {
        let end = match user_range_end(va, len) {
            Ok(e) => e,
            Err(s) => return (s, Vec::new()),
        };
        let mut out = Vec::new();
        let mut at = va.raw();
        while at < end {
            let Ok(m) = self.ex.query_virtual_memory(target, Va::new(at)) else {
                break;
            };
            if !readable(&m) {
                break;
            }
            let region_end = (m.base_address + m.region_size).min(end);
            while at < region_end {
                let n = ((at / PAGE + 1) * PAGE).min(region_end) - at;
                let start = out.len();
                if out.try_reserve(n as usize).is_err() {
                    return (NtStatus::STATUS_NO_MEMORY, out);
                }
                out.resize(start + n as usize, 0);
                // A page that still raises (an in-page error) ends the copy there.
                if self
                    .ex
                    .vmm()
                    .read(target, Va::new(at), &mut out[start..])
                    .is_err()
                {
                    out.truncate(start);
                    return (NtStatus::STATUS_PARTIAL_COPY, out);
                }
                at += n;
            }
        }
        let status = if at >= end {
            NtStatus::STATUS_SUCCESS
        } else {
            NtStatus::STATUS_PARTIAL_COPY
        };
        (status, out)
    }

    /// Stores `data` into `target`'s memory at `va`, stopping at the first page it may not
    /// write; returns the status and the count of bytes stored.
    fn copy_to(&self, target: AsId, va: Va, data: &[u8]) -> (NtStatus, u64) {
        let end = match user_range_end(va, data.len() as u64) {
            Ok(e) => e,
            Err(s) => return (s, 0),
        };
        let mut at = va.raw();
        while at < end {
            let Ok(m) = self.ex.query_virtual_memory(target, Va::new(at)) else {
                break;
            };
            if !writable(&m) {
                break;
            }
            let region_end = (m.base_address + m.region_size).min(end);
            while at < region_end {
                let n = ((at / PAGE + 1) * PAGE).min(region_end) - at;
                let from = (at - va.raw()) as usize;
                if self
                    .ex
                    .vmm()
                    .write(target, Va::new(at), &data[from..from + n as usize])
                    .is_err()
                {
                    return (NtStatus::STATUS_PARTIAL_COPY, at - va.raw());
                }
                at += n;
            }
        }
        let status = if at >= end {
            NtStatus::STATUS_SUCCESS
        } else {
            NtStatus::STATUS_PARTIAL_COPY
        };
        (status, at - va.raw())
    }

    /// `NtReadVirtualMemory(ProcessHandle, BaseAddress, Buffer, Size, &NumberOfBytesRead)`:
    /// returns the status and the bytes read (their count is `NumberOfBytesRead`). The handle
    /// needs `PROCESS_VM_READ`. The copy stops at the first page that is not committed, is
    /// `PAGE_NOACCESS` or a guard page (left armed) or cannot be brought in: then the status is
    /// `STATUS_PARTIAL_COPY` with the bytes before it. A range that leaves user space is
    /// `STATUS_ACCESS_VIOLATION` with nothing read; a size of 0 succeeds with nothing read.
    pub fn nt_read_virtual_memory(
        &self,
        pid: AsId,
        process: Handle,
        va: Va,
        len: u64,
    ) -> (NtStatus, Vec<u8>) {
        let (status, bytes) = match self.target(pid, process, PROCESS_VM_READ) {
            Err(f) => (self.native_rule.keep_fail(&f), Vec::new()),
            Ok(_) if len == 0 => (NtStatus::STATUS_SUCCESS, Vec::new()),
            Ok(t) => self.copy_from(t, va, len),
        };
        self.native_failed(pid, status, None);
        (status, bytes)
    }

    /// `NtWriteVirtualMemory(ProcessHandle, BaseAddress, Buffer, Size, &NumberOfBytesWritten)`:
    /// returns the status and the count written. The handle needs `PROCESS_VM_WRITE`. Only
    /// writable pages are written (read-write, write-copy and their execute forms): the copy
    /// stops at the first other page with `STATUS_PARTIAL_COPY` and the count before it (Wine
    /// kernel32 `test_VirtualAllocEx`: a read-only or execute-read target gives
    /// `STATUS_PARTIAL_COPY` and 0 bytes).
    pub fn nt_write_virtual_memory(
        &self,
        pid: AsId,
        process: Handle,
        va: Va,
        data: &[u8],
    ) -> (NtStatus, u64) {
        let (status, n) = match self.target(pid, process, PROCESS_VM_WRITE) {
            Err(f) => (self.native_rule.keep_fail(&f), 0),
            Ok(_) if data.is_empty() => (NtStatus::STATUS_SUCCESS, 0),
            Ok(t) => self.copy_to(t, va, data),
        };
        self.native_failed(pid, status, None);
        (status, n)
    }

    /// `ReadProcessMemory(hProcess, lpBaseAddress, lpBuffer, nSize, &NumberOfBytesRead)`:
    /// `NtReadVirtualMemory` with its status turned into the last error. Returns the result and
    /// the bytes read, which are there on failure too: a read that crosses into memory it may
    /// not read fails with `ERROR_PARTIAL_COPY` and the bytes before it; a missing
    /// `PROCESS_VM_READ` is `ERROR_ACCESS_DENIED` with 0 bytes (Wine kernel32
    /// `test_OpenProcess`).
    pub fn read_process_memory(
        &self,
        pid: AsId,
        process: Handle,
        va: Va,
        len: u64,
    ) -> (Result<(), Win32Error>, Vec<u8>) {
        // The native call is made on the program's behalf (why::OnBehalf).
        let _on_behalf = crate::why::OnBehalf::enter();
        let (status, bytes) = self.nt_read_virtual_memory(pid, process, va, len);
        let r = if status.is_success() {
            Ok(())
        } else {
            Err(Fail::Status(status))
        };
        (self.win32(pid, r), bytes)
    }

    /// `WriteProcessMemory(hProcess, lpBaseAddress, lpBuffer, nSize, &NumberOfBytesWritten)`.
    /// Returns the result and what `*lpNumberOfBytesWritten` receives (`None`: Windows leaves
    /// it untouched). As Windows' kernelbase does (Wine kernel32 `test_VirtualAllocEx`), it looks
    /// at the protection of the page at `lpBaseAddress` first:
    ///
    /// * writable (read-write, write-copy and their execute forms): `NtWriteVirtualMemory`;
    ///   a write that runs into a page it may not write fails with `ERROR_PARTIAL_COPY` and
    ///   the count before it;
    /// * `PAGE_EXECUTE`/`PAGE_EXECUTE_READ` (code): the pages from there to the end of the write
    ///   or of that region are made `PAGE_EXECUTE_READWRITE` (private memory) or
    ///   `PAGE_EXECUTE_WRITECOPY` (a view), written, and given their protection back — the
    ///   write succeeds;
    /// * anything else (read-only, no access, guard, reserved, free): `ERROR_NOACCESS`, count
    ///   untouched, nothing written.
    ///
    /// The handle needs `PROCESS_VM_OPERATION` (for that protection step) and
    /// `PROCESS_VM_WRITE` (Microsoft's documentation of the function). Writing 0 bytes
    /// succeeds with a count of 0.
    pub fn write_process_memory(
        &self,
        pid: AsId,
        process: Handle,
        va: Va,
        data: &[u8],
    ) -> (Result<(), Win32Error>, Option<u64>) {
        // The native calls are made on the program's behalf (why::OnBehalf).
        let _on_behalf = crate::why::OnBehalf::enter();
        let (r, count) = self.write_process_memory_in(pid, process, va, data);
        (self.win32(pid, r), count)
    }

    fn write_process_memory_in(
        &self,
        pid: AsId,
        process: Handle,
        va: Va,
        data: &[u8],
    ) -> (Result<(), Fail>, Option<u64>) {
        // kernel32 first looks at the target's protection (PROCESS_VM_OPERATION), then writes
        // (NtWriteVirtualMemory: PROCESS_VM_WRITE); without the first, nothing is written and
        // the count is untouched.
        let t = match self.target(pid, process, PROCESS_VM_OPERATION) {
            Ok(t) => t,
            Err(Fail::Rule(NtStatus::STATUS_ACCESS_DENIED, _)) => {
                let granted = self.om.lock().entry(pid, process).map_or(0, |e| e.access);
                return (
                    Err(Fail::Rule(
                        NtStatus::STATUS_ACCESS_DENIED,
                        format!(
                            "the process handle grants {}; WriteProcessMemory needs \
                             PROCESS_VM_OPERATION (to look at and change the target's \
                             protection) and PROCESS_VM_WRITE (to write) (its documentation)",
                            crate::why::access_names(crate::access::ObjectType::Process, granted)
                        ),
                    )),
                    None,
                );
            }
            Err(f) => return (Err(f), None),
        };
        let written = |(status, n): (NtStatus, u64)| {
            let r = if status.is_success() {
                Ok(())
            } else {
                Err(Fail::Status(status))
            };
            (r, Some(n))
        };
        if data.is_empty() {
            return written(self.nt_write_virtual_memory(pid, process, va, data));
        }
        let m = match self.ex.query_virtual_memory(t, va) {
            Ok(m) => m,
            Err(e) => return (Err(Fail::Section(e)), None),
        };
        // The page's own protection decides (a guard page's too: NtWriteVirtualMemory then
        // refuses it with a partial copy of 0 bytes).
        let base = if m.state == MEM_COMMIT {
            base_protection(m.protect)
        } else {
            0
        };
        match base {
            PAGE_READWRITE | PAGE_WRITECOPY | PAGE_EXECUTE_READWRITE | PAGE_EXECUTE_WRITECOPY => {
                return written(self.nt_write_virtual_memory(pid, process, va, data));
            }
            PAGE_EXECUTE | PAGE_EXECUTE_READ => {}
            _ => {
                return (
                    Err(Fail::Rule(
                        NtStatus::STATUS_ACCESS_VIOLATION,
                        "the page at the target address is neither writable nor code (read-only, \
                         no access, guard, reserved or free), so nothing is written (Wine \
                         kernel32 test_VirtualAllocEx)"
                            .into(),
                    )),
                    None,
                )
            }
        }
        // Code: make the span writable for the write, then give it its protection back.
        let first = va.raw() / PAGE * PAGE;
        let want_end = va
            .raw()
            .saturating_add(data.len() as u64)
            .div_ceil(PAGE)
            .saturating_mul(PAGE);
        let span = want_end.min(m.base_address + m.region_size) - first;
        let writable_code = if m.kind == MEM_PRIVATE {
            PAGE_EXECUTE_READWRITE
        } else {
            PAGE_EXECUTE_WRITECOPY
        };
        let old = match self.ex.protect_virtual_memory(
            t,
            Va::new(first),
            span,
            writable_code | (m.protect & !0xFF),
        ) {
            Ok((old, ..)) => old,
            Err(e) => return (Err(Fail::Section(e)), None),
        };
        let result = self.nt_write_virtual_memory(pid, process, va, data);
        // Restoring what was just changed cannot fail; if it did, the write's result stands.
        let _ = self.ex.protect_virtual_memory(t, Va::new(first), span, old);
        written(result)
    }
}

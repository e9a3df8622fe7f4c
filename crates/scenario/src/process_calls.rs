//! Processes as handles and calls on another process (docs/SCENARIO.md "Processes as handles",
//! "Calls on another process"): `GetCurrentProcess`, `OpenProcess`, `VirtualAllocEx`,
//! `VirtualFreeEx`, `VirtualProtectEx`, `VirtualQueryEx`, `ReadProcessMemory`,
//! `WriteProcessMemory`, `MapViewOfFile2`, `UnmapViewOfFile2`, `UnmapViewOfFileEx`, each with its
//! Win32 argument list and return value.

use crate::ast::{Arg, Call, Expr};
use crate::calls::MBI_SIZE;
use crate::limits::READ_LIMIT;
use crate::native::mbi_record;
use crate::runner::{Runner, StmtError};
use crate::value::Value;
use ntmm_api::*;

/// The functions this module binds.
const PROCESS_CALLS: &[&str] = &[
    "GetCurrentProcess",
    "OpenProcess",
    "VirtualAllocEx",
    "VirtualFreeEx",
    "VirtualProtectEx",
    "VirtualQueryEx",
    "ReadProcessMemory",
    "WriteProcessMemory",
    "MapViewOfFile2",
    "UnmapViewOfFile2",
    "UnmapViewOfFileEx",
];

/// Whether `name` (canonical) is one of this module's functions.
pub(crate) fn is_process_call(name: &str) -> bool {
    PROCESS_CALLS.contains(&name)
}

impl Runner {
    fn process_arg(&mut self, call: &Call, i: usize) -> Result<Handle, StmtError> {
        Ok(Handle(self.int(call, i)?))
    }

    fn opt_address(&mut self, call: &Call, i: usize) -> Result<Option<Va>, StmtError> {
        Ok(Some(self.int(call, i)?).filter(|a| *a != 0).map(Va::new))
    }

    /// Sets the caller's last error (for failures decided here, before the facade is called:
    /// a NULL pointer Windows would fault on).
    fn fail_with(&mut self, pid: AsId, code: u32) -> Result<u64, StmtError> {
        self.system()?.set_last_error(pid, code);
        Ok(0)
    }

    /// Calls one of [`PROCESS_CALLS`] in process `pid`; returns the Win32 return value.
    pub(crate) fn process_call(&mut self, pid: AsId, call: &Call) -> Result<u64, StmtError> {
        Ok(match call.name.as_str() {
            "GetCurrentProcess" => self.system()?.get_current_process().raw(),
            "OpenProcess" => {
                let (access, inherit) = (self.u32_arg(call, 0)?, self.bool_arg(call, 1)?);
                // dwProcessId: a process name stands for its id.
                let target = match &call.args[2] {
                    Arg::Value(Expr::Name(n)) => self.procs.get(n).copied().ok_or_else(|| {
                        StmtError(format!(
                            "argument 3 of OpenProcess names no live process: {n}"
                        ))
                    })?,
                    _ => {
                        return Err(StmtError(
                            "argument 3 of OpenProcess must be a process name (it stands for the process id)"
                                .into(),
                        ))
                    }
                };
                self.system()?
                    .open_process_access(pid, access, inherit, target)
                    .map_or(0, |h| h.raw())
            }
            "VirtualAllocEx" => {
                let h = self.process_arg(call, 0)?;
                let addr = self.opt_address(call, 1)?;
                let (size, t, p) = (
                    self.int(call, 2)?,
                    self.u32_arg(call, 3)?,
                    self.u32_arg(call, 4)?,
                );
                self.system()?
                    .virtual_alloc_ex(pid, h, addr, size, t, p)
                    .map_or(0, |v| v.raw())
            }
            "VirtualFreeEx" => {
                let h = self.process_arg(call, 0)?;
                let (va, size, t) = (
                    Va::new(self.int(call, 1)?),
                    self.int(call, 2)?,
                    self.u32_arg(call, 3)?,
                );
                u64::from(self.system()?.virtual_free_ex(pid, h, va, size, t).is_ok())
            }
            "VirtualProtectEx" => {
                let h = self.process_arg(call, 0)?;
                let (va, size, p) = (
                    Va::new(self.int(call, 1)?),
                    self.int(call, 2)?,
                    self.u32_arg(call, 3)?,
                );
                // lpflOldProtect is probed before anything changes: NULL is ERROR_NOACCESS.
                let Some((old_name, _)) = self.opt_out(call, 4)? else {
                    return self.fail_with(pid, ERROR_NOACCESS);
                };
                match self.system()?.virtual_protect_ex(pid, h, va, size, p) {
                    Ok(old) => {
                        self.set_var(old_name, Value::Int(u64::from(old)));
                        1
                    }
                    Err(_) => 0,
                }
            }
            "VirtualQueryEx" => {
                let h = self.process_arg(call, 0)?;
                let va = Va::new(self.int(call, 1)?);
                // A NULL buffer is probed before the query: ERROR_NOACCESS.
                let Some((name, _)) = self.opt_out(call, 2)? else {
                    return self.fail_with(pid, ERROR_NOACCESS);
                };
                match self.system()?.virtual_query_ex(pid, h, va) {
                    Ok(m) => {
                        self.set_var(name, mbi_record(&m));
                        MBI_SIZE
                    }
                    Err(_) => 0,
                }
            }
            "ReadProcessMemory" => {
                let h = self.process_arg(call, 0)?;
                let va = Va::new(self.int(call, 1)?);
                let buffer = self.opt_out(call, 2)?;
                let n = self.int(call, 3)?;
                let count = self.opt_out(call, 4)?;
                let want = if buffer.is_none() { 0 } else { n };
                let cap = want.min(READ_LIMIT as u64);
                let (r, data) = self.system()?.read_process_memory(pid, h, va, cap);
                if want > cap && data.len() as u64 == cap {
                    return Err(StmtError(format!(
                        "ReadProcessMemory of {want:#x} bytes found more than the {} MiB a scenario reads at once",
                        READ_LIMIT >> 20
                    )));
                }
                // A NULL lpBuffer: the copy faults on the caller's side at once — a partial
                // copy of 0 bytes (Windows 10 1607 and later; Wine test_VirtualAllocEx).
                let (ok, read) = match (&r, buffer.is_none() && n > 0) {
                    (Ok(()), true) => {
                        self.system()?.set_last_error(pid, ERROR_PARTIAL_COPY);
                        (false, 0)
                    }
                    _ => (r.is_ok(), data.len() as u64),
                };
                if let Some((name, _)) = buffer {
                    self.set_var(name, Value::Bytes(data));
                }
                if let Some((name, _)) = count {
                    self.set_var(name, Value::Int(read));
                }
                u64::from(ok)
            }
            "WriteProcessMemory" => {
                let h = self.process_arg(call, 0)?;
                let va = Va::new(self.int(call, 1)?);
                let data = match self.arg(call, 2)? {
                    Value::Int(0) => None,
                    v @ (Value::Str(_) | Value::Bytes(_)) => {
                        Some(v.as_bytes().unwrap_or_default().to_vec())
                    }
                    other => {
                        return Err(StmtError(format!(
                            "argument 3 of WriteProcessMemory must be bytes, a string or NULL, not {other}"
                        )))
                    }
                };
                let n = self.int(call, 3)?;
                let count = self.opt_out(call, 4)?;
                let bytes: &[u8] = match &data {
                    Some(d) if n > d.len() as u64 => {
                        return Err(StmtError(format!(
                            "argument 4 of WriteProcessMemory ({n:#x}) is more than the {:#x} bytes given",
                            d.len()
                        )))
                    }
                    Some(d) => &d[..n as usize],
                    None => &[],
                };
                let (r, written) = self.system()?.write_process_memory(pid, h, va, bytes);
                // A NULL lpBuffer: nothing can be read from it — ERROR_NOACCESS with 0 bytes
                // written (Wine test_VirtualAllocEx, invalid source buffers).
                let (ok, written) = match (&r, data.is_none() && n > 0) {
                    (Ok(()), true) => {
                        self.system()?.set_last_error(pid, ERROR_NOACCESS);
                        (false, Some(0))
                    }
                    _ => (r.is_ok(), written),
                };
                if let (Some((name, _)), Some(w)) = (count, written) {
                    self.set_var(name, Value::Int(w));
                }
                u64::from(ok)
            }
            "MapViewOfFile2" => {
                let (section, process) = (self.process_arg(call, 0)?, self.process_arg(call, 1)?);
                let offset = self.int(call, 2)?;
                let base = self.opt_address(call, 3)?;
                let (size, t, p) = (
                    self.int(call, 4)?,
                    self.u32_arg(call, 5)?,
                    self.u32_arg(call, 6)?,
                );
                self.system()?
                    .map_view_of_file2(pid, section, process, offset, base, size, t, p)
                    .map_or(0, |v| v.raw())
            }
            "UnmapViewOfFile2" => {
                let h = self.process_arg(call, 0)?;
                let (va, flags) = (Va::new(self.int(call, 1)?), self.u32_arg(call, 2)?);
                u64::from(
                    self.system()?
                        .unmap_view_of_file2(pid, h, va, flags)
                        .is_ok(),
                )
            }
            "UnmapViewOfFileEx" => {
                let (va, flags) = (Va::new(self.int(call, 0)?), self.u32_arg(call, 1)?);
                u64::from(self.system()?.unmap_view_of_file_ex(pid, va, flags).is_ok())
            }
            other => return Err(StmtError(format!("{other} is not callable here"))),
        })
    }
}

#[cfg(test)]
mod tests {
    use crate::runner::{run_source, Options};

    /// Runs a scenario and asserts every expectation held and nothing failed.
    fn passes(src: &str) {
        let r = run_source("t.ntm", src, &Options::default());
        assert_eq!(r.failed, 0, "{}", r.output);
        assert!(r.passed > 0, "{}", r.output);
    }

    /// The contract's example lines (docs/SCENARIO.md "Calls on another process"), each run
    /// exactly as written, with what they must do checked around them.
    #[test]
    fn test_the_contracts_lines_run_as_written() {
        passes(
            "process B\n\
             process A\n\
             p = VirtualAllocEx(B, NULL, 0x10000, MEM_RESERVE | MEM_COMMIT, PAGE_READWRITE)\n\
             expect p != NULL\n\
             WriteProcessMemory(B, p, \"hello\", 5, &n)\n\
             expect n == 5\n\
             expect GetLastError() == 0\n\
             B> expect read(p, 5) == \"hello\"\n\
             ReadProcessMemory(B, p, &data, 16, &n)\n\
             expect n == 16\n\
             expect data == hex\"68 65 6c 6c 6f 00 00 00 00 00 00 00 00 00 00 00\"\n\
             VirtualProtectEx(B, p, 0x1000, PAGE_READONLY, &old)\n\
             expect old == PAGE_READWRITE\n\
             VirtualQueryEx(B, p, &mbi)\n\
             expect mbi.Protect == PAGE_READONLY\n\
             expect mbi.RegionSize == 0x1000\n\
             expect mbi.Type == MEM_PRIVATE\n\
             VirtualFreeEx(B, p, 0, MEM_RELEASE)\n\
             expect VirtualQueryEx(B, p, &mbi) == 48\n\
             expect mbi.State == MEM_FREE\n\
             h = CreateFileMapping(INVALID_HANDLE_VALUE, NULL, PAGE_READWRITE, 0, 0x10000, NULL)\n\
             p = MapViewOfFile2(h, B, 0, NULL, 0, 0, PAGE_READWRITE)\n\
             expect p != NULL\n\
             B> write(p, \"in B\")\n\
             expect ReadProcessMemory(B, p, &data, 4, &n) == TRUE\n\
             expect data == \"in B\"\n\
             UnmapViewOfFile2(B, p, 0)\n\
             expect VirtualQueryEx(B, p, &mbi) == 48\n\
             expect mbi.State == MEM_FREE\n\
             p = MapViewOfFile(h, FILE_MAP_WRITE, 0, 0, 0)\n\
             UnmapViewOfFileEx(p, 0)\n\
             expect VirtualQuery(p, &mbi) == 48\n\
             expect mbi.State == MEM_FREE\n",
        );
    }

    /// "Processes as handles": the pseudo handle, OpenProcess with less, and a handle to a
    /// process that has exited.
    #[test]
    fn test_processes_as_handles() {
        passes(
            "process B\n\
             process A\n\
             expect GetCurrentProcess() == INVALID_HANDLE_VALUE\n\
             expect GetCurrentProcess() == 0xFFFFFFFFFFFFFFFF\n\
             q = VirtualAllocEx(GetCurrentProcess(), NULL, 0x1000, MEM_COMMIT, PAGE_READWRITE)\n\
             expect q != NULL\n\
             expect WriteProcessMemory(GetCurrentProcess(), q, \"me\", 2, &n) == TRUE\n\
             expect read(q, 2) == \"me\"\n\
             hr = OpenProcess(PROCESS_VM_READ, FALSE, B)\n\
             expect hr != NULL\n\
             expect VirtualAllocEx(hr, NULL, 0x1000, MEM_COMMIT, PAGE_READWRITE) == NULL, ERROR_ACCESS_DENIED\n\
             expect VirtualQueryEx(hr, q, &mbi) == 0, ERROR_ACCESS_DENIED\n\
             hq = OpenProcess(PROCESS_QUERY_LIMITED_INFORMATION, FALSE, B)\n\
             expect VirtualQueryEx(hq, 0x10000, &mbi) == 48\n\
             p = VirtualAllocEx(B, NULL, 0x1000, MEM_COMMIT, PAGE_READWRITE)\n\
             expect ReadProcessMemory(hr, p, &data, 4, &n) == TRUE\n\
             expect WriteProcessMemory(hr, p, \"x\", 1, &n) == FALSE, ERROR_ACCESS_DENIED\n\
             hb = B\n\
             exit B\n\
             expect VirtualAllocEx(hb, NULL, 0x1000, MEM_COMMIT, PAGE_READWRITE) == NULL, ERROR_ACCESS_DENIED\n\
             expect ReadProcessMemory(hb, p, &data, 4, &n) == FALSE, ERROR_ACCESS_DENIED\n\
             expect n == 0\n\
             expect CloseHandle(hb) == TRUE\n\
             expect VirtualAllocEx(NULL, NULL, 0x1000, MEM_COMMIT, PAGE_READWRITE) == NULL, ERROR_INVALID_HANDLE\n",
        );
    }

    /// Partial copies, the write rules and NULL pointers.
    #[test]
    fn test_partial_copies_and_null_pointers() {
        passes(
            "process B\n\
             process A\n\
             p = VirtualAllocEx(B, NULL, 0x2000, MEM_RESERVE | MEM_COMMIT, PAGE_READWRITE)\n\
             VirtualProtectEx(B, p + 0x1000, 0x1000, PAGE_NOACCESS, &old)\n\
             expect ReadProcessMemory(B, p + 0xFF0, &data, 0x20, &n) == FALSE, ERROR_PARTIAL_COPY\n\
             expect n == 0x10\n\
             expect data == hex\"00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00\"\n\
             n = 77\n\
             VirtualProtectEx(B, p, 0x1000, PAGE_READONLY, &old)\n\
             expect WriteProcessMemory(B, p, \"hello\", 5, &n) == FALSE, ERROR_NOACCESS\n\
             expect n == 77\n\
             VirtualProtectEx(B, p, 0x1000, PAGE_EXECUTE_READ, &old)\n\
             expect WriteProcessMemory(B, p, \"hello\", 5, &n) == TRUE\n\
             expect n == 5\n\
             expect VirtualQueryEx(B, p, &mbi) == 48\n\
             expect mbi.Protect == PAGE_EXECUTE_READ\n\
             expect ReadProcessMemory(B, p, NULL, 4, &n) == FALSE, ERROR_PARTIAL_COPY\n\
             expect n == 0\n\
             expect ReadProcessMemory(B, p, &data, 5, NULL) == TRUE\n\
             expect data == \"hello\"\n\
             expect WriteProcessMemory(B, p, NULL, 4, &n) == FALSE, ERROR_NOACCESS\n\
             expect VirtualProtectEx(B, p, 0x1000, PAGE_READONLY, NULL) == FALSE, ERROR_NOACCESS\n\
             expect VirtualQueryEx(B, p, NULL) == 0, ERROR_NOACCESS\n\
             h = CreateFileMapping(INVALID_HANDLE_VALUE, NULL, PAGE_READWRITE, 0, 0x10000, NULL)\n\
             v = MapViewOfFile2(h, B, 0, NULL, 0, 0, PAGE_READWRITE)\n\
             expect UnmapViewOfFile2(B, v, MEM_PRESERVE_PLACEHOLDER) == FALSE, ERROR_INVALID_ADDRESS\n\
             expect UnmapViewOfFile2(B, v, 4) == FALSE, ERROR_INVALID_PARAMETER\n\
             expect UnmapViewOfFile2(B, v, MEM_UNMAP_WITH_TRANSIENT_BOOST) == TRUE\n\
             expect MapViewOfFile2(h, B, 0x1000, NULL, 0, 0, PAGE_READWRITE) == NULL, ERROR_MAPPED_ALIGNMENT\n",
        );
    }

    /// OpenProcess's third argument is a process name; anything else says so.
    #[test]
    fn test_open_process_needs_a_process_name() {
        let r = run_source(
            "t.ntm",
            "process A\nh = OpenProcess(PROCESS_ALL_ACCESS, FALSE, 42)\nh = OpenProcess(PROCESS_ALL_ACCESS, FALSE, Z)\n",
            &Options::default(),
        );
        assert_eq!(r.failed, 2, "{}", r.output);
        assert!(r.output.contains("must be a process name"), "{}", r.output);
        assert!(
            r.output.contains("names no live process: Z"),
            "{}",
            r.output
        );
        let r = run_source(
            "t.ntm",
            "process A\np = VirtualAlloc(NULL, 0x1000, MEM_COMMIT, PAGE_READWRITE)\nWriteProcessMemory(A, p, \"hi\", 3, &n)\n",
            &Options::default(),
        );
        assert_eq!(r.failed, 1, "{}", r.output);
        assert!(
            r.output.contains("more than the 0x2 bytes given"),
            "{}",
            r.output
        );
    }
}

//! The functions a scenario calls, bound to the Win32 facade: arguments as Win32 takes them,
//! out-parameters stored in variables, return values as Win32 returns them.

use crate::ast::{Arg, Call};
use crate::limits::READ_LIMIT;
use crate::runner::{Outcome, Runner, StmtError};
use crate::value::Value;
use ntmm_api::*;
use ntmm_vmm::{Exception, ExceptionKind, VmmError};

/// A write through a NULL pointer: `STATUS_ACCESS_VIOLATION` at address 0, raised in the
/// caller (a Win32 function that writes a result without checking the pointer).
pub(crate) fn null_write() -> Outcome {
    Outcome::exception(Exception {
        kind: ExceptionKind::AccessViolation,
        address: Va::new(0),
        access: ntmm_vmm::Access::Write,
    })
}

/// `sizeof(MEMORY_BASIC_INFORMATION)` on x64.
pub(crate) const MBI_SIZE: u64 = 48;

fn handle(v: u64) -> Handle {
    Handle(v)
}

fn too_long(what: &str, n: usize) -> StmtError {
    StmtError(format!(
        "{what} of {n:#x} bytes found more than the {} MiB a scenario reads at once (the first {} MiB were read)",
        READ_LIMIT >> 20,
        READ_LIMIT >> 20
    ))
}

impl Runner {
    pub(crate) fn arg(&mut self, call: &Call, i: usize) -> Result<Value, StmtError> {
        match &call.args[i] {
            Arg::Value(e) => self.eval(e),
            Arg::Out(name) => Err(StmtError(format!(
                "argument {} of {} is a value, not &{name}",
                i + 1,
                call.name
            ))),
        }
    }
    pub(crate) fn int(&mut self, call: &Call, i: usize) -> Result<u64, StmtError> {
        match self.arg(call, i)? {
            Value::Int(v) => Ok(v),
            other => Err(StmtError(format!(
                "argument {} of {} must be an integer, not {other}",
                i + 1,
                call.name
            ))),
        }
    }
    pub(crate) fn u32_arg(&mut self, call: &Call, i: usize) -> Result<u32, StmtError> {
        Ok(self.int(call, i)? as u32)
    }
    pub(crate) fn bool_arg(&mut self, call: &Call, i: usize) -> Result<bool, StmtError> {
        Ok(self.int(call, i)? != 0)
    }
    /// `NULL` or a string. A name is text: bytes that are not valid UTF-8 are a statement error
    /// (docs/SCENARIO.md, implementation notes), never a lossy conversion to another name.
    fn name_arg(&mut self, call: &Call, i: usize) -> Result<Option<String>, StmtError> {
        match self.arg(call, i)? {
            Value::Int(0) => Ok(None),
            Value::Str(b) | Value::Bytes(b) => String::from_utf8(b).map(Some).map_err(|e| {
                StmtError(format!(
                    "argument {} of {} is a name, and a name must be valid UTF-8 text (byte {:#04x} at offset {} is not)",
                    i + 1,
                    call.name,
                    e.as_bytes()[e.utf8_error().valid_up_to()],
                    e.utf8_error().valid_up_to()
                ))
            }),
            other => Err(StmtError(format!(
                "argument {} of {} must be a string or NULL, not {other}",
                i + 1,
                call.name
            ))),
        }
    }
    /// `NULL` or `INHERITABLE`.
    fn sa_arg(&mut self, call: &Call, i: usize) -> Result<bool, StmtError> {
        match self.arg(call, i)? {
            Value::Int(0) => Ok(false),
            Value::Inheritable => Ok(true),
            other => Err(StmtError(format!(
                "argument {} of {} must be NULL or INHERITABLE, not {other}",
                i + 1,
                call.name
            ))),
        }
    }
    pub(crate) fn data_arg(&mut self, call: &Call, i: usize) -> Result<Vec<u8>, StmtError> {
        match self.arg(call, i)? {
            v @ (Value::Str(_) | Value::Bytes(_)) => Ok(v.as_bytes().unwrap_or_default().to_vec()),
            other => Err(StmtError(format!(
                "argument {} of {} must be bytes or a string, not {other}",
                i + 1,
                call.name
            ))),
        }
    }
    /// A pointer the function writes through: `&name`, or `NULL` (`None`) — a null pointer,
    /// with which the function does what Windows does (SCENARIO.md "Out-parameters, NULL and
    /// in-out parameters (reach)").
    pub(crate) fn out_ptr(&mut self, call: &Call, i: usize) -> Result<Option<String>, StmtError> {
        match &call.args[i] {
            Arg::Out(name) => Ok(Some(name.clone())),
            Arg::Value(_) => match self.arg(call, i)? {
                Value::Int(0) => Ok(None),
                other => Err(StmtError(format!(
                    "argument {} of {} must be &name or NULL, not {other}",
                    i + 1,
                    call.name
                ))),
            },
        }
    }
    /// An in-out integer parameter: `&name` (its value goes in, 0 when unset) or `NULL`
    /// (`None`).
    pub(crate) fn inout(
        &mut self,
        call: &Call,
        i: usize,
    ) -> Result<Option<(String, u64)>, StmtError> {
        let Some(name) = self.out_ptr(call, i)? else {
            return Ok(None);
        };
        match self.vars.get(&name) {
            None => Ok(Some((name, 0))),
            Some(Value::Int(v)) => Ok(Some((name, *v))),
            Some(other) => Err(StmtError(format!(
                "argument {} of {} is in-out: {name} must hold an integer, not {other}",
                i + 1,
                call.name
            ))),
        }
    }
    /// Stores an output through a pointer the caller gave (`&name`); nothing for `NULL`.
    pub(crate) fn store(&mut self, ptr: Option<&str>, value: Value) {
        if let Some(name) = ptr {
            self.set_var(name.to_string(), value);
        }
    }
    /// An optional out-parameter: `&name` or `NULL`; returns the variable's current value.
    pub(crate) fn opt_out(
        &mut self,
        call: &Call,
        i: usize,
    ) -> Result<Option<(String, Option<Value>)>, StmtError> {
        match &call.args[i] {
            Arg::Out(name) => Ok(Some((name.clone(), self.vars.get(name).cloned()))),
            Arg::Value(_) => match self.arg(call, i)? {
                Value::Int(0) => Ok(None),
                other => Err(StmtError(format!(
                    "argument {} of {} must be &name or NULL, not {other}",
                    i + 1,
                    call.name
                ))),
            },
        }
    }

    /// Calls a function in the current process.
    pub(crate) fn call(&mut self, call: &Call) -> Result<Outcome, StmtError> {
        let pid = self.current_pid()?;
        let before = self.system_if_started().map(|s| s.last_error_writes(pid));
        let mut outcome = self.call_in(pid, call)?;
        if outcome.last_error.is_some() && !outcome.native {
            let after = self.system()?.last_error_writes(pid);
            outcome.last_error_set = before != Some(after);
        }
        Ok(outcome)
    }

    /// The call itself (see [`Self::call`], which notes whether it set the last error).
    fn call_in(&mut self, pid: ntmm_vmm::AsId, call: &Call) -> Result<Outcome, StmtError> {
        if crate::parser::is_memory_access(&call.name) {
            return self.memory_access(pid, call);
        }
        if crate::native::is_native(&call.name) {
            return self.native_call(pid, call);
        }
        let sys = self.system()?;
        // Each arm returns the Win32 return value.
        let ret: u64 = match call.name.as_str() {
            "GetLastError" => u64::from(sys.get_last_error(pid)),
            "SetLastError" => {
                let v = self.u32_arg(call, 0)?;
                self.system()?.set_last_error(pid, v);
                return Ok(Outcome::value(Value::Unit));
            }
            "GetSystemInfo" => {
                let si = sys.get_system_info();
                let Some(ptr) = self.out_ptr(call, 0)? else {
                    // GetSystemInfo writes the structure itself: NULL faults ([DOC]
                    // GetSystemInfo: lpSystemInfo is required; no error return exists).
                    return Ok(null_write());
                };
                self.store(
                    Some(&ptr),
                    Value::Record(vec![
                        ("dwPageSize", u64::from(si.page_size)),
                        (
                            "dwAllocationGranularity",
                            u64::from(si.allocation_granularity),
                        ),
                        (
                            "lpMinimumApplicationAddress",
                            si.minimum_application_address,
                        ),
                        (
                            "lpMaximumApplicationAddress",
                            si.maximum_application_address,
                        ),
                        ("dwNumberOfProcessors", u64::from(si.number_of_processors)),
                    ]),
                );
                return Ok(Outcome::value(Value::Unit));
            }
            "GetTempPath" => {
                let n = self.u32_arg(call, 0)?;
                let ptr = self.out_ptr(call, 1)?;
                match self.system()?.get_temp_path(pid, n) {
                    Ok(ntmm_api::TempPath::Copied(len, path)) => {
                        self.store(ptr.as_deref(), Value::Str(path.into_bytes()));
                        u64::from(len)
                    }
                    Ok(ntmm_api::TempPath::TooSmall(need)) => u64::from(need),
                    Err(_) => 0,
                }
            }
            "GetTempFileName" => {
                let path = self.name_arg(call, 0)?.unwrap_or_default();
                let prefix = self.name_arg(call, 1)?;
                let unique = self.u32_arg(call, 2)?;
                let ptr = self.out_ptr(call, 3)?;
                let r = self
                    .system()?
                    .get_temp_file_name(pid, &path, prefix.as_deref(), unique);
                match r {
                    Ok((n, name)) => {
                        self.store(ptr.as_deref(), Value::Str(name.into_bytes()));
                        u64::from(n)
                    }
                    Err(_) => 0,
                }
            }
            "CreateFile" => {
                let name = self.name_arg(call, 0)?.unwrap_or_default();
                let (access, share) = (self.u32_arg(call, 1)?, self.u32_arg(call, 2)?);
                let inherit = self.sa_arg(call, 3)?;
                let (disp, flags) = (self.u32_arg(call, 4)?, self.u32_arg(call, 5)?);
                self.int(call, 6)?;
                self.system()?
                    .create_file(pid, &name, access, share, inherit, disp, flags)
                    .map_or(u64::MAX, |h| h.0)
            }
            "ReadFile" => {
                let h = handle(self.int(call, 0)?);
                let buffer = self.out_ptr(call, 1)?;
                // nNumberOfBytesToRead is a DWORD.
                let n = self.u32_arg(call, 2)? as usize;
                let count = self.out_ptr(call, 3)?;
                self.int(call, 4)?;
                // ReadFile zeroes *lpNumberOfBytesRead before any work ([DOC] ReadFile).
                self.store(count.as_deref(), Value::Int(0));
                if buffer.is_none() && n > 0 {
                    // kernel32 test_read_write: a NULL buffer fails the kernel's probe with
                    // ERROR_NOACCESS once the handle is found good; nothing is read.
                    return Ok(match self.system()?.read_file(pid, h, 0) {
                        Ok(_) => self.fail_probe(pid, "ReadFile", "lpBuffer")?,
                        Err(_) => self.win32_result(pid, 0)?,
                    });
                }
                match self.system()?.read_file(pid, h, n.min(READ_LIMIT)) {
                    Ok(data) if n > READ_LIMIT && data.len() == READ_LIMIT => {
                        return Err(too_long("ReadFile", n));
                    }
                    Ok(data) => {
                        let len = data.len() as u64;
                        self.store(buffer.as_deref(), Value::Bytes(data));
                        if count.is_none() {
                            // The synchronous path writes *lpNumberOfBytesRead unconditionally
                            // ([DOC] ReadFile: NULL only with an OVERLAPPED): the data was read,
                            // then the write through NULL faults.
                            return Ok(null_write());
                        }
                        self.store(count.as_deref(), Value::Int(len));
                        1
                    }
                    Err(_) => 0,
                }
            }
            "WriteFile" => {
                let h = handle(self.int(call, 0)?);
                // NULL is a null buffer.
                let data = match self.arg(call, 1)? {
                    Value::Int(0) => None,
                    _ => Some(self.data_arg(call, 1)?),
                };
                let n = self.int(call, 2)? as u32 as usize;
                let count = self.out_ptr(call, 3)?;
                self.int(call, 4)?;
                self.store(count.as_deref(), Value::Int(0));
                let data = match data {
                    Some(d) => d,
                    // kernel32 test_read_write: WriteFile(h, NULL, 0, …) succeeds writing
                    // nothing; WriteFile(h, NULL, 10, …) fails with ERROR_INVALID_USER_BUFFER
                    // once the handle is found good.
                    None if n == 0 => Vec::new(),
                    None => {
                        return Ok(match self.system()?.write_file(pid, h, &[]) {
                            Ok(_) => self.fail_win32(pid, ERROR_INVALID_USER_BUFFER)?,
                            Err(_) => self.win32_result(pid, 0)?,
                        });
                    }
                };
                let n = n.min(data.len());
                match self.system()?.write_file(pid, h, &data[..n]) {
                    Ok(_) if count.is_none() => return Ok(null_write()),
                    Ok(w) => {
                        self.store(count.as_deref(), Value::Int(u64::from(w)));
                        1
                    }
                    Err(_) => 0,
                }
            }
            "SetFilePointer" => {
                let h = handle(self.int(call, 0)?);
                let dist = self.int(call, 1)? as u32 as i32;
                let high = self.opt_out(call, 2)?;
                let method = self.u32_arg(call, 3)?;
                let high_in = high.as_ref().map(|(_, v)| match v {
                    Some(Value::Int(x)) => *x as u32 as i32,
                    _ => 0,
                });
                match self
                    .system()?
                    .set_file_pointer(pid, h, dist, high_in, method)
                {
                    Ok((low, hi)) => {
                        if let (Some((name, _)), Some(hi)) = (high, hi) {
                            self.set_var(name, Value::Int(u64::from(hi as u32)));
                        }
                        u64::from(low)
                    }
                    Err(_) => u64::from(INVALID_SET_FILE_POINTER),
                }
            }
            "SetEndOfFile" => {
                let h = handle(self.int(call, 0)?);
                u64::from(self.system()?.set_end_of_file(pid, h).is_ok())
            }
            "GetFileSize" => {
                let h = handle(self.int(call, 0)?);
                let high = self.opt_out(call, 1)?;
                match self.system()?.get_file_size(pid, h) {
                    Ok(size) => {
                        if let Some((name, _)) = high {
                            self.set_var(name, Value::Int(size >> 32));
                        }
                        size & 0xFFFF_FFFF
                    }
                    Err(_) => u64::from(INVALID_FILE_SIZE),
                }
            }
            "FlushFileBuffers" => {
                let h = handle(self.int(call, 0)?);
                u64::from(self.system()?.flush_file_buffers(pid, h).is_ok())
            }
            "DeleteFile" => {
                let name = self.name_arg(call, 0)?.unwrap_or_default();
                u64::from(self.system()?.delete_file(pid, &name).is_ok())
            }
            "CloseHandle" => {
                let h = handle(self.int(call, 0)?);
                u64::from(self.system()?.close_handle(pid, h).is_ok())
            }
            "DuplicateHandle" => {
                let (sp, h, tp) = (
                    handle(self.int(call, 0)?),
                    handle(self.int(call, 1)?),
                    handle(self.int(call, 2)?),
                );
                // NULL lpTargetHandle: the duplicate is made but its value is not returned
                // ([DOC] DuplicateHandle, kept for compatibility; with DUPLICATE_CLOSE_SOURCE
                // it closes a handle in another process).
                let target = self.out_ptr(call, 3)?;
                let (access, inherit, options) = (
                    self.u32_arg(call, 4)?,
                    self.bool_arg(call, 5)?,
                    self.u32_arg(call, 6)?,
                );
                match self
                    .system()?
                    .duplicate_handle(pid, sp, h, tp, access, inherit, options)
                {
                    Ok(nh) => {
                        self.store(target.as_deref(), Value::Int(nh.0));
                        1
                    }
                    Err(_) => 0,
                }
            }
            "CreateFileMapping" => {
                let file = handle(self.int(call, 0)?);
                let inherit = self.sa_arg(call, 1)?;
                let (prot, hi, lo) = (
                    self.u32_arg(call, 2)?,
                    self.u32_arg(call, 3)?,
                    self.u32_arg(call, 4)?,
                );
                let name = self.name_arg(call, 5)?;
                self.system()?
                    .create_file_mapping(pid, file, inherit, prot, hi, lo, name.as_deref())
                    .map_or(0, |h| h.0)
            }
            "OpenFileMapping" => {
                let (access, inherit) = (self.u32_arg(call, 0)?, self.bool_arg(call, 1)?);
                let name = self.name_arg(call, 2)?.unwrap_or_default();
                self.system()?
                    .open_file_mapping(pid, access, inherit, &name)
                    .map_or(0, |h| h.0)
            }
            "MapViewOfFile" | "MapViewOfFileEx" => {
                let h = handle(self.int(call, 0)?);
                let (access, hi, lo) = (
                    self.u32_arg(call, 1)?,
                    self.u32_arg(call, 2)?,
                    self.u32_arg(call, 3)?,
                );
                let size = self.int(call, 4)?;
                let base = if call.name == "MapViewOfFileEx" {
                    Some(self.int(call, 5)?).filter(|b| *b != 0).map(Va::new)
                } else {
                    None
                };
                self.system()?
                    .map_view_of_file_ex(pid, h, access, hi, lo, size, base)
                    .map_or(0, |v| v.raw())
            }
            "UnmapViewOfFile" => {
                let va = Va::new(self.int(call, 0)?);
                u64::from(self.system()?.unmap_view_of_file(pid, va).is_ok())
            }
            "FlushViewOfFile" => {
                let (va, n) = (Va::new(self.int(call, 0)?), self.int(call, 1)?);
                u64::from(self.system()?.flush_view_of_file(pid, va, n).is_ok())
            }
            "VirtualAlloc" => {
                let addr = Some(self.int(call, 0)?).filter(|a| *a != 0).map(Va::new);
                let (size, t, p) = (
                    self.int(call, 1)?,
                    self.u32_arg(call, 2)?,
                    self.u32_arg(call, 3)?,
                );
                self.system()?
                    .virtual_alloc(pid, addr, size, t, p)
                    .map_or(0, |v| v.raw())
            }
            "VirtualFree" => {
                let (va, size, t) = (
                    Va::new(self.int(call, 0)?),
                    self.int(call, 1)?,
                    self.u32_arg(call, 2)?,
                );
                u64::from(self.system()?.virtual_free(pid, va, size, t).is_ok())
            }
            "VirtualProtect" => {
                let (va, size, p) = (
                    Va::new(self.int(call, 0)?),
                    self.int(call, 1)?,
                    self.u32_arg(call, 2)?,
                );
                let Some(old_ptr) = self.out_ptr(call, 3)? else {
                    // F90: a NULL lpflOldProtect fails the kernel's probe first: FALSE,
                    // ERROR_NOACCESS, nothing changed.
                    return self.fail_probe(pid, "VirtualProtect", "lpflOldProtect");
                };
                match self.system()?.virtual_protect(pid, va, size, p) {
                    Ok(old) => {
                        self.store(Some(&old_ptr), Value::Int(u64::from(old)));
                        1
                    }
                    Err(_) => 0,
                }
            }
            "VirtualQuery" => {
                let va = Va::new(self.int(call, 0)?);
                let Some(ptr) = self.out_ptr(call, 1)? else {
                    // The same probe as F90's: NtQueryVirtualMemory with a NULL buffer is
                    // STATUS_ACCESS_VIOLATION, so VirtualQuery returns 0 with ERROR_NOACCESS.
                    return self.fail_probe(pid, "VirtualQuery", "lpBuffer");
                };
                match self.system()?.virtual_query(pid, va) {
                    Ok(m) => {
                        self.store(Some(&ptr), crate::native::mbi_record(&m));
                        MBI_SIZE
                    }
                    Err(_) => 0,
                }
            }
            "CreateEvent" => {
                let inherit = self.sa_arg(call, 0)?;
                let (manual, initial) = (self.bool_arg(call, 1)?, self.bool_arg(call, 2)?);
                let name = self.name_arg(call, 3)?;
                self.system()?
                    .create_event(pid, inherit, manual, initial, name.as_deref())
                    .map_or(0, |h| h.0)
            }
            "OpenEvent" => {
                let (access, inherit) = (self.u32_arg(call, 0)?, self.bool_arg(call, 1)?);
                let name = self.name_arg(call, 2)?.unwrap_or_default();
                self.system()?
                    .open_event(pid, access, inherit, &name)
                    .map_or(0, |h| h.0)
            }
            "LoadLibrary" => {
                let name = self.name_arg(call, 0)?.unwrap_or_default();
                self.system()?
                    .load_library(pid, &name)
                    .map_or(0, |b| b.raw())
            }
            "FreeLibrary" => {
                let base = ntmm_vmm::Va::new(self.int(call, 0)?);
                u64::from(self.system()?.free_library(pid, base).is_ok())
            }
            name if crate::process_calls::is_process_call(name) => self.process_call(pid, call)?,
            name if crate::native::placeholders::is_placeholder_call(name) => {
                self.placeholder_call(pid, call)?
            }
            name if crate::counter_calls::is_counter_call(name) => {
                return self.counter_call(pid, call)
            }
            other => return Err(StmtError(format!("{other} is not callable here"))),
        };
        let last_error = self.system()?.get_last_error(pid);
        Ok(Outcome::win32(ret, last_error))
    }

    /// A Win32 failure the facade itself decides (a NULL pointer): returns 0 with `error` as
    /// the last error.
    fn fail_win32(&mut self, pid: ntmm_vmm::AsId, error: u32) -> Result<Outcome, StmtError> {
        self.system()?.set_last_error(pid, error);
        self.win32_result(pid, 0)
    }
    /// A Win32 call given NULL for an out-parameter (`parameter` of `function`): the kernel's
    /// probe fails it with `ERROR_NOACCESS` before anything is done (F90), with its `why`.
    pub(crate) fn fail_probe(
        &mut self,
        pid: ntmm_vmm::AsId,
        function: &str,
        parameter: &str,
    ) -> Result<Outcome, StmtError> {
        self.system()?
            .null_pointer_probe(pid, function, parameter, false);
        self.win32_result(pid, 0)
    }
    /// A Win32 return value with the process's last error.
    fn win32_result(&mut self, pid: ntmm_vmm::AsId, ret: u64) -> Result<Outcome, StmtError> {
        let last_error = self.system()?.get_last_error(pid);
        Ok(Outcome::win32(ret, last_error))
    }

    fn memory_access(&mut self, pid: ntmm_vmm::AsId, call: &Call) -> Result<Outcome, StmtError> {
        let va = Va::new(self.int(call, 0)?);
        let size = match call.name.as_str() {
            "read8" | "write8" => 1,
            "read16" | "write16" => 2,
            "read32" | "write32" => 4,
            "read64" | "write64" => 8,
            _ => 0,
        };
        let sys = self.system()?;
        let r: ntmm_vmm::Result<Value> = match call.name.as_str() {
            "read" => {
                let n = self.int(call, 1)?;
                let bytes = usize::try_from(n).unwrap_or(usize::MAX);
                match self.system()?.read_memory(pid, va, bytes.min(READ_LIMIT)) {
                    // The first READ_LIMIT bytes were there: the rest is more than a scenario
                    // may hold. A read that faults sooner raises as usual.
                    Ok(_) if bytes > READ_LIMIT => return Err(too_long("read", bytes)),
                    r => r.map(Value::Bytes),
                }
            }
            "write" => {
                let data = self.data_arg(call, 1)?;
                self.system()?
                    .write_memory(pid, va, &data)
                    .map(|()| Value::Unit)
            }
            n if n.starts_with("read") => sys.read_value(pid, va, size).map(Value::Int),
            _ => {
                let v = self.int(call, 1)?;
                self.system()?
                    .write_value(pid, va, size, v)
                    .map(|()| Value::Unit)
            }
        };
        match r {
            Ok(v) => Ok(Outcome::value(v)),
            Err(VmmError::Exception(e)) => Ok(Outcome::exception(e)),
            // A user-mode access outside user space faults like any unmapped address.
            Err(VmmError::AddressOutOfRange(a)) => Ok(Outcome::exception(Exception {
                kind: ExceptionKind::AccessViolation,
                address: a,
                access: if call.name.starts_with("read") {
                    ntmm_vmm::Access::Read
                } else {
                    ntmm_vmm::Access::Write
                },
            })),
            Err(VmmError::RangeOverflow) => Ok(Outcome::exception(Exception {
                kind: ExceptionKind::AccessViolation,
                address: va,
                access: ntmm_vmm::Access::Read,
            })),
            Err(other) => Err(StmtError(format!("{}: {other}", call.name))),
        }
    }
}

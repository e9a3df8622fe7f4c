//! The native calls a scenario makes (SCENARIO.md "Native calls (reach)"), bound to the api's
//! `nt_*` functions. Each returns its NTSTATUS and leaves the last error alone. `&name` is an
//! in-out parameter (its value goes in, 0 when unset; the output is stored back); `NULL` where
//! the service writes is a null pointer, which the service's probe refuses with
//! `STATUS_ACCESS_VIOLATION` before it does anything (F90).

use crate::ast::Call;
use crate::runner::{Outcome, Runner, StmtError};
use crate::value::Value;
use ntmm_api::*;
use ntmm_vmm::AsId;

/// Placeholders: `VirtualAlloc2`, `MapViewOfFile3` and the native `…Ex` services.
pub(crate) mod placeholders;

/// The native functions and their argument counts (SCENARIO.md "Native calls (reach)").
pub const NATIVE_FUNCTIONS: &[(&str, usize)] = &[
    ("NtCreateSection", 7),
    ("NtOpenSection", 3),
    ("NtMapViewOfSection", 10),
    ("NtUnmapViewOfSection", 2),
    ("NtQuerySection", 3),
    ("NtExtendSection", 2),
    ("NtAllocateVirtualMemory", 6),
    ("NtFreeVirtualMemory", 4),
    ("NtProtectVirtualMemory", 5),
    ("NtQueryVirtualMemory", 4),
    ("NtFlushVirtualMemory", 4),
    ("NtClose", 1),
    ("NtAreMappedFilesTheSame", 2),
    // Placeholders (native::placeholders::PLACEHOLDER_NATIVE).
    ("NtAllocateVirtualMemoryEx", 7),
    ("NtMapViewOfSectionEx", 9),
    ("NtUnmapViewOfSectionEx", 3),
];

/// Whether `name` is a native call.
pub fn is_native(name: &str) -> bool {
    NATIVE_FUNCTIONS.iter().any(|(n, _)| *n == name)
}

/// `MEMORY_INFORMATION_CLASS` values Windows defines that ntmm does not model (a statement
/// error names them rather than a made-up status).
const UNMODELLED_MEMORY_CLASSES: &[(u64, &str)] = &[
    (1, "MemoryWorkingSetInformation"),
    (2, "MemoryMappedFilenameInformation"),
    (3, "MemoryRegionInformation"),
    (4, "MemoryWorkingSetExInformation"),
    (6, "MemoryImageInformation"),
];

fn status(s: NtStatus) -> u64 {
    u64::from(s.raw())
}

fn result(r: Result<(), NtStatus>) -> u64 {
    status(r.err().unwrap_or(NtStatus::STATUS_SUCCESS))
}

/// The `MEMORY_BASIC_INFORMATION` record (the fields of `VirtualQuery`'s).
pub(crate) fn mbi_record(m: &MemoryBasicInformation) -> Value {
    Value::Record(vec![
        ("BaseAddress", m.base_address),
        ("AllocationBase", m.allocation_base),
        ("AllocationProtect", u64::from(m.allocation_protect)),
        ("RegionSize", m.region_size),
        ("State", u64::from(m.state)),
        ("Protect", u64::from(m.protect)),
        ("Type", u64::from(m.kind)),
    ])
}

impl Runner {
    /// A native call in process `pid`: the NTSTATUS, with the (unchanged) last error.
    pub(crate) fn native_call(&mut self, pid: AsId, call: &Call) -> Result<Outcome, StmtError> {
        // A NULL where the service must write fails its probe (F90), reported below.
        let probed = std::cell::Cell::new(false);
        let av = || {
            probed.set(true);
            status(NULL_POINTER_STATUS)
        };
        let h = |v: u64| Handle(v);
        let ret: u64 = match call.name.as_str() {
            "NtCreateSection" => {
                let out = self.out_ptr(call, 0)?;
                let access = self.u32_native(call, 1)?;
                let name = self.name_or_null(call, 2)?;
                let size = self.inout(call, 3)?;
                let (protection, attributes) =
                    (self.u32_native(call, 4)?, self.u32_native(call, 5)?);
                let file = self.int_native(call, 6)?;
                match out {
                    None => av(),
                    Some(out) => {
                        let r = self.system()?.nt_create_section_attributes(
                            pid,
                            ObjectAttributes {
                                name: name.as_deref(),
                                ..ObjectAttributes::default()
                            },
                            NtCreateSectionArgs {
                                access,
                                maximum_size: size.map_or(0, |(_, v)| v),
                                protection,
                                attributes,
                                file: (file != 0).then_some(h(file)),
                                ..NtCreateSectionArgs::default()
                            },
                        );
                        match r {
                            Ok((handle, s)) => {
                                self.store(Some(&out), Value::Int(handle.0));
                                status(s)
                            }
                            Err(s) => status(s),
                        }
                    }
                }
            }
            "NtOpenSection" => {
                let out = self.out_ptr(call, 0)?;
                let access = self.u32_native(call, 1)?;
                let name = self.name_or_null(call, 2)?;
                match out {
                    None => av(),
                    Some(out) => {
                        let attributes = name.as_deref().map(|n| ObjectAttributes {
                            name: Some(n),
                            ..ObjectAttributes::default()
                        });
                        match self
                            .system()?
                            .nt_open_section_attributes(pid, access, attributes)
                        {
                            Ok(handle) => {
                                self.store(Some(&out), Value::Int(handle.0));
                                status(NtStatus::STATUS_SUCCESS)
                            }
                            Err(s) => status(s),
                        }
                    }
                }
            }
            "NtMapViewOfSection" => {
                let (section, process) = (self.int_native(call, 0)?, self.int_native(call, 1)?);
                let base = self.inout(call, 2)?;
                let (zero_bits, commit_size) =
                    (self.int_native(call, 3)?, self.int_native(call, 4)?);
                let offset = self.inout(call, 5)?;
                let size = self.inout(call, 6)?;
                let (inherit, allocation_type, protection) = (
                    self.u32_native(call, 7)?,
                    self.u32_native(call, 8)?,
                    self.u32_native(call, 9)?,
                );
                match (base, size) {
                    (Some((base_var, base)), Some((size_var, view_size))) => {
                        let args = NtMapViewArgs {
                            base: (base != 0).then_some(Va::new(base)),
                            zero_bits,
                            commit_size,
                            offset: offset.as_ref().map_or(0, |(_, o)| *o),
                            view_size,
                            inherit,
                            allocation_type,
                            protection,
                        };
                        match self.system()?.nt_map_view_of_section(
                            pid,
                            h(section),
                            h(process),
                            args,
                        ) {
                            Ok((va, n)) => {
                                self.store_range(&base_var, &size_var, va, n);
                                if let Some((offset_var, o)) = offset {
                                    self.store(Some(&offset_var), Value::Int(o));
                                }
                                // F132: an image away from its preferred base.
                                status(self.system()?.image_view_status(pid, h(section), va))
                            }
                            Err(s) => status(s),
                        }
                    }
                    _ => av(),
                }
            }
            "NtUnmapViewOfSection" => {
                let (process, base) = (self.int_native(call, 0)?, self.int_native(call, 1)?);
                result(
                    self.system()?
                        .nt_unmap_view_of_section(pid, h(process), Va::new(base)),
                )
            }
            "NtQuerySection" => {
                let section = self.int_native(call, 0)?;
                let class = self.int_native(call, 1)?;
                let out = self.out_ptr(call, 2)?;
                // The class is checked first, then the buffer's probe, then the handle
                // (SECTION_QUERY, F41). For a data section SectionImageInformation is
                // STATUS_SECTION_NOT_IMAGE (F46); for an image it is not modelled.
                match (class, out) {
                    (0 | 1, None) => av(),
                    (0, Some(out)) => match self.system()?.nt_query_section(pid, h(section)) {
                        Ok(sbi) => {
                            self.store(
                                Some(&out),
                                Value::Record(vec![
                                    ("BaseAddress", sbi.base_address),
                                    ("Attributes", u64::from(sbi.attributes)),
                                    ("Size", sbi.size),
                                ]),
                            );
                            status(NtStatus::STATUS_SUCCESS)
                        }
                        Err(s) => status(s),
                    },
                    (1, Some(_)) => match self.system()?.nt_query_section(pid, h(section)) {
                        Ok(sbi) if sbi.attributes & SEC_IMAGE != 0 => {
                            return Err(StmtError(
                                "SectionImageInformation of an image section is not modelled \
                                 by ntmm"
                                    .into(),
                            ))
                        }
                        Ok(_) => status(NtStatus::STATUS_SECTION_NOT_IMAGE),
                        Err(s) => status(s),
                    },
                    _ => status(NtStatus::STATUS_INVALID_INFO_CLASS),
                }
            }
            "NtExtendSection" => {
                let section = self.int_native(call, 0)?;
                match self.inout(call, 1)? {
                    None => av(),
                    Some((var, size)) => {
                        match self.system()?.nt_extend_section(pid, h(section), size) {
                            Ok(n) => {
                                self.store(Some(&var), Value::Int(n));
                                status(NtStatus::STATUS_SUCCESS)
                            }
                            Err(s) => status(s),
                        }
                    }
                }
            }
            "NtAllocateVirtualMemory" => {
                let process = self.int_native(call, 0)?;
                let base = self.inout(call, 1)?;
                let zero_bits = self.int_native(call, 2)?;
                let size = self.inout(call, 3)?;
                let (t, p) = (self.u32_native(call, 4)?, self.u32_native(call, 5)?);
                if zero_bits != 0 {
                    return Err(StmtError(
                        "NtAllocateVirtualMemory: a non-zero ZeroBits is not modelled".into(),
                    ));
                }
                match (base, size) {
                    (Some((base_var, base)), Some((size_var, size))) => {
                        let base = (base != 0).then_some(Va::new(base));
                        {
                            let r = self.system()?.nt_allocate_virtual_memory(
                                pid,
                                h(process),
                                base,
                                size,
                                t,
                                p,
                            );
                            self.range_status(&base_var, &size_var, r)
                        }
                    }
                    _ => av(),
                }
            }
            "NtFreeVirtualMemory" => {
                let process = self.int_native(call, 0)?;
                let base = self.inout(call, 1)?;
                let size = self.inout(call, 2)?;
                let t = self.u32_native(call, 3)?;
                match (base, size) {
                    (Some((base_var, base)), Some((size_var, size))) => {
                        let r = self.system()?.nt_free_virtual_memory(
                            pid,
                            h(process),
                            Va::new(base),
                            size,
                            t,
                        );
                        self.range_status(&base_var, &size_var, r)
                    }
                    _ => av(),
                }
            }
            "NtProtectVirtualMemory" => {
                let process = self.int_native(call, 0)?;
                let base = self.inout(call, 1)?;
                let size = self.inout(call, 2)?;
                let p = self.u32_native(call, 3)?;
                let old = self.out_ptr(call, 4)?;
                match (base, size, old) {
                    (Some((base_var, base)), Some((size_var, size)), Some(old_var)) => {
                        match self.system()?.nt_protect_virtual_memory_range(
                            pid,
                            h(process),
                            Va::new(base),
                            size,
                            p,
                        ) {
                            Ok((o, va, n)) => {
                                self.store(Some(&base_var), Value::Int(va.raw()));
                                self.store(Some(&size_var), Value::Int(n));
                                self.store(Some(&old_var), Value::Int(u64::from(o)));
                                status(NtStatus::STATUS_SUCCESS)
                            }
                            Err(s) => status(s),
                        }
                    }
                    // F90: a NULL OldProtect is STATUS_ACCESS_VIOLATION.
                    _ => av(),
                }
            }
            "NtQueryVirtualMemory" => {
                let (process, va) = (self.int_native(call, 0)?, self.int_native(call, 1)?);
                let class = self.int_native(call, 2)?;
                let out = self.out_ptr(call, 3)?;
                if let Some((_, n)) = UNMODELLED_MEMORY_CLASSES.iter().find(|(c, _)| *c == class) {
                    return Err(StmtError(format!(
                        "NtQueryVirtualMemory: {n} is not modelled (only MemoryBasicInformation)"
                    )));
                }
                match (class, out) {
                    (0, None) => av(),
                    (0, Some(out)) => {
                        match self
                            .system()?
                            .nt_query_virtual_memory(pid, h(process), Va::new(va))
                        {
                            Ok(m) => {
                                self.store(Some(&out), mbi_record(&m));
                                status(NtStatus::STATUS_SUCCESS)
                            }
                            Err(s) => status(s),
                        }
                    }
                    _ => status(NtStatus::STATUS_INVALID_INFO_CLASS),
                }
            }
            "NtFlushVirtualMemory" => {
                let process = self.int_native(call, 0)?;
                let base = self.inout(call, 1)?;
                let size = self.inout(call, 2)?;
                let iosb = self.out_ptr(call, 3)?;
                match (base, size, iosb) {
                    (Some((base_var, base)), Some((size_var, size)), Some(iosb_var)) => {
                        match self.system()?.nt_flush_virtual_memory(
                            pid,
                            h(process),
                            Va::new(base),
                            size,
                        ) {
                            Ok((va, n)) => {
                                self.store_range(&base_var, &size_var, va, n);
                                // Information: ntmm reports no byte count (0).
                                self.store(
                                    Some(&iosb_var),
                                    Value::Record(vec![("Status", 0), ("Information", 0)]),
                                );
                                status(NtStatus::STATUS_SUCCESS)
                            }
                            Err(s) => status(s),
                        }
                    }
                    _ => av(),
                }
            }
            "NtClose" => {
                let handle = self.int_native(call, 0)?;
                result(self.system()?.nt_close(pid, h(handle)))
            }
            "NtAreMappedFilesTheSame" => {
                let (a, b) = (self.int_native(call, 0)?, self.int_native(call, 1)?);
                status(
                    self.system()?
                        .nt_are_mapped_files_the_same(pid, Va::new(a), Va::new(b)),
                )
            }
            name if placeholders::is_placeholder_native(name) => {
                self.placeholder_native(pid, call)?
            }
            other => return Err(StmtError(format!("{other} is not callable here"))),
        };
        if probed.get() {
            self.system()?
                .null_pointer_probe(pid, &call.name, "an out-parameter", true);
        }
        // The last error is shown, unchanged: native calls do not set it.
        let last_error = self.system()?.get_last_error(pid);
        Ok(Outcome::native(ret, last_error))
    }

    fn int_native(&mut self, call: &Call, i: usize) -> Result<u64, StmtError> {
        match &call.args[i] {
            crate::ast::Arg::Out(name) => Err(StmtError(format!(
                "argument {} of {} is a value, not &{name}",
                i + 1,
                call.name
            ))),
            crate::ast::Arg::Value(e) => match self.eval(e)? {
                Value::Int(v) => Ok(v),
                other => Err(StmtError(format!(
                    "argument {} of {} must be an integer, not {other}",
                    i + 1,
                    call.name
                ))),
            },
        }
    }
    fn u32_native(&mut self, call: &Call, i: usize) -> Result<u32, StmtError> {
        Ok(self.int_native(call, i)? as u32)
    }
    /// `OBJECT_ATTRIBUTES`: `NULL` or a string (an NT name, which must be text).
    fn name_or_null(&mut self, call: &Call, i: usize) -> Result<Option<String>, StmtError> {
        let crate::ast::Arg::Value(e) = &call.args[i] else {
            return Err(StmtError(format!(
                "argument {} of {} is NULL or a name, not &name",
                i + 1,
                call.name
            )));
        };
        match self.eval(e)? {
            Value::Int(0) => Ok(None),
            Value::Str(b) | Value::Bytes(b) => String::from_utf8(b).map(Some).map_err(|_| {
                StmtError(format!(
                    "argument {} of {} is a name, and a name must be valid UTF-8 text",
                    i + 1,
                    call.name
                ))
            }),
            other => Err(StmtError(format!(
                "argument {} of {} must be a string or NULL, not {other}",
                i + 1,
                call.name
            ))),
        }
    }
}

impl Runner {
    /// Writes an in-out range back (`*BaseAddress`, `*RegionSize`/`*ViewSize`): what the
    /// service rounded it to.
    fn store_range(&mut self, base_var: &str, size_var: &str, base: Va, size: u64) {
        self.store(Some(base_var), Value::Int(base.raw()));
        self.store(Some(size_var), Value::Int(size));
    }

    /// A native range service's result: on success the range is written back and the status
    /// is `STATUS_SUCCESS`; on failure nothing is written.
    fn range_status(
        &mut self,
        base_var: &str,
        size_var: &str,
        r: Result<(Va, u64), NtStatus>,
    ) -> u64 {
        match r {
            Ok((va, n)) => {
                self.store_range(base_var, size_var, va, n);
                status(NtStatus::STATUS_SUCCESS)
            }
            Err(s) => status(s),
        }
    }
}

//! Placeholders in the scenario language (docs/SCENARIO.md "Placeholders (images)"):
//! `VirtualAlloc2` and `MapViewOfFile3` (and `MapViewOfFileFromApp`) with their Win32 argument
//! lists, and the native
//! `NtAllocateVirtualMemoryEx`, `NtMapViewOfSectionEx`, `NtUnmapViewOfSectionEx`. The process
//! argument of the Win32 pair may be `NULL` (the current process); the trailing
//! extended-parameter arguments are `NULL, 0` (`MEM_EXTENDED_PARAMETER` is not modelled, and
//! anything else is a statement error that says so).

use super::{result, status};
use crate::ast::Call;
use crate::runner::{Runner, StmtError};
use ntmm_api::*;
use ntmm_vmm::AsId;

/// The Win32 functions this module binds, with their argument counts.
pub(crate) const PLACEHOLDER_CALLS: &[(&str, usize)] = &[
    ("VirtualAlloc2", 7),
    ("MapViewOfFile3", 9),
    ("MapViewOfFileFromApp", 4),
];

/// The native services this module binds, with their argument counts.
pub(crate) const PLACEHOLDER_NATIVE: &[(&str, usize)] = &[
    ("NtAllocateVirtualMemoryEx", 7),
    ("NtMapViewOfSectionEx", 9),
    ("NtUnmapViewOfSectionEx", 3),
];

/// Whether `name` (canonical) is one of this module's Win32 functions.
pub(crate) fn is_placeholder_call(name: &str) -> bool {
    PLACEHOLDER_CALLS.iter().any(|(n, _)| *n == name)
}

/// Whether `name` is one of this module's native services.
pub(crate) fn is_placeholder_native(name: &str) -> bool {
    PLACEHOLDER_NATIVE.iter().any(|(n, _)| *n == name)
}

impl Runner {
    /// The extended parameters `(ExtendedParameters, ParameterCount)` at `i`, `i + 1`: only
    /// `NULL, 0` is modelled.
    fn no_extended_parameters(&mut self, call: &Call, i: usize) -> Result<(), StmtError> {
        let (p, n) = (self.int_native(call, i)?, self.int_native(call, i + 1)?);
        if p != 0 || n != 0 {
            return Err(StmtError(format!(
                "{}: extended parameters (MEM_EXTENDED_PARAMETER) are not modelled; pass NULL, 0",
                call.name
            )));
        }
        Ok(())
    }

    /// Calls `VirtualAlloc2`, `MapViewOfFile3` or `MapViewOfFileFromApp` in process `pid`; returns the Win32 return
    /// value (the address, or NULL with the last error set).
    pub(crate) fn placeholder_call(&mut self, pid: AsId, call: &Call) -> Result<u64, StmtError> {
        let opt = |v: u64| (v != 0).then_some(Va::new(v));
        Ok(match call.name.as_str() {
            "VirtualAlloc2" => {
                let (process, base, size) = (
                    self.int_native(call, 0)?,
                    self.int_native(call, 1)?,
                    self.int_native(call, 2)?,
                );
                let (t, p) = (self.u32_native(call, 3)?, self.u32_native(call, 4)?);
                self.no_extended_parameters(call, 5)?;
                self.system()?
                    .virtual_alloc2(pid, Handle(process), opt(base), size, t, p)
                    .map_or(0, |v| v.raw())
            }
            "MapViewOfFile3" => {
                let (section, process, base) = (
                    self.int_native(call, 0)?,
                    self.int_native(call, 1)?,
                    self.int_native(call, 2)?,
                );
                let (offset, size) = (self.int_native(call, 3)?, self.int_native(call, 4)?);
                let (t, p) = (self.u32_native(call, 5)?, self.u32_native(call, 6)?);
                self.no_extended_parameters(call, 7)?;
                self.system()?
                    .map_view_of_file3(
                        pid,
                        Handle(section),
                        Handle(process),
                        opt(base),
                        offset,
                        size,
                        t,
                        p,
                    )
                    .map_or(0, |v| v.raw())
            }
            "MapViewOfFileFromApp" => {
                let (section, access) = (self.int_native(call, 0)?, self.u32_native(call, 1)?);
                let (offset, size) = (self.int_native(call, 2)?, self.int_native(call, 3)?);
                self.system()?
                    .map_view_of_file_from_app(pid, Handle(section), access, offset, size)
                    .map_or(0, |v| v.raw())
            }
            other => return Err(StmtError(format!("{other} is not callable here"))),
        })
    }

    /// Calls one of [`PLACEHOLDER_NATIVE`] in process `pid`; returns the NTSTATUS. `&base`,
    /// `&offset` and `&size` are in-out, written back on success only.
    pub(crate) fn placeholder_native(&mut self, pid: AsId, call: &Call) -> Result<u64, StmtError> {
        let av = status(NULL_POINTER_STATUS);
        Ok(match call.name.as_str() {
            "NtAllocateVirtualMemoryEx" => {
                let process = self.int_native(call, 0)?;
                let base = self.inout(call, 1)?;
                let size = self.inout(call, 2)?;
                let (t, p) = (self.u32_native(call, 3)?, self.u32_native(call, 4)?);
                self.no_extended_parameters(call, 5)?;
                match (base, size) {
                    (Some((base_var, base)), Some((size_var, size))) => {
                        let r = self.system()?.nt_allocate_virtual_memory_ex(
                            pid,
                            Handle(process),
                            (base != 0).then_some(Va::new(base)),
                            size,
                            t,
                            p,
                        );
                        self.range_status(&base_var, &size_var, r)
                    }
                    _ => av,
                }
            }
            "NtMapViewOfSectionEx" => {
                let (section, process) = (self.int_native(call, 0)?, self.int_native(call, 1)?);
                let base = self.inout(call, 2)?;
                let offset = self.inout(call, 3)?;
                let size = self.inout(call, 4)?;
                let (t, p) = (self.u32_native(call, 5)?, self.u32_native(call, 6)?);
                self.no_extended_parameters(call, 7)?;
                match (base, size) {
                    (Some((base_var, base)), Some((size_var, view_size))) => {
                        let r = self.system()?.nt_map_view_of_section_ex(
                            pid,
                            Handle(section),
                            Handle(process),
                            (base != 0).then_some(Va::new(base)),
                            offset.as_ref().map_or(0, |(_, o)| *o),
                            view_size,
                            t,
                            p,
                        );
                        self.range_status(&base_var, &size_var, r)
                    }
                    _ => av,
                }
            }
            "NtUnmapViewOfSectionEx" => {
                let (process, base) = (self.int_native(call, 0)?, self.int_native(call, 1)?);
                let flags = self.u32_native(call, 2)?;
                result(self.system()?.nt_unmap_view_of_section_ex(
                    pid,
                    Handle(process),
                    Va::new(base),
                    flags,
                ))
            }
            other => return Err(StmtError(format!("{other} is not callable here"))),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The parser knows every function bound here, with the same argument count.
    #[test]
    fn test_bound_functions_are_the_parsers() {
        for (name, n) in PLACEHOLDER_CALLS.iter().chain(PLACEHOLDER_NATIVE) {
            assert_eq!(crate::parser::function(name), Some((*name, *n)), "{name}");
        }
    }
}

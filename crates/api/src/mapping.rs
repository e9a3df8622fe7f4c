//! Sections at the native and Win32 levels: `NtCreateSection`, `NtOpenSection`,
//! `NtMapViewOfSection`, `NtUnmapViewOfSection`, `NtExtendSection`, `NtQuerySection`,
//! `NtFlushVirtualMemory`, and `CreateFileMapping`, `OpenFileMapping`, `MapViewOfFile(Ex)`,
//! `UnmapViewOfFile`, `FlushViewOfFile` (facts §B–§H, §O, §R).

use crate::access::*;
use crate::object::*;
use crate::system::{Fail, System, R};
use crate::win32::*;
use ntmm_section::consts::*;
use ntmm_section::{
    CreateSection, FileAccess, FileSpec, MapView, SectionBasicInformation, SectionError,
};
use ntmm_vmm::{AsId, NtStatus, Va};

/// The arguments of `NtCreateSection`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct NtCreateSectionArgs<'a> {
    /// `DesiredAccess`.
    pub access: u32,
    /// The object name, if any (opened if it exists: `OBJ_OPENIF`, as kernel32 passes).
    pub name: Option<&'a str>,
    /// Whether the handle is inheritable.
    pub inherit: bool,
    /// `MaximumSize` (0 = the file's size).
    pub maximum_size: u64,
    /// `SectionPageProtection`.
    pub protection: u32,
    /// `AllocationAttributes`.
    pub attributes: u32,
    /// `FileHandle` (`None` for pagefile-backed).
    pub file: Option<Handle>,
}

/// The arguments of `NtMapViewOfSection` after the handles.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct NtMapViewArgs {
    /// `*BaseAddress` (`None` = system chooses).
    pub base: Option<Va>,
    /// `ZeroBits`.
    pub zero_bits: u64,
    /// `CommitSize`.
    pub commit_size: u64,
    /// `SectionOffset`.
    pub offset: u64,
    /// `ViewSize` (0 = to the end).
    pub view_size: u64,
    /// `InheritDisposition` (`VIEW_SHARE` or `VIEW_UNMAP`).
    pub inherit: u32,
    /// `AllocationType`.
    pub allocation_type: u32,
    /// `Win32Protect`.
    pub protection: u32,
}

impl NtMapViewArgs {
    /// A `ViewShare` view, as kernel32's `MapViewOfFile…` functions ask for it: no
    /// `ZeroBits`, no `CommitSize`.
    pub fn view_share(
        base: Option<Va>,
        offset: u64,
        view_size: u64,
        allocation_type: u32,
        protection: u32,
    ) -> Self {
        NtMapViewArgs {
            base,
            offset,
            view_size,
            inherit: VIEW_SHARE,
            allocation_type,
            protection,
            ..NtMapViewArgs::default()
        }
    }
}

impl System {
    pub(crate) fn create_section_in(
        &self,
        pid: AsId,
        a: NtCreateSectionArgs<'_>,
    ) -> R<(Handle, bool)> {
        self.create_section_in_with(pid, a, true)
    }

    /// `NtCreateSection` with or without `OBJ_OPENIF` (`open_if`): without it, an existing
    /// name is `STATUS_OBJECT_NAME_COLLISION` and no handle is made (F34).
    pub(crate) fn create_section_in_with(
        &self,
        pid: AsId,
        a: NtCreateSectionArgs<'_>,
        open_if: bool,
    ) -> R<(Handle, bool)> {
        let mut om = self.om.lock();
        let mut write_through = false;
        let mut file_access = None;
        let file = match a.file {
            None => None,
            Some(h) => {
                let (e, o) = om.typed(pid, h, ObjectType::File)?;
                file_access = Some(e.access);
                let Body::File(f) = &o.body else {
                    return Err(NtStatus::STATUS_OBJECT_TYPE_MISMATCH.into());
                };
                write_through = f.write_through;
                Some((
                    f.stream,
                    FileAccess {
                        read: e.access & FILE_READ_DATA != 0,
                        write: e.access & FILE_WRITE_DATA != 0,
                        execute: e.access & FILE_EXECUTE != 0,
                    },
                ))
            }
        };
        let access = map_generic(ObjectType::Section, a.access);
        self.create_or_open_with(
            &mut om,
            pid,
            a.name,
            ObjectType::Section,
            access,
            a.inherit,
            open_if,
            |sys| {
                let id = sys
                    .ex
                    .create_section(CreateSection {
                        file: file.map(|(stream, access)| FileSpec { stream, access }),
                        maximum_size: a.maximum_size,
                        protection: a.protection,
                        attributes: a.attributes,
                    })
                    .map_err(|e| match (e, file_access) {
                        (SectionError::AccessDenied, Some(granted)) => Fail::Rule(
                            NtStatus::STATUS_ACCESS_DENIED,
                            crate::why::file_rights_rule(granted, a.protection),
                        ),
                        (SectionError::SectionTooBig, Some(_)) => {
                            let file_size = file
                                .and_then(|(stream, _)| sys.ex.file_size(stream).ok())
                                .unwrap_or(0);
                            if a.maximum_size > file_size {
                                Fail::Rule(
                                    NtStatus::STATUS_SECTION_TOO_BIG,
                                    crate::why::read_only_growth_rule(
                                        a.maximum_size,
                                        file_size,
                                        a.protection,
                                    ),
                                )
                            } else {
                                SectionError::SectionTooBig.into()
                            }
                        }
                        (e, _) => e.into(),
                    })?;
                if write_through {
                    sys.ex.set_section_write_through(id)?;
                }
                let writable =
                    matches!(a.protection & 0xFF, PAGE_READWRITE | PAGE_EXECUTE_READWRITE);
                Ok(Body::Section(SectionObject {
                    id,
                    stream: file.map(|f| f.0),
                    writable,
                }))
            },
        )
    }

    /// `NtCreateSection`: returns the handle and `STATUS_SUCCESS`, or
    /// `STATUS_OBJECT_NAME_EXISTS` when the name already named a section (F34).
    pub fn nt_create_section(
        &self,
        pid: AsId,
        args: NtCreateSectionArgs<'_>,
    ) -> Result<(Handle, NtStatus), NtStatus> {
        let (h, existed) = self.native(pid, self.create_section_in(pid, args))?;
        Ok((
            h,
            if existed {
                NtStatus::STATUS_OBJECT_NAME_EXISTS
            } else {
                NtStatus::STATUS_SUCCESS
            },
        ))
    }

    /// `CreateFileMapping`. `file` is `INVALID_HANDLE_VALUE` or `NULL` for pagefile-backed
    /// memory (F7). The handle's rights follow the protection (F45). On success the last error is
    /// `ERROR_ALREADY_EXISTS` if the name existed, else `ERROR_SUCCESS` (F31).
    pub fn create_file_mapping(
        &self,
        pid: AsId,
        file: Handle,
        inherit: bool,
        protect: u32,
        maximum_size_high: u32,
        maximum_size_low: u32,
        name: Option<&str>,
    ) -> Result<Handle, Win32Error> {
        let size = (u64::from(maximum_size_high) << 32) | u64::from(maximum_size_low);
        let file = (file != Handle::INVALID && file != Handle::NULL).then_some(file);
        let r = if file.is_none() && size == 0 {
            Err(Fail::Win32Rule(
                ERROR_INVALID_PARAMETER,
                "a pagefile-backed mapping needs a nonzero maximum size (F9)".into(),
            ))
        } else {
            self.create_section_in(
                pid,
                NtCreateSectionArgs {
                    access: section_rights_for_protection(protect & 0xFF),
                    name,
                    inherit,
                    maximum_size: size,
                    protection: protect & 0x000F_FFFF,
                    attributes: protect & 0xFFF0_0000,
                    file,
                },
            )
        };
        let (h, existed) = self.win32(pid, r)?;
        self.report_existing(pid, existed);
        Ok(h)
    }

    /// `NtOpenSection`.
    pub fn nt_open_section(
        &self,
        pid: AsId,
        access: u32,
        inherit: bool,
        name: &str,
    ) -> Result<Handle, NtStatus> {
        let mut om = self.om.lock();
        let access = map_generic(ObjectType::Section, access);
        self.native(
            pid,
            self.open_named(&mut om, pid, name, ObjectType::Section, access, inherit),
        )
    }

    /// `OpenFileMapping`: the handle gets exactly the access asked for (F40); a missing name is
    /// `ERROR_FILE_NOT_FOUND` (F33).
    pub fn open_file_mapping(
        &self,
        pid: AsId,
        access: u32,
        inherit: bool,
        name: &str,
    ) -> Result<Handle, Win32Error> {
        let r = if name.is_empty() {
            Err(Fail::Win32Rule(
                ERROR_INVALID_PARAMETER,
                "OpenFileMapping needs a name".into(),
            ))
        } else {
            let mut om = self.om.lock();
            self.open_named(
                &mut om,
                pid,
                name,
                ObjectType::Section,
                open_mapping_rights(access),
                inherit,
            )
        };
        self.win32(pid, r)
    }

    fn section_of(om: &ObjectManager, pid: AsId, h: Handle) -> R<(HandleEntry, SectionObject)> {
        let (e, o) = om.typed(pid, h, ObjectType::Section)?;
        match &o.body {
            Body::Section(s) => Ok((e, s.clone())),
            _ => Err(NtStatus::STATUS_OBJECT_TYPE_MISMATCH.into()),
        }
    }

    pub(crate) fn map_in(
        &self,
        pid: AsId,
        section: Handle,
        process: Handle,
        a: NtMapViewArgs,
    ) -> R<(Va, u64)> {
        let om = self.om.lock();
        if process == Handle::NULL {
            return Err(NtStatus::STATUS_INVALID_HANDLE.into()); // F65
        }
        // The process handle must grant PROCESS_VM_OPERATION (NtMapViewOfSection,
        // MapViewOfFile2: "The handle must have the PROCESS_VM_OPERATION access mask").
        let target = crate::why::process_with_access(&om, pid, process, PROCESS_VM_OPERATION)?;
        let (e, s) = Self::section_of(&om, pid, section)?;
        if a.inherit != VIEW_SHARE && a.inherit != VIEW_UNMAP {
            return Err(SectionError::param(8, "inherit disposition").into());
        }
        // F48: the handle must hold the rights the view protection needs.
        if ntmm_vmm::Protection::from_win32(a.protection).is_some() {
            let need = rights_for_view(a.protection);
            if e.access & need != need {
                return Err(Fail::Rule(
                    NtStatus::STATUS_ACCESS_DENIED,
                    crate::why::view_rights_rule(e.access, need, a.protection),
                ));
            }
        }
        let view = self.ex.map_view(
            target,
            s.id,
            MapView {
                base: a.base,
                zero_bits: a.zero_bits,
                commit_size: a.commit_size,
                offset: a.offset,
                view_size: a.view_size,
                allocation_type: a.allocation_type,
                protection: a.protection,
            },
        );
        view.map_err(|err| match err {
            SectionError::InvalidViewSize => {
                let size = self.ex.query_section(s.id).map_or(0, |q| q.size);
                Fail::Rule(
                    NtStatus::STATUS_INVALID_VIEW_SIZE,
                    crate::why::view_size_rule(a.offset, a.view_size, size),
                )
            }
            other => other.into(),
        })
    }

    /// `NtMapViewOfSection`: returns the base and the view size.
    pub fn nt_map_view_of_section(
        &self,
        pid: AsId,
        section: Handle,
        process: Handle,
        args: NtMapViewArgs,
    ) -> Result<(Va, u64), NtStatus> {
        self.native(pid, self.map_in(pid, section, process, args))
    }

    /// `MapViewOfFileEx`: the view protection comes from `access` (F47), the handle must hold
    /// the rights it needs (F48), the offset is `high:low`, size 0 maps to the end.
    pub fn map_view_of_file_ex(
        &self,
        pid: AsId,
        h: Handle,
        access: u32,
        offset_high: u32,
        offset_low: u32,
        size: u64,
        base: Option<Va>,
    ) -> Result<Va, Win32Error> {
        let r =
            if access & (FILE_MAP_LARGE_PAGES | FILE_MAP_TARGETS_INVALID | FILE_MAP_RESERVE) != 0 {
                Err(Fail::Section(SectionError::NotSupported(
                    "FILE_MAP_LARGE_PAGES, _TARGETS_INVALID, _RESERVE",
                )))
            } else {
                let args = NtMapViewArgs {
                    base,
                    offset: (u64::from(offset_high) << 32) | u64::from(offset_low),
                    view_size: size,
                    inherit: VIEW_SHARE,
                    protection: view_protection(access),
                    ..NtMapViewArgs::default()
                };
                self.map_in(pid, h, Handle::INVALID, args).map(|(va, _)| va)
            };
        self.win32(pid, r)
    }

    /// `MapViewOfFile`.
    pub fn map_view_of_file(
        &self,
        pid: AsId,
        h: Handle,
        access: u32,
        offset_high: u32,
        offset_low: u32,
        size: u64,
    ) -> Result<Va, Win32Error> {
        self.map_view_of_file_ex(pid, h, access, offset_high, offset_low, size, None)
    }

    /// `NtUnmapViewOfSection`.
    pub fn nt_unmap_view_of_section(
        &self,
        pid: AsId,
        process: Handle,
        base: Va,
    ) -> Result<(), NtStatus> {
        let r = (|| {
            // PROCESS_VM_OPERATION, as UnmapViewOfFile2 documents.
            let target = crate::why::process_with_access(
                &self.om.lock(),
                pid,
                process,
                PROCESS_VM_OPERATION,
            )?;
            Ok(self.ex.unmap_view(target, base)?)
        })();
        self.native(pid, r)
    }

    /// `UnmapViewOfFile`: `ERROR_INVALID_ADDRESS` if `base` is not in a view (F112).
    pub fn unmap_view_of_file(&self, pid: AsId, base: Va) -> Result<(), Win32Error> {
        // The executive knows the same processes as the object manager (both change under the
        // object-manager lock), so an unknown caller fails there with ERROR_INVALID_HANDLE
        // without taking the object-manager lock here.
        let r = self.ex.unmap_view(pid, base).map_err(Fail::from);
        self.win32(pid, r)
    }

    /// `MapViewOfFile2(FileMapping, Process, Offset, BaseAddress, ViewSize, AllocationType,
    /// PageProtection)`: `MapViewOfFileNuma2` with no preferred node, a view of the section in
    /// the process `process` names. Unlike `MapViewOfFile`'s `FILE_MAP_*` mask, `protection` is
    /// a page protection (`PAGE_*`); the offset is 64 KiB aligned (F54), the process handle
    /// needs `PROCESS_VM_OPERATION` and the section handle the rights the protection needs
    /// (F48). `allocation_type` is 0 or `MEM_RESERVE` (`MEM_LARGE_PAGES` is not modelled and
    /// fails as an invalid allocation type).
    pub fn map_view_of_file2(
        &self,
        pid: AsId,
        h: Handle,
        process: Handle,
        offset: u64,
        base: Option<Va>,
        view_size: u64,
        allocation_type: u32,
        protection: u32,
    ) -> Result<Va, Win32Error> {
        let args = NtMapViewArgs::view_share(base, offset, view_size, allocation_type, protection);
        let r = self.map_in(pid, h, process, args).map(|(va, _)| va);
        self.win32(pid, r)
    }

    /// `UnmapViewOfFile2(Process, BaseAddress, UnmapFlags)`: the process handle needs
    /// `PROCESS_VM_OPERATION`. `UnmapFlags` is 0, `MEM_UNMAP_WITH_TRANSIENT_BOOST` (accepted;
    /// there is no priority to boost) and/or `MEM_PRESERVE_PLACEHOLDER`; any other bit is
    /// `ERROR_INVALID_PARAMETER` (F72). `MEM_PRESERVE_PLACEHOLDER` turns a view that replaced a
    /// placeholder back into it (F72) and fails on an ordinary view, which stays mapped:
    /// `ERROR_INVALID_ADDRESS` (F71).
    pub fn unmap_view_of_file2(
        &self,
        pid: AsId,
        process: Handle,
        base: Va,
        flags: u32,
    ) -> Result<(), Win32Error> {
        let r = (|| {
            if flags & !(MEM_UNMAP_WITH_TRANSIENT_BOOST | MEM_PRESERVE_PLACEHOLDER) != 0 {
                return Err(Fail::Win32Rule(
                    ERROR_INVALID_PARAMETER,
                    "UnmapFlags may hold only MEM_UNMAP_WITH_TRANSIENT_BOOST and MEM_PRESERVE_PLACEHOLDER (F72)".into(),
                ));
            }
            if process == Handle::NULL {
                return Err(NtStatus::STATUS_INVALID_HANDLE.into()); // F72
            }
            let target = crate::why::process_with_access(
                &self.om.lock(),
                pid,
                process,
                PROCESS_VM_OPERATION,
            )?;
            Ok(self.unmap_in(target, base, flags)?)
        })();
        self.win32(pid, r)
    }

    /// `UnmapViewOfFileEx(BaseAddress, UnmapFlags)`: `UnmapViewOfFile2` in the calling process.
    pub fn unmap_view_of_file_ex(&self, pid: AsId, base: Va, flags: u32) -> Result<(), Win32Error> {
        self.unmap_view_of_file2(pid, Handle::INVALID, base, flags)
    }

    /// `NtFlushVirtualMemory`: returns the rounded range.
    pub fn nt_flush_virtual_memory(
        &self,
        pid: AsId,
        process: Handle,
        base: Va,
        size: u64,
    ) -> Result<(Va, u64), NtStatus> {
        let r = (|| {
            // NT references the process for PROCESS_VM_OPERATION here too (DESIGN.md).
            let target = crate::why::process_with_access(
                &self.om.lock(),
                pid,
                process,
                PROCESS_VM_OPERATION,
            )?;
            Ok(self.ex.flush_virtual_memory(target, base, size)?)
        })();
        self.native(pid, r)
    }

    /// `FlushViewOfFile`: a pagefile-backed view's `STATUS_NOT_MAPPED_DATA` counts as success
    /// (§5.2).
    pub fn flush_view_of_file(&self, pid: AsId, base: Va, size: u64) -> Result<(), Win32Error> {
        // The native call is made on the program's behalf (why::OnBehalf).
        let _on_behalf = crate::why::OnBehalf::enter();
        let r = match self.nt_flush_virtual_memory(pid, Handle::INVALID, base, size) {
            Ok(_) | Err(NtStatus::STATUS_NOT_MAPPED_DATA) => Ok(()),
            Err(s) => Err(Fail::Status(s)),
        };
        self.win32(pid, r)
    }

    /// `NtQuerySection(SectionBasicInformation)`: needs `SECTION_QUERY` (F41).
    pub fn nt_query_section(
        &self,
        pid: AsId,
        h: Handle,
    ) -> Result<SectionBasicInformation, NtStatus> {
        let r = (|| {
            let om = self.om.lock();
            let (e, s) = Self::section_of(&om, pid, h)?;
            if e.access & SECTION_QUERY == 0 {
                return Err(Fail::Rule(
                    NtStatus::STATUS_ACCESS_DENIED,
                    crate::why::section_right_rule(
                        e.access,
                        SECTION_QUERY,
                        "NtQuerySection",
                        "F41",
                    ),
                ));
            }
            Ok(self.ex.query_section(s.id)?)
        })();
        self.native(pid, r)
    }

    /// The section object behind a handle (for inspection).
    pub fn section_id(&self, pid: AsId, h: Handle) -> Result<ntmm_section::SectionId, Win32Error> {
        let om = self.om.lock();
        Self::section_of(&om, pid, h)
            .map(|(_, s)| s.id)
            .map_err(|f| f.win32())
    }

    /// `NtExtendSection`: needs `SECTION_EXTEND_SIZE`; returns the new size.
    pub fn nt_extend_section(&self, pid: AsId, h: Handle, size: u64) -> Result<u64, NtStatus> {
        let r = (|| {
            let om = self.om.lock();
            let (e, s) = Self::section_of(&om, pid, h)?;
            if e.access & SECTION_EXTEND_SIZE == 0 {
                return Err(Fail::Rule(
                    NtStatus::STATUS_ACCESS_DENIED,
                    crate::why::section_right_rule(
                        e.access,
                        SECTION_EXTEND_SIZE,
                        "NtExtendSection",
                        "its documented right, docs/FACTS.md \"Section access rights\"",
                    ),
                ));
            }
            Ok(self.ex.extend_section(s.id, size)?)
        })();
        self.native(pid, r)
    }
}

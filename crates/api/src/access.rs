//! Access rights: object-specific rights, generic mapping, and the tables that turn section
//! protections and `FILE_MAP_*` requests into handle rights and view protections (facts §1,
//! F40, F45, F47, F48).

use ntmm_section::consts::*;

/// `DELETE`.
pub const DELETE: u32 = 0x0001_0000;
/// `READ_CONTROL`.
pub const READ_CONTROL: u32 = 0x0002_0000;
/// `WRITE_DAC`.
pub const WRITE_DAC: u32 = 0x0004_0000;
/// `WRITE_OWNER`.
pub const WRITE_OWNER: u32 = 0x0008_0000;
/// `SYNCHRONIZE`.
pub const SYNCHRONIZE: u32 = 0x0010_0000;
/// `STANDARD_RIGHTS_REQUIRED`.
pub const STANDARD_RIGHTS_REQUIRED: u32 = 0x000F_0000;
/// `GENERIC_READ`.
pub const GENERIC_READ: u32 = 0x8000_0000;
/// `GENERIC_WRITE`.
pub const GENERIC_WRITE: u32 = 0x4000_0000;
/// `GENERIC_EXECUTE`.
pub const GENERIC_EXECUTE: u32 = 0x2000_0000;
/// `GENERIC_ALL`.
pub const GENERIC_ALL: u32 = 0x1000_0000;
/// `MAXIMUM_ALLOWED`.
pub const MAXIMUM_ALLOWED: u32 = 0x0200_0000;

/// `SECTION_QUERY`.
pub const SECTION_QUERY: u32 = 0x0001;
/// `SECTION_MAP_WRITE`.
pub const SECTION_MAP_WRITE: u32 = 0x0002;
/// `SECTION_MAP_READ`.
pub const SECTION_MAP_READ: u32 = 0x0004;
/// `SECTION_MAP_EXECUTE`.
pub const SECTION_MAP_EXECUTE: u32 = 0x0008;
/// `SECTION_EXTEND_SIZE`.
pub const SECTION_EXTEND_SIZE: u32 = 0x0010;
/// `SECTION_MAP_EXECUTE_EXPLICIT`.
pub const SECTION_MAP_EXECUTE_EXPLICIT: u32 = 0x0020;
/// `SECTION_ALL_ACCESS`.
pub const SECTION_ALL_ACCESS: u32 = 0x000F_001F;
/// `FILE_MAP_COPY` (numerically `SECTION_QUERY`).
pub const FILE_MAP_COPY: u32 = 0x0001;
/// `FILE_MAP_WRITE`.
pub const FILE_MAP_WRITE: u32 = 0x0002;
/// `FILE_MAP_READ`.
pub const FILE_MAP_READ: u32 = 0x0004;
/// `FILE_MAP_EXECUTE` (`SECTION_MAP_EXECUTE_EXPLICIT`).
pub const FILE_MAP_EXECUTE: u32 = 0x0020;
/// `FILE_MAP_ALL_ACCESS`.
pub const FILE_MAP_ALL_ACCESS: u32 = SECTION_ALL_ACCESS;
/// `FILE_MAP_LARGE_PAGES` (not modelled).
pub const FILE_MAP_LARGE_PAGES: u32 = 0x2000_0000;
/// `FILE_MAP_TARGETS_INVALID` (not modelled).
pub const FILE_MAP_TARGETS_INVALID: u32 = 0x4000_0000;
/// `FILE_MAP_RESERVE` (not modelled).
pub const FILE_MAP_RESERVE: u32 = 0x8000_0000;

/// `FILE_READ_DATA`.
pub const FILE_READ_DATA: u32 = 0x0001;
/// `FILE_WRITE_DATA`.
pub const FILE_WRITE_DATA: u32 = 0x0002;
/// `FILE_APPEND_DATA`.
pub const FILE_APPEND_DATA: u32 = 0x0004;
/// `FILE_READ_EA`.
pub const FILE_READ_EA: u32 = 0x0008;
/// `FILE_WRITE_EA`.
pub const FILE_WRITE_EA: u32 = 0x0010;
/// `FILE_EXECUTE`.
pub const FILE_EXECUTE: u32 = 0x0020;
/// `FILE_READ_ATTRIBUTES`.
pub const FILE_READ_ATTRIBUTES: u32 = 0x0080;
/// `FILE_WRITE_ATTRIBUTES`.
pub const FILE_WRITE_ATTRIBUTES: u32 = 0x0100;
/// `FILE_GENERIC_READ`.
pub const FILE_GENERIC_READ: u32 = 0x0012_0089;
/// `FILE_GENERIC_WRITE`.
pub const FILE_GENERIC_WRITE: u32 = 0x0012_0116;
/// `FILE_GENERIC_EXECUTE`.
pub const FILE_GENERIC_EXECUTE: u32 = 0x0012_00A0;
/// `FILE_ALL_ACCESS`.
pub const FILE_ALL_ACCESS: u32 = 0x001F_01FF;
/// `FILE_SHARE_READ`.
pub const FILE_SHARE_READ: u32 = 1;
/// `FILE_SHARE_WRITE`.
pub const FILE_SHARE_WRITE: u32 = 2;
/// `FILE_SHARE_DELETE`.
pub const FILE_SHARE_DELETE: u32 = 4;

/// `EVENT_MODIFY_STATE`.
pub const EVENT_MODIFY_STATE: u32 = 0x0002;
/// `EVENT_QUERY_STATE`.
pub const EVENT_QUERY_STATE: u32 = 0x0001;
/// `EVENT_ALL_ACCESS`.
pub const EVENT_ALL_ACCESS: u32 = 0x001F_0003;

/// `PROCESS_VM_OPERATION`.
pub const PROCESS_VM_OPERATION: u32 = 0x0008;
/// `PROCESS_VM_READ`.
pub const PROCESS_VM_READ: u32 = 0x0010;
/// `PROCESS_VM_WRITE`.
pub const PROCESS_VM_WRITE: u32 = 0x0020;
/// `PROCESS_DUP_HANDLE`.
pub const PROCESS_DUP_HANDLE: u32 = 0x0040;
/// `PROCESS_QUERY_INFORMATION`.
pub const PROCESS_QUERY_INFORMATION: u32 = 0x0400;
/// `PROCESS_ALL_ACCESS`.
pub const PROCESS_ALL_ACCESS: u32 = 0x001F_FFFF;
/// `PROCESS_TERMINATE`.
pub const PROCESS_TERMINATE: u32 = 0x0001;
/// `PROCESS_CREATE_THREAD`.
pub const PROCESS_CREATE_THREAD: u32 = 0x0002;
/// `PROCESS_SET_SESSIONID`.
pub const PROCESS_SET_SESSIONID: u32 = 0x0004;
/// `PROCESS_CREATE_PROCESS`.
pub const PROCESS_CREATE_PROCESS: u32 = 0x0080;
/// `PROCESS_SET_QUOTA`.
pub const PROCESS_SET_QUOTA: u32 = 0x0100;
/// `PROCESS_SET_INFORMATION`.
pub const PROCESS_SET_INFORMATION: u32 = 0x0200;
/// `PROCESS_SUSPEND_RESUME`.
pub const PROCESS_SUSPEND_RESUME: u32 = 0x0800;
/// `PROCESS_QUERY_LIMITED_INFORMATION` (Vista and later).
pub const PROCESS_QUERY_LIMITED_INFORMATION: u32 = 0x1000;
/// `PROCESS_SET_LIMITED_INFORMATION` (Vista and later).
pub const PROCESS_SET_LIMITED_INFORMATION: u32 = 0x2000;

/// The rights a new process handle gets for a requested access: the process type's generic
/// mapping, then the rights Windows grants with others — "a handle that has the
/// `PROCESS_QUERY_INFORMATION` access right is automatically granted
/// `PROCESS_QUERY_LIMITED_INFORMATION`" (Microsoft, "Process Security and Access Rights"), and
/// likewise `PROCESS_SET_INFORMATION` brings `PROCESS_SET_LIMITED_INFORMATION`.
pub fn process_rights(access: u32) -> u32 {
    let mut a = map_generic(ObjectType::Process, access);
    if a & PROCESS_QUERY_INFORMATION != 0 {
        a |= PROCESS_QUERY_LIMITED_INFORMATION;
    }
    if a & PROCESS_SET_INFORMATION != 0 {
        a |= PROCESS_SET_LIMITED_INFORMATION;
    }
    a
}

/// The object types the object manager knows.
#[derive(Clone, Copy, PartialEq, Eq, Debug, Hash)]
pub enum ObjectType {
    /// A process.
    Process,
    /// An open file.
    File,
    /// A section.
    Section,
    /// An event.
    Event,
}

/// Maps `GENERIC_*` bits to the type's specific rights (the type's `GENERIC_MAPPING`).
pub fn map_generic(kind: ObjectType, access: u32) -> u32 {
    let (r, w, x, all) = match kind {
        ObjectType::File => (
            FILE_GENERIC_READ,
            FILE_GENERIC_WRITE,
            FILE_GENERIC_EXECUTE,
            FILE_ALL_ACCESS,
        ),
        ObjectType::Section => (
            READ_CONTROL | SECTION_QUERY | SECTION_MAP_READ,
            READ_CONTROL | SECTION_MAP_WRITE,
            READ_CONTROL | SECTION_MAP_EXECUTE,
            SECTION_ALL_ACCESS,
        ),
        ObjectType::Event => (
            READ_CONTROL | EVENT_QUERY_STATE,
            READ_CONTROL | EVENT_MODIFY_STATE,
            READ_CONTROL | SYNCHRONIZE,
            EVENT_ALL_ACCESS,
        ),
        ObjectType::Process => (
            READ_CONTROL | PROCESS_VM_READ | PROCESS_QUERY_INFORMATION,
            READ_CONTROL | PROCESS_VM_WRITE | PROCESS_VM_OPERATION,
            READ_CONTROL | SYNCHRONIZE,
            PROCESS_ALL_ACCESS,
        ),
    };
    let mut out =
        access & !(GENERIC_READ | GENERIC_WRITE | GENERIC_EXECUTE | GENERIC_ALL | MAXIMUM_ALLOWED);
    if access & GENERIC_READ != 0 {
        out |= r;
    }
    if access & GENERIC_WRITE != 0 {
        out |= w;
    }
    if access & GENERIC_EXECUTE != 0 {
        out |= x;
    }
    if access & (GENERIC_ALL | MAXIMUM_ALLOWED) != 0 {
        out |= all;
    }
    out
}

/// The rights a `CreateFileMapping` handle gets from the section protection (F45).
pub fn section_rights_for_protection(protection: u32) -> u32 {
    match protection & 0xFF {
        PAGE_READWRITE => SECTION_MAP_READ | SECTION_MAP_WRITE | SECTION_QUERY,
        PAGE_EXECUTE_READWRITE => {
            SECTION_MAP_READ | SECTION_MAP_WRITE | SECTION_MAP_EXECUTE | SECTION_QUERY
        }
        PAGE_EXECUTE_READ | PAGE_EXECUTE_WRITECOPY => {
            SECTION_MAP_READ | SECTION_MAP_EXECUTE | SECTION_QUERY
        }
        _ => SECTION_MAP_READ | SECTION_QUERY,
    }
}

/// `OpenFileMapping`'s access translation (§6.5, F40, F41): a request of exactly
/// `FILE_MAP_COPY` opens as `SECTION_MAP_READ` (otherwise bit 0 is `SECTION_QUERY`, F41), and
/// `FILE_MAP_EXECUTE` becomes `SECTION_MAP_EXECUTE`.
pub fn open_mapping_rights(access: u32) -> u32 {
    if access == FILE_MAP_COPY {
        return SECTION_MAP_READ;
    }
    let mut a = access & !FILE_MAP_EXECUTE;
    if access & FILE_MAP_EXECUTE != 0 {
        a |= SECTION_MAP_EXECUTE;
    }
    map_generic(ObjectType::Section, a)
}

/// `MapViewOfFile`'s `dwDesiredAccess` → view protection (F47, Vista and later).
pub fn view_protection(access: u32) -> u32 {
    let exec = access & FILE_MAP_EXECUTE != 0;
    let write = access & FILE_MAP_WRITE != 0;
    let read = access & FILE_MAP_READ != 0;
    // COPY yields copy-on-write only when it is the only non-execute bit (0x8 counts).
    let copy_only = access & FILE_MAP_COPY != 0
        && access & (FILE_MAP_READ | FILE_MAP_WRITE | SECTION_MAP_EXECUTE) == 0;
    match (write, read, copy_only, exec) {
        (true, _, _, false) => PAGE_READWRITE,
        (true, _, _, true) => PAGE_EXECUTE_READWRITE,
        (false, true, _, false) => PAGE_READONLY,
        (false, true, _, true) => PAGE_EXECUTE_READ,
        (false, false, true, false) => PAGE_WRITECOPY,
        (false, false, true, true) => PAGE_EXECUTE_WRITECOPY,
        (false, false, false, _) => PAGE_NOACCESS,
    }
}

/// The handle rights a view protection needs (F48, corrected 2026-11-30): NT's
/// `MmMakeSectionAccess` table. A read-write view needs `SECTION_MAP_WRITE` only; execute
/// views add `SECTION_MAP_EXECUTE` to what the matching data view needs.
///
/// | view protection | rights |
/// |---|---|
/// | `PAGE_NOACCESS`, `PAGE_READONLY`, `PAGE_WRITECOPY` | `SECTION_MAP_READ` |
/// | `PAGE_READWRITE` | `SECTION_MAP_WRITE` |
/// | `PAGE_EXECUTE` | `SECTION_MAP_EXECUTE` |
/// | `PAGE_EXECUTE_READ`, `PAGE_EXECUTE_WRITECOPY` | `SECTION_MAP_EXECUTE \| SECTION_MAP_READ` |
/// | `PAGE_EXECUTE_READWRITE` | `SECTION_MAP_EXECUTE \| SECTION_MAP_WRITE` |
pub fn rights_for_view(protection: u32) -> u32 {
    match protection & 0xFF {
        PAGE_READWRITE => SECTION_MAP_WRITE,
        PAGE_EXECUTE => SECTION_MAP_EXECUTE,
        PAGE_EXECUTE_READ | PAGE_EXECUTE_WRITECOPY => SECTION_MAP_EXECUTE | SECTION_MAP_READ,
        PAGE_EXECUTE_READWRITE => SECTION_MAP_EXECUTE | SECTION_MAP_WRITE,
        _ => SECTION_MAP_READ,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn test_f47_file_map_to_view_protection_table() {
        let rows = [
            (0, PAGE_NOACCESS),
            (FILE_MAP_COPY, PAGE_WRITECOPY),
            (FILE_MAP_WRITE, PAGE_READWRITE),
            (FILE_MAP_WRITE | FILE_MAP_COPY, PAGE_READWRITE),
            (FILE_MAP_READ | FILE_MAP_WRITE, PAGE_READWRITE),
            (
                FILE_MAP_READ | FILE_MAP_WRITE | FILE_MAP_COPY,
                PAGE_READWRITE,
            ),
            (FILE_MAP_READ, PAGE_READONLY),
            (FILE_MAP_READ | FILE_MAP_COPY, PAGE_READONLY),
            (SECTION_MAP_EXECUTE, PAGE_NOACCESS),
            (SECTION_MAP_EXECUTE | FILE_MAP_COPY, PAGE_NOACCESS),
            (SECTION_MAP_EXECUTE | FILE_MAP_WRITE, PAGE_READWRITE),
            (SECTION_MAP_EXECUTE | FILE_MAP_READ, PAGE_READONLY),
            (FILE_MAP_EXECUTE, PAGE_NOACCESS),
            (FILE_MAP_EXECUTE | FILE_MAP_COPY, PAGE_EXECUTE_WRITECOPY),
            (FILE_MAP_EXECUTE | FILE_MAP_WRITE, PAGE_EXECUTE_READWRITE),
            (
                FILE_MAP_EXECUTE | FILE_MAP_READ | FILE_MAP_WRITE,
                PAGE_EXECUTE_READWRITE,
            ),
            (
                FILE_MAP_EXECUTE | FILE_MAP_WRITE | FILE_MAP_COPY,
                PAGE_EXECUTE_READWRITE,
            ),
            (FILE_MAP_EXECUTE | FILE_MAP_READ, PAGE_EXECUTE_READ),
            (
                FILE_MAP_EXECUTE | FILE_MAP_READ | FILE_MAP_COPY,
                PAGE_EXECUTE_READ,
            ),
        ];
        for (access, prot) in rows {
            assert_eq!(view_protection(access), prot, "{access:#x}");
        }
    }

    #[test]
    fn test_f45_rights_follow_the_section_protection() {
        assert_eq!(section_rights_for_protection(PAGE_READWRITE), 0x7);
        assert_eq!(section_rights_for_protection(PAGE_EXECUTE_READWRITE), 0xF);
        assert_eq!(section_rights_for_protection(PAGE_READONLY), 0x5);
        assert_eq!(section_rights_for_protection(PAGE_WRITECOPY), 0x5);
        assert_eq!(section_rights_for_protection(PAGE_EXECUTE_READ), 0xD);
        assert_eq!(section_rights_for_protection(PAGE_EXECUTE_WRITECOPY), 0xD);
    }

    #[test]
    fn test_f48_rights_a_view_needs() {
        assert_eq!(rights_for_view(PAGE_READONLY), SECTION_MAP_READ);
        assert_eq!(rights_for_view(PAGE_WRITECOPY), SECTION_MAP_READ);
        assert_eq!(rights_for_view(PAGE_NOACCESS), SECTION_MAP_READ);
        // F48 corrected 2026-11-30: MAP_WRITE only.
        assert_eq!(rights_for_view(PAGE_READWRITE), SECTION_MAP_WRITE);
        assert_eq!(rights_for_view(PAGE_EXECUTE), SECTION_MAP_EXECUTE);
        assert_eq!(
            rights_for_view(PAGE_EXECUTE_READ),
            SECTION_MAP_READ | SECTION_MAP_EXECUTE
        );
        assert_eq!(
            rights_for_view(PAGE_EXECUTE_WRITECOPY),
            SECTION_MAP_READ | SECTION_MAP_EXECUTE
        );
        assert_eq!(
            rights_for_view(PAGE_EXECUTE_READWRITE),
            SECTION_MAP_WRITE | SECTION_MAP_EXECUTE
        );
    }

    #[test]
    fn test_process_rights_grant_the_limited_rights_with_the_full_ones() {
        // Microsoft, "Process Security and Access Rights".
        assert_eq!(
            process_rights(PROCESS_QUERY_INFORMATION),
            PROCESS_QUERY_INFORMATION | PROCESS_QUERY_LIMITED_INFORMATION
        );
        assert_eq!(
            process_rights(PROCESS_SET_INFORMATION),
            PROCESS_SET_INFORMATION | PROCESS_SET_LIMITED_INFORMATION
        );
        assert_eq!(process_rights(PROCESS_VM_READ), PROCESS_VM_READ);
        assert_eq!(process_rights(GENERIC_ALL), PROCESS_ALL_ACCESS);
        assert_eq!(process_rights(MAXIMUM_ALLOWED), PROCESS_ALL_ACCESS);
        assert_eq!(
            process_rights(GENERIC_READ) & (PROCESS_VM_READ | PROCESS_QUERY_LIMITED_INFORMATION),
            PROCESS_VM_READ | PROCESS_QUERY_LIMITED_INFORMATION
        );
    }

    #[test]
    fn test_f40_open_mapping_grants_exactly_what_is_asked() {
        assert_eq!(open_mapping_rights(FILE_MAP_READ), SECTION_MAP_READ);
        assert_eq!(open_mapping_rights(FILE_MAP_EXECUTE), SECTION_MAP_EXECUTE);
        assert_eq!(open_mapping_rights(FILE_MAP_COPY), SECTION_MAP_READ);
        assert_eq!(
            open_mapping_rights(FILE_MAP_READ | SECTION_QUERY),
            SECTION_MAP_READ | SECTION_QUERY,
            "F41"
        );
    }
}

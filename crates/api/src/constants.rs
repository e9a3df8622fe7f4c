//! Every constant the scenario language names, with its real value (SCENARIO.md "Values").

use crate::access::*;
use crate::files::*;
use crate::win32::ALL_ERRORS;
use ntmm_section::consts::*;
use ntmm_vmm::NtStatus;

/// `DUPLICATE_CLOSE_SOURCE`.
pub const DUPLICATE_CLOSE_SOURCE: u32 = 1;
/// `DUPLICATE_SAME_ACCESS`.
pub const DUPLICATE_SAME_ACCESS: u32 = 2;

const NAMED: &[(&str, u64)] = &[
    ("PAGE_NOACCESS", PAGE_NOACCESS as u64),
    ("PAGE_READONLY", PAGE_READONLY as u64),
    ("PAGE_READWRITE", PAGE_READWRITE as u64),
    ("PAGE_WRITECOPY", PAGE_WRITECOPY as u64),
    ("PAGE_EXECUTE", PAGE_EXECUTE as u64),
    ("PAGE_EXECUTE_READ", PAGE_EXECUTE_READ as u64),
    ("PAGE_EXECUTE_READWRITE", PAGE_EXECUTE_READWRITE as u64),
    ("PAGE_EXECUTE_WRITECOPY", PAGE_EXECUTE_WRITECOPY as u64),
    ("PAGE_GUARD", PAGE_GUARD as u64),
    ("PAGE_NOCACHE", PAGE_NOCACHE as u64),
    ("PAGE_WRITECOMBINE", PAGE_WRITECOMBINE as u64),
    ("SEC_BASED", SEC_BASED as u64),
    ("SEC_NO_CHANGE", SEC_NO_CHANGE as u64),
    ("SEC_FILE", SEC_FILE as u64),
    ("SEC_IMAGE", SEC_IMAGE as u64),
    ("SEC_RESERVE", SEC_RESERVE as u64),
    ("SEC_COMMIT", SEC_COMMIT as u64),
    ("SEC_NOCACHE", SEC_NOCACHE as u64),
    ("SEC_WRITECOMBINE", SEC_WRITECOMBINE as u64),
    ("SEC_LARGE_PAGES", SEC_LARGE_PAGES as u64),
    ("FILE_MAP_COPY", FILE_MAP_COPY as u64),
    ("FILE_MAP_WRITE", FILE_MAP_WRITE as u64),
    ("FILE_MAP_READ", FILE_MAP_READ as u64),
    ("FILE_MAP_EXECUTE", FILE_MAP_EXECUTE as u64),
    ("FILE_MAP_ALL_ACCESS", FILE_MAP_ALL_ACCESS as u64),
    ("FILE_MAP_LARGE_PAGES", FILE_MAP_LARGE_PAGES as u64),
    ("FILE_MAP_TARGETS_INVALID", FILE_MAP_TARGETS_INVALID as u64),
    ("FILE_MAP_RESERVE", FILE_MAP_RESERVE as u64),
    ("SECTION_QUERY", SECTION_QUERY as u64),
    ("SECTION_MAP_WRITE", SECTION_MAP_WRITE as u64),
    ("SECTION_MAP_READ", SECTION_MAP_READ as u64),
    ("SECTION_MAP_EXECUTE", SECTION_MAP_EXECUTE as u64),
    ("SECTION_EXTEND_SIZE", SECTION_EXTEND_SIZE as u64),
    (
        "SECTION_MAP_EXECUTE_EXPLICIT",
        SECTION_MAP_EXECUTE_EXPLICIT as u64,
    ),
    ("SECTION_ALL_ACCESS", SECTION_ALL_ACCESS as u64),
    ("MEM_COMMIT", MEM_COMMIT as u64),
    ("MEM_RESERVE", MEM_RESERVE as u64),
    ("MEM_DECOMMIT", MEM_DECOMMIT as u64),
    ("MEM_RELEASE", MEM_RELEASE as u64),
    ("MEM_FREE", MEM_FREE as u64),
    ("MEM_PRIVATE", MEM_PRIVATE as u64),
    ("MEM_MAPPED", MEM_MAPPED as u64),
    ("MEM_RESET", MEM_RESET as u64),
    ("MEM_TOP_DOWN", MEM_TOP_DOWN as u64),
    ("MEM_WRITE_WATCH", MEM_WRITE_WATCH as u64),
    ("MEM_IMAGE", MEM_IMAGE as u64),
    ("MEM_LARGE_PAGES", MEM_LARGE_PAGES as u64),
    ("MEM_RESERVE_PLACEHOLDER", MEM_RESERVE_PLACEHOLDER as u64),
    ("MEM_REPLACE_PLACEHOLDER", MEM_REPLACE_PLACEHOLDER as u64),
    ("AT_ROUND_TO_PAGE", AT_ROUND_TO_PAGE as u64),
    ("GENERIC_READ", GENERIC_READ as u64),
    ("GENERIC_WRITE", GENERIC_WRITE as u64),
    ("GENERIC_EXECUTE", GENERIC_EXECUTE as u64),
    ("GENERIC_ALL", GENERIC_ALL as u64),
    ("FILE_SHARE_READ", FILE_SHARE_READ as u64),
    ("FILE_SHARE_WRITE", FILE_SHARE_WRITE as u64),
    ("FILE_SHARE_DELETE", FILE_SHARE_DELETE as u64),
    ("CREATE_NEW", CREATE_NEW as u64),
    ("CREATE_ALWAYS", CREATE_ALWAYS as u64),
    ("OPEN_EXISTING", OPEN_EXISTING as u64),
    ("OPEN_ALWAYS", OPEN_ALWAYS as u64),
    ("TRUNCATE_EXISTING", TRUNCATE_EXISTING as u64),
    ("FILE_ATTRIBUTE_NORMAL", FILE_ATTRIBUTE_NORMAL as u64),
    ("FILE_FLAG_WRITE_THROUGH", FILE_FLAG_WRITE_THROUGH as u64),
    ("FILE_FLAG_NO_BUFFERING", FILE_FLAG_NO_BUFFERING as u64),
    ("FILE_BEGIN", FILE_BEGIN as u64),
    ("FILE_CURRENT", FILE_CURRENT as u64),
    ("FILE_END", FILE_END as u64),
    ("DUPLICATE_SAME_ACCESS", DUPLICATE_SAME_ACCESS as u64),
    ("DUPLICATE_CLOSE_SOURCE", DUPLICATE_CLOSE_SOURCE as u64),
    ("EVENT_ALL_ACCESS", EVENT_ALL_ACCESS as u64),
    ("EVENT_MODIFY_STATE", EVENT_MODIFY_STATE as u64),
    ("SYNCHRONIZE", SYNCHRONIZE as u64),
    ("INVALID_HANDLE_VALUE", u64::MAX),
    ("INVALID_FILE_SIZE", INVALID_FILE_SIZE as u64),
    ("INVALID_SET_FILE_POINTER", INVALID_SET_FILE_POINTER as u64),
    ("NULL", 0),
    ("TRUE", 1),
    ("FALSE", 0),
    ("VIEW_SHARE", VIEW_SHARE as u64),
    ("VIEW_UNMAP", VIEW_UNMAP as u64),
    // Additions of 2026-11-30: every constant Windows' headers give for the functions the
    // language calls, native ones included (windows_facts.md §1; winnt.h, ntdef.h, winternl.h).
    // `SECTION_INHERIT` (NtMapViewOfSection argument 8).
    ("ViewShare", VIEW_SHARE as u64),
    ("ViewUnmap", VIEW_UNMAP as u64),
    // `SECTION_INFORMATION_CLASS` and `MEMORY_INFORMATION_CLASS`.
    ("SectionBasicInformation", SECTION_BASIC_INFORMATION as u64),
    ("SectionImageInformation", SECTION_IMAGE_INFORMATION as u64),
    ("MemoryBasicInformation", MEMORY_BASIC_INFORMATION as u64),
    ("MemoryWorkingSetInformation", 1),
    ("MemoryMappedFilenameInformation", 2),
    ("MemoryRegionInformation", 3),
    ("MemoryWorkingSetExInformation", 4),
    ("MemoryImageInformation", 6),
    // Standard and object-specific rights.
    ("DELETE", DELETE as u64),
    ("READ_CONTROL", READ_CONTROL as u64),
    ("WRITE_DAC", WRITE_DAC as u64),
    ("WRITE_OWNER", WRITE_OWNER as u64),
    ("STANDARD_RIGHTS_REQUIRED", STANDARD_RIGHTS_REQUIRED as u64),
    ("STANDARD_RIGHTS_ALL", 0x001F_0000),
    ("MAXIMUM_ALLOWED", MAXIMUM_ALLOWED as u64),
    ("FILE_READ_DATA", FILE_READ_DATA as u64),
    ("FILE_WRITE_DATA", FILE_WRITE_DATA as u64),
    ("FILE_APPEND_DATA", FILE_APPEND_DATA as u64),
    ("FILE_READ_EA", FILE_READ_EA as u64),
    ("FILE_WRITE_EA", FILE_WRITE_EA as u64),
    ("FILE_EXECUTE", FILE_EXECUTE as u64),
    ("FILE_READ_ATTRIBUTES", FILE_READ_ATTRIBUTES as u64),
    ("FILE_WRITE_ATTRIBUTES", FILE_WRITE_ATTRIBUTES as u64),
    ("FILE_GENERIC_READ", FILE_GENERIC_READ as u64),
    ("FILE_GENERIC_WRITE", FILE_GENERIC_WRITE as u64),
    ("FILE_GENERIC_EXECUTE", FILE_GENERIC_EXECUTE as u64),
    ("FILE_ALL_ACCESS", FILE_ALL_ACCESS as u64),
    ("EVENT_QUERY_STATE", EVENT_QUERY_STATE as u64),
    ("FILE_FLAG_NO_BUFFERING", 0x2000_0000),
    // CreateFile's caching hints: they change no result, so accepting and ignoring them is
    // exact. Flags and attributes that would change results (DELETE_ON_CLOSE, OVERLAPPED,
    // READONLY, …) are not named, so a scenario cannot use them by mistake.
    ("FILE_FLAG_RANDOM_ACCESS", 0x1000_0000),
    ("FILE_FLAG_SEQUENTIAL_SCAN", 0x0800_0000),
    ("FILE_ATTRIBUTE_TEMPORARY", 0x0000_0100),
    ("FILE_ATTRIBUTE_ARCHIVE", 0x0000_0020),
    // The MEM_* values windows_facts.md §1 lists (several share a value; the parameter says
    // which is meant).
    ("MEM_COALESCE_PLACEHOLDERS", 0x0000_0001),
    ("MEM_RESET_UNDO", 0x0100_0000),
    ("MEM_PHYSICAL", 0x0040_0000),
    ("MEM_ROTATE", 0x0080_0000),
    ("MEM_DIFFERENT_IMAGE_BASE_OK", 0x0080_0000),
    ("MEM_4MB_PAGES", 0x8000_0000),
    ("SEC_IMAGE_NO_EXECUTE", (SEC_IMAGE | SEC_NOCACHE) as u64),
    ("SEC_PROTECTED_IMAGE", 0x0200_0000),
    ("PAGE_TARGETS_INVALID", 0x4000_0000),
    ("PAGE_TARGETS_NO_UPDATE", 0x4000_0000),
    ("PAGE_REVERT_TO_FILE_MAP", 0x8000_0000),
];

/// `SectionBasicInformation` (`SECTION_INFORMATION_CLASS` 0).
pub const SECTION_BASIC_INFORMATION: u32 = 0;
/// `SectionImageInformation` (`SECTION_INFORMATION_CLASS` 1).
pub const SECTION_IMAGE_INFORMATION: u32 = 1;
/// `MemoryBasicInformation` (`MEMORY_INFORMATION_CLASS` 0).
pub const MEMORY_BASIC_INFORMATION: u32 = 0;
/// Process access rights and the unmap flags of the calls on another process (SCENARIO.md
/// "Processes as handles", "Calls on another process").
const PROCESS_NAMED: &[(&str, u64)] = &[
    ("PROCESS_ALL_ACCESS", PROCESS_ALL_ACCESS as u64),
    ("PROCESS_TERMINATE", PROCESS_TERMINATE as u64),
    ("PROCESS_CREATE_THREAD", PROCESS_CREATE_THREAD as u64),
    ("PROCESS_SET_SESSIONID", PROCESS_SET_SESSIONID as u64),
    ("PROCESS_VM_OPERATION", PROCESS_VM_OPERATION as u64),
    ("PROCESS_VM_READ", PROCESS_VM_READ as u64),
    ("PROCESS_VM_WRITE", PROCESS_VM_WRITE as u64),
    ("PROCESS_DUP_HANDLE", PROCESS_DUP_HANDLE as u64),
    ("PROCESS_CREATE_PROCESS", PROCESS_CREATE_PROCESS as u64),
    ("PROCESS_SET_QUOTA", PROCESS_SET_QUOTA as u64),
    ("PROCESS_SET_INFORMATION", PROCESS_SET_INFORMATION as u64),
    (
        "PROCESS_QUERY_INFORMATION",
        PROCESS_QUERY_INFORMATION as u64,
    ),
    ("PROCESS_SUSPEND_RESUME", PROCESS_SUSPEND_RESUME as u64),
    (
        "PROCESS_QUERY_LIMITED_INFORMATION",
        PROCESS_QUERY_LIMITED_INFORMATION as u64,
    ),
    (
        "PROCESS_SET_LIMITED_INFORMATION",
        PROCESS_SET_LIMITED_INFORMATION as u64,
    ),
    ("MEM_PRESERVE_PLACEHOLDER", MEM_PRESERVE_PLACEHOLDER as u64),
    (
        "MEM_UNMAP_WITH_TRANSIENT_BOOST",
        MEM_UNMAP_WITH_TRANSIENT_BOOST as u64,
    ),
];

/// The value of a constant named in a scenario, or `None`. `ERROR_*` and `STATUS_*` names come
/// from the same tables the emulator uses.
pub fn constant(name: &str) -> Option<u64> {
    if let Some(&(_, v)) = NAMED.iter().chain(PROCESS_NAMED).find(|(n, _)| *n == name) {
        return Some(v);
    }
    if let Some(&(_, v)) = ALL_ERRORS.iter().find(|(n, _)| *n == name) {
        return Some(u64::from(v));
    }
    NtStatus::ALL
        .iter()
        .find(|s| s.name() == Some(name))
        .map(|s| u64::from(s.raw()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn test_constants_have_their_real_values() {
        // docs/FACTS.md §1.
        assert_eq!(constant("PAGE_EXECUTE_WRITECOPY"), Some(0x80));
        assert_eq!(constant("SEC_COMMIT"), Some(0x0800_0000));
        assert_eq!(constant("FILE_MAP_EXECUTE"), Some(0x20));
        assert_eq!(constant("FILE_MAP_ALL_ACCESS"), Some(0x000F_001F));
        assert_eq!(constant("MEM_MAPPED"), Some(0x40000));
        assert_eq!(constant("ERROR_MAPPED_ALIGNMENT"), Some(1132));
        assert_eq!(constant("STATUS_SECTION_PROTECTION"), Some(0xC000_004E));
        assert_eq!(constant("INVALID_HANDLE_VALUE"), Some(u64::MAX));
        assert_eq!(constant("GENERIC_READ"), Some(0x8000_0000));
        assert_eq!(constant("FILE_FLAG_WRITE_THROUGH"), Some(0x8000_0000));
        assert_eq!(constant("NOT_A_CONSTANT"), None);
        // Processes as handles (winnt.h).
        assert_eq!(constant("PROCESS_ALL_ACCESS"), Some(0x001F_FFFF));
        assert_eq!(constant("PROCESS_VM_OPERATION"), Some(0x8));
        assert_eq!(constant("PROCESS_VM_READ"), Some(0x10));
        assert_eq!(constant("PROCESS_VM_WRITE"), Some(0x20));
        assert_eq!(constant("PROCESS_QUERY_INFORMATION"), Some(0x400));
        assert_eq!(constant("PROCESS_QUERY_LIMITED_INFORMATION"), Some(0x1000));
        assert_eq!(constant("MEM_PRESERVE_PLACEHOLDER"), Some(2));
        assert_eq!(constant("MEM_UNMAP_WITH_TRANSIENT_BOOST"), Some(1));
    }

    /// The additions of 2026-11-30 (SCENARIO.md "Expressions (reach)"), with the values of
    /// windows_facts.md §1 and Windows' headers (winnt.h, winternl.h).
    #[test]
    fn test_reach_constants_have_their_real_values() {
        for (name, value) in [
            ("FILE_ALL_ACCESS", 0x001F_01FF),
            ("PROCESS_ALL_ACCESS", 0x001F_FFFF),
            ("PROCESS_VM_READ", 0x10),
            ("PROCESS_VM_WRITE", 0x20),
            ("PROCESS_VM_OPERATION", 0x8),
            ("PROCESS_QUERY_INFORMATION", 0x400),
            ("PROCESS_QUERY_LIMITED_INFORMATION", 0x1000),
            ("PROCESS_DUP_HANDLE", 0x40),
            ("ViewShare", 1),
            ("ViewUnmap", 2),
            ("SectionBasicInformation", 0),
            ("SectionImageInformation", 1),
            ("MemoryBasicInformation", 0),
            ("FILE_FLAG_WRITE_THROUGH", 0x8000_0000),
            ("FILE_FLAG_NO_BUFFERING", 0x2000_0000),
            // CreateFile's caching hints: they change no result, so accepting and ignoring them is
            // exact. Flags and attributes that would change results (DELETE_ON_CLOSE, OVERLAPPED,
            // READONLY, …) are not named, so a scenario cannot use them by mistake.
            ("FILE_FLAG_RANDOM_ACCESS", 0x1000_0000),
            ("FILE_FLAG_SEQUENTIAL_SCAN", 0x0800_0000),
            ("FILE_ATTRIBUTE_TEMPORARY", 0x0000_0100),
            ("FILE_ATTRIBUTE_ARCHIVE", 0x0000_0020),
            ("MEM_RESERVE_PLACEHOLDER", 0x0004_0000),
            ("MEM_REPLACE_PLACEHOLDER", 0x0000_4000),
            ("MEM_PRESERVE_PLACEHOLDER", 0x0000_0002),
            ("MEM_COALESCE_PLACEHOLDERS", 0x0000_0001),
            ("MEM_UNMAP_WITH_TRANSIENT_BOOST", 0x0000_0001),
            ("MEM_IMAGE", 0x0100_0000),
            ("MEM_RESET_UNDO", 0x0100_0000),
            ("MEM_MAPPED", 0x0004_0000),
            ("MEM_PRIVATE", 0x0002_0000),
            ("MEM_TOP_DOWN", 0x0010_0000),
            ("MEM_RESET", 0x0008_0000),
            ("MEM_DECOMMIT", 0x0000_4000),
            ("MEM_WRITE_WATCH", 0x0020_0000),
            ("SECTION_ALL_ACCESS", 0x000F_001F),
            ("SECTION_QUERY", 1),
            ("SECTION_EXTEND_SIZE", 0x10),
            ("SECTION_MAP_EXECUTE_EXPLICIT", 0x20),
            ("SEC_IMAGE_NO_EXECUTE", 0x1100_0000),
            ("SEC_RESERVE", 0x0400_0000),
            ("SEC_FILE", 0x0080_0000),
            ("STANDARD_RIGHTS_REQUIRED", 0x000F_0000),
            ("FILE_GENERIC_READ", 0x0012_0089),
            ("FILE_READ_DATA", 1),
            ("FILE_EXECUTE", 0x20),
            ("DELETE", 0x0001_0000),
            ("STATUS_NOT_SAME_DEVICE", 0xC000_00D4),
            ("STATUS_INVALID_ADDRESS", 0xC000_0141),
            ("STATUS_CONFLICTING_ADDRESSES", 0xC000_0018),
            ("STATUS_INVALID_INFO_CLASS", 0xC000_0003),
            ("STATUS_SECTION_NOT_IMAGE", 0xC000_0049),
            ("STATUS_OBJECT_NAME_COLLISION", 0xC000_0035),
            ("STATUS_INVALID_PARAMETER_4", 0xC000_00F2),
            ("ERROR_INVALID_USER_BUFFER", 1784),
            ("FILE_FLAG_RANDOM_ACCESS", 0x1000_0000),
            ("FILE_FLAG_SEQUENTIAL_SCAN", 0x0800_0000),
            ("FILE_ATTRIBUTE_TEMPORARY", 0x100),
            ("FILE_ATTRIBUTE_ARCHIVE", 0x20),
            ("ERROR_NOT_SAME_DEVICE", 17),
        ] {
            assert_eq!(constant(name), Some(value), "{name}");
        }
    }
}

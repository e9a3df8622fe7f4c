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
];

/// The value of a constant named in a scenario, or `None`. `ERROR_*` and `STATUS_*` names come
/// from the same tables the emulator uses.
pub fn constant(name: &str) -> Option<u64> {
    if let Some(&(_, v)) = NAMED.iter().find(|(n, _)| *n == name) {
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
    }
}

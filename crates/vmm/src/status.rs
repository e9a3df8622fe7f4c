//! NTSTATUS values: the result codes every layer below the Win32 facade speaks.
//!
//! Values are those of `docs/FACTS.md` §1 ("NTSTATUS codes"). Only the `api` crate knows
//! Win32 error codes; it maps these in one exhaustive function.

use std::fmt;

/// An NTSTATUS value.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
#[repr(transparent)]
pub struct NtStatus(u32);

macro_rules! statuses {
    ($($name:ident = $value:expr;)*) => {
        impl NtStatus {
            $(
                #[doc = concat!("`", stringify!($name), "` (", stringify!($value), ").")]
                pub const $name: NtStatus = NtStatus($value);
            )*

            /// The symbolic name of a known status, or `None`.
            pub fn name(self) -> Option<&'static str> {
                match self.0 {
                    $($value => Some(stringify!($name)),)*
                    _ => None,
                }
            }

            /// Every status this crate names, in declaration order.
            pub const ALL: &'static [NtStatus] = &[$(NtStatus($value)),*];
        }
    };
}

statuses! {
    STATUS_SUCCESS = 0x0000_0000;
    STATUS_OBJECT_NAME_EXISTS = 0x4000_0000;
    STATUS_IMAGE_NOT_AT_BASE = 0x4000_0003;
    STATUS_GUARD_PAGE_VIOLATION = 0x8000_0001;
    STATUS_DATATYPE_MISALIGNMENT = 0x8000_0002;
    STATUS_PARTIAL_COPY = 0x8000_000D;
    STATUS_INVALID_INFO_CLASS = 0xC000_0003;
    STATUS_INFO_LENGTH_MISMATCH = 0xC000_0004;
    STATUS_ACCESS_VIOLATION = 0xC000_0005;
    STATUS_IN_PAGE_ERROR = 0xC000_0006;
    STATUS_INVALID_HANDLE = 0xC000_0008;
    STATUS_INVALID_CID = 0xC000_000B;
    STATUS_INVALID_PARAMETER = 0xC000_000D;
    STATUS_NO_MEMORY = 0xC000_0017;
    STATUS_INVALID_IMAGE_FORMAT = 0xC000_007B;
    STATUS_DISK_FULL = 0xC000_007F;
    STATUS_CONFLICTING_ADDRESSES = 0xC000_0018;
    STATUS_NOT_MAPPED_VIEW = 0xC000_0019;
    STATUS_UNABLE_TO_FREE_VM = 0xC000_001A;
    STATUS_UNABLE_TO_DELETE_SECTION = 0xC000_001B;
    STATUS_INVALID_VIEW_SIZE = 0xC000_001F;
    STATUS_INVALID_FILE_FOR_SECTION = 0xC000_0020;
    STATUS_ALREADY_COMMITTED = 0xC000_0021;
    STATUS_ACCESS_DENIED = 0xC000_0022;
    STATUS_OBJECT_TYPE_MISMATCH = 0xC000_0024;
    STATUS_NOT_COMMITTED = 0xC000_002D;
    STATUS_OBJECT_NAME_INVALID = 0xC000_0033;
    STATUS_OBJECT_NAME_NOT_FOUND = 0xC000_0034;
    STATUS_OBJECT_NAME_COLLISION = 0xC000_0035;
    STATUS_OBJECT_PATH_NOT_FOUND = 0xC000_003A;
    STATUS_OBJECT_PATH_SYNTAX_BAD = 0xC000_003B;
    STATUS_SECTION_TOO_BIG = 0xC000_0040;
    STATUS_SHARING_VIOLATION = 0xC000_0043;
    STATUS_INVALID_PAGE_PROTECTION = 0xC000_0045;
    STATUS_SECTION_NOT_IMAGE = 0xC000_0049;
    STATUS_BAD_WORKING_SET_LIMIT = 0xC000_004C;
    STATUS_INCOMPATIBLE_FILE_MAP = 0xC000_004D;
    STATUS_SECTION_PROTECTION = 0xC000_004E;
    STATUS_SECTION_NOT_EXTENDED = 0xC000_0087;
    STATUS_NOT_MAPPED_DATA = 0xC000_0088;
    STATUS_INSUFFICIENT_RESOURCES = 0xC000_009A;
    STATUS_DEVICE_DATA_ERROR = 0xC000_009C;
    STATUS_FREE_VM_NOT_AT_BASE = 0xC000_009F;
    STATUS_MEMORY_NOT_ALLOCATED = 0xC000_00A0;
    STATUS_FILE_IS_A_DIRECTORY = 0xC000_00BA;
    STATUS_NOT_SUPPORTED = 0xC000_00BB;
    STATUS_NOT_SAME_DEVICE = 0xC000_00D4;
    STATUS_UNEXPECTED_IO_ERROR = 0xC000_00E9;
    STATUS_INVALID_PARAMETER_1 = 0xC000_00EF;
    STATUS_INVALID_PARAMETER_2 = 0xC000_00F0;
    STATUS_INVALID_PARAMETER_3 = 0xC000_00F1;
    STATUS_INVALID_PARAMETER_4 = 0xC000_00F2;
    STATUS_INVALID_PARAMETER_5 = 0xC000_00F3;
    STATUS_INVALID_PARAMETER_6 = 0xC000_00F4;
    STATUS_INVALID_PARAMETER_7 = 0xC000_00F5;
    STATUS_INVALID_PARAMETER_8 = 0xC000_00F6;
    STATUS_INVALID_PARAMETER_9 = 0xC000_00F7;
    STATUS_INVALID_PARAMETER_10 = 0xC000_00F8;
    STATUS_INVALID_PARAMETER_11 = 0xC000_00F9;
    STATUS_INVALID_PARAMETER_12 = 0xC000_00FA;
    STATUS_NAME_TOO_LONG = 0xC000_0106;
    STATUS_PROCESS_IS_TERMINATING = 0xC000_010A;
    STATUS_MAPPED_FILE_SIZE_ZERO = 0xC000_011E;
    STATUS_CANNOT_DELETE = 0xC000_0121;
    STATUS_COMMITMENT_LIMIT = 0xC000_012D;
    STATUS_INVALID_IMAGE_NOT_MZ = 0xC000_012F;
    STATUS_DLL_NOT_FOUND = 0xC000_0135;
    STATUS_INVALID_ADDRESS = 0xC000_0141;
    STATUS_MAPPED_ALIGNMENT = 0xC000_0220;
    STATUS_IO_REPARSE_TAG_NOT_HANDLED = 0xC000_0279;
    STATUS_USER_MAPPED_FILE = 0xC000_0243;
}

impl NtStatus {
    /// Wraps a raw value.
    pub const fn new(raw: u32) -> Self {
        NtStatus(raw)
    }
    /// The raw value.
    pub const fn raw(self) -> u32 {
        self.0
    }
    /// Success and informational statuses (severity 0 or 1): `NT_SUCCESS`.
    pub const fn is_success(self) -> bool {
        self.0 >> 30 <= 1
    }
}

impl fmt::Debug for NtStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.name() {
            Some(n) => write!(f, "{n}"),
            None => write!(f, "NTSTATUS({:#010x})", self.0),
        }
    }
}
impl fmt::Display for NtStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(self, f)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn test_status_values_match_facts_table() {
        // docs/FACTS.md §1 "NTSTATUS codes".
        assert_eq!(NtStatus::STATUS_ACCESS_VIOLATION.raw(), 0xC000_0005);
        assert_eq!(NtStatus::STATUS_GUARD_PAGE_VIOLATION.raw(), 0x8000_0001);
        assert_eq!(NtStatus::STATUS_COMMITMENT_LIMIT.raw(), 0xC000_012D);
        assert_eq!(NtStatus::STATUS_MAPPED_ALIGNMENT.raw(), 0xC000_0220);
        assert_eq!(NtStatus::STATUS_INVALID_PARAMETER_9.raw(), 0xC000_00F7);
    }

    #[test]
    fn test_success_classes() {
        assert!(NtStatus::STATUS_SUCCESS.is_success());
        assert!(NtStatus::STATUS_OBJECT_NAME_EXISTS.is_success());
        assert!(!NtStatus::STATUS_GUARD_PAGE_VIOLATION.is_success());
        assert!(!NtStatus::STATUS_ACCESS_VIOLATION.is_success());
    }

    #[test]
    fn test_names_are_unique_and_round_trip() {
        let mut seen = std::collections::BTreeSet::new();
        for s in NtStatus::ALL {
            assert!(seen.insert(s.raw()), "duplicate value {s:?}");
            assert!(s.name().unwrap().starts_with("STATUS_"));
        }
        assert_eq!(
            format!("{:?}", NtStatus::new(0xC0DE_0000)),
            "NTSTATUS(0xc0de0000)"
        );
    }
}

//! Win32 error codes and the one NTSTATUS → Win32 translation: `RtlNtStatusToDosError`
//! ([`dos_error`], the table of docs/FACTS.md §1).
//!
//! Every error of the lower layers (`SectionError`, `VmmError`, `StoreError`) stands for one
//! NTSTATUS (their `status()`), and its Win32 error is that status's row of the table — the
//! path is `Fail::win32` in the facade. The exceptions, where the Win32 error is not the
//! table's for a status, are the facade's own Win32-level decisions (`Fail::Win32`: checks
//! kernelbase makes before any native call, e.g. F71, F72), each written where it is decided.

use ntmm_vmm::NtStatus;
use std::fmt;

macro_rules! errors {
    ($($name:ident = $value:expr;)*) => {
        $(
            #[doc = concat!("`", stringify!($name), "` (", stringify!($value), ").")]
            pub const $name: u32 = $value;
        )*
        /// The symbolic name of a Win32 error code this crate knows.
        pub fn error_name(code: u32) -> Option<&'static str> {
            match code {
                $($value => Some(stringify!($name)),)*
                _ => None,
            }
        }
        /// Every Win32 error code this crate names.
        pub const ALL_ERRORS: &[(&str, u32)] = &[$((stringify!($name), $value)),*];
    };
}

errors! {
    ERROR_SUCCESS = 0;
    ERROR_INVALID_FUNCTION = 1;
    ERROR_FILE_NOT_FOUND = 2;
    ERROR_PATH_NOT_FOUND = 3;
    ERROR_ACCESS_DENIED = 5;
    ERROR_INVALID_HANDLE = 6;
    ERROR_NOT_ENOUGH_MEMORY = 8;
    ERROR_OUTOFMEMORY = 14;
    ERROR_NOT_SAME_DEVICE = 17;
    ERROR_BAD_LENGTH = 24;
    ERROR_SHARING_VIOLATION = 32;
    ERROR_HANDLE_EOF = 38;
    ERROR_NOT_SUPPORTED = 50;
    ERROR_UNEXP_NET_ERR = 59;
    ERROR_FILE_EXISTS = 80;
    ERROR_INVALID_PARAMETER = 87;
    ERROR_NEGATIVE_SEEK = 131;
    ERROR_INVALID_NAME = 123;
    ERROR_ALREADY_EXISTS = 183;
    ERROR_MOD_NOT_FOUND = 126;
    ERROR_BAD_EXE_FORMAT = 193;
    ERROR_PARTIAL_COPY = 299;
    ERROR_MR_MID_NOT_FOUND = 317;
    ERROR_INVALID_ADDRESS = 487;
    ERROR_OBJECT_NAME_EXISTS = 698;
    ERROR_NOACCESS = 998;
    ERROR_SWAPERROR = 999;
    ERROR_FILE_INVALID = 1006;
    ERROR_MAPPED_ALIGNMENT = 1132;
    ERROR_USER_MAPPED_FILE = 1224;
    ERROR_NO_SYSTEM_RESOURCES = 1450;
    ERROR_COMMITMENT_LIMIT = 1455;
    ERROR_INVALID_USER_BUFFER = 1784;
    ERROR_CRC = 23;
    ERROR_IO_DEVICE = 1117;
    ERROR_DIR_NOT_EMPTY = 145;
    ERROR_BAD_PATHNAME = 161;
    ERROR_DISK_FULL = 112;
    ERROR_FILENAME_EXCED_RANGE = 206;
    ERROR_CANT_ACCESS_FILE = 1920;
    ERROR_BUFFER_OVERFLOW = 111;
    ERROR_DIRECTORY = 267;
}

/// A Win32 error code (what `GetLastError` returns).
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Win32Error(pub u32);

impl Win32Error {
    /// The raw code.
    pub const fn code(self) -> u32 {
        self.0
    }
}

impl fmt::Debug for Win32Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match error_name(self.0) {
            Some(n) => write!(f, "{n}"),
            None => write!(f, "Win32Error({})", self.0),
        }
    }
}
impl fmt::Display for Win32Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(self, f)
    }
}
impl std::error::Error for Win32Error {}

/// `RtlNtStatusToDosError` for the statuses of docs/FACTS.md §1; a status it does not know
/// gives `ERROR_MR_MID_NOT_FOUND`, as NT's own table does for unknown codes.
pub fn dos_error(status: NtStatus) -> u32 {
    const TABLE: &[(NtStatus, u32)] = &[
        (NtStatus::STATUS_SUCCESS, ERROR_SUCCESS),
        (NtStatus::STATUS_INVALID_VIEW_SIZE, ERROR_ACCESS_DENIED),
        (NtStatus::STATUS_ALREADY_COMMITTED, ERROR_ACCESS_DENIED),
        (NtStatus::STATUS_ACCESS_DENIED, ERROR_ACCESS_DENIED),
        (NtStatus::STATUS_CANNOT_DELETE, ERROR_ACCESS_DENIED),
        (
            NtStatus::STATUS_CONFLICTING_ADDRESSES,
            ERROR_INVALID_ADDRESS,
        ),
        (NtStatus::STATUS_NOT_MAPPED_VIEW, ERROR_INVALID_ADDRESS),
        (NtStatus::STATUS_NOT_MAPPED_DATA, ERROR_INVALID_ADDRESS),
        (NtStatus::STATUS_NOT_COMMITTED, ERROR_INVALID_ADDRESS),
        (NtStatus::STATUS_FREE_VM_NOT_AT_BASE, ERROR_INVALID_ADDRESS),
        (NtStatus::STATUS_MEMORY_NOT_ALLOCATED, ERROR_INVALID_ADDRESS),
        // Corrected 2026-11-30 (windows_facts §1; ntdll tests/error.c): not 487.
        (NtStatus::STATUS_INVALID_ADDRESS, ERROR_UNEXP_NET_ERR),
        (NtStatus::STATUS_UNABLE_TO_FREE_VM, ERROR_INVALID_PARAMETER),
        (
            NtStatus::STATUS_UNABLE_TO_DELETE_SECTION,
            ERROR_INVALID_PARAMETER,
        ),
        (NtStatus::STATUS_SECTION_PROTECTION, ERROR_INVALID_PARAMETER),
        (
            NtStatus::STATUS_INVALID_PAGE_PROTECTION,
            ERROR_INVALID_PARAMETER,
        ),
        (NtStatus::STATUS_SECTION_NOT_IMAGE, ERROR_INVALID_PARAMETER),
        // SetProcessWorkingSetSize's limits out of range (NtSetInformationProcess
        // ProcessQuotaLimits); RtlNtStatusToDosError gives ERROR_INVALID_PARAMETER.
        (
            NtStatus::STATUS_BAD_WORKING_SET_LIMIT,
            ERROR_INVALID_PARAMETER,
        ),
        (
            NtStatus::STATUS_INCOMPATIBLE_FILE_MAP,
            ERROR_INVALID_PARAMETER,
        ),
        (NtStatus::STATUS_INVALID_PARAMETER, ERROR_INVALID_PARAMETER),
        (
            NtStatus::STATUS_INVALID_PARAMETER_1,
            ERROR_INVALID_PARAMETER,
        ),
        (
            NtStatus::STATUS_INVALID_PARAMETER_2,
            ERROR_INVALID_PARAMETER,
        ),
        (
            NtStatus::STATUS_INVALID_PARAMETER_3,
            ERROR_INVALID_PARAMETER,
        ),
        (
            NtStatus::STATUS_INVALID_PARAMETER_4,
            ERROR_INVALID_PARAMETER,
        ),
        (
            NtStatus::STATUS_INVALID_PARAMETER_5,
            ERROR_INVALID_PARAMETER,
        ),
        (
            NtStatus::STATUS_INVALID_PARAMETER_6,
            ERROR_INVALID_PARAMETER,
        ),
        (
            NtStatus::STATUS_INVALID_PARAMETER_7,
            ERROR_INVALID_PARAMETER,
        ),
        (
            NtStatus::STATUS_INVALID_PARAMETER_8,
            ERROR_INVALID_PARAMETER,
        ),
        (
            NtStatus::STATUS_INVALID_PARAMETER_9,
            ERROR_INVALID_PARAMETER,
        ),
        (
            NtStatus::STATUS_INVALID_PARAMETER_10,
            ERROR_INVALID_PARAMETER,
        ),
        (
            NtStatus::STATUS_INVALID_PARAMETER_11,
            ERROR_INVALID_PARAMETER,
        ),
        (
            NtStatus::STATUS_INVALID_PARAMETER_12,
            ERROR_INVALID_PARAMETER,
        ),
        (NtStatus::STATUS_INVALID_INFO_CLASS, ERROR_INVALID_PARAMETER),
        (NtStatus::STATUS_SECTION_TOO_BIG, ERROR_NOT_ENOUGH_MEMORY),
        (NtStatus::STATUS_NO_MEMORY, ERROR_NOT_ENOUGH_MEMORY),
        (NtStatus::STATUS_SECTION_NOT_EXTENDED, ERROR_OUTOFMEMORY),
        (NtStatus::STATUS_COMMITMENT_LIMIT, ERROR_COMMITMENT_LIMIT),
        (
            NtStatus::STATUS_INSUFFICIENT_RESOURCES,
            ERROR_NO_SYSTEM_RESOURCES,
        ),
        (NtStatus::STATUS_MAPPED_FILE_SIZE_ZERO, ERROR_FILE_INVALID),
        (
            NtStatus::STATUS_INVALID_FILE_FOR_SECTION,
            ERROR_BAD_EXE_FORMAT,
        ),
        (NtStatus::STATUS_INVALID_IMAGE_NOT_MZ, ERROR_BAD_EXE_FORMAT),
        (NtStatus::STATUS_INVALID_IMAGE_FORMAT, ERROR_BAD_EXE_FORMAT),
        (NtStatus::STATUS_DLL_NOT_FOUND, ERROR_MOD_NOT_FOUND),
        (NtStatus::STATUS_IMAGE_NOT_AT_BASE, ERROR_SUCCESS),
        (NtStatus::STATUS_OBJECT_TYPE_MISMATCH, ERROR_INVALID_HANDLE),
        (NtStatus::STATUS_INVALID_HANDLE, ERROR_INVALID_HANDLE),
        (NtStatus::STATUS_OBJECT_NAME_NOT_FOUND, ERROR_FILE_NOT_FOUND),
        (NtStatus::STATUS_OBJECT_PATH_NOT_FOUND, ERROR_PATH_NOT_FOUND),
        (NtStatus::STATUS_OBJECT_PATH_SYNTAX_BAD, ERROR_BAD_PATHNAME),
        (NtStatus::STATUS_OBJECT_NAME_COLLISION, ERROR_ALREADY_EXISTS),
        (NtStatus::STATUS_OBJECT_NAME_INVALID, ERROR_INVALID_NAME),
        (NtStatus::STATUS_SHARING_VIOLATION, ERROR_SHARING_VIOLATION),
        (NtStatus::STATUS_ACCESS_VIOLATION, ERROR_NOACCESS),
        (NtStatus::STATUS_INFO_LENGTH_MISMATCH, ERROR_BAD_LENGTH),
        (NtStatus::STATUS_MAPPED_ALIGNMENT, ERROR_MAPPED_ALIGNMENT),
        (NtStatus::STATUS_USER_MAPPED_FILE, ERROR_USER_MAPPED_FILE),
        (NtStatus::STATUS_NOT_SUPPORTED, ERROR_NOT_SUPPORTED),
        (NtStatus::STATUS_IN_PAGE_ERROR, ERROR_SWAPERROR),
        (NtStatus::STATUS_NOT_SAME_DEVICE, ERROR_NOT_SAME_DEVICE),
        (NtStatus::STATUS_DEVICE_DATA_ERROR, ERROR_CRC),
        (NtStatus::STATUS_UNEXPECTED_IO_ERROR, ERROR_IO_DEVICE),
        (NtStatus::STATUS_PROCESS_IS_TERMINATING, ERROR_ACCESS_DENIED),
        (NtStatus::STATUS_DATATYPE_MISALIGNMENT, ERROR_NOACCESS),
        (NtStatus::STATUS_PARTIAL_COPY, ERROR_PARTIAL_COPY),
        (NtStatus::STATUS_INVALID_CID, ERROR_INVALID_PARAMETER),
        (NtStatus::STATUS_DISK_FULL, ERROR_DISK_FULL),
        (NtStatus::STATUS_FILE_IS_A_DIRECTORY, ERROR_ACCESS_DENIED),
        (NtStatus::STATUS_NAME_TOO_LONG, ERROR_FILENAME_EXCED_RANGE),
        (
            NtStatus::STATUS_IO_REPARSE_TAG_NOT_HANDLED,
            ERROR_CANT_ACCESS_FILE,
        ),
        // Not in the facts: NT's table passes this exception code through unchanged (as Wine's
        // ntdll error table does), so the Win32 error is 0x80000001 itself.
        (
            NtStatus::STATUS_GUARD_PAGE_VIOLATION,
            NtStatus::STATUS_GUARD_PAGE_VIOLATION.raw(),
        ),
    ];
    TABLE
        .iter()
        .find(|(s, _)| *s == status)
        .map_or(ERROR_MR_MID_NOT_FOUND, |(_, e)| *e)
}

#[cfg(test)]
mod tests {
    use super::*;
    use ntmm_section::SectionError;
    use ntmm_vmm::{ExceptionKind, VmmError};

    #[test]
    fn test_status_table_of_the_facts_file() {
        // docs/FACTS.md §1 "NTSTATUS → Win32 error", row by row.
        let rows = [
            (NtStatus::STATUS_INVALID_VIEW_SIZE, 5),
            (NtStatus::STATUS_ALREADY_COMMITTED, 5),
            (NtStatus::STATUS_CONFLICTING_ADDRESSES, 487),
            (NtStatus::STATUS_NOT_MAPPED_DATA, 487),
            (NtStatus::STATUS_UNABLE_TO_DELETE_SECTION, 87),
            (NtStatus::STATUS_SECTION_PROTECTION, 87),
            (NtStatus::STATUS_INVALID_PARAMETER_9, 87),
            (NtStatus::STATUS_SECTION_TOO_BIG, 8),
            (NtStatus::STATUS_SECTION_NOT_EXTENDED, 14),
            (NtStatus::STATUS_COMMITMENT_LIMIT, 1455),
            (NtStatus::STATUS_INSUFFICIENT_RESOURCES, 1450),
            (NtStatus::STATUS_MAPPED_FILE_SIZE_ZERO, 1006),
            (NtStatus::STATUS_INVALID_IMAGE_NOT_MZ, 193),
            (NtStatus::STATUS_OBJECT_TYPE_MISMATCH, 6),
            (NtStatus::STATUS_OBJECT_NAME_NOT_FOUND, 2),
            (NtStatus::STATUS_OBJECT_PATH_NOT_FOUND, 3),
            (NtStatus::STATUS_OBJECT_NAME_COLLISION, 183),
            (NtStatus::STATUS_OBJECT_NAME_INVALID, 123),
            (NtStatus::STATUS_SHARING_VIOLATION, 32),
            (NtStatus::STATUS_ACCESS_VIOLATION, 998),
            (NtStatus::STATUS_INFO_LENGTH_MISMATCH, 24),
            (NtStatus::STATUS_MAPPED_ALIGNMENT, 1132),
            (NtStatus::STATUS_USER_MAPPED_FILE, 1224),
            // The three rows added by the corrections of 2026-11-30.
            (NtStatus::STATUS_INVALID_ADDRESS, 59),
            (NtStatus::STATUS_IN_PAGE_ERROR, 999),
            (NtStatus::STATUS_NOT_SAME_DEVICE, 17),
        ];
        for (s, e) in rows {
            assert_eq!(dos_error(s), e, "{s:?}");
        }
        assert_eq!(
            dos_error(NtStatus::new(0xC0DE_0001)),
            ERROR_MR_MID_NOT_FOUND
        );
    }

    /// The Win32 error docs/FACTS.md §1 gives for each section-layer error's status, written
    /// out by hand (not computed by the code under test). The match has no wildcard: a new
    /// variant fails to compile here until its expected error is written, and
    /// [`every_section_error`] must then carry a value of it (checked by the count).
    fn expected_section(e: &SectionError) -> u32 {
        match e {
            SectionError::InvalidPageProtection(_)
            | SectionError::InvalidParameter { .. }
            | SectionError::SectionProtection
            | SectionError::UnableToDeleteSection
            | SectionError::UnableToFreeVm => ERROR_INVALID_PARAMETER,
            SectionError::NotAnImage { .. } | SectionError::InvalidImageFormat(_) => {
                ERROR_BAD_EXE_FORMAT
            }
            SectionError::MappedFileSizeZero => ERROR_FILE_INVALID,
            SectionError::SectionTooBig => ERROR_NOT_ENOUGH_MEMORY,
            SectionError::InsufficientResources => ERROR_NO_SYSTEM_RESOURCES,
            SectionError::AccessDenied
            | SectionError::InvalidViewSize
            | SectionError::AlreadyCommitted => ERROR_ACCESS_DENIED,
            SectionError::MappedAlignment(_) => ERROR_MAPPED_ALIGNMENT,
            SectionError::NotMappedView(_)
            | SectionError::NotMappedData(_)
            | SectionError::FreeVmNotAtBase
            | SectionError::MemoryNotAllocated(_)
            | SectionError::ConflictingAddresses
            | SectionError::Placeholder(_)
            | SectionError::NotCommitted => ERROR_INVALID_ADDRESS,
            SectionError::SectionNotExtended => ERROR_OUTOFMEMORY,
            SectionError::UserMappedFile => ERROR_USER_MAPPED_FILE,
            SectionError::UnknownSection(_)
            | SectionError::UnknownStream(_)
            | SectionError::UnknownProcess(_) => ERROR_INVALID_HANDLE,
            SectionError::NotSupported(_) => ERROR_NOT_SUPPORTED,
            SectionError::Vmm(v) => expected_vmm(v),
        }
    }

    /// As [`expected_section`], for the machine's errors.
    fn expected_vmm(e: &VmmError) -> u32 {
        match e {
            VmmError::Exception(x) => match x.kind {
                ExceptionKind::AccessViolation => ERROR_NOACCESS,
                // The facts' row: STATUS_IN_PAGE_ERROR is ERROR_SWAPERROR (999), not 998.
                ExceptionKind::InPageError(_) => ERROR_SWAPERROR,
                // Passed through unchanged (not ERROR_NOACCESS).
                ExceptionKind::GuardPage => 0x8000_0001,
            },
            VmmError::AddressOutOfRange(_)
            | VmmError::RangeOverflow
            | VmmError::Misaligned { .. }
            | VmmError::InvalidParameter(_)
            | VmmError::UnknownSegment(_)
            | VmmError::UnknownStore(_)
            | VmmError::BeyondSegment { .. }
            | VmmError::OutOfRange(_)
            | VmmError::InvalidProtection
            | VmmError::SegmentInUse(_)
            | VmmError::StoreInUse(_) => ERROR_INVALID_PARAMETER,
            VmmError::HostMemory { .. } => ERROR_NO_SYSTEM_RESOURCES,
            VmmError::UnknownAddressSpace(_) => ERROR_INVALID_HANDLE,
            VmmError::ConflictingAddresses { .. }
            | VmmError::NotAllocated(_)
            | VmmError::WrongRegionKind(_)
            | VmmError::NotCommitted(_) => ERROR_INVALID_ADDRESS,
            VmmError::NoVirtualSpace(_) | VmmError::NoFreeFrame => ERROR_NOT_ENOUGH_MEMORY,
            VmmError::CommitmentLimit { .. } => ERROR_COMMITMENT_LIMIT,
            // A store error carries its own status: the disk's error reaches the caller.
            VmmError::Store(s) => match s.status {
                NtStatus::STATUS_DEVICE_DATA_ERROR => ERROR_CRC,
                NtStatus::STATUS_DISK_FULL => ERROR_DISK_FULL,
                other => panic!("no expectation written for a store error {other:?}"),
            },
        }
    }

    /// How many variants `SectionError` has besides `Vmm`, and `VmmError` has (its
    /// `Exception` counted once per `ExceptionKind`): adding a variant means adding its arm
    /// above, a value below, and one here.
    const SECTION_VARIANTS: usize = 27;
    const VMM_VARIANTS: usize = 24;

    fn every_vmm_error() -> Vec<VmmError> {
        use ntmm_vmm::{Access, AsId, Exception, PageCount, SegmentId, StoreError, StoreId};
        use ntmm_vmm::{StoreOp, Va};
        let exception = |kind| {
            VmmError::Exception(Exception {
                kind,
                address: Va::new(0x1000),
                access: Access::Read,
            })
        };
        vec![
            exception(ExceptionKind::AccessViolation),
            exception(ExceptionKind::InPageError(
                NtStatus::STATUS_DEVICE_DATA_ERROR,
            )),
            exception(ExceptionKind::GuardPage),
            VmmError::AddressOutOfRange(Va::new(u64::MAX)),
            VmmError::RangeOverflow,
            VmmError::Misaligned {
                value: 1,
                alignment: 4096,
            },
            VmmError::InvalidParameter("x"),
            VmmError::InvalidProtection,
            VmmError::UnknownAddressSpace(AsId::new(9)),
            VmmError::UnknownSegment(SegmentId::new(9)),
            VmmError::UnknownStore(StoreId::new(9)),
            VmmError::ConflictingAddresses {
                start: Va::new(0),
                end: Va::new(0x1000),
            },
            VmmError::NotAllocated(Va::new(0)),
            VmmError::WrongRegionKind(Va::new(0)),
            VmmError::NoVirtualSpace(PageCount::new(1)),
            VmmError::NotCommitted(Va::new(0)),
            VmmError::CommitmentLimit {
                requested: PageCount::new(1),
                available: PageCount::ZERO,
            },
            VmmError::NoFreeFrame,
            VmmError::SegmentInUse(SegmentId::new(1)),
            VmmError::StoreInUse(StoreId::new(1)),
            VmmError::BeyondSegment {
                segment: SegmentId::new(1),
                index: 2,
                pages: PageCount::new(1),
            },
            VmmError::Store(StoreError::new(
                StoreOp::Read,
                0,
                NtStatus::STATUS_DEVICE_DATA_ERROR,
            )),
            VmmError::OutOfRange(ntmm_vmm::limits::LimitError::OutOfRange {
                key: "frames",
                value: 0,
                min: 1,
                max: 2,
            }),
            VmmError::HostMemory {
                what: "x",
                bytes: 1,
            },
        ]
    }

    fn every_section_error() -> Vec<SectionError> {
        use ntmm_section::{SectionId, StreamId};
        use ntmm_vmm::{AsId, Va};
        vec![
            SectionError::InvalidPageProtection(0),
            SectionError::param(3, "x"),
            SectionError::NotAnImage { file: true },
            SectionError::InvalidImageFormat("x"),
            SectionError::MappedFileSizeZero,
            SectionError::SectionTooBig,
            SectionError::InsufficientResources,
            SectionError::AccessDenied,
            SectionError::MappedAlignment(1),
            SectionError::InvalidViewSize,
            SectionError::SectionProtection,
            SectionError::NotMappedView(Va::new(0)),
            SectionError::NotMappedData(Va::new(0)),
            SectionError::UnableToDeleteSection,
            SectionError::UnableToFreeVm,
            SectionError::FreeVmNotAtBase,
            SectionError::MemoryNotAllocated(Va::new(0)),
            SectionError::ConflictingAddresses,
            SectionError::Placeholder("a rule"),
            SectionError::NotCommitted,
            SectionError::AlreadyCommitted,
            SectionError::SectionNotExtended,
            SectionError::UserMappedFile,
            SectionError::UnknownSection(SectionId::new(9)),
            SectionError::UnknownStream(StreamId::new(9)),
            SectionError::UnknownProcess(AsId::new(9)),
            SectionError::NotSupported("x"),
        ]
    }

    /// Every variant of `SectionError` and `VmmError` (and every exception kind) goes through
    /// the one path, `Fail::win32` — the NTSTATUS table — and gives the Win32 error the facts
    /// give for its status.
    #[test]
    fn test_every_lower_layer_error_translates_through_the_status_table() {
        use crate::system::Fail;
        use std::collections::BTreeSet;
        use std::mem::discriminant;
        let sections = every_section_error();
        let vmms = every_vmm_error();
        let distinct = |d: BTreeSet<String>| d.len();
        assert_eq!(
            distinct(
                sections
                    .iter()
                    .map(|e| format!("{:?}", discriminant(e)))
                    .collect()
            ),
            SECTION_VARIANTS,
            "one value of each SectionError variant"
        );
        let vmm_kinds: BTreeSet<String> = vmms
            .iter()
            .map(|e| match e {
                VmmError::Exception(x) => format!("exception {:?}", discriminant(&x.kind)),
                other => format!("{:?}", discriminant(other)),
            })
            .collect();
        assert_eq!(
            vmm_kinds.len(),
            VMM_VARIANTS,
            "one value of each VmmError variant"
        );
        let all = sections
            .into_iter()
            .chain(vmms.into_iter().map(SectionError::Vmm));
        for e in all {
            let expected = expected_section(&e);
            assert_eq!(Fail::from(e.clone()).win32(), Win32Error(expected), "{e:?}");
            assert_eq!(dos_error(e.status()), expected, "{e:?}");
        }
    }
}

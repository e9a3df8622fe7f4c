//! The section layer's errors. Each variant stands for one NTSTATUS ([`SectionError::status`]).

use crate::ids::{SectionId, StreamId};
use ntmm_vmm::{AsId, NtStatus, Va, VmmError};

/// Errors of the executive memory objects.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SectionError {
    /// The page protection is not valid here (`STATUS_INVALID_PAGE_PROTECTION`).
    #[error("invalid page protection {0:#x}")]
    InvalidPageProtection(u32),
    /// A parameter is invalid (`STATUS_INVALID_PARAMETER`, or `_N` for parameter N).
    #[error("parameter {index} is invalid: {what}")]
    InvalidParameter {
        /// The 1-based parameter number of the NT service, or 0 for the plain status.
        index: u8,
        /// What is wrong.
        what: &'static str,
    },
    /// SEC_IMAGE on a file that does not begin with "MZ" (`STATUS_INVALID_IMAGE_NOT_MZ`, F30),
    /// or on an empty file or none (`STATUS_INVALID_FILE_FOR_SECTION`, F11, F26).
    #[error("the file is not an image (no MZ header), or is empty")]
    NotAnImage {
        /// Whether a file was given.
        file: bool,
    },
    /// `STATUS_INVALID_IMAGE_FORMAT`: an MZ file whose PE headers are not a valid image.
    #[error("the file is not a valid PE image: {0}")]
    InvalidImageFormat(&'static str),
    /// The file is empty and no size was given (`STATUS_MAPPED_FILE_SIZE_ZERO`).
    #[error("the file is empty")]
    MappedFileSizeZero,
    /// The section is larger than allowed (`STATUS_SECTION_TOO_BIG`).
    #[error("the section is too big")]
    SectionTooBig,
    /// The prototype PTE array cannot be allocated (`STATUS_INSUFFICIENT_RESOURCES`).
    #[error("insufficient resources")]
    InsufficientResources,
    /// The file's or handle's access does not allow the operation (`STATUS_ACCESS_DENIED`).
    #[error("access denied")]
    AccessDenied,
    /// Offset or base not a multiple of 64 KiB (`STATUS_MAPPED_ALIGNMENT`).
    #[error("{0:#x} is not 64 KiB-aligned")]
    MappedAlignment(u64),
    /// The view does not fit the section (`STATUS_INVALID_VIEW_SIZE`).
    #[error("invalid view size")]
    InvalidViewSize,
    /// The protection exceeds what the section or view allows (`STATUS_SECTION_PROTECTION`).
    #[error("protection not allowed by the section or view")]
    SectionProtection,
    /// The address is not in a view (`STATUS_NOT_MAPPED_VIEW`).
    #[error("{0} is not in a mapped view")]
    NotMappedView(Va),
    /// The view is not of a data file (`STATUS_NOT_MAPPED_DATA`).
    #[error("{0} is not in a view of a data file")]
    NotMappedData(Va),
    /// Views cannot be freed or decommitted (`STATUS_UNABLE_TO_DELETE_SECTION`).
    #[error("views are removed only by unmapping")]
    UnableToDeleteSection,
    /// The range cannot be freed as asked (`STATUS_UNABLE_TO_FREE_VM`).
    #[error("unable to free the range")]
    UnableToFreeVm,
    /// MEM_RELEASE must start at the region's base (`STATUS_FREE_VM_NOT_AT_BASE`).
    #[error("release must start at the allocation base")]
    FreeVmNotAtBase,
    /// Nothing is allocated at the address (`STATUS_MEMORY_NOT_ALLOCATED`).
    #[error("nothing is allocated at {0}")]
    MemoryNotAllocated(Va),
    /// The range overlaps or spans regions (`STATUS_CONFLICTING_ADDRESSES`).
    #[error("conflicting addresses")]
    ConflictingAddresses,
    /// A placeholder operation on a range that is not what it needs: the rule that failed
    /// (`STATUS_CONFLICTING_ADDRESSES`, `ERROR_INVALID_ADDRESS`; facts F69, F71, F72).
    #[error("placeholder: {0}")]
    Placeholder(&'static str),
    /// Pages are not committed (`STATUS_NOT_COMMITTED`).
    #[error("pages are not committed")]
    NotCommitted,
    /// File views cannot be committed (`STATUS_ALREADY_COMMITTED`).
    #[error("already committed")]
    AlreadyCommitted,
    /// The section cannot be extended (`STATUS_SECTION_NOT_EXTENDED`).
    #[error("the section cannot be extended")]
    SectionNotExtended,
    /// The file has user-mapped sections and cannot shrink (`STATUS_USER_MAPPED_FILE`).
    #[error("the file is user-mapped")]
    UserMappedFile,
    /// No such section (`STATUS_INVALID_HANDLE`).
    #[error("unknown section {0:?}")]
    UnknownSection(SectionId),
    /// No such file stream (`STATUS_INVALID_HANDLE`).
    #[error("unknown file {0:?}")]
    UnknownStream(StreamId),
    /// No such process (`STATUS_INVALID_HANDLE`).
    #[error("unknown process {0}")]
    UnknownProcess(AsId),
    /// A feature outside the model (`STATUS_NOT_SUPPORTED`).
    #[error("not modelled: {0}")]
    NotSupported(&'static str),
    /// An error of the machine layer.
    #[error(transparent)]
    Vmm(#[from] VmmError),
}

impl SectionError {
    /// The NTSTATUS this error stands for.
    pub fn status(&self) -> NtStatus {
        match self {
            SectionError::InvalidPageProtection(_) => NtStatus::STATUS_INVALID_PAGE_PROTECTION,
            SectionError::InvalidParameter { index, .. } => match index {
                1..=12 => NtStatus::new(
                    NtStatus::STATUS_INVALID_PARAMETER_1.raw() + u32::from(*index) - 1,
                ),
                _ => NtStatus::STATUS_INVALID_PARAMETER,
            },
            SectionError::NotAnImage { file: true } => NtStatus::STATUS_INVALID_IMAGE_NOT_MZ,
            SectionError::NotAnImage { file: false } => NtStatus::STATUS_INVALID_FILE_FOR_SECTION,
            SectionError::InvalidImageFormat(_) => NtStatus::STATUS_INVALID_IMAGE_FORMAT,
            SectionError::MappedFileSizeZero => NtStatus::STATUS_MAPPED_FILE_SIZE_ZERO,
            SectionError::SectionTooBig => NtStatus::STATUS_SECTION_TOO_BIG,
            SectionError::InsufficientResources => NtStatus::STATUS_INSUFFICIENT_RESOURCES,
            SectionError::AccessDenied => NtStatus::STATUS_ACCESS_DENIED,
            SectionError::MappedAlignment(_) => NtStatus::STATUS_MAPPED_ALIGNMENT,
            SectionError::InvalidViewSize => NtStatus::STATUS_INVALID_VIEW_SIZE,
            SectionError::SectionProtection => NtStatus::STATUS_SECTION_PROTECTION,
            SectionError::NotMappedView(_) => NtStatus::STATUS_NOT_MAPPED_VIEW,
            SectionError::NotMappedData(_) => NtStatus::STATUS_NOT_MAPPED_DATA,
            SectionError::UnableToDeleteSection => NtStatus::STATUS_UNABLE_TO_DELETE_SECTION,
            SectionError::UnableToFreeVm => NtStatus::STATUS_UNABLE_TO_FREE_VM,
            SectionError::FreeVmNotAtBase => NtStatus::STATUS_FREE_VM_NOT_AT_BASE,
            SectionError::MemoryNotAllocated(_) => NtStatus::STATUS_MEMORY_NOT_ALLOCATED,
            SectionError::ConflictingAddresses => NtStatus::STATUS_CONFLICTING_ADDRESSES,
            SectionError::Placeholder(_) => NtStatus::STATUS_CONFLICTING_ADDRESSES,
            SectionError::NotCommitted => NtStatus::STATUS_NOT_COMMITTED,
            SectionError::AlreadyCommitted => NtStatus::STATUS_ALREADY_COMMITTED,
            SectionError::SectionNotExtended => NtStatus::STATUS_SECTION_NOT_EXTENDED,
            SectionError::UserMappedFile => NtStatus::STATUS_USER_MAPPED_FILE,
            SectionError::UnknownSection(_)
            | SectionError::UnknownStream(_)
            | SectionError::UnknownProcess(_) => NtStatus::STATUS_INVALID_HANDLE,
            SectionError::NotSupported(_) => NtStatus::STATUS_NOT_SUPPORTED,
            SectionError::Vmm(e) => e.status(),
        }
    }

    /// A `STATUS_INVALID_PARAMETER_n` error (`index` 0 for the plain status).
    pub fn param(index: u8, what: &'static str) -> Self {
        SectionError::InvalidParameter { index, what }
    }
}

/// The section layer's result type.
pub type Result<T> = std::result::Result<T, SectionError>;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn test_numbered_parameter_statuses() {
        assert_eq!(
            SectionError::param(3, "x").status(),
            NtStatus::STATUS_INVALID_PARAMETER_3
        );
        assert_eq!(
            SectionError::param(9, "x").status(),
            NtStatus::STATUS_INVALID_PARAMETER_9
        );
        assert_eq!(
            SectionError::param(0, "x").status(),
            NtStatus::STATUS_INVALID_PARAMETER
        );
        assert_eq!(
            SectionError::Vmm(VmmError::NoFreeFrame).status(),
            NtStatus::STATUS_NO_MEMORY
        );
    }
}

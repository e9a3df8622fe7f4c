//! The machine's errors. Each variant stands for one NTSTATUS ([`VmmError::status`]).

use crate::addr::{PageCount, Va};
use crate::id::{AsId, SegmentId, StoreId};
use crate::protection::Access;
use crate::status::NtStatus;
use crate::store::StoreError;
use std::fmt;

/// The exception a memory access raises.
#[derive(Clone, Copy, PartialEq, Eq, Debug, Hash)]
pub enum ExceptionKind {
    /// `STATUS_ACCESS_VIOLATION`.
    AccessViolation,
    /// `STATUS_IN_PAGE_ERROR`, with the I/O status that caused it.
    InPageError(NtStatus),
    /// `STATUS_GUARD_PAGE_VIOLATION`: the first access to a guard page (the guard is now gone).
    GuardPage,
}

/// An exception raised by an emulated memory access: its kind, the faulting address (the first
/// byte of the access that could not be performed) and the kind of access.
#[derive(Clone, Copy, PartialEq, Eq, Debug, Hash)]
pub struct Exception {
    /// What was raised.
    pub kind: ExceptionKind,
    /// The faulting address.
    pub address: Va,
    /// Whether the access was a load or a store.
    pub access: Access,
}

impl Exception {
    /// The exception code (an NTSTATUS).
    pub fn code(&self) -> NtStatus {
        match self.kind {
            ExceptionKind::AccessViolation => NtStatus::STATUS_ACCESS_VIOLATION,
            ExceptionKind::InPageError(_) => NtStatus::STATUS_IN_PAGE_ERROR,
            ExceptionKind::GuardPage => NtStatus::STATUS_GUARD_PAGE_VIOLATION,
        }
    }
}

impl fmt::Display for Exception {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} at {} ({:?})", self.code(), self.address, self.access)?;
        if let ExceptionKind::InPageError(io) = self.kind {
            write!(f, ", I/O status {io}")?;
        }
        Ok(())
    }
}

/// Errors of the machine layer.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum VmmError {
    /// A memory access raised an exception.
    #[error("exception: {0}")]
    Exception(Exception),
    /// An address or range lies outside the user address space.
    #[error("address {0} is outside the user address range")]
    AddressOutOfRange(Va),
    /// A size or range computation overflowed.
    #[error("range overflows the address space")]
    RangeOverflow,
    /// A value that must be aligned is not.
    #[error("{value:#x} is not a multiple of {alignment:#x}")]
    Misaligned {
        /// The offending value.
        value: u64,
        /// The required alignment.
        alignment: u64,
    },
    /// A parameter is invalid (zero size, bad configuration, ...).
    #[error("invalid parameter: {0}")]
    InvalidParameter(&'static str),
    /// A protection value is not valid here.
    #[error("invalid page protection")]
    InvalidProtection,
    /// No such address space.
    #[error("unknown address space {0}")]
    UnknownAddressSpace(AsId),
    /// No such segment.
    #[error("unknown segment {0}")]
    UnknownSegment(SegmentId),
    /// No such backing store.
    #[error("unknown store {0}")]
    UnknownStore(StoreId),
    /// The requested range overlaps an existing region.
    #[error("[{start}, {end}) overlaps an existing region")]
    ConflictingAddresses {
        /// Start of the requested range.
        start: Va,
        /// End of the requested range.
        end: Va,
    },
    /// No region is allocated at this address.
    #[error("no region is allocated at {0}")]
    NotAllocated(Va),
    /// The operation needs a region of another kind (private vs mapped).
    #[error("the region at {0} is not of the kind this operation needs")]
    WrongRegionKind(Va),
    /// No free range of virtual addresses is large enough.
    #[error("no free virtual range of {0:?}")]
    NoVirtualSpace(PageCount),
    /// Pages in the range are not committed.
    #[error("page at {0} is not committed")]
    NotCommitted(Va),
    /// Charging this commit would exceed the commit limit.
    #[error("commit limit reached: {requested:?} requested, {available:?} available")]
    CommitmentLimit {
        /// Pages asked for.
        requested: PageCount,
        /// Pages still chargeable.
        available: PageCount,
    },
    /// No frame could be made available (every frame is referenced).
    #[error("no physical frame can be made available")]
    NoFreeFrame,
    /// The segment is still in use (mapped, or holding resident pages) and cannot go.
    #[error("segment {0} is in use")]
    SegmentInUse(SegmentId),
    /// The store is still used by a segment.
    #[error("store {0} is in use")]
    StoreInUse(StoreId),
    /// A prototype PTE index lies past the end of its segment.
    #[error("index {index} is past the end of segment {segment} ({pages:?})")]
    BeyondSegment {
        /// The segment.
        segment: SegmentId,
        /// The index asked for.
        index: u64,
        /// The segment's size.
        pages: PageCount,
    },
    /// A backing store operation failed. Nothing was lost: the affected pages stay modified.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// A machine option outside its limit (`crate::limits`), caught before anything is
    /// allocated.
    #[error(transparent)]
    OutOfRange(#[from] crate::limits::LimitError),
    /// The host could not provide the memory a machine structure needs (the allocation failed
    /// and was reported instead of aborting).
    #[error("the host could not provide {bytes} bytes for {what}")]
    HostMemory {
        /// The structure (`physical memory`, `the PFN database`, ...).
        what: &'static str,
        /// The size asked for.
        bytes: u64,
    },
}

impl VmmError {
    /// The NTSTATUS this error stands for.
    pub fn status(&self) -> NtStatus {
        match self {
            VmmError::Exception(e) => e.code(),
            VmmError::AddressOutOfRange(_)
            | VmmError::RangeOverflow
            | VmmError::Misaligned { .. }
            | VmmError::InvalidParameter(_)
            | VmmError::UnknownSegment(_)
            | VmmError::UnknownStore(_)
            | VmmError::BeyondSegment { .. }
            | VmmError::OutOfRange(_) => NtStatus::STATUS_INVALID_PARAMETER,
            VmmError::HostMemory { .. } => NtStatus::STATUS_INSUFFICIENT_RESOURCES,
            VmmError::InvalidProtection => NtStatus::STATUS_INVALID_PAGE_PROTECTION,
            VmmError::UnknownAddressSpace(_) => NtStatus::STATUS_INVALID_HANDLE,
            VmmError::ConflictingAddresses { .. } => NtStatus::STATUS_CONFLICTING_ADDRESSES,
            VmmError::NotAllocated(_) => NtStatus::STATUS_MEMORY_NOT_ALLOCATED,
            VmmError::WrongRegionKind(_) => NtStatus::STATUS_CONFLICTING_ADDRESSES,
            VmmError::NoVirtualSpace(_) | VmmError::NoFreeFrame => NtStatus::STATUS_NO_MEMORY,
            VmmError::NotCommitted(_) => NtStatus::STATUS_NOT_COMMITTED,
            VmmError::CommitmentLimit { .. } => NtStatus::STATUS_COMMITMENT_LIMIT,
            VmmError::SegmentInUse(_) | VmmError::StoreInUse(_) => {
                NtStatus::STATUS_UNABLE_TO_DELETE_SECTION
            }
            VmmError::Store(e) => e.status,
        }
    }
}

/// The machine layer's result type.
pub type Result<T> = std::result::Result<T, VmmError>;

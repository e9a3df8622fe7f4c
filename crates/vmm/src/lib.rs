//! # ntmm-vmm — the simulated machine under ntmm
//!
//! A faithful model of the Windows NT memory manager's machinery (the Windows Research Kernel
//! generation, NT 5.2; see `docs/NT_INTERNALS.md`): physical frames and the PFN
//! database with its page lists, hardware PTEs and prototype PTEs in every NT state, segments,
//! address spaces with VADs and working sets, the fault dispatcher with one resolver per PTE
//! state, copy-on-write, the pagefile, the modified and mapped page writers, commit charge, and
//! one invariant checker. It knows nothing of handles, names or Win32: the `ntmm-section` crate
//! builds sections, control areas and views on top of it.
//!
//! Start at [`Vmm`].
#![forbid(unsafe_code)]

/// Memory access by the emulated CPU.
mod access;
/// Units: addresses, page and frame numbers, counts (newtypes).
pub mod addr;
/// Address spaces: page table, VADs, working set, counters.
pub mod address_space;
/// Cached access to segments, and flush.
mod cache;
/// The amd64 PTE bit layout, for teaching.
pub mod codec;
/// Commit charge.
pub mod commit;
/// Fault and I/O counters.
pub mod counters;
/// One bit per page of a 512-page stretch (dirty indexes).
mod dirty_bits;
/// Errors and exceptions.
pub mod error;
/// The public interface.
mod facade;
/// Fault dispatch and resolution.
pub mod fault;
/// Frame allocation and the share/reference decrements.
pub mod frames;
/// Identifiers.
pub mod id;
/// Invariant checks.
pub mod invariants;
// The machine's size limits (one table for every entry point; documented inside).
pub mod limits;
// Sparse two-level tables with a remembered leaf.
mod leaf_table;
/// The machine state and its configuration.
pub mod machine;
/// Physical memory.
pub mod memory;
/// The page table's 64-bit storage form of a PTE.
mod packed;
/// The page table of an address space.
pub mod page_table;
/// The pagefile.
pub mod pagefile;
/// The PFN database and page lists.
pub mod pfn;
/// Page protections.
pub mod protection;
/// Process and prototype PTEs.
pub mod pte;
/// `VirtualQuery` over the model.
pub mod query;
/// Regions: map, private memory, protect, delete.
pub mod region;
/// Segments (prototype PTE tables).
pub mod segment;
/// Segment lifecycle.
mod segment_ops;
/// NTSTATUS values.
pub mod status;
/// Backing stores.
pub mod store;
/// The per-thread TLB and the translation epoch (lock-free resident loads).
pub mod tlb;
/// Working-set trimming and memory pressure.
mod trim;
/// Regions (VADs).
pub mod vad;
/// Working sets.
pub mod working_set;
/// The modified and mapped page writers.
pub mod writer;

pub use addr::{
    ByteCount, PageCount, PageRange, Pfn, Slot, Va, Vpn, ALLOCATION_GRANULARITY, PAGE_SIZE,
    USER_END, USER_MAX, USER_MIN,
};
pub use commit::CommitState;
pub use counters::{FaultCounters, MachineCounters};
pub use error::{Exception, ExceptionKind, Result, VmmError};
pub use facade::Vmm;
pub use fault::{FaultKind, FaultOutcome};
pub use id::{AsId, SegmentId, StoreId};
pub use invariants::InvariantViolation;
pub use limits::{Limit, LimitError};
pub use machine::{Machine, VmmConfig, WriterPolicy};
pub use pfn::{ListCounts, PageLocation, PfnEntry};
pub use protection::{Access, Protection};
pub use pte::{HardwarePte, OriginalPte, ProtoPte, ProtoRef, Pte, PteRef};
pub use query::{MemState, RegionInfo, RegionType};
pub use region::Placement;
pub use segment::{SegmentInfo, SegmentKind};
pub use segment_ops::{FILE_PROTO_PROTECTION, MAX_SEGMENT_PAGES};
pub use status::NtStatus;
pub use store::{
    BackingStore, FaultDuration, FaultPlan, FaultyStore, HostFileStore, MemoryStore, StoreError,
    StoreOp,
};
pub use vad::{Vad, VadKind};
pub use writer::WriterReport;

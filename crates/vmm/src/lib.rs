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

// ---- Table of contents: the modules by NT mechanism, one line each ------------------------

// The machine and its interface
/// Units: addresses, page and frame numbers, counts (newtypes).
pub mod addr;
/// Errors and exceptions (`VmmError`, `Exception`).
pub mod error;
/// The typed event stream: [`VmmEvent`]s to subscribers and to `tracing`.
pub mod event;
/// The public, thread-safe interface [`Vmm`] (the machine lock).
mod facade;
/// Identifiers of address spaces, segments and stores.
pub mod id;
/// The machine's size limits: one table for every entry point, enforced by `VmmConfig::validate`.
pub mod limits;
/// The machine state behind the lock, its configuration, and its read-only accessors.
pub mod machine;
/// NTSTATUS values.
pub mod status;

// Physical memory and the PFN database (§4)
/// Taking frames (`MiRemoveZeroPage`/`MiRemoveAnyPage`) and the share/reference decrements.
pub mod frames;
/// Physical memory: the frames' bytes.
pub mod memory;
/// The PFN database and its page lists, moved only through named transitions (`MMPFN`, §4.1–§4.2).
pub mod pfn;

// PTEs and page tables (§2)
/// The amd64 PTE bit layout, for teaching.
pub mod codec;
/// One bit per page of a 512-page stretch (dirty indexes).
mod dirty_bits;
/// Sparse two-level tables with a remembered leaf.
mod leaf_table;
/// The page table's 64-bit storage form of a PTE.
mod packed;
/// The page table of an address space.
pub mod page_table;
/// Page protections (`MM_*`).
pub mod protection;
/// Process and prototype PTEs in every NT state.
pub mod pte;
/// The per-thread TLB and the translation epoch (lock-free resident loads).
pub mod tlb;

// Address spaces, VADs and working sets (§7)
/// Address spaces: page table, VADs, working set, counters.
pub mod address_space;
/// Unmapping a view (`MiRemoveMappedView`), releasing memory, deleting an address space.
mod delete;
/// Mapping a view of a segment (`MiMapViewOfSection`).
mod map_view;
/// Placeholders: reserving, splitting, coalescing, replacing and restoring them.
mod placeholder;
/// Private memory: reserve, commit, decommit (`NtAllocateVirtualMemory`).
mod private_memory;
/// Protection changes (`NtProtectVirtualMemory`).
mod protect;
/// `VirtualQuery` over the model.
pub mod query;
/// Regions shared by the mechanisms below: placement, lookup, commit state.
pub mod region;
/// Working-set trimming and memory pressure (`MiTrimWorkingSet`, `MiDoReplacement`).
mod trim;
/// Regions (VADs).
pub mod vad;
/// Working sets (`MMWSL`).
pub mod working_set;

// Faults (§3)
/// Memory access by the emulated CPU.
mod access;
/// The fault dispatcher and one resolver per PTE state (`MiResolve*Fault`, `MiCopyOnWrite`).
pub mod fault;

// Segments and prototype PTEs (§1, §6)
/// Cached access to a segment's pages (`ReadFile`/`WriteFile` through prototype PTEs).
mod cache;
/// Flushing: dirty bits to frames, modified pages to the file (`MiFlushSectionInternal`).
mod flush;
/// Segments: prototype PTE tables (`SEGMENT`).
pub mod segment;
/// Segment lifecycle: create, extend, truncate, commit, purge, delete (`MiCheckControlArea`'s part).
mod segment_ops;

// Paging I/O and commit (§1.9, §4.6, §9)
/// Commit charge.
pub mod commit;
/// The pagefile and its slots.
pub mod pagefile;
/// Backing stores: in memory, host files, fault injection.
pub mod store;
/// The modified and mapped page writers (`MiModifiedPageWriter`, `MiMappedPageWriter`).
pub mod writer;

// Checking and counting
/// Fault and I/O counters.
pub mod counters;
/// The machine-wide invariant checker.
pub mod invariants;

pub use addr::{
    ByteCount, PageCount, PageRange, Pfn, ProtoIndex, Slot, Va, Vpn, ALLOCATION_GRANULARITY,
    PAGE_SIZE, USER_END, USER_MAX, USER_MIN,
};
pub use commit::{CommitState, ProcessCommit};
pub use counters::{FaultCounters, MachineCounters};
pub use error::{Exception, ExceptionKind, Result, VmmError};
pub use event::{
    IoTarget, MoveReason, PlaceholderChange, Subscriber, Subscribers, Traced, ViolationCause,
    VmmEvent, VmmEventKind, Writer, WriterTrigger,
};
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
pub use segment::{ImagePage, SegmentInfo, SegmentKind};
pub use segment_ops::{FILE_PROTO_PROTECTION, MAX_SEGMENT_PAGES};
pub use status::NtStatus;
pub use store::{
    BackingStore, FaultDuration, FaultPlan, FaultyStore, HostFileStore, MemoryStore, StoreError,
    StoreOp,
};
pub use vad::{Vad, VadKind};
pub use writer::WriterReport;

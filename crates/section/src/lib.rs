//! # ntmm-section — NT's executive memory objects
//!
//! Section objects, control areas, views, flush, teardown and cached file I/O on top of
//! [`ntmm_vmm`], speaking NTSTATUS (nt_internals §1, §4–§8; results pinned to
//! docs/FACTS.md). Start at [`Executive`].
//!
//! * A section object refers to a control area; a view refers to the control area, not the
//!   section object (§1.1, §6.1) — closing a section never unmaps anything.
//! * One control area per file (its `DataSectionObject`) and one per pagefile-backed section;
//!   every section and the cache of one file share it, so views and `ReadFile`/`WriteFile` are
//!   coherent by construction (§1.7, §8).
//! * Control areas die exactly as `MiCheckControlArea` decides (§6.2).
#![forbid(unsafe_code)]

// ---- Vocabulary: numbers, names and errors ----------------------------------------------
/// The `SEC_*`, `MEM_*`, `PAGE_*` constants (docs/FACTS.md §1).
pub mod consts;
/// The error of every operation, one NTSTATUS per variant.
pub mod error;
/// The typed event stream of the section layer ([`SectionEvent`]).
pub mod event;
/// Identifiers of sections, control areas and file streams.
pub mod ids;

// ---- The objects and their tables ------------------------------------------------------
/// `CONTROL_AREA`: its counts and `MiCheckControlArea` (§1.3, §6.1–§6.2).
pub mod control_area;
/// The object tables (processes, control areas, sections, streams, views) and their links
/// (§1.1).
mod state;

// ---- The mechanisms, each as NT names it -------------------------------------------------
/// Files: `SECTION_OBJECT_POINTERS`, sizing (`MmCanFileBeTruncated`), cached I/O (§1.6, §8).
pub mod file;
/// Images: the PE32+ writer of the `image` directive and the image layout of a PE file
/// (`MiCreateImageFileMap`, §1.5).
pub mod image;
/// The control-area rules checked after every operation (§9.3).
pub mod invariants;
/// Placeholders through the native services (F68–F72).
mod placeholder;
/// Section objects: `NtCreateSection`, `MiSectionDelete`, `NtQuerySection`, `NtExtendSection`
/// (§1.2, §1.7–§1.9).
pub mod section;
/// Views: `NtMapViewOfSection`, `NtUnmapViewOfSection`, `NtFlushVirtualMemory` (§4.4, §5.2,
/// §7.1–§7.3).
pub mod view;
/// `NtAllocateVirtualMemory`, `NtFreeVirtualMemory`, `NtProtectVirtualMemory`,
/// `NtQueryVirtualMemory` over private memory and views (§7.4–§7.6).
pub mod virtual_memory;

// ---- The public interface ----------------------------------------------------------------
/// [`Executive`]: the state behind one lock, and every service.
mod executive;

pub use control_area::{ControlAreaInfo, ImageInfo};
pub use error::{Result, SectionError};
pub use event::{CountChange, Counts, SectionEvent, SectionEventKind};
pub use executive::Executive;
pub use ids::{ControlAreaId, SectionId, StreamId};
pub use invariants::SectionInvariantViolation;
pub use ntmm_vmm as vmm;
pub use section::{CreateSection, FileAccess, FileSpec, SectionBasicInformation};
pub use view::MapView;
pub use virtual_memory::MemoryBasicInformation;

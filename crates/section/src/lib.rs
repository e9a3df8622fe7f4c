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

/// Numeric constants (`SEC_*`, `MEM_*`, `PAGE_*`).
pub mod consts;
/// Control areas.
pub mod control_area;
/// Errors.
pub mod error;
/// The executive: state and public interface.
mod executive;
/// Files: streams, sizing, cached I/O.
pub mod file;
/// Identifiers.
pub mod ids;
/// Invariants.
pub mod invariants;
/// Section objects.
pub mod section;
/// Views: map, unmap, flush.
pub mod view;
/// Private memory and the virtual-memory services over views.
pub mod virtual_memory;

pub use control_area::ControlAreaInfo;
pub use error::{Result, SectionError};
pub use executive::Executive;
pub use ids::{ControlAreaId, SectionId, StreamId};
pub use invariants::SectionInvariantViolation;
pub use ntmm_vmm as vmm;
pub use section::{CreateSection, FileAccess, FileSpec, SectionBasicInformation};
pub use view::MapView;
pub use virtual_memory::MemoryBasicInformation;

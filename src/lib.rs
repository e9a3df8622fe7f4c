//! # ntmm — the Windows NT section/view memory model, made visible
//!
//! ntmm emulates, in user mode and on any OS, what the NT memory manager does for
//! memory-mapped files and shared memory: prototype PTEs, the PFN database and its page lists,
//! demand paging, copy-on-write, working sets, the pagefile and the writers, and
//! reference-counted teardown. Every structure can be inspected and every run is deterministic.
//!
//! The layers, lowest first:
//! * [`vmm`] — the simulated machine (frames, PFN database, PTEs, prototype PTEs, faults,
//!   pagefile, writers, commit);
//! * [`section`] — NT's executive objects (sections, control areas, views);
//! * [`api`] — the Win32 facade;
//! * [`scenario`] — the scenario language: parser, runner, trace, inspection, pictures.
#![forbid(unsafe_code)]

pub use ntmm_api as api;
pub use ntmm_scenario as scenario;
pub use ntmm_section as section;
pub use ntmm_vmm as vmm;

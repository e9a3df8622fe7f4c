//! # ntmm-section — NT's executive memory objects (skeleton)
//!
//! Sections, control areas, views, flush, teardown and cached file I/O will be built here on
//! top of [`ntmm_vmm`], speaking NTSTATUS (issue 2/6). Until then this crate only re-exports
//! the machine layer it builds on.
#![forbid(unsafe_code)]

pub use ntmm_vmm as vmm;

//! # ntmm-api — the Win32 facade (skeleton)
//!
//! The object manager, processes, handles, names, files and the Win32 functions with
//! Windows-exact results will be built here (issue 3/6), on top of `ntmm-section`.
#![forbid(unsafe_code)]

pub use ntmm_section as section;

//! # ntmm-api — the Win32 facade
//!
//! What programs call: the native layer (`nt_*` functions returning NTSTATUS, as ntdll) and the
//! Win32 layer on top of it (as kernel32 sits on ntdll), each result and last-error value what
//! Windows gives (docs/FACTS.md). Under the Win32 names is an idiomatic Rust API: every
//! function returns `Result<T, Win32Error>` and sets the calling process's last error exactly as
//! Windows does. Start at [`System`].
//!
//! Not modelled (a clear error where they would be used): image sections (`SEC_IMAGE`), based
//! sections, `SEC_NO_CHANGE`, placeholders and `MapViewOfFile3`/`VirtualAlloc2`,
//! `NtMapViewOfSectionEx` and zero bits, large pages, `AT_ROUND_TO_PAGE` (rejected as on x64),
//! security descriptors (every open is granted what it asks; the one privilege modelled is
//! `SeCreateGlobalPrivilege`, crate::sessions).
#![forbid(unsafe_code)]
// The Win32 and native functions keep the argument lists Windows gives them.
#![allow(clippy::too_many_arguments)]

/// Access rights and the protection/rights tables.
pub mod access;
/// Every constant the scenario language names.
pub mod constants;
/// Win32 file names on the volume (`RtlDosPathNameToNtPathName_U`) and NTFS's name folding.
pub mod dos_path;
/// Files and the volume.
pub mod files;
/// Injected I/O faults (`fail`, `heal`).
pub mod io_faults;
/// Sections and views.
pub mod mapping;
/// Virtual memory.
pub mod memory;
/// Native calls by NT's conventions: NT object names, in-out ranges, NtAreMappedFilesTheSame.
pub mod native;
/// The object manager.
pub mod object;
/// Processes as handles; reading and writing another process's memory.
pub mod process;
/// Sessions, tokens and the namespace of Win32 object names.
pub mod sessions;
pub mod shutdown;
/// The system: processes, handles, events, memory access.
pub mod system;
/// `GetTempPath` and `GetTempFileName`.
pub mod temp_files;
/// Host-directory volumes: every host path resolved beneath the volume's root.
mod volume;
/// Win32 error codes and the NTSTATUS translation.
pub mod win32;

pub use access::*;
pub use constants::{constant, DUPLICATE_CLOSE_SOURCE, DUPLICATE_SAME_ACCESS};
pub use files::*;
pub use io_faults::IoKind;
pub use mapping::{NtCreateSectionArgs, NtMapViewArgs};
pub use native::{win32_object_name, ObjectAttributes, DEFAULT_SESSION, NULL_POINTER_STATUS};
pub use ntmm_section as section;
pub use ntmm_section::consts::*;
pub use ntmm_section::{MemoryBasicInformation, SectionBasicInformation};
pub use ntmm_vmm::FaultDuration;
pub use ntmm_vmm::{AsId, NtStatus, Va};
pub use object::Handle;
pub use sessions::Token;
pub use shutdown::{CrashReport, ShutdownError, ShutdownFailure, ShutdownReport};
pub use system::{System, SystemConfig, SystemInfo, Volume};
pub use temp_files::{TempPath, TEMP_PATH};
pub use win32::*;

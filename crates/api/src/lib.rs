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

// ---- The system and its objects --------------------------------------------------------
/// Access rights and the protection/rights tables (F40, F45, F47, F48).
pub mod access;
/// The object manager: objects, handle tables, the named-object directory (§6.1, §6.5).
pub mod object;
/// Processes as handles; reading and writing another process's memory.
pub mod process;
/// Sessions, tokens and the namespace of Win32 object names.
pub mod sessions;
/// The system: processes, handles, events, memory access; `Fail`, the one path from an
/// NTSTATUS to the caller's error.
pub mod system;

// ---- The calls, by subject ---------------------------------------------------------------
/// Resource counters: `GetProcessMemoryInfo`, `QueryWorkingSetEx`, `GetPerformanceInfo`,
/// `EmptyWorkingSet`, `SetProcessWorkingSetSize` and ntmm's own counters.
pub mod counters;
/// The one typed event stream ([`Event`]: the machine's, the section layer's and the object
/// manager's events) and [`System::subscribe`].
pub mod event;
/// Files and the volume: `CreateFile`, `ReadFile`, `WriteFile`, `SetEndOfFile`, ….
pub mod files;
/// Images: the `image` directive's PE writer, `LoadLibrary`, `FreeLibrary`, a process's
/// executable.
pub mod loader;
/// Sections and views: `CreateFileMapping`, `MapViewOfFile`, … and their `nt_*` forms.
pub mod mapping;
/// Virtual memory: `VirtualAlloc`, `VirtualProtect`, `VirtualQuery`, … and their `nt_*` forms.
pub mod memory;
/// Native calls by NT's conventions: NT object names, in-out ranges, NtAreMappedFilesTheSame.
pub mod native;
/// Placeholders: `VirtualAlloc2`, `MapViewOfFile3` and the native `…Ex` services (F68–F72).
pub mod placeholder;
/// `GetTempPath` and `GetTempFileName`.
pub mod temp_files;

// ---- Files on a volume -------------------------------------------------------------------
/// Win32 file names on the volume (`RtlDosPathNameToNtPathName_U`) and NTFS's name folding.
pub mod dos_path;
/// Injected I/O faults (`fail`, `heal`).
pub mod io_faults;
/// Shutdown and power loss: how a run of the machine ends.
pub mod shutdown;
/// Host-directory volumes: every host path resolved beneath the volume's root.
mod volume;

// ---- Vocabulary --------------------------------------------------------------------------
/// Every constant the scenario language names.
pub mod constants;
/// Why a call failed: the rule of each check, in one sentence.
pub mod why;
/// Win32 error codes and the NTSTATUS → Win32 table (`RtlNtStatusToDosError`).
pub mod win32;

pub use access::*;
pub use constants::{constant, DUPLICATE_CLOSE_SOURCE, DUPLICATE_SAME_ACCESS};
pub use counters::*;
pub use event::{ApiEvent, ApiEventKind, Event, ObjectRef};
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

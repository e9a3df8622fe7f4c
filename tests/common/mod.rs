//! Fixtures for the conformance suite.
#![allow(dead_code, unused_imports)]

pub use ntmm::api::*;
pub use ntmm::vmm::{ExceptionKind, VmmConfig, VmmError, WriterPolicy};

/// A system with a small machine.
pub fn sys() -> System {
    System::new(SystemConfig {
        vmm: VmmConfig {
            frames: 64,
            pagefile_pages: 4096,
            working_set_max: 64,
            writer: WriterPolicy::Lazy,
        },
        volume: Volume::Memory,
    })
    .unwrap()
}

/// A system on a memory volume with the lazy writer.
pub fn machine(frames: u32, pagefile_pages: u32, working_set_max: u64) -> System {
    System::new(SystemConfig {
        vmm: VmmConfig {
            frames,
            pagefile_pages,
            working_set_max,
            writer: WriterPolicy::Lazy,
        },
        volume: Volume::Memory,
    })
    .unwrap()
}

/// Proptest cases for a random suite of `per_case` calls a case: `default_calls` calls in all,
/// or as many as the environment variable `var` says (for soaks).
pub fn scaled_cases(var: &str, default_calls: u64, per_case: usize) -> u32 {
    let calls: u64 = std::env::var(var)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default_calls);
    u32::try_from(calls.div_ceil(per_case as u64)).unwrap_or(u32::MAX)
}

/// A system and one process.
pub fn one() -> (System, AsId) {
    let s = sys();
    let p = s.create_process(None, false).unwrap();
    (s, p)
}

/// The error of a Win32 result, checked against the process's last error.
pub fn err<T: std::fmt::Debug>(s: &System, p: AsId, r: Result<T, Win32Error>) -> u32 {
    let e = r.expect_err("expected failure").0;
    assert_eq!(
        s.get_last_error(p),
        e,
        "the last error must be the failure's code"
    );
    e
}

/// A pagefile-backed mapping.
pub fn anon(
    s: &System,
    p: AsId,
    protect: u32,
    size: u32,
    name: Option<&str>,
) -> Result<Handle, Win32Error> {
    s.create_file_mapping(p, Handle::INVALID, false, protect, 0, size, name)
}

/// A file with contents, opened read/write (share read/write/delete).
pub fn rw_file(s: &System, p: AsId, path: &str, contents: &[u8]) -> Handle {
    file_with_access(s, p, path, contents, GENERIC_READ | GENERIC_WRITE)
}

/// A file with contents, opened read/write/execute (share read/write/delete): execute
/// sections need `FILE_EXECUTE` on the file.
pub fn rwx_file(s: &System, p: AsId, path: &str, contents: &[u8]) -> Handle {
    file_with_access(
        s,
        p,
        path,
        contents,
        GENERIC_READ | GENERIC_WRITE | GENERIC_EXECUTE,
    )
}

fn file_with_access(s: &System, p: AsId, path: &str, contents: &[u8], access: u32) -> Handle {
    s.create_volume_file(path, contents).unwrap();
    s.create_file(p, path, access, 7, false, OPEN_EXISTING, 0)
        .unwrap()
}

/// Opens a file with the given access and sharing.
pub fn open(
    s: &System,
    p: AsId,
    path: &str,
    access: u32,
    share: u32,
) -> Result<Handle, Win32Error> {
    s.create_file(p, path, access, share, false, OPEN_EXISTING, 0)
}

/// `VirtualQuery`.
pub fn vq(s: &System, p: AsId, va: Va) -> MemoryBasicInformation {
    s.virtual_query(p, va).unwrap()
}

/// The exception of a failed memory access.
pub fn raised<T: std::fmt::Debug>(r: ntmm::vmm::Result<T>) -> ExceptionKind {
    match r {
        Err(VmmError::Exception(e)) => e.kind,
        other => panic!("expected an exception, got {other:?}"),
    }
}

/// `va + off`.
pub fn at(va: Va, off: u64) -> Va {
    Va::new(va.raw() + off)
}

/// Asserts all invariants.
pub fn ok(s: &System) {
    s.check_invariants().unwrap();
}

/// `NtMapViewOfSection` arguments for a `ViewShare` view with `protection`, the rest default
/// (other fields by struct update: `NtMapViewArgs { offset: 1, ..shared(PAGE_READWRITE) }`).
pub fn shared(protection: u32) -> NtMapViewArgs {
    NtMapViewArgs {
        inherit: VIEW_SHARE,
        protection,
        ..NtMapViewArgs::default()
    }
}

/// `NtCreateSection` arguments asking `SECTION_ALL_ACCESS` for a section of `protection` and
/// `attributes`, the rest default (other fields by struct update:
/// `NtCreateSectionArgs { file: Some(f), ..section_args(PAGE_READWRITE, SEC_COMMIT) }`).
pub fn section_args(protection: u32, attributes: u32) -> NtCreateSectionArgs<'static> {
    NtCreateSectionArgs {
        access: SECTION_ALL_ACCESS,
        protection,
        attributes,
        ..NtCreateSectionArgs::default()
    }
}

/// `NtMapViewOfSection` of `h` into the caller's own process (`NtCurrentProcess`).
pub fn nt_map(s: &System, p: AsId, h: Handle, args: NtMapViewArgs) -> Result<(Va, u64), NtStatus> {
    s.nt_map_view_of_section(p, h, Handle::INVALID, args)
}

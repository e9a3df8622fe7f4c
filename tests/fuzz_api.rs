//! API fuzzing: random and invalid arguments to every Win32 function and the native calls under
//! them (the calls on another process too, through process handles of random rights, to a
//! process that may have exited; placeholders: `VirtualAlloc2`, `MapViewOfFile3`, the split,
//! coalesce and preserve flags) — wild, closed and foreign-process handles of every type, wild and unaligned addresses,
//! huge sizes, invalid flag combinations — 100,000 calls per run (`NTMM_FUZZ_CALLS` scales it).
//! Handles that calls return join the pool, so later calls also hit live objects. Every Win32
//! failure is a known Windows error recorded in the caller's last error; every native failure is
//! a known NTSTATUS; nothing panics; the invariants hold after every call. Images join in: an
//! image file and a handle to it in the pool, `SEC_IMAGE` mappings with random protections and
//! flags, `LoadLibrary` of images, data files and bad names, `FreeLibrary` of wild addresses.
#![allow(clippy::tests_outside_test_module)]

mod common;
use common::*;
use proptest::prelude::*;

#[derive(Debug, Clone)]
enum Call {
    CreateFileMapping(u8, u32, u32, u32, Option<u8>),
    OpenFileMapping(u32, Option<u8>),
    MapView(u8, u32, u32, u32, u64, Option<u64>),
    Unmap(u64),
    Flush(u64, u64),
    Close(u8),
    Duplicate(u8, u8, u32, u32),
    VirtualAlloc(Option<u64>, u64, u32, u32),
    VirtualFree(u64, u64, u32),
    VirtualProtect(u64, u64, u32),
    VirtualQuery(u64),
    CreateFile(u8, u32, u32, u32),
    ReadFile(u8, usize),
    WriteFile(u8, usize),
    SetFilePointer(u8, i32, Option<i32>, u32),
    SetEndOfFile(u8),
    GetFileSize(u8),
    Flushfile(u8),
    DeleteFile(u8),
    CreateEvent(Option<u8>),
    OpenEvent(u32, Option<u8>),
    Memory(u64, usize, bool),
    NtCreateSection(u32, u64, u32, u32, Option<u8>, Option<u8>),
    NtMapView(u8, u8, Option<u64>, u64, u64, u32, u32),
    NtUnmap(u8, u64),
    NtAllocate(u8, Option<u64>, u64, u32, u32),
    NtFree(u8, u64, u64, u32),
    NtProtect(u8, u64, u64, u32),
    NtQuery(u8, u64),
    NtQuerySection(u8),
    NtExtendSection(u8, u64),
    NtFlush(u8, u64, u64),
    NtCreateSectionNt(u8, bool, u64, u32, Option<u8>),
    NtOpenSectionNt(u32, Option<u8>),
    NtClose(u8),
    NtAreMappedFilesTheSame(u64, u64),
    Pressure(bool),
    OpenProcess(u32, bool),
    VirtualAllocEx(u8, Option<u64>, u64, u32, u32),
    VirtualFreeEx(u8, u64, u64, u32),
    VirtualProtectEx(u8, u64, u64, u32),
    VirtualQueryEx(u8, u64),
    ReadProcessMemory(u8, u64, usize),
    WriteProcessMemory(u8, u64, usize),
    NtRead(u8, u64, usize),
    NtWrite(u8, u64, usize),
    MapViewOfFile2(u8, u8, u64, Option<u64>, u64, u32, u32),
    UnmapViewOfFile2(u8, u64, u32),
    UnmapViewOfFileEx(u64, u32),
    ExitOther,
    GetProcessMemoryInfo(u8),
    QueryWorkingSetEx(u8, u64),
    EmptyWorkingSet(u8),
    SetProcessWorkingSetSize(u8, u64, u64),
    FaultCounters(u8),
    Counters,
    VirtualAlloc2(u8, Option<u64>, u64, u32, u32),
    PlaceholderFree(u64, u64, u32),
    MapViewOfFile3(u8, u8, Option<u64>, u64, u64, u32, u32),
    MapViewOfFileFromApp(u8, u32, u64, u64),
    NtUnmapEx(u8, u64, u32),
    ImageSection(u8, u32, u32),
    LoadLibrary(u8),
    FreeLibrary(u64),
}

fn addr() -> impl Strategy<Value = u64> {
    prop_oneof![
        any::<u64>(),
        0u64..0x100_0000,
        (1u64..64).prop_map(|k| k << 16),
        (1u64..64).prop_map(|k| (k << 16) + 0x1000),
        Just(u64::MAX),
        Just(0x7FFF_FFFE_FFFF)
    ]
}
fn size() -> impl Strategy<Value = u64> {
    prop_oneof![0u64..0x20000, Just(u64::MAX), any::<u64>()]
}
/// A buffer length: usually small, sometimes far beyond any memory (a read must then fail as
/// the access does, or return what there is, never abort on the allocation).
fn length() -> impl Strategy<Value = usize> {
    prop_oneof![8 => 0usize..9000, 1 => Just(usize::MAX), 1 => Just(1usize << 40)]
}
fn flags() -> impl Strategy<Value = u32> {
    prop_oneof![
        any::<u32>(),
        (0u32..32).prop_map(|k| 1 << k),
        Just(0),
        (0u32..0x100)
    ]
}

/// Flags that reach the placeholder paths (F68–F72) often, beside random ones.
fn placeholder_flags() -> impl Strategy<Value = u32> {
    prop_oneof![
        flags(),
        Just(MEM_RESERVE | MEM_RESERVE_PLACEHOLDER),
        Just(MEM_RELEASE | MEM_PRESERVE_PLACEHOLDER),
        Just(MEM_RELEASE | MEM_COALESCE_PLACEHOLDERS),
        Just(MEM_REPLACE_PLACEHOLDER),
        Just(MEM_RESERVE | MEM_COMMIT | MEM_REPLACE_PLACEHOLDER),
        Just(MEM_PRESERVE_PLACEHOLDER),
    ]
}

fn call() -> impl Strategy<Value = Call> {
    prop_oneof![
        (
            any::<u8>(),
            proptest::option::of(addr()),
            size(),
            placeholder_flags(),
            flags()
        )
            .prop_map(|(p, a, s, t, pr)| Call::VirtualAlloc2(p, a, s, t, pr)),
        (addr(), size(), placeholder_flags()).prop_map(|(a, s, t)| Call::PlaceholderFree(a, s, t)),
        (
            any::<u8>(),
            any::<u8>(),
            proptest::option::of(addr()),
            size(),
            size(),
            placeholder_flags(),
            flags()
        )
            .prop_map(|(h, p, b, o, v, t, pr)| Call::MapViewOfFile3(h, p, b, o, v, t, pr)),
        (any::<u8>(), flags(), size(), size())
            .prop_map(|(h, a, o, v)| Call::MapViewOfFileFromApp(h, a, o, v)),
        (any::<u8>(), addr(), placeholder_flags()).prop_map(|(p, a, f)| Call::NtUnmapEx(p, a, f)),
        (
            any::<u8>(),
            flags(),
            flags(),
            flags(),
            proptest::option::of(0u8..4)
        )
            .prop_map(|(h, p, hi, lo, n)| Call::CreateFileMapping(h, p, hi % 2, lo, n)),
        (flags(), proptest::option::of(0u8..4)).prop_map(|(a, n)| Call::OpenFileMapping(a, n)),
        (
            any::<u8>(),
            flags(),
            flags(),
            flags(),
            size(),
            proptest::option::of(addr())
        )
            .prop_map(|(h, a, hi, lo, s, b)| Call::MapView(h, a, hi % 2, lo, s, b)),
        addr().prop_map(Call::Unmap),
        (addr(), size()).prop_map(|(a, s)| Call::Flush(a, s)),
        any::<u8>().prop_map(Call::Close),
        (any::<u8>(), any::<u8>(), flags(), flags())
            .prop_map(|(p, h, a, o)| Call::Duplicate(p, h, a, o)),
        (proptest::option::of(addr()), size(), flags(), flags())
            .prop_map(|(a, s, t, p)| Call::VirtualAlloc(a, s, t, p)),
        (addr(), size(), flags()).prop_map(|(a, s, t)| Call::VirtualFree(a, s, t)),
        (addr(), size(), flags()).prop_map(|(a, s, p)| Call::VirtualProtect(a, s, p)),
        addr().prop_map(Call::VirtualQuery),
        (0u8..4, flags(), flags(), 0u32..8).prop_map(|(n, a, sh, d)| Call::CreateFile(n, a, sh, d)),
        (any::<u8>(), length()).prop_map(|(h, n)| Call::ReadFile(h, n)),
        (any::<u8>(), 0usize..9000).prop_map(|(h, n)| Call::WriteFile(h, n)),
        (
            any::<u8>(),
            any::<i32>(),
            proptest::option::of(any::<i32>()),
            0u32..4
        )
            .prop_map(|(h, d, hi, m)| Call::SetFilePointer(h, d, hi, m)),
        any::<u8>().prop_map(Call::SetEndOfFile),
        any::<u8>().prop_map(Call::GetFileSize),
        any::<u8>().prop_map(Call::Flushfile),
        (0u8..5).prop_map(Call::DeleteFile),
        proptest::option::of(0u8..4).prop_map(Call::CreateEvent),
        (flags(), proptest::option::of(0u8..4)).prop_map(|(a, n)| Call::OpenEvent(a, n)),
        (addr(), length(), any::<bool>()).prop_map(|(a, n, w)| Call::Memory(a, n, w)),
        (
            flags(),
            size(),
            flags(),
            flags(),
            proptest::option::of(any::<u8>()),
            proptest::option::of(0u8..4)
        )
            .prop_map(|(a, sz, p, at, f, n)| Call::NtCreateSection(a, sz, p, at, f, n)),
        (
            any::<u8>(),
            any::<u8>(),
            proptest::option::of(addr()),
            size(),
            size(),
            flags(),
            flags()
        )
            .prop_map(|(s, p, b, o, v, t, pr)| Call::NtMapView(s, p, b, o, v, t, pr)),
        (any::<u8>(), addr()).prop_map(|(p, a)| Call::NtUnmap(p, a)),
        (
            any::<u8>(),
            proptest::option::of(addr()),
            size(),
            flags(),
            flags()
        )
            .prop_map(|(p, a, s, t, pr)| Call::NtAllocate(p, a, s, t, pr)),
        (any::<u8>(), addr(), size(), flags()).prop_map(|(p, a, s, t)| Call::NtFree(p, a, s, t)),
        (any::<u8>(), addr(), size(), flags())
            .prop_map(|(p, a, s, pr)| Call::NtProtect(p, a, s, pr)),
        (any::<u8>(), addr()).prop_map(|(p, a)| Call::NtQuery(p, a)),
        any::<u8>().prop_map(Call::NtQuerySection),
        (any::<u8>(), size()).prop_map(|(h, s)| Call::NtExtendSection(h, s)),
        (any::<u8>(), addr(), size()).prop_map(|(p, a, s)| Call::NtFlush(p, a, s)),
        (
            any::<u8>(),
            any::<bool>(),
            size(),
            flags(),
            proptest::option::of(any::<u8>())
        )
            .prop_map(|(n, oi, sz, p, f)| Call::NtCreateSectionNt(n, oi, sz, p, f)),
        (flags(), proptest::option::of(any::<u8>())).prop_map(|(a, n)| Call::NtOpenSectionNt(a, n)),
        any::<u8>().prop_map(Call::NtClose),
        (addr(), addr()).prop_map(|(a, b)| Call::NtAreMappedFilesTheSame(a, b)),
        any::<bool>().prop_map(Call::Pressure),
        (flags(), any::<bool>()).prop_map(|(a, o)| Call::OpenProcess(a, o)),
        (
            any::<u8>(),
            proptest::option::of(addr()),
            size(),
            flags(),
            flags()
        )
            .prop_map(|(p, a, s, t, pr)| Call::VirtualAllocEx(p, a, s, t, pr)),
        (any::<u8>(), addr(), size(), flags())
            .prop_map(|(p, a, s, t)| Call::VirtualFreeEx(p, a, s, t)),
        (any::<u8>(), addr(), size(), flags())
            .prop_map(|(p, a, s, pr)| Call::VirtualProtectEx(p, a, s, pr)),
        (any::<u8>(), addr()).prop_map(|(p, a)| Call::VirtualQueryEx(p, a)),
        (any::<u8>(), addr(), length()).prop_map(|(p, a, n)| Call::ReadProcessMemory(p, a, n)),
        (any::<u8>(), addr(), 0usize..9000).prop_map(|(p, a, n)| Call::WriteProcessMemory(p, a, n)),
        (any::<u8>(), addr(), length()).prop_map(|(p, a, n)| Call::NtRead(p, a, n)),
        (any::<u8>(), addr(), 0usize..9000).prop_map(|(p, a, n)| Call::NtWrite(p, a, n)),
        (
            any::<u8>(),
            any::<u8>(),
            size(),
            proptest::option::of(addr()),
            size(),
            flags(),
            flags()
        )
            .prop_map(|(h, p, o, b, v, t, pr)| Call::MapViewOfFile2(h, p, o, b, v, t, pr)),
        (any::<u8>(), addr(), flags()).prop_map(|(p, a, f)| Call::UnmapViewOfFile2(p, a, f)),
        (addr(), flags()).prop_map(|(a, f)| Call::UnmapViewOfFileEx(a, f)),
        Just(Call::ExitOther),
        any::<u8>().prop_map(Call::GetProcessMemoryInfo),
        (any::<u8>(), addr()).prop_map(|(p, a)| Call::QueryWorkingSetEx(p, a)),
        any::<u8>().prop_map(Call::EmptyWorkingSet),
        (any::<u8>(), size(), size()).prop_map(|(p, a, b)| Call::SetProcessWorkingSetSize(p, a, b)),
        any::<u8>().prop_map(Call::FaultCounters),
        Just(Call::Counters),
        (any::<u8>(), flags(), prop_oneof![Just(0u32), flags()])
            .prop_map(|(h, p, x)| Call::ImageSection(h, p, x)),
        (0u8..8).prop_map(Call::LoadLibrary),
        prop_oneof![Just(0x1_8000_0000u64), addr()].prop_map(Call::FreeLibrary),
    ]
}

const CALLS_PER_CASE: usize = 100;

fn cases() -> u32 {
    scaled_cases("NTMM_FUZZ_CALLS", 100_000, CALLS_PER_CASE)
}

/// A native result: success, or a failure status this project names.
fn native<T>(r: Result<T, NtStatus>) -> Result<Option<T>, TestCaseError> {
    match r {
        Ok(v) => Ok(Some(v)),
        Err(st) => {
            prop_assert!(!st.is_success(), "a failure carried a success status");
            prop_assert!(st.name().is_some(), "unknown NTSTATUS {:#x}", st.raw());
            Ok(None)
        }
    }
}

const NAMES: [&str; 4] = ["a", "Local\\b", "Global\\a", "Local\\x\\y"];
/// NT names (`OBJECT_ATTRIBUTES`): the objects of NAMES, and bad ones of every kind.
const NT_NAMES: [&str; 8] = [
    "\\Sessions\\1\\BaseNamedObjects\\a",
    "\\Sessions\\1\\BaseNamedObjects\\b",
    "\\BaseNamedObjects\\a",
    "\\BaseNamedObjects\\",
    "relative",
    "\\Sessions\\9\\BaseNamedObjects\\a",
    "\\BaseNamedObjects\\x\\y",
    "",
];
const FILES: [&str; 5] = ["f0.bin", "f1.bin", "dir/f2.bin", "", "bad*name"];
/// What `LoadLibrary` is given: the image, a data file, a truncated image, missing and bad names.
const IMAGES: [&str; 6] = [
    "app.dll",
    "f0.bin",
    "short.dll",
    "missing.dll",
    "",
    "bad*name",
];

proptest! {
    #![proptest_config(ProptestConfig::with_cases(cases()))]

    /// 1,000 cases × 100 calls = 100,000 calls, on machines of 8 to 64 frames.
    #[test]
    fn fuzz_wild_win32_and_native_calls(
        calls in prop::collection::vec(call(), CALLS_PER_CASE),
        frames in prop_oneof![Just(8u32), Just(16), Just(64)],
    ) {
        let s = machine(frames, 256, 8);
        let me = s.create_process(None, false).unwrap();
        let other = s.create_process(None, false).unwrap();
        s.create_volume_file("f0.bin", b"file zero").unwrap();
        // A pool of handles: live ones of every type in both processes, closed ones, wild ones.
        let mut pool: Vec<Handle> = vec![Handle::NULL, Handle::INVALID, Handle(0x1235), Handle(0xFFFC)];
        pool.push(anon(&s, me, PAGE_READWRITE, 0x2000, Some("a")).unwrap());
        pool.push(s.create_file(me, "f0.bin", GENERIC_READ | GENERIC_WRITE, 7, false, OPEN_EXISTING, 0).unwrap());
        pool.push(s.create_event(me, false, true, false, None).unwrap());
        pool.push(s.open_process(me, other).unwrap());
        pool.push(anon(&s, other, PAGE_READONLY, 0x1000, None).unwrap());
        {
            use ntmm::api::section::image::{ImageSectionSpec, ImageSpec};
            let spec = ImageSpec { base: 0x1_8000_0000, sections: vec![
                ImageSectionSpec { name: ".text".into(), read: true, execute: true, data: b"code".to_vec(), ..Default::default() },
                ImageSectionSpec { name: ".data".into(), read: true, write: true, virtual_size: Some(0x2000), ..Default::default() },
                ImageSectionSpec { name: ".shared".into(), read: true, write: true, shared: true, data: b"s".to_vec(), ..Default::default() },
            ] };
            s.write_image("app.dll", &spec).unwrap();
            let pe = ntmm::api::section::image::build_pe(&spec, true).unwrap();
            s.create_volume_file("short.dll", &pe[..0x300]).unwrap();
        }
        pool.push(s.create_file(me, "app.dll", GENERIC_READ | GENERIC_EXECUTE, 7, false, OPEN_EXISTING, 0).unwrap());
        let closed = anon(&s, me, PAGE_READWRITE, 0x1000, None).unwrap();
        s.close_handle(me, closed).unwrap();
        pool.push(closed);
        let name = |n: Option<u8>| n.map(|i| NAMES[i as usize % NAMES.len()]);
        for (step, c) in calls.into_iter().enumerate() {
            let h = |i: u8| pool[i as usize % pool.len()];
            s.set_last_error(me, 0xDEAD);
            let mut born: Option<Handle> = None;
            let is_native = format!("{c:?}").starts_with("Nt");
            let failed: Option<u32> = match c {
                Call::CreateFileMapping(f, p, hi, lo, n) => match s.create_file_mapping(me, h(f), false, p, hi, lo % 0x10_0000, name(n)) {
                    Ok(x) => { born = Some(x); None }
                    Err(e) => Some(e.0),
                },
                Call::OpenFileMapping(a, n) => s.open_file_mapping(me, a, false, name(n).unwrap_or("")).err().map(|e| e.0),
                Call::MapView(x, a, hi, lo, sz, b) => s.map_view_of_file_ex(me, h(x), a, hi, lo, sz, b.map(Va::new)).err().map(|e| e.0),
                Call::Unmap(a) => s.unmap_view_of_file(me, Va::new(a)).err().map(|e| e.0),
                Call::Flush(a, sz) => s.flush_view_of_file(me, Va::new(a), sz).err().map(|e| e.0),
                Call::Close(x) => s.close_handle(me, h(x)).err().map(|e| e.0),
                Call::Duplicate(p, x, a, o) => s.duplicate_handle(me, h(p), h(x), h(p.wrapping_add(1)), a, false, o).err().map(|e| e.0),
                Call::VirtualAlloc(a, sz, t, p) => s.virtual_alloc(me, a.map(Va::new), sz % (1 << 40), t, p).err().map(|e| e.0),
                Call::VirtualFree(a, sz, t) => s.virtual_free(me, Va::new(a), sz, t).err().map(|e| e.0),
                Call::VirtualProtect(a, sz, p) => s.virtual_protect(me, Va::new(a), sz, p).err().map(|e| e.0),
                Call::VirtualQuery(a) => s.virtual_query(me, Va::new(a)).err().map(|e| e.0),
                Call::CreateFile(n, a, sh, d) => s.create_file(me, FILES[n as usize % FILES.len()], a, sh, false, d, 0).err().map(|e| e.0),
                Call::ReadFile(x, n) => s.read_file(me, h(x), n).err().map(|e| e.0),
                Call::WriteFile(x, n) => s.write_file(me, h(x), &vec![7u8; n]).err().map(|e| e.0),
                Call::SetFilePointer(x, d, hi, m) => s.set_file_pointer(me, h(x), d, hi.map(|v| v % 4), m).err().map(|e| e.0),
                Call::SetEndOfFile(x) => s.set_end_of_file(me, h(x)).err().map(|e| e.0),
                Call::GetFileSize(x) => s.get_file_size(me, h(x)).err().map(|e| e.0),
                Call::Flushfile(x) => s.flush_file_buffers(me, h(x)).err().map(|e| e.0),
                Call::DeleteFile(n) => s.delete_file(me, FILES[n as usize % FILES.len()]).err().map(|e| e.0),
                Call::CreateEvent(n) => s.create_event(me, false, false, false, name(n)).err().map(|e| e.0),
                Call::OpenEvent(a, n) => s.open_event(me, a, false, name(n).unwrap_or("")).err().map(|e| e.0),
                Call::Memory(a, n, w) => {
                    if w { let _ = s.write_memory(me, Va::new(a), &vec![1u8; n.min(9000)]); } else { let _ = s.read_memory(me, Va::new(a), n); }
                    None
                }
                Call::NtCreateSection(a, sz, p, at, f, n) => {
                    let args = NtCreateSectionArgs { access: a, name: name(n), inherit: false, maximum_size: sz % (1 << 36), protection: p, attributes: at, file: f.map(h) };
                    born = native(s.nt_create_section(me, args))?.map(|(x, _)| x);
                    None
                }
                Call::NtMapView(x, p, b, o, v, t, pr) => {
                    let args = NtMapViewArgs { base: b.map(Va::new), offset: o, view_size: v, allocation_type: t, protection: pr, ..NtMapViewArgs::default() };
                    native(s.nt_map_view_of_section(me, h(x), h(p), args))?;
                    None
                }
                Call::NtUnmap(p, a) => { native(s.nt_unmap_view_of_section(me, h(p), Va::new(a)))?; None }
                Call::NtAllocate(p, a, sz, t, pr) => { native(s.nt_allocate_virtual_memory(me, h(p), a.map(Va::new), sz % (1 << 40), t, pr))?; None }
                Call::NtFree(p, a, sz, t) => { native(s.nt_free_virtual_memory(me, h(p), Va::new(a), sz, t))?; None }
                Call::NtProtect(p, a, sz, pr) => { native(s.nt_protect_virtual_memory_range(me, h(p), Va::new(a), sz, pr))?; None }
                Call::NtQuery(p, a) => { native(s.nt_query_virtual_memory(me, h(p), Va::new(a)))?; None }
                Call::NtQuerySection(x) => { native(s.nt_query_section(me, h(x)))?; None }
                Call::NtExtendSection(x, sz) => { native(s.nt_extend_section(me, h(x), sz % (1 << 36)))?; None }
                Call::NtFlush(p, a, sz) => { native(s.nt_flush_virtual_memory(me, h(p), Va::new(a), sz))?; None }
                Call::NtCreateSectionNt(n, open_if, sz, p, f) => {
                    let attributes = ObjectAttributes { name: Some(NT_NAMES[n as usize % NT_NAMES.len()]), inherit: false, open_if };
                    let args = NtCreateSectionArgs { access: SECTION_ALL_ACCESS, maximum_size: sz % (1 << 36), protection: p, attributes: SEC_COMMIT, file: f.map(h), ..NtCreateSectionArgs::default() };
                    born = native(s.nt_create_section_attributes(me, attributes, args))?.map(|(x, _)| x);
                    None
                }
                Call::NtOpenSectionNt(a, n) => {
                    let attributes = n.map(|i| ObjectAttributes { name: Some(NT_NAMES[i as usize % NT_NAMES.len()]), ..ObjectAttributes::default() });
                    born = native(s.nt_open_section_attributes(me, a, attributes))?;
                    None
                }
                Call::NtClose(x) => { native(s.nt_close(me, h(x)))?; None }
                Call::NtAreMappedFilesTheSame(a, b) => {
                    let st = s.nt_are_mapped_files_the_same(me, Va::new(a), Va::new(b));
                    prop_assert!(st.name().is_some(), "unknown NTSTATUS {:#x}", st.raw());
                    None
                }
                Call::OpenProcess(a, own) => {
                    let target = if own { me } else { other };
                    match s.open_process_access(me, a, false, target) {
                        Ok(x) => { born = Some(x); None }
                        Err(e) => Some(e.0),
                    }
                }
                Call::VirtualAllocEx(p, a, sz, t, pr) => s.virtual_alloc_ex(me, h(p), a.map(Va::new), sz % (1 << 40), t, pr).err().map(|e| e.0),
                Call::VirtualFreeEx(p, a, sz, t) => s.virtual_free_ex(me, h(p), Va::new(a), sz, t).err().map(|e| e.0),
                Call::VirtualProtectEx(p, a, sz, pr) => s.virtual_protect_ex(me, h(p), Va::new(a), sz, pr).err().map(|e| e.0),
                Call::VirtualQueryEx(p, a) => s.virtual_query_ex(me, h(p), Va::new(a)).err().map(|e| e.0),
                Call::GetProcessMemoryInfo(p) => match s.get_process_memory_info(me, h(p)) {
                    Ok(c) => {
                        // Bytes of whole pages; a peak is never below its value.
                        prop_assert_eq!(c.working_set_size % 4096, 0);
                        prop_assert!(c.peak_working_set_size >= c.working_set_size);
                        prop_assert!(c.peak_pagefile_usage >= c.pagefile_usage);
                        prop_assert_eq!(c.private_usage, c.pagefile_usage);
                        None
                    }
                    Err(e) => Some(e.0),
                },
                Call::QueryWorkingSetEx(p, a) => match s.query_working_set_ex(me, h(p), Va::new(a)) {
                    Ok(b) => {
                        prop_assert!(b.share_count <= 7);
                        if !b.valid { prop_assert_eq!((b.share_count, b.win32_protection), (0, 0)); }
                        if !b.shared { prop_assert_eq!(b.share_count, 0); }
                        None
                    }
                    Err(e) => Some(e.0),
                },
                Call::EmptyWorkingSet(p) => s.empty_working_set(me, h(p)).err().map(|e| e.0),
                Call::SetProcessWorkingSetSize(p, a, b) => s.set_process_working_set_size(me, h(p), a, b).err().map(|e| e.0),
                Call::FaultCounters(p) => s.ntmm_fault_counters(me, h(p)).err().map(|e| e.0),
                Call::Counters => {
                    let (perf, l) = (s.get_performance_info(), s.ntmm_page_lists());
                    prop_assert_eq!(l.zeroed + l.free + l.standby + l.modified + l.modified_no_write + l.active, perf.physical_total);
                    prop_assert_eq!(perf.physical_available, l.zeroed + l.free + l.standby);
                    prop_assert!(perf.commit_total <= perf.commit_limit && perf.commit_total <= perf.commit_peak);
                    let _ = s.ntmm_io_counters();
                    None
                }
                Call::ReadProcessMemory(p, a, n) => {
                    let (r, got) = s.read_process_memory(me, h(p), Va::new(a), n as u64);
                    prop_assert!(got.len() as u64 <= n as u64, "more bytes than asked");
                    if r.is_ok() { prop_assert_eq!(got.len(), n, "a success reads everything"); }
                    r.err().map(|e| e.0)
                }
                Call::WriteProcessMemory(p, a, n) => {
                    let (r, count) = s.write_process_memory(me, h(p), Va::new(a), &vec![9u8; n]);
                    prop_assert!(count.is_none_or(|c| c <= n as u64), "more bytes than given");
                    if r.is_ok() { prop_assert_eq!(count, Some(n as u64)); }
                    r.err().map(|e| e.0)
                }
                Call::NtRead(p, a, n) => {
                    let (st, got) = s.nt_read_virtual_memory(me, h(p), Va::new(a), n as u64);
                    prop_assert!(got.len() as u64 <= n as u64);
                    prop_assert!(st.name().is_some(), "unknown NTSTATUS {:#x}", st.raw());
                    if st.is_success() { prop_assert_eq!(got.len(), n, "a success reads everything"); }
                    if st == NtStatus::STATUS_PARTIAL_COPY { prop_assert!(got.len() < n, "a partial copy reads less"); }
                    None
                }
                Call::NtWrite(p, a, n) => {
                    let (st, count) = s.nt_write_virtual_memory(me, h(p), Va::new(a), &vec![3u8; n]);
                    prop_assert!(count <= n as u64);
                    prop_assert!(st.name().is_some(), "unknown NTSTATUS {:#x}", st.raw());
                    if st.is_success() { prop_assert_eq!(count, n as u64, "a success writes everything"); }
                    if st == NtStatus::STATUS_PARTIAL_COPY { prop_assert!(count < n as u64, "a partial copy writes less"); }
                    None
                }
                Call::MapViewOfFile2(x, p, o, b, v, t, pr) => s.map_view_of_file2(me, h(x), h(p), o, b.map(Va::new), v, t, pr).err().map(|e| e.0),
                Call::UnmapViewOfFile2(p, a, f) => s.unmap_view_of_file2(me, h(p), Va::new(a), f).err().map(|e| e.0),
                Call::UnmapViewOfFileEx(a, f) => s.unmap_view_of_file_ex(me, Va::new(a), f).err().map(|e| e.0),
                Call::VirtualAlloc2(p, a, sz, t, pr) => s.virtual_alloc2(me, h(p), a.map(Va::new), sz, t, pr).err().map(|e| e.0),
                Call::PlaceholderFree(a, sz, t) => s.virtual_free(me, Va::new(a), sz, t).err().map(|e| e.0),
                Call::MapViewOfFile3(x, p, b, o, v, t, pr) => s.map_view_of_file3(me, h(x), h(p), b.map(Va::new), o, v, t, pr).err().map(|e| e.0),
                Call::MapViewOfFileFromApp(x, a, o, v) => s.map_view_of_file_from_app(me, h(x), a, o, v).err().map(|e| e.0),
                Call::NtUnmapEx(p, a, f) => {
                    let st = s.nt_unmap_view_of_section_ex(me, h(p), Va::new(a), f).err().unwrap_or(NtStatus::STATUS_SUCCESS);
                    prop_assert!(st.name().is_some(), "unknown NTSTATUS {:#x}", st.raw());
                    None
                }
                Call::ImageSection(f, p, x) => match s.create_file_mapping(me, h(f), false, (p & 0xFF) | SEC_IMAGE | x, 0, 0, None) {
                    Ok(m) => { born = Some(m); None }
                    Err(e) => Some(e.0),
                },
                Call::LoadLibrary(n) => s.load_library(me, IMAGES[n as usize % IMAGES.len()]).err().map(|e| e.0),
                Call::FreeLibrary(a) => s.free_library(me, Va::new(a)).err().map(|e| e.0),
                Call::ExitOther => {
                    if s.processes().contains(&other) { s.exit_process(other).unwrap(); }
                    None
                }
                Call::Pressure(all) => {
                    if all { s.executive().trim_all(); } else { s.executive().trim(me).unwrap(); }
                    s.executive().run_writers();
                    None
                }
            };
            if let Some(x) = born {
                if pool.len() < 64 { pool.push(x); }
            }
            if is_native {
                // Native calls return their status and never touch the last error.
                prop_assert_eq!(s.get_last_error(me), 0xDEAD);
            }
            if let Some(code) = failed {
                prop_assert!(code != 0 && code != 0xDEAD, "a failure must set a Windows error");
                prop_assert_eq!(s.get_last_error(me), code);
                prop_assert!(error_name(code).is_some(), "unknown Win32 error {}", code);
            }
            if let Err(v) = s.check_invariants() {
                return Err(TestCaseError::fail(format!("after call {step}: {v}")));
            }
        }
    }
}

//! File names on memory and host volumes alike: case kept and folded as NTFS folds it, the Win32
//! name rules (`RtlDosPathNameToNtPathName_U`, checked against Wine's tests of Windows:
//! `dlls/ntdll/tests/path.c` `test_RtlGetFullPathName_U`, `test_RtlIsDosDeviceName_U`,
//! `test_RtlDosPathNameToNtPathName_U`, `test_nt_names`), the length limits and the largest
//! file — the same results on both volumes (a differential run of the same calls).
#![allow(clippy::tests_outside_test_module)]

mod common;
use common::*;
use std::path::Path;

const RW: u32 = GENERIC_READ | GENERIC_WRITE;
/// 16 TiB − 64 KiB: NTFS's largest file with 4 KiB clusters, the model's on both volumes.
const LARGEST: u64 = 0x0000_0FFF_FFFF_0000;

fn system(volume: Volume) -> System {
    System::new(SystemConfig {
        vmm: VmmConfig {
            frames: 64,
            ..VmmConfig::default()
        },
        volume,
    })
    .unwrap()
}

fn host(dir: &Path) -> System {
    system(Volume::HostDirectory(dir.to_path_buf()))
}

/// Names in a host directory, sorted.
fn listing(dir: &Path) -> Vec<String> {
    let mut v: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .collect();
    v.sort();
    v
}

#[test]
fn host_files_made_outside_with_capitals_are_found_by_any_case() {
    let d = tempfile::tempdir().unwrap();
    std::fs::create_dir(d.path().join("Sub")).unwrap();
    std::fs::write(d.path().join("Sub/Data.BIN"), b"made outside").unwrap();
    let s = host(d.path());
    let p = s.create_process(None, false).unwrap();
    let h = s
        .create_file(p, "sub\\data.bin", RW, 7, false, OPEN_EXISTING, 0)
        .unwrap();
    assert_eq!(s.read_file(p, h, 64).unwrap(), b"made outside");
    assert_eq!(s.read_disk("SUB/DATA.bin").unwrap(), b"made outside");
    s.close_handle(p, h).unwrap();
    s.delete_file(p, "sUb\\dAtA.bIn").unwrap();
    assert!(listing(&d.path().join("Sub")).is_empty());
}

#[test]
fn new_files_keep_the_case_the_program_gave() {
    for_both(|s, p, dir| {
        let h = s
            .create_file(p, "NewDir\\MixedCase.Txt", RW, 0, false, CREATE_NEW, 0)
            .unwrap();
        s.write_file(p, h, b"x").unwrap();
        s.close_handle(p, h).unwrap();
        // Found again under any case, and it is one file.
        let r = s.create_file(p, "newdir\\MIXEDCASE.TXT", RW, 0, false, CREATE_NEW, 0);
        assert_eq!(err(s, p, r), ERROR_FILE_EXISTS);
        if let Some(dir) = dir {
            assert_eq!(listing(dir), ["NewDir"]);
            assert_eq!(listing(&dir.join("NewDir")), ["MixedCase.Txt"]);
        }
    });
}

/// NTFS folds through `$UpCase`, one character to one: `k` and the Kelvin sign (U+212A) stay
/// two names, as do `ß` and `ss`; `é` and `É` are one.
#[test]
fn names_ntfs_keeps_apart_stay_apart() {
    for_both(|s, p, dir| {
        for (a, b) in [("k.bin", "\u{212A}.bin"), ("ß.bin", "ss.bin")] {
            let ha = s.create_file(p, a, RW, 0, false, CREATE_NEW, 0).unwrap();
            let hb = s.create_file(p, b, RW, 0, false, CREATE_NEW, 0).unwrap();
            s.write_file(p, ha, a.as_bytes()).unwrap();
            s.write_file(p, hb, b.as_bytes()).unwrap();
            s.close_handle(p, ha).unwrap();
            s.close_handle(p, hb).unwrap();
        }
        let r = s.create_file(p, "K.BIN", RW, 0, false, CREATE_NEW, 0);
        assert_eq!(err(s, p, r), ERROR_FILE_EXISTS, "K folds to k");
        let r = s.create_file(p, "SS.bin", RW, 0, false, CREATE_NEW, 0);
        assert_eq!(err(s, p, r), ERROR_FILE_EXISTS, "SS folds to ss");
        let h = s
            .create_file(p, "é.bin", RW, 0, false, CREATE_NEW, 0)
            .unwrap();
        s.close_handle(p, h).unwrap();
        let r = s.create_file(p, "É.BIN", RW, 0, false, CREATE_NEW, 0);
        assert_eq!(err(s, p, r), ERROR_FILE_EXISTS);
        if let Some(dir) = dir {
            assert_eq!(
                listing(dir),
                ["k.bin", "ss.bin", "ß.bin", "é.bin", "\u{212A}.bin"]
            );
        }
    });
}

/// A case-sensitive host directory may hold two names that fold alike: the one spelled exactly
/// as asked wins, else the least in byte order (DESIGN.md "Volumes").
#[test]
fn host_names_that_fold_alike_resolve_deterministically() {
    let d = tempfile::tempdir().unwrap();
    std::fs::write(d.path().join("dup.bin"), b"lower").unwrap();
    std::fs::write(d.path().join("DUP.bin"), b"upper").unwrap();
    let s = host(d.path());
    assert_eq!(s.read_disk("dup.bin").unwrap(), b"lower");
    let s = host(d.path());
    assert_eq!(s.read_disk("DUP.bin").unwrap(), b"upper");
    let s = host(d.path());
    assert_eq!(
        s.read_disk("Dup.BIN").unwrap(),
        b"upper",
        "\"DUP.bin\" < \"dup.bin\""
    );
}

/// Trailing dots and spaces (Wine `test_RtlGetFullPathName_U`: `"c:/test  ....   ..   "` →
/// `c:\test`, `"c:/test./file"` → `c:\test\file`, `"c:/test.. /file"` keeps `test.. `).
#[test]
fn trailing_dots_and_spaces_are_stripped_as_win32_strips_them() {
    for_both(|s, p, dir| {
        let h = s
            .create_file(p, "trail.bin. . ", RW, 0, false, CREATE_NEW, 0)
            .unwrap();
        s.write_file(p, h, b"t").unwrap();
        s.close_handle(p, h).unwrap();
        let h = s
            .create_file(p, "trail.bin", RW, 0, false, OPEN_EXISTING, 0)
            .unwrap();
        assert_eq!(s.read_file(p, h, 8).unwrap(), b"t");
        s.close_handle(p, h).unwrap();
        let h = s
            .create_file(p, "d.\\f.bin", RW, 0, false, CREATE_NEW, 0)
            .unwrap();
        s.close_handle(p, h).unwrap();
        let h = s
            .create_file(p, "d\\f.bin...", RW, 0, false, OPEN_EXISTING, 0)
            .unwrap();
        s.close_handle(p, h).unwrap();
        let h = s
            .create_file(p, "e.. \\g.bin", RW, 0, false, CREATE_NEW, 0)
            .unwrap();
        s.close_handle(p, h).unwrap();
        let r = s.create_file(p, "e\\g.bin", RW, 0, false, OPEN_EXISTING, 0);
        assert_eq!(err(s, p, r), ERROR_FILE_NOT_FOUND, "`e.. ` keeps its space");
        let r = s.create_file(p, "dir\\. .. ", RW, 0, false, CREATE_NEW, 0);
        assert_eq!(err(s, p, r), ERROR_PATH_NOT_FOUND, "names a directory");
        if let Some(dir) = dir {
            assert_eq!(listing(dir), ["d", "e.. ", "trail.bin"]);
        }
    });
}

/// Reserved device names, in any directory and before an extension (Wine
/// `test_RtlIsDosDeviceName_U`): the model has no devices, so every disposition is
/// `ERROR_FILE_NOT_FOUND` and nothing is created.
#[test]
fn device_names_are_refused_and_create_nothing() {
    for_both(|s, p, dir| {
        for name in [
            "nul",
            "NUL",
            "con.txt",
            "dir\\com1.log",
            "LPT9",
            "aux.tar.gz",
            "prn  ..",
            "nul:",
            "COM\u{b9}",
        ] {
            for d in [
                CREATE_NEW,
                CREATE_ALWAYS,
                OPEN_EXISTING,
                OPEN_ALWAYS,
                TRUNCATE_EXISTING,
            ] {
                let r = s.create_file(p, name, RW, 0, false, d, 0);
                assert_eq!(err(s, p, r), ERROR_FILE_NOT_FOUND, "{name} {d}");
            }
            assert_eq!(err(s, p, s.delete_file(p, name)), ERROR_FILE_NOT_FOUND);
            assert_eq!(
                s.create_volume_file(name, b"x").unwrap_err(),
                Win32Error(ERROR_FILE_NOT_FOUND)
            );
        }
        // Not devices: LPT0, nul0, a device name as a directory, \\?\ names.
        for name in ["lpt0.txt", "nul0", "nul\\foo", "\\\\?\\C:\\con"] {
            let h = s.create_file(p, name, RW, 0, false, CREATE_NEW, 0).unwrap();
            s.close_handle(p, h).unwrap();
        }
        if let Some(dir) = dir {
            assert_eq!(listing(dir), ["con", "lpt0.txt", "nul", "nul0"]);
        }
    });
}

#[test]
fn an_embedded_nul_ends_the_name() {
    for_both(|s, p, dir| {
        let h = s
            .create_file(p, "cut.bin\0tail", RW, 0, false, CREATE_NEW, 0)
            .unwrap();
        s.close_handle(p, h).unwrap();
        let h = s
            .create_file(p, "cut.bin", RW, 0, false, OPEN_EXISTING, 0)
            .unwrap();
        s.close_handle(p, h).unwrap();
        if let Some(dir) = dir {
            assert_eq!(listing(dir), ["cut.bin"]);
        }
    });
}

/// A create that fails on the host removes the directories it made for the file.
#[test]
fn a_failed_host_create_leaves_no_directories() {
    let d = tempfile::tempdir().unwrap();
    let s = host(d.path());
    let p = s.create_process(None, false).unwrap();
    // 200 UTF-16 units (a valid NTFS name) but 400 bytes of UTF-8: more than the host stores.
    let name = format!("new\\deeper\\{}", "é".repeat(200));
    let r = s.create_file(p, &name, RW, 0, false, CREATE_NEW, 0);
    assert_eq!(err(&s, p, r), ERROR_INVALID_NAME);
    assert!(listing(d.path()).is_empty(), "{:?}", listing(d.path()));
}

/// Runs `f` on a memory volume and on a fresh host volume (with its directory).
fn for_both(f: impl Fn(&System, AsId, Option<&Path>)) {
    let s = system(Volume::Memory);
    let p = s.create_process(None, false).unwrap();
    f(&s, p, None);
    let d = tempfile::tempdir().unwrap();
    let s = host(d.path());
    let p = s.create_process(None, false).unwrap();
    f(&s, p, Some(d.path()));
}

/// One step of the differential run: its result as a comparable string.
fn calls(s: &System) -> Vec<String> {
    let p = s.create_process(None, false).unwrap();
    let mut out = Vec::new();
    let create = |name: &str, d: u32| {
        let r = s.create_file(p, name, RW, 0, false, d, 0);
        let line = format!("{name:.40}: {:?}", r.as_ref().map(|_| ()));
        if let Ok(h) = r {
            s.close_handle(p, h).unwrap();
        }
        line
    };
    let c255 = "a".repeat(255);
    let c256 = "a".repeat(256);
    out.push(create(&c255, CREATE_NEW));
    out.push(create(&c256, CREATE_NEW));
    out.push(create(&format!("x\\{c256}"), CREATE_NEW));
    out.push(create(
        &format!("{}\\{}", "b".repeat(100), "c".repeat(155)),
        CREATE_NEW,
    ));
    out.push(create(
        &format!("{}\\{}", "b".repeat(100), "c".repeat(156)),
        CREATE_NEW,
    ));
    let long = format!(
        "{}\\{}\\{}",
        "d".repeat(200),
        "e".repeat(200),
        "f".repeat(200)
    );
    out.push(create(&long, CREATE_NEW));
    out.push(create(&format!("\\\\?\\C:\\{long}"), CREATE_NEW));
    out.push(create(&format!("\\\\?\\C:\\{long}"), OPEN_EXISTING));
    out.push(create(
        &format!("\\\\?\\{}", vec!["g".repeat(200); 170].join("\\")),
        CREATE_NEW,
    ));
    out.push(create("Trail. ", CREATE_NEW));
    out.push(create("TRAIL", OPEN_EXISTING));
    out.push(create("nul.txt", OPEN_ALWAYS));
    // The largest file: growing to it works, one byte more is ERROR_DISK_FULL, however the
    // file grows.
    let h = s
        .create_file(p, "big.bin", RW, 0, false, CREATE_NEW, 0)
        .unwrap();
    let size = |n: u64| {
        let r = s.set_file_pointer(p, h, n as u32 as i32, Some((n >> 32) as i32), FILE_BEGIN);
        assert!(r.is_ok());
        let r = s.set_end_of_file(p, h);
        format!(
            "SetEndOfFile {n:#x}: {r:?} size {:?}",
            s.get_file_size(p, h)
        )
    };
    out.push(size(LARGEST + 1));
    out.push(size(LARGEST));
    out.push(size(20 << 40));
    out.push(size(0));
    let r = s.set_file_pointer(
        p,
        h,
        LARGEST as u32 as i32,
        Some((LARGEST >> 32) as i32),
        FILE_BEGIN,
    );
    assert!(r.is_ok());
    out.push(format!(
        "WriteFile past the largest: {:?}",
        s.write_file(p, h, b"xy")
    ));
    out.push(format!(
        "CreateFileMapping past the largest: {:?}",
        s.create_file_mapping(p, h, false, PAGE_READWRITE, 0x1000, 0, None)
            .map(|_| ())
    ));
    out.push(format!("size {:?}", s.get_file_size(p, h)));
    s.close_handle(p, h).unwrap();
    out
}

/// The same calls on a memory and a host volume give the same results, among them the length
/// limits (a component over 255 UTF-16 units: `ERROR_INVALID_NAME`; a path of `MAX_PATH` or
/// more without `\\?\`: `ERROR_PATH_NOT_FOUND`; a `\\?\` path over 32767 units:
/// `ERROR_FILENAME_EXCED_RANGE`) and the largest file (`ERROR_DISK_FULL` past 16 TiB − 64 KiB).
#[test]
fn memory_and_host_volumes_agree_on_limits() {
    let mem = calls(&system(Volume::Memory));
    let d = tempfile::tempdir().unwrap();
    let on_host = calls(&host(d.path()));
    assert_eq!(mem, on_host);
    let expect = [
        "Ok(())",
        "Err(ERROR_INVALID_NAME)",
        "Err(ERROR_INVALID_NAME)",
        "Ok(())",
        "Err(ERROR_PATH_NOT_FOUND)",
        "Err(ERROR_PATH_NOT_FOUND)",
        "Ok(())",
        "Ok(())",
        "Err(ERROR_FILENAME_EXCED_RANGE)",
        "Ok(())",
        "Ok(())",
        "Err(ERROR_FILE_NOT_FOUND)",
    ];
    for (line, e) in mem.iter().zip(expect) {
        assert!(line.ends_with(e), "{line} should end with {e}");
    }
    assert_eq!(
        mem[12],
        format!(
            "SetEndOfFile {:#x}: Err(ERROR_DISK_FULL) size Ok(0)",
            LARGEST + 1
        )
    );
    assert_eq!(
        mem[13],
        format!("SetEndOfFile {LARGEST:#x}: Ok(()) size Ok({LARGEST})")
    );
    assert!(mem[14].contains("ERROR_DISK_FULL"), "{}", mem[14]);
    assert!(mem[16].ends_with("Err(ERROR_DISK_FULL)"), "{}", mem[16]);
    assert!(mem[17].ends_with("Err(ERROR_DISK_FULL)"), "{}", mem[17]);
    assert_eq!(mem[18], "size Ok(0)");
}

//! Conformance: file operations, sharing and truncation while mapped (windows_facts §P, §Q;
//! nt_internals §8).
#![allow(clippy::tests_outside_test_module)]

mod common;
use common::*;

const RW: u32 = GENERIC_READ | GENERIC_WRITE;

fn mapped(s: &System, p: AsId, path: &str, prot: u32) -> Handle {
    let f = rw_file(s, p, path, &[1u8; 4096]);
    let m = s
        .create_file_mapping(p, f, false, prot, 0, 0, None)
        .unwrap();
    s.close_handle(p, f).unwrap();
    m
}

#[test]
fn f119_read_write_mapping_forces_share_write_on_later_opens() {
    let (s, p) = one();
    mapped(&s, p, "f119.bin", PAGE_READWRITE);
    for access in [0, GENERIC_READ, GENERIC_WRITE, RW] {
        for share in [
            0,
            FILE_SHARE_READ,
            FILE_SHARE_DELETE,
            FILE_SHARE_READ | FILE_SHARE_DELETE,
        ] {
            assert_eq!(
                err(&s, p, open(&s, p, "f119.bin", access, share)),
                ERROR_SHARING_VIOLATION,
                "{access:#x}/{share}"
            );
        }
        let h = open(
            &s,
            p,
            "f119.bin",
            access,
            FILE_SHARE_READ | FILE_SHARE_WRITE,
        )
        .unwrap();
        s.close_handle(p, h).unwrap();
    }
}

#[test]
fn f119_read_only_and_writecopy_mappings_impose_nothing() {
    let (s, p) = one();
    for (i, prot) in [PAGE_READONLY, PAGE_WRITECOPY].into_iter().enumerate() {
        let path = format!("f119ro{i}.bin");
        mapped(&s, p, &path, prot);
        let h = open(&s, p, &path, RW, 0).unwrap();
        s.close_handle(p, h).unwrap();
    }
}

#[test]
fn f120_truncating_open_of_a_mapped_file() {
    let (s, p) = one();
    mapped(&s, p, "f120.bin", PAGE_READONLY);
    let r = s.create_file(
        p,
        "f120.bin",
        GENERIC_WRITE,
        FILE_SHARE_READ | FILE_SHARE_WRITE,
        false,
        CREATE_ALWAYS,
        0,
    );
    assert_eq!(err(&s, p, r), ERROR_USER_MAPPED_FILE);
    let r = s.create_file(
        p,
        "f120.bin",
        GENERIC_WRITE,
        FILE_SHARE_READ | FILE_SHARE_WRITE,
        false,
        TRUNCATE_EXISTING,
        0,
    );
    assert_eq!(err(&s, p, r), ERROR_USER_MAPPED_FILE);
}

#[test]
fn f121_delete_on_close_style_open_over_a_data_mapping() {
    let (s, p) = one();
    mapped(&s, p, "f121.bin", PAGE_READWRITE);
    // The open itself succeeds (the flag is accepted and ignored by the model).
    let h = s
        .create_file(
            p,
            "f121.bin",
            GENERIC_READ,
            FILE_SHARE_READ | FILE_SHARE_WRITE,
            false,
            OPEN_EXISTING,
            0x0400_0000,
        )
        .unwrap();
    s.close_handle(p, h).unwrap();
}

#[test]
fn f124_delete_refused_while_a_section_exists_and_allowed_after() {
    let (s, p) = one();
    s.create_volume_file("f124.bin", &[1u8; 4096]).unwrap();
    let f = s
        .create_file(
            p,
            "f124.bin",
            RW,
            FILE_SHARE_READ | FILE_SHARE_DELETE,
            false,
            OPEN_EXISTING,
            0,
        )
        .unwrap();
    let m = s
        .create_file_mapping(p, f, false, PAGE_READONLY, 0, 0, None)
        .unwrap();
    assert_eq!(
        err(&s, p, s.delete_file(p, "f124.bin")),
        ERROR_ACCESS_DENIED,
        "no view needed"
    );
    s.close_handle(p, m).unwrap();
    s.delete_file(p, "f124.bin").unwrap(); // F123: succeeds while the file handle is open
    s.close_handle(p, f).unwrap();
    assert_eq!(
        err(&s, p, open(&s, p, "f124.bin", GENERIC_READ, 7)),
        ERROR_FILE_NOT_FOUND
    );
}

#[test]
fn f128_delete_needs_share_delete_from_open_handles() {
    let (s, p) = one();
    s.create_volume_file("f128.bin", b"x").unwrap();
    let f = open(&s, p, "f128.bin", GENERIC_READ, FILE_SHARE_READ).unwrap();
    assert_eq!(
        err(&s, p, s.delete_file(p, "f128.bin")),
        ERROR_SHARING_VIOLATION
    );
    s.close_handle(p, f).unwrap();
    s.delete_file(p, "f128.bin").unwrap();
}

#[test]
fn s8_set_end_of_file_refused_while_mapped() {
    let (s, p) = one();
    let f = rw_file(&s, p, "trunc.bin", &[1u8; 0x3000]);
    let m = s
        .create_file_mapping(p, f, false, PAGE_READONLY, 0, 0, None)
        .unwrap();
    s.set_file_pointer(p, f, 0x1000, None, FILE_BEGIN).unwrap();
    assert_eq!(err(&s, p, s.set_end_of_file(p, f)), ERROR_USER_MAPPED_FILE);
    s.close_handle(p, m).unwrap();
    s.set_end_of_file(p, f).unwrap();
    assert_eq!(s.get_file_size(p, f).unwrap(), 0x1000);
}

#[test]
fn s8_extend_while_mapped_is_allowed() {
    let (s, p) = one();
    let f = rw_file(&s, p, "ext.bin", &[1u8; 0x1000]);
    s.create_file_mapping(p, f, false, PAGE_READONLY, 0, 0, None)
        .unwrap();
    s.set_file_pointer(p, f, 0x5000, None, FILE_BEGIN).unwrap();
    s.set_end_of_file(p, f).unwrap();
    assert_eq!(s.get_file_size(p, f).unwrap(), 0x5000);
}

#[test]
fn s8_write_file_is_coherent_with_an_existing_view() {
    let (s, p) = one();
    let f = rw_file(&s, p, "wf.bin", &[0u8; 0x2000]);
    let m = s
        .create_file_mapping(p, f, false, PAGE_READWRITE, 0, 0, None)
        .unwrap();
    let v = s.map_view_of_file(p, m, FILE_MAP_READ, 0, 0, 0).unwrap();
    s.set_file_pointer(p, f, 0x1FFC, None, FILE_BEGIN).unwrap();
    assert_eq!(s.write_file(p, f, b"tail").unwrap(), 4);
    assert_eq!(s.read_memory(p, at(v, 0x1FFC), 4).unwrap(), b"tail");
}

#[test]
fn a6_write_unmap_close_then_read_file() {
    let (s, p) = one();
    let f = rw_file(&s, p, "a6.bin", &[0u8; 4096]);
    let m = s
        .create_file_mapping(p, f, false, PAGE_READWRITE, 0, 0, None)
        .unwrap();
    let v = s.map_view_of_file(p, m, FILE_MAP_WRITE, 0, 0, 0).unwrap();
    s.write_memory(p, v, b"A6").unwrap();
    s.unmap_view_of_file(p, v).unwrap();
    s.close_handle(p, m).unwrap();
    assert_eq!(s.read_file(p, f, 2).unwrap(), b"A6");
    assert_eq!(
        &s.read_disk("a6.bin").unwrap()[..2],
        [0, 0],
        "the mapped writer has not run"
    );
    s.executive().run_writers();
    assert_eq!(&s.read_disk("a6.bin").unwrap()[..2], b"A6");
}

#[test]
fn s8_flush_file_buffers_writes_cached_data() {
    let (s, p) = one();
    let f = rw_file(&s, p, "ffb.bin", b"");
    s.write_file(p, f, b"buffered").unwrap();
    assert_eq!(
        s.read_disk("ffb.bin").unwrap(),
        vec![0u8; 8],
        "size grew, data still cached"
    );
    s.flush_file_buffers(p, f).unwrap();
    assert_eq!(s.read_disk("ffb.bin").unwrap(), b"buffered");
}

#[test]
fn create_file_dispositions_and_last_error() {
    // SCENARIO.md CreateFile dispositions; F12's setup (CREATE_ALWAYS on a new file).
    let (s, p) = one();
    let h = s
        .create_file(p, "new.bin", RW, 0, false, CREATE_NEW, 0)
        .unwrap();
    assert_eq!(s.get_last_error(p), 0);
    s.close_handle(p, h).unwrap();
    assert_eq!(
        err(
            &s,
            p,
            s.create_file(p, "new.bin", RW, 0, false, CREATE_NEW, 0)
        ),
        ERROR_FILE_EXISTS
    );
    let h = s
        .create_file(p, "new.bin", RW, 0, false, OPEN_ALWAYS, 0)
        .unwrap();
    assert_eq!(s.get_last_error(p), ERROR_ALREADY_EXISTS);
    s.write_file(p, h, b"data").unwrap();
    s.close_handle(p, h).unwrap();
    let h = s
        .create_file(p, "new.bin", RW, 0, false, CREATE_ALWAYS, 0)
        .unwrap();
    assert_eq!(s.get_last_error(p), ERROR_ALREADY_EXISTS);
    assert_eq!(s.get_file_size(p, h).unwrap(), 0, "CREATE_ALWAYS truncates");
    s.close_handle(p, h).unwrap();
    assert_eq!(
        err(
            &s,
            p,
            s.create_file(p, "missing.bin", RW, 0, false, OPEN_EXISTING, 0)
        ),
        ERROR_FILE_NOT_FOUND
    );
    assert_eq!(
        err(
            &s,
            p,
            s.create_file(p, "missing.bin", RW, 0, false, TRUNCATE_EXISTING, 0)
        ),
        ERROR_FILE_NOT_FOUND
    );
    assert_eq!(
        err(
            &s,
            p,
            s.create_file(p, "new.bin", GENERIC_READ, 0, false, TRUNCATE_EXISTING, 0)
        ),
        ERROR_INVALID_PARAMETER
    );
    assert_eq!(
        err(&s, p, s.create_file(p, "new.bin", RW, 0, false, 9, 0)),
        ERROR_INVALID_PARAMETER
    );
    let h = s
        .create_file(p, "fresh.bin", RW, 0, false, OPEN_ALWAYS, 0)
        .unwrap();
    assert_eq!(s.get_last_error(p), 0);
    s.close_handle(p, h).unwrap();
}

#[test]
fn f128_standard_share_access_checks() {
    let (s, p) = one();
    s.create_volume_file("share.bin", b"x").unwrap();
    let a = open(&s, p, "share.bin", GENERIC_READ, FILE_SHARE_READ).unwrap();
    assert_eq!(
        err(&s, p, open(&s, p, "share.bin", GENERIC_WRITE, 7)),
        ERROR_SHARING_VIOLATION
    );
    assert_eq!(
        err(
            &s,
            p,
            open(&s, p, "share.bin", GENERIC_READ, FILE_SHARE_WRITE)
        ),
        ERROR_SHARING_VIOLATION
    );
    let b = open(&s, p, "share.bin", GENERIC_READ, FILE_SHARE_READ).unwrap();
    let c = open(&s, p, "share.bin", 0, 0).unwrap(); // no data access: no conflict
    for h in [a, b, c] {
        s.close_handle(p, h).unwrap();
    }
    let w = open(&s, p, "share.bin", GENERIC_WRITE, 7).unwrap();
    s.close_handle(p, w).unwrap();
}

#[test]
fn read_write_file_pointer_and_sizes() {
    // SCENARIO.md ReadFile/WriteFile/SetFilePointer/GetFileSize; nt_internals §8 cached I/O.
    let (s, p) = one();
    let h = rw_file(&s, p, "rw.bin", b"0123456789");
    assert_eq!(s.read_file(p, h, 4).unwrap(), b"0123");
    assert_eq!(
        s.set_file_pointer(p, h, 0, None, FILE_CURRENT).unwrap().0,
        4
    );
    assert_eq!(s.set_file_pointer(p, h, -2, None, FILE_END).unwrap().0, 8);
    assert_eq!(s.read_file(p, h, 10).unwrap(), b"89", "short read at EOF");
    assert_eq!(s.read_file(p, h, 10).unwrap(), b"", "nothing past EOF");
    assert_eq!(
        err(&s, p, s.set_file_pointer(p, h, -100, None, FILE_BEGIN)),
        ERROR_NEGATIVE_SEEK
    );
    let (low, high) = s.set_file_pointer(p, h, 0x10, Some(1), FILE_BEGIN).unwrap();
    assert_eq!((low, high), (0x10, Some(1)));
    s.set_file_pointer(p, h, 20, None, FILE_BEGIN).unwrap();
    s.write_file(p, h, b"X").unwrap();
    assert_eq!(s.get_file_size(p, h).unwrap(), 21);
    s.set_file_pointer(p, h, 10, None, FILE_BEGIN).unwrap();
    assert_eq!(
        s.read_file(p, h, 11).unwrap(),
        b"\0\0\0\0\0\0\0\0\0\0X",
        "the gap is zero-filled"
    );
}

#[test]
fn file_handle_access_is_enforced() {
    // Issue 3/6: access masks are enforced on every use (GENERIC_* mapping).
    let (s, p) = one();
    s.create_volume_file("acc.bin", b"data").unwrap();
    let r = open(&s, p, "acc.bin", GENERIC_READ, 7).unwrap();
    assert_eq!(err(&s, p, s.write_file(p, r, b"x")), ERROR_ACCESS_DENIED);
    assert_eq!(err(&s, p, s.set_end_of_file(p, r)), ERROR_ACCESS_DENIED);
    assert_eq!(err(&s, p, s.flush_file_buffers(p, r)), ERROR_ACCESS_DENIED);
    let w = open(&s, p, "acc.bin", GENERIC_WRITE, 7).unwrap();
    assert_eq!(err(&s, p, s.read_file(p, w, 1)), ERROR_ACCESS_DENIED);
    let m = anon(&s, p, PAGE_READWRITE, 0x1000, None).unwrap();
    assert_eq!(
        err(&s, p, s.read_file(p, m, 1)),
        ERROR_INVALID_HANDLE,
        "a section handle is not a file"
    );
}

#[test]
fn f122_replacing_a_mapped_file_by_truncation_is_refused() {
    // F122's CopyFile over a mapped destination truncates it: ERROR_USER_MAPPED_FILE.
    let (s, p) = one();
    s.create_volume_file("dest.bin", &[1u8; 4096]).unwrap();
    let d = open(&s, p, "dest.bin", RW, FILE_SHARE_READ | FILE_SHARE_WRITE).unwrap();
    s.create_file_mapping(p, d, false, PAGE_READONLY | SEC_COMMIT, 0, 0, None)
        .unwrap();
    let r = s.create_file(
        p,
        "dest.bin",
        GENERIC_WRITE,
        FILE_SHARE_READ | FILE_SHARE_WRITE,
        false,
        CREATE_ALWAYS,
        0,
    );
    assert_eq!(err(&s, p, r), ERROR_USER_MAPPED_FILE);
}

#[test]
fn host_directory_volume_uses_real_files() {
    // Issue 3/6 volumes; F129: the file's content after flush is on the (real) disk.
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("pre.bin"), b"existing").unwrap();
    let s = System::new(SystemConfig {
        vmm: VmmConfig {
            frames: 32,
            ..VmmConfig::default()
        },
        volume: Volume::HostDirectory(dir.path().to_path_buf()),
    })
    .unwrap();
    let p = s.create_process(None, false).unwrap();
    let f = open(&s, p, "pre.bin", RW, 7).unwrap();
    assert_eq!(s.read_file(p, f, 8).unwrap(), b"existing");
    let m = s
        .create_file_mapping(p, f, false, PAGE_READWRITE, 0, 0, None)
        .unwrap();
    let v = s.map_view_of_file(p, m, FILE_MAP_WRITE, 0, 0, 0).unwrap();
    s.write_memory(p, v, b"EXIST").unwrap();
    s.flush_view_of_file(p, v, 0).unwrap();
    assert_eq!(
        std::fs::read(dir.path().join("pre.bin")).unwrap(),
        b"EXISTing"
    );
    let n = s
        .create_file(p, "sub/new.bin", RW, 0, false, CREATE_NEW, 0)
        .unwrap();
    s.write_file(p, n, b"made").unwrap();
    s.flush_file_buffers(p, n).unwrap();
    assert_eq!(
        std::fs::read(dir.path().join("sub/new.bin")).unwrap(),
        b"made"
    );
}

/// A name with `..` components resolves as Win32 normalises it, never above the volume's root:
/// on a host-directory volume the file lands inside the directory, and nothing is created
/// beside it.
#[test]
fn host_directory_volume_keeps_dot_dot_names_inside_the_volume() {
    let outer = tempfile::tempdir().unwrap();
    let root = outer.path().join("volume");
    std::fs::create_dir(&root).unwrap();
    let s = System::new(SystemConfig {
        vmm: VmmConfig {
            frames: 32,
            ..VmmConfig::default()
        },
        volume: Volume::HostDirectory(root.clone()),
    })
    .unwrap();
    let p = s.create_process(None, false).unwrap();
    let f = s
        .create_file(p, "..\\..\\escape.bin", RW, 0, false, CREATE_NEW, 0)
        .unwrap();
    s.write_file(p, f, b"inside").unwrap();
    s.flush_file_buffers(p, f).unwrap();
    assert_eq!(std::fs::read(root.join("escape.bin")).unwrap(), b"inside");
    assert!(!outer.path().join("escape.bin").exists());
    // The same file, reached through another spelling: still opened without sharing, then
    // closed.
    let again = || open(&s, p, "sub\\..\\ESCAPE.bin", RW, 7);
    assert_eq!(err(&s, p, again()), ERROR_SHARING_VIOLATION);
    s.close_handle(p, f).unwrap();
    let g = again().unwrap();
    assert_eq!(s.read_file(p, g, 6).unwrap(), b"inside");
    assert_eq!(
        err(&s, p, s.create_file(p, "..", RW, 0, false, CREATE_NEW, 0)),
        ERROR_PATH_NOT_FOUND
    );
}

/// `ReadFile` asked for far more than the file holds returns what there is up to its end.
#[test]
fn read_file_longer_than_the_file_returns_what_is_there() {
    let (s, p) = one();
    let f = rw_file(&s, p, "small.bin", b"abc");
    assert_eq!(s.read_file(p, f, usize::MAX).unwrap(), b"abc");
    assert_eq!(s.read_file(p, f, 1 << 40).unwrap(), b"");
    ok(&s);
}

/// `read_disk_range` reads only the part asked for: fewer bytes at the end, none past it.
#[test]
fn read_disk_range_reads_the_part_asked_for() {
    let (s, _) = one();
    s.create_volume_file("r.bin", b"0123456789").unwrap();
    assert_eq!(s.read_disk_range("r.bin", 2, 3).unwrap(), b"234");
    assert_eq!(s.read_disk_range("r.bin", 8, 100).unwrap(), b"89");
    assert_eq!(s.read_disk_range("r.bin", 10, 1).unwrap(), b"");
    assert_eq!(s.read_disk_range("r.bin", u64::MAX, u64::MAX).unwrap(), b"");
    assert_eq!(s.read_disk("r.bin").unwrap(), b"0123456789");
    assert_eq!(
        s.read_disk_range("none.bin", 0, 1).unwrap_err(),
        Win32Error(ERROR_FILE_NOT_FOUND)
    );
}

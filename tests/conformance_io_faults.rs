//! Injected I/O faults at the API level (SCENARIO.md, additions of 2026-11-30, "I/O faults"):
//! every volume file and the pagefile can be failed by name, a failed page read surfaces as
//! Windows surfaces it (`STATUS_IN_PAGE_ERROR` on the access, nt_internals §3.4, §3.5; `ReadFile`
//! failing with the I/O's status; `FlushViewOfFile` failing), and nothing already stored is
//! lost: a page whose write failed stays modified (§4.6 `MiWriteComplete`), and is written once
//! the fault is healed.
#![allow(clippy::tests_outside_test_module)]

mod common;
use common::*;
use ntmm::vmm::VmmError;

const PAGE: u64 = 4096;

fn in_page_error<T: std::fmt::Debug>(r: Result<T, VmmError>) -> NtStatus {
    match r {
        Err(VmmError::Exception(x)) => match x.kind {
            ExceptionKind::InPageError(io) => {
                assert_eq!(x.code(), NtStatus::STATUS_IN_PAGE_ERROR);
                io
            }
            other => panic!("expected an in-page error, got {other:?}"),
        },
        other => panic!("expected an exception, got {other:?}"),
    }
}

/// A process with a read/write view of a 4-page file "data.bin" whose page N holds N+1.
fn mapped(s: &System) -> (AsId, Handle, Va) {
    let contents: Vec<u8> = (0..4 * PAGE).map(|i| (i / PAGE) as u8 + 1).collect();
    s.create_volume_file("data.bin", &contents).unwrap();
    let p = s.create_process(None, false).unwrap();
    let hf = s
        .create_file(
            p,
            "data.bin",
            GENERIC_READ | GENERIC_WRITE,
            7,
            false,
            OPEN_EXISTING,
            0,
        )
        .unwrap();
    let hm = s
        .create_file_mapping(p, hf, false, PAGE_READWRITE, 0, 0, None)
        .unwrap();
    let v = s.map_view_of_file(p, hm, FILE_MAP_WRITE, 0, 0, 0).unwrap();
    (p, hf, v)
}

fn at(v: Va, off: u64) -> Va {
    Va::new(v.raw() + off)
}

#[test]
fn test_a_failed_file_page_read_raises_status_in_page_error_once() {
    let s = sys();
    let (p, _, v) = mapped(&s);
    s.inject_file_fault("data.bin", IoKind::Read, 2, FaultDuration::Once)
        .unwrap();
    assert_eq!(
        s.read_memory(p, at(v, PAGE), 1).unwrap(),
        [2],
        "another page reads"
    );
    assert_eq!(
        in_page_error(s.read_memory(p, at(v, 2 * PAGE), 1)),
        NtStatus::STATUS_DEVICE_DATA_ERROR
    );
    assert_eq!(
        s.read_memory(p, at(v, 2 * PAGE), 1).unwrap(),
        [3],
        "the fault was used up; the data was never lost"
    );
    s.check_invariants().unwrap();
}

#[test]
fn test_a_failed_read_under_readfile_fails_the_call_with_the_io_status() {
    let s = sys();
    let (p, hf, _) = mapped(&s);
    s.inject_file_fault("DATA.BIN", IoKind::Read, 0, FaultDuration::Once)
        .unwrap();
    assert_eq!(err(&s, p, s.read_file(p, hf, 4)), ERROR_CRC);
    // The file pointer did not move: the next read starts at 0.
    assert_eq!(s.read_file(p, hf, 4).unwrap(), [1; 4]);
}

#[test]
fn test_a_persistent_write_fault_fails_every_flush_and_loses_nothing() {
    let s = sys();
    let (p, _, v) = mapped(&s);
    s.write_memory(p, at(v, PAGE), b"keep me").unwrap();
    s.inject_file_fault("data.bin", IoKind::Write, 1, FaultDuration::UntilCleared)
        .unwrap();
    for _ in 0..3 {
        assert_eq!(err(&s, p, s.flush_view_of_file(p, v, 0)), ERROR_CRC);
    }
    s.executive().trim_all();
    let r = s.executive().run_writers();
    assert_eq!(
        r.errors.len(),
        1,
        "the writer's write of the page failed too"
    );
    assert_eq!(s.read_disk_range("data.bin", PAGE, 7).unwrap(), [2; 7]);
    assert_eq!(s.read_memory(p, at(v, PAGE), 7).unwrap(), b"keep me");
    assert_eq!(s.heal(), 1);
    s.flush_view_of_file(p, v, 0).unwrap();
    assert_eq!(s.read_disk_range("data.bin", PAGE, 7).unwrap(), b"keep me");
    s.check_invariants().unwrap();
}

#[test]
fn test_inspecting_the_disk_neither_fails_nor_uses_up_a_fault() {
    let s = sys();
    let (p, _, v) = mapped(&s);
    s.inject_file_fault("data.bin", IoKind::Read, 0, FaultDuration::Once)
        .unwrap();
    assert_eq!(s.read_disk_range("data.bin", 0, 2).unwrap(), [1, 1]);
    in_page_error(s.read_memory(p, v, 1));
}

#[test]
fn test_pagefile_faults_fail_the_writer_then_one_read() {
    let s = machine(8, 64, 4);
    let p = s.create_process(None, false).unwrap();
    let v = s
        .virtual_alloc(p, None, 16 * PAGE, MEM_COMMIT | MEM_RESERVE, PAGE_READWRITE)
        .unwrap();
    s.write_memory(p, v, b"private").unwrap();
    s.inject_pagefile_fault(IoKind::Write, FaultDuration::UntilCleared);
    s.executive().trim(p).unwrap();
    let r = s.executive().run_writers();
    assert!(!r.errors.is_empty(), "pagefile writes fail");
    assert_eq!(r.pagefile_pages, 0);
    assert_eq!(s.heal(), 1);
    assert!(s.executive().run_writers().errors.is_empty());
    // Push the page out of memory: touch every other page (the frames are repurposed).
    for i in 1..16 {
        s.write_memory(p, at(v, i * PAGE), &[i as u8]).unwrap();
    }
    s.executive().trim(p).unwrap();
    s.executive().run_writers();
    for i in 1..16 {
        s.read_memory(p, at(v, i * PAGE), 1).unwrap();
    }
    s.inject_pagefile_fault(IoKind::Read, FaultDuration::Once);
    assert_eq!(
        in_page_error(s.read_memory(p, v, 7)),
        NtStatus::STATUS_DEVICE_DATA_ERROR
    );
    assert_eq!(s.read_memory(p, v, 7).unwrap(), b"private");
    s.check_invariants().unwrap();
}

#[test]
fn test_a_fault_on_a_missing_file_is_file_not_found() {
    let s = sys();
    assert_eq!(
        s.inject_file_fault("nope.bin", IoKind::Read, 0, FaultDuration::Once),
        Err(Win32Error(ERROR_FILE_NOT_FOUND))
    );
    assert_eq!(s.heal(), 0);
}

#[test]
fn test_a_shutdown_with_a_persistent_write_fault_reports_the_page_and_heal_saves_it() {
    let s = sys();
    let (p, _, v) = mapped(&s);
    s.write_memory(p, at(v, 3 * PAGE), b"late").unwrap();
    s.inject_file_fault("data.bin", IoKind::Write, 3, FaultDuration::UntilCleared)
        .unwrap();
    let e = s.shutdown().unwrap_err();
    assert_eq!(
        e.failures,
        [ShutdownFailure::File {
            file: "data.bin".into(),
            page: Some(3),
            status: NtStatus::STATUS_DEVICE_DATA_ERROR,
        }]
    );
    assert_eq!(s.read_disk_range("data.bin", 3 * PAGE, 4).unwrap(), [4; 4]);
    // The page is still modified: once healed, a second shutdown writes it.
    s.heal();
    s.shutdown().unwrap();
    assert_eq!(s.read_disk_range("data.bin", 3 * PAGE, 4).unwrap(), b"late");
}

#[test]
fn test_a_power_loss_heals_every_fault() {
    let s = sys();
    let (_, _, _) = mapped(&s);
    s.inject_file_fault("data.bin", IoKind::Read, 0, FaultDuration::UntilCleared)
        .unwrap();
    let (s, _) = s.crash().unwrap();
    let p = s.create_process(None, false).unwrap();
    let hf = s
        .create_file(p, "data.bin", GENERIC_READ, 7, false, OPEN_EXISTING, 0)
        .unwrap();
    assert_eq!(s.read_file(p, hf, 2).unwrap(), [1, 1]);
    assert_eq!(s.heal(), 0);
}

#[cfg(unix)]
#[test]
fn test_files_of_a_host_volume_are_fault_injectable_too() {
    let dir = tempfile::tempdir().unwrap();
    let s = System::new(SystemConfig {
        vmm: VmmConfig::default(),
        volume: Volume::HostDirectory(dir.path().to_path_buf()),
    })
    .unwrap();
    std::fs::write(dir.path().join("host.bin"), [9u8; 4096]).unwrap();
    let p = s.create_process(None, false).unwrap();
    s.inject_file_fault("host.bin", IoKind::Read, 0, FaultDuration::Once)
        .unwrap();
    let hf = s
        .create_file(p, "host.bin", GENERIC_READ, 7, false, OPEN_EXISTING, 0)
        .unwrap();
    assert_eq!(err(&s, p, s.read_file(p, hf, 2)), ERROR_CRC);
    assert_eq!(s.read_file(p, hf, 2).unwrap(), [9, 9]);
}

#[test]
fn test_the_scenario_directives_fail_and_heal() {
    let src = r#"
file "data.bin" size 0x4000
process A
hf = CreateFile("data.bin", GENERIC_READ | GENERIC_WRITE, 0, NULL, OPEN_EXISTING, 0, NULL)
hm = CreateFileMapping(hf, NULL, PAGE_READWRITE, 0, 0, NULL)
p = MapViewOfFile(hm, FILE_MAP_WRITE, 0, 0, 0)
fail read "data.bin" page 2
expect read8(p + 0x2000) raises STATUS_IN_PAGE_ERROR
expect read8(p + 0x2000) == 0
write(p + 0x1000, "keep me")
fail write "data.bin" page 1 always
expect FlushViewOfFile(p, 0) == 0, ERROR_CRC
expect FlushViewOfFile(p, 0) == 0, ERROR_CRC
heal
expect FlushViewOfFile(p, 0) == 1
expect disk "data.bin" offset 0x1000 len 7 == "keep me"
fail write pagefile always
fail read pagefile
heal
"#;
    let opts = ntmm::scenario::Options {
        trace: true,
        ..Default::default()
    };
    let r = ntmm::scenario::run_source("f.ntm", src, &opts);
    assert_eq!((r.passed, r.failed), (6, 0), "{}", r.output);
    for line in [
        "fail read \"data.bin\" page 2 => the next read of page 2 of \"data.bin\" will fail with STATUS_DEVICE_DATA_ERROR",
        "injected I/O fault: the read of page 2 of file \"data.bin\" failed with STATUS_DEVICE_DATA_ERROR",
        "every write of page 1 of \"data.bin\" will fail with STATUS_DEVICE_DATA_ERROR until `heal`",
        "heal => 1 injected fault cleared",
        "heal => 2 injected faults cleared",
    ] {
        assert!(r.output.contains(line), "{line}\n{}", r.output);
    }
    // A persistent write fault still set when the run ends is a reported failure.
    let src = "file \"d.bin\" size 0x1000\nprocess A\n\
        hf = CreateFile(\"d.bin\", GENERIC_READ | GENERIC_WRITE, 0, NULL, OPEN_EXISTING, 0, NULL)\n\
        expect WriteFile(hf, \"x\", 1, &n, NULL) == 1\n\
        fail write \"d.bin\" page 0 always\n";
    let r = ntmm::scenario::run_source("g.ntm", src, &Default::default());
    assert_eq!(r.failed, 1, "{}", r.output);
    assert!(r.output.contains(
        "FAIL g.ntm: shutdown: file \"d.bin\" page 0 could not be written: STATUS_DEVICE_DATA_ERROR"
    ));
    // Unknown files and malformed directives.
    let r = ntmm::scenario::run_source(
        "h.ntm",
        "process A\nfail read \"none\" page 0\n",
        &Default::default(),
    );
    assert_eq!(r.failed, 1, "{}", r.output);
    for bad in ["fail read \"x\"\n", "fail write page 1\n", "heal now\n"] {
        let r = ntmm::scenario::run_source("p.ntm", bad, &Default::default());
        assert_eq!(r.failed, 1, "{bad}: {}", r.output);
    }
}

/// `FILE_FLAG_NO_BUFFERING` is not modelled: it is refused with `ERROR_NOT_SUPPORTED` (and
/// nothing is created), never silently given cached semantics.
#[test]
fn test_file_flag_no_buffering_is_refused_as_not_modelled() {
    let (s, p) = one();
    s.create_volume_file("d.bin", &[1; 512]).unwrap();
    for disp in [OPEN_EXISTING, CREATE_NEW] {
        let name = if disp == CREATE_NEW {
            "new.bin"
        } else {
            "d.bin"
        };
        assert_eq!(
            err(
                &s,
                p,
                s.create_file(
                    p,
                    name,
                    GENERIC_READ,
                    0,
                    false,
                    disp,
                    FILE_FLAG_NO_BUFFERING
                )
            ),
            ERROR_NOT_SUPPORTED
        );
    }
    assert_eq!(
        s.read_disk("new.bin"),
        Err(Win32Error(ERROR_FILE_NOT_FOUND))
    );
}

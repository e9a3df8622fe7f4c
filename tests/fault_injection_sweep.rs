//! Fault injection: a sweep in which the k-th store I/O of a run fails, for every k — first on
//! the file's store, then on the pagefile. Failures surface as Windows reports them
//! (`FlushViewOfFile` FALSE with the Windows error, `STATUS_IN_PAGE_ERROR` on access, `ReadFile`
//! / `WriteFile` FALSE); the machine stays consistent after every call; after the fault clears,
//! a flush writes everything, memory reads back what the model holds, and the file on disk
//! matches the model byte for byte.
#![allow(clippy::tests_outside_test_module)]

mod common;
use common::*;
use ntmm::vmm::{FaultPlan, FaultyStore, MemoryStore};

const FILE_PAGES: u64 = 4;

#[derive(Clone, Copy, Debug)]
enum Step {
    /// Write one byte pattern into one page of view `v` (0: file RW view, 1: pagefile view,
    /// 2: private memory).
    Write(usize, u64, u8),
    /// Read one page's first bytes of view `v`.
    Read(usize, u64),
    TrimAll,
    Writers,
    FlushFile,
    FileWrite(u64, u8),
    FileRead(u64),
}

fn script() -> Vec<Step> {
    use Step::*;
    let mut s = Vec::new();
    for round in 0..3u8 {
        for pg in 0..FILE_PAGES {
            s.push(Write(0, pg, 10 + round * 4 + pg as u8));
            s.push(Write(1, pg, 50 + round * 4 + pg as u8));
            s.push(Write(2, pg, 90 + round * 4 + pg as u8));
        }
        s.push(TrimAll);
        s.push(Writers);
        for pg in 0..FILE_PAGES {
            s.push(Read(0, pg));
            s.push(Read(1, pg));
            s.push(Read(2, pg));
        }
        s.push(FileWrite(round as u64 % FILE_PAGES, 200 + round));
        s.push(FileRead((round as u64 + 1) % FILE_PAGES));
        s.push(FlushFile);
        s.push(TrimAll);
    }
    s
}

struct Run {
    sys: System,
    p: AsId,
    file: Handle,
    views: [Va; 3],
    model: [Vec<u8>; 3],
    file_plan: FaultPlan,
    pf_plan: FaultPlan,
}

fn start() -> Run {
    let (pf, pf_plan) = FaultyStore::new(MemoryStore::new());
    let sys = System::with_pagefile_store(
        SystemConfig {
            vmm: VmmConfig {
                frames: 12,
                pagefile_pages: 256,
                working_set_max: 6,
                writer: WriterPolicy::Lazy,
            },
            volume: Volume::Memory,
        },
        Box::new(pf),
    )
    .unwrap();
    let initial: Vec<u8> = (0..FILE_PAGES * 4096).map(|i| (i % 199) as u8).collect();
    let (store, file_plan) = FaultyStore::new(MemoryStore::with_contents(&initial));
    sys.attach_volume_file("swept.bin", Box::new(store))
        .unwrap();
    let p = sys.create_process(None, false).unwrap();
    let file = sys
        .create_file(
            p,
            "swept.bin",
            GENERIC_READ | GENERIC_WRITE,
            7,
            false,
            OPEN_EXISTING,
            0,
        )
        .unwrap();
    let fm = sys
        .create_file_mapping(p, file, false, PAGE_READWRITE, 0, 0, None)
        .unwrap();
    let am = sys
        .create_file_mapping(
            p,
            Handle::INVALID,
            false,
            PAGE_READWRITE,
            0,
            (FILE_PAGES * 4096) as u32,
            None,
        )
        .unwrap();
    let fv = sys
        .map_view_of_file(p, fm, FILE_MAP_WRITE, 0, 0, 0)
        .unwrap();
    let av = sys
        .map_view_of_file(p, am, FILE_MAP_WRITE, 0, 0, 0)
        .unwrap();
    let pv = sys
        .virtual_alloc(
            p,
            None,
            FILE_PAGES * 4096,
            MEM_COMMIT | MEM_RESERVE,
            PAGE_READWRITE,
        )
        .unwrap();
    let size = (FILE_PAGES * 4096) as usize;
    Run {
        sys,
        p,
        file,
        views: [fv, av, pv],
        model: [initial, vec![0; size], vec![0; size]],
        file_plan,
        pf_plan,
    }
}

/// Runs the script; every failure must be one Windows would report, and the invariants hold
/// after every step. Returns how many failures surfaced.
fn play(r: &mut Run) -> usize {
    let mut surfaced = 0;
    for step in script() {
        match step {
            Step::Write(v, pg, b) => {
                let at = Va::new(r.views[v].raw() + pg * 4096);
                match r.sys.write_memory(r.p, at, &[b; 16]) {
                    Ok(()) => r.model[v][(pg * 4096) as usize..(pg * 4096) as usize + 16].fill(b),
                    Err(e) => {
                        assert_eq!(
                            raised(Err::<(), _>(e)),
                            ExceptionKind::InPageError(NtStatus::STATUS_DEVICE_DATA_ERROR)
                        );
                        surfaced += 1;
                    }
                }
            }
            Step::Read(v, pg) => {
                let at = Va::new(r.views[v].raw() + pg * 4096);
                match r.sys.read_memory(r.p, at, 16) {
                    Ok(got) => assert_eq!(
                        got[..],
                        r.model[v][(pg * 4096) as usize..(pg * 4096) as usize + 16]
                    ),
                    Err(e) => {
                        assert!(matches!(
                            raised(Err::<(), _>(e)),
                            ExceptionKind::InPageError(_)
                        ));
                        surfaced += 1;
                    }
                }
            }
            Step::TrimAll => {
                r.sys.executive().trim_all();
            }
            Step::Writers => {
                surfaced += r.sys.executive().run_writers().errors.len();
            }
            Step::FlushFile => {
                if let Err(e) = r.sys.flush_view_of_file(r.p, r.views[0], 0) {
                    assert_eq!(e.0, ERROR_CRC, "STATUS_DEVICE_DATA_ERROR as Win32");
                    assert_eq!(r.sys.get_last_error(r.p), ERROR_CRC);
                    surfaced += 1;
                }
            }
            Step::FileWrite(pg, b) => {
                r.sys
                    .set_file_pointer(r.p, r.file, (pg * 4096 + 100) as i32, None, FILE_BEGIN)
                    .unwrap();
                match r.sys.write_file(r.p, r.file, &[b; 8]) {
                    Ok(n) => {
                        assert_eq!(n, 8);
                        r.model[0][(pg * 4096 + 100) as usize..(pg * 4096 + 108) as usize].fill(b);
                    }
                    Err(e) => {
                        assert_eq!(e.0, ERROR_CRC);
                        surfaced += 1;
                    }
                }
            }
            Step::FileRead(pg) => {
                r.sys
                    .set_file_pointer(r.p, r.file, (pg * 4096) as i32, None, FILE_BEGIN)
                    .unwrap();
                match r.sys.read_file(r.p, r.file, 32) {
                    Ok(got) => assert_eq!(
                        got[..],
                        r.model[0][(pg * 4096) as usize..(pg * 4096) as usize + 32]
                    ),
                    Err(e) => {
                        assert_eq!(e.0, ERROR_CRC);
                        surfaced += 1;
                    }
                }
            }
        }
        r.sys.check_invariants().unwrap();
    }
    surfaced
}

/// After the fault clears: memory holds the model, a flush writes everything, the file matches.
fn recover(r: &mut Run) {
    r.file_plan.clear();
    r.pf_plan.clear();
    for v in 0..3 {
        let got = r
            .sys
            .read_memory(r.p, r.views[v], r.model[v].len())
            .unwrap();
        assert!(got == r.model[v], "memory of view {v} lost data");
    }
    r.sys.flush_view_of_file(r.p, r.views[0], 0).unwrap();
    assert!(r.sys.executive().run_writers().errors.is_empty());
    assert!(
        r.sys.read_disk("swept.bin").unwrap() == r.model[0],
        "the file on disk differs from the model"
    );
    r.sys.check_invariants().unwrap();
}

#[test]
fn fault_injection_sweep_over_every_file_io_and_every_pagefile_io() {
    let mut clean = start();
    assert_eq!(play(&mut clean), 0);
    recover(&mut clean);
    let (file_ios, pf_ios) = (clean.file_plan.io_count(), clean.pf_plan.io_count());
    assert!(
        file_ios > 20 && pf_ios > 20,
        "the script must exercise both stores ({file_ios}, {pf_ios})"
    );
    let mut surfaced = 0;
    for k in 1..=file_ios {
        let mut r = start();
        r.file_plan.fail_nth_io(k);
        surfaced += play(&mut r);
        assert!(r.file_plan.injected() <= 1);
        recover(&mut r);
    }
    for k in 1..=pf_ios {
        let mut r = start();
        r.pf_plan.fail_nth_io(k);
        surfaced += play(&mut r);
        recover(&mut r);
    }
    assert!(
        surfaced as u64 >= (file_ios + pf_ios) / 2,
        "most injected faults must surface ({surfaced})"
    );
    eprintln!(
        "swept {file_ios} file I/Os and {pf_ios} pagefile I/Os; {surfaced} failures surfaced"
    );
}

#[test]
fn persistent_failure_keeps_everything_until_it_clears() {
    let mut r = start();
    for pg in 0..FILE_PAGES {
        r.sys
            .write_memory(r.p, Va::new(r.views[0].raw() + pg * 4096), b"durable")
            .unwrap();
        r.model[0][(pg * 4096) as usize..(pg * 4096) as usize + 7].copy_from_slice(b"durable");
    }
    r.file_plan.fail_all();
    assert_eq!(
        r.sys.flush_view_of_file(r.p, r.views[0], 0).unwrap_err().0,
        ERROR_CRC
    );
    r.sys.executive().trim_all();
    assert!(!r.sys.executive().run_writers().errors.is_empty());
    r.sys.check_invariants().unwrap();
    recover(&mut r);
}

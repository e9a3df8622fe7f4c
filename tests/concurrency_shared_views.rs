//! Concurrency through the Win32 facade: 2–8 threads, one process each, hammering one named
//! pagefile-backed section and one file-backed section at once — writing and reading their own
//! lanes of shared pages, mapping and unmapping extra views, trimming their working sets, running
//! the writers and flushing — on a machine with far fewer frames than the pages in use, so every
//! round pages in and out.
//!
//! Checked:
//! - no deadlock: parking_lot's deadlock detection is on in this test build (root
//!   `[dev-dependencies]`), and a watchdog thread calls `check_deadlock()` every 50 ms;
//! - invariants hold at quiescent points (every thread parked at a barrier, one checks);
//! - coherence: a value a thread writes to a shared view and then publishes (over a channel) is
//!   seen by the next thread through its own, different view of the same page — the next value
//!   it reads there is never older than the one published (nt_internals §5: one frame per
//!   prototype PTE, whatever the view);
//! - nothing is lost: after the threads finish, every lane in the section and on disk holds the
//!   last value its thread wrote.
#![allow(clippy::tests_outside_test_module)]

mod common;
use common::*;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{mpsc, Arc, Barrier};
use std::time::Duration;

const PAGES: u64 = 16;
const FILE_PAGES: u64 = 8;
const ROUNDS: u64 = 240;
const QUIESCE_EVERY: u64 = 40;
const SECTION_NAME: &str = "Local\\ntmm-concurrency";
const FILE: &str = "\\shared.bin";

fn machine(frames: u32) -> System {
    common::machine(frames, 4096, u64::from(frames))
}

/// The byte offset of thread `t`'s lane in page `pg`: each thread owns 8 bytes of every page,
/// every page is shared by every thread.
fn lane(pg: u64, t: u64, round: u64) -> u64 {
    pg * 4096 + (round % 32) * 64 + t * 8
}

/// The value thread `t` writes in `round` on page `pg`: strictly increasing in `round`.
fn value(t: u64, round: u64, pg: u64) -> u64 {
    (round + 1) << 32 | t << 16 | pg
}

/// A watchdog: fails the run if parking_lot finds a deadlock cycle.
fn watchdog(stop: Arc<AtomicBool>) -> std::thread::JoinHandle<usize> {
    std::thread::spawn(move || {
        while !stop.load(Ordering::Relaxed) {
            std::thread::sleep(Duration::from_millis(50));
            let cycles = parking_lot::deadlock::check_deadlock();
            if !cycles.is_empty() {
                for (i, threads) in cycles.iter().enumerate() {
                    eprintln!("deadlock cycle {i}:");
                    for t in threads {
                        eprintln!("  thread {:?}\n{:?}", t.thread_id(), t.backtrace());
                    }
                }
                return cycles.len();
            }
        }
        0
    })
}

struct Shared {
    sys: System,
    barrier: Barrier,
}

/// One thread's work: `t` is its index; `publish` goes to the next thread, `observe` comes from
/// the previous one.
fn worker(
    sh: &Shared,
    t: u64,
    publish: &mpsc::Sender<(u64, u64)>,
    observe: &mpsc::Receiver<(u64, u64)>,
) {
    let s = &sh.sys;
    let p = s.create_process(None, false).unwrap();
    let sec = s
        .open_file_mapping(p, FILE_MAP_ALL_ACCESS, false, SECTION_NAME)
        .unwrap();
    let view = s.map_view_of_file(p, sec, FILE_MAP_WRITE, 0, 0, 0).unwrap();
    let fh = open(s, p, FILE, GENERIC_READ | GENERIC_WRITE, 7).unwrap();
    let fsec = s
        .create_file_mapping(p, fh, false, PAGE_READWRITE, 0, 0, None)
        .unwrap();
    let fview = s
        .map_view_of_file(p, fsec, FILE_MAP_WRITE, 0, 0, 0)
        .unwrap();

    for round in 0..ROUNDS {
        for pg in 0..PAGES {
            let off = lane(pg, t, round);
            let v = value(t, round, pg);
            s.write_value(p, at(view, off), 8, v).unwrap();
            assert_eq!(s.read_value(p, at(view, off), 8).unwrap(), v);
        }
        let fpg = round % FILE_PAGES;
        s.write_value(p, at(fview, fpg * 4096 + t * 8), 8, round)
            .unwrap();

        // Publish the value just written in one page; the next thread reads it through its own
        // view.
        let pg = round % PAGES;
        publish.send((lane(pg, t, round), value(t, round, pg))).ok();
        while let Ok((off, v)) = observe.try_recv() {
            let seen = s.read_value(p, at(view, off), 8).unwrap();
            assert!(
                seen >= v,
                "thread {t} read {seen:#x} at {off:#x} after {v:#x} was published"
            );
        }

        match (round + t) % 6 {
            0 => {
                // A second view of the same section, written through and unmapped.
                let extra = s.map_view_of_file(p, sec, FILE_MAP_WRITE, 0, 0, 0).unwrap();
                let off = lane(round % PAGES, t, round);
                assert_eq!(
                    s.read_value(p, at(extra, off), 8).unwrap(),
                    value(t, round, round % PAGES)
                );
                s.unmap_view_of_file(p, extra).unwrap();
            }
            1 => {
                s.executive().trim(p).unwrap();
            }
            2 => {
                s.executive().run_writers();
            }
            3 => {
                s.flush_view_of_file(p, fview, 0).unwrap();
            }
            4 => {
                // A copy-on-write view: private stores stay private.
                let cow = s.map_view_of_file(p, sec, FILE_MAP_COPY, 0, 0, 0).unwrap();
                s.write_value(p, at(cow, lane(0, t, round)), 8, u64::MAX)
                    .unwrap();
                s.unmap_view_of_file(p, cow).unwrap();
                assert_eq!(
                    s.read_value(p, at(view, lane(0, t, round)), 8).unwrap(),
                    value(t, round, 0)
                );
            }
            _ => {
                s.executive().trim_all();
            }
        }

        if (round + 1) % QUIESCE_EVERY == 0 {
            if sh.barrier.wait().is_leader() {
                s.check_invariants()
                    .unwrap_or_else(|e| panic!("invariants at round {round}: {e}"));
            }
            sh.barrier.wait();
        }
    }
    s.unmap_view_of_file(p, view).unwrap();
    s.unmap_view_of_file(p, fview).unwrap();
    for h in [sec, fsec, fh] {
        s.close_handle(p, h).unwrap();
    }
    s.exit_process(p).unwrap();
}

fn run(threads: u64, frames: u32) {
    let sys = machine(frames);
    let owner = sys.create_process(None, false).unwrap();
    let sec = anon(
        &sys,
        owner,
        PAGE_READWRITE,
        (PAGES * 4096) as u32,
        Some(SECTION_NAME),
    )
    .unwrap();
    sys.create_volume_file(FILE, &vec![0u8; (FILE_PAGES * 4096) as usize])
        .unwrap();
    let sh = Arc::new(Shared {
        sys,
        barrier: Barrier::new(threads as usize),
    });

    let stop = Arc::new(AtomicBool::new(false));
    let dog = watchdog(Arc::clone(&stop));
    let (mut senders, mut receivers): (Vec<_>, Vec<_>) =
        (0..threads).map(|_| mpsc::channel()).unzip();
    // Thread t publishes to t+1's receiver.
    senders.rotate_left(1);
    let (done_tx, done_rx) = mpsc::channel();
    for t in (0..threads).rev() {
        let (sh, done) = (Arc::clone(&sh), done_tx.clone());
        let publish = senders.pop().unwrap();
        let observe = receivers.pop().unwrap();
        std::thread::spawn(move || {
            worker(&sh, t, &publish, &observe);
            done.send(t).unwrap();
        });
    }
    for _ in 0..threads {
        if done_rx.recv_timeout(Duration::from_secs(300)).is_err() {
            stop.store(true, Ordering::Relaxed);
            let cycles = dog.join().unwrap();
            panic!("a worker panicked or stalled ({cycles} deadlock cycles found)");
        }
    }
    stop.store(true, Ordering::Relaxed);
    assert_eq!(dog.join().unwrap(), 0, "parking_lot found a deadlock");

    let s = &sh.sys;
    ok(s);
    // The run really paged: pages went to the pagefile and came back, and the mapped writer ran.
    let c = s.executive().vmm().machine_counters();
    assert!(
        c.pagefile_writes > 0 && c.pagefile_reads > 0 && c.file_writes > 0 && c.trims > 0,
        "{c:?}"
    );
    // Every lane of the last rounds holds its thread's last value, in the section...
    let v = s
        .map_view_of_file(owner, sec, FILE_MAP_READ, 0, 0, 0)
        .unwrap();
    for t in 0..threads {
        for round in ROUNDS - 32..ROUNDS {
            for pg in 0..PAGES {
                assert_eq!(
                    s.read_value(owner, at(v, lane(pg, t, round)), 8).unwrap(),
                    value(t, round, pg),
                    "thread {t} round {round} page {pg}"
                );
            }
        }
    }
    // ...and on disk, once the writers have run.
    s.executive().run_writers();
    let disk = s.read_disk(FILE).unwrap();
    for t in 0..threads {
        for fpg in 0..FILE_PAGES {
            let last = (0..ROUNDS).rev().find(|r| r % FILE_PAGES == fpg).unwrap();
            let at = (fpg * 4096 + t * 8) as usize;
            let got = u64::from_le_bytes(disk[at..at + 8].try_into().unwrap());
            assert_eq!(got, last, "file page {fpg} lane {t}");
        }
    }
    ok(s);
}

#[test]
fn concurrency_two_threads_on_a_tiny_machine() {
    run(2, 12);
}

#[test]
fn concurrency_four_threads() {
    run(4, 16);
}

#[test]
fn concurrency_eight_threads() {
    run(8, 20);
}

#[test]
fn concurrency_the_system_is_send_and_sync() {
    fn assert_send_sync<T: Send + Sync>() {}
    assert_send_sync::<System>();
}

/// The watchdog is live: a real lock-order inversion between two parking_lot mutexes is
/// reported. Detection is process-wide and reports a cycle once, so the deadlock is made in a
/// child process (this test binary, re-run on this test alone), where it cannot disturb the
/// other tests' watchdogs.
#[test]
fn concurrency_watchdog_reports_a_real_deadlock() {
    const CHILD: &str = "NTMM_DEADLOCK_CHILD";
    if std::env::var_os(CHILD).is_none() {
        let out = std::process::Command::new(std::env::current_exe().unwrap())
            .args([
                "--exact",
                "concurrency_watchdog_reports_a_real_deadlock",
                "--test-threads=1",
            ])
            .env(CHILD, "1")
            .output()
            .unwrap();
        let text = String::from_utf8_lossy(&out.stdout);
        assert!(
            out.status.success() && text.contains("1 passed"),
            "the child run failed: {text}{}",
            String::from_utf8_lossy(&out.stderr)
        );
        return;
    }
    let a = Arc::new(parking_lot::Mutex::new(()));
    let b = Arc::new(parking_lot::Mutex::new(()));
    let both = Arc::new(Barrier::new(2));
    for flip in [false, true] {
        let (a, b, both) = (Arc::clone(&a), Arc::clone(&b), Arc::clone(&both));
        std::thread::spawn(move || {
            let (first, second) = if flip { (b, a) } else { (a, b) };
            let _g = first.lock();
            both.wait();
            let _h = second.lock();
        });
    }
    let stop = Arc::new(AtomicBool::new(false));
    let dog = watchdog(Arc::clone(&stop));
    let deadline = std::time::Instant::now() + Duration::from_secs(60);
    while !dog.is_finished() && std::time::Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(20));
    }
    stop.store(true, Ordering::Relaxed);
    assert!(dog.join().unwrap() >= 1, "the deadlock went unreported");
}

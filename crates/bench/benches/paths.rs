//! Criterion benchmarks of the paths `ntmm bench` measures against the host: resident loads,
//! 1 MiB copies, share faults, demand-zero faults, soft faults, hard faults from the pagefile,
//! map/unmap of a 64 KiB view, the 1 TiB reserve section, and flushes of a clean 16 MiB file
//! view and of one dirty page, durable and not (file store in a temporary host directory).
//! `cargo bench -p ntmm-bench`. Each bench times what its name says: the fault benches time
//! the faults only (the view's map and unmap, or the section's teardown, are outside the
//! timed region, through `iter_custom`).
#![allow(missing_docs)]

use criterion::{black_box, criterion_group, criterion_main, BatchSize, Criterion};
use ntmm_api::*;
use ntmm_bench::fixture::{self, at, PAGE};
use std::time::{Duration, Instant};

/// The sum of `f`'s timed parts over `iters` iterations: `f` sets up, times its part with the
/// `Instant` it is given, and tears down, returning the duration of its part.
fn timed_parts(iters: u64, mut f: impl FnMut() -> Duration) -> Duration {
    (0..iters).map(|_| f()).sum()
}

fn system(volume: Volume) -> (System, AsId) {
    fixture::system(16_384, volume).unwrap()
}

fn section(s: &System, p: AsId, bytes: u64, flags: u32) -> Handle {
    fixture::anon(s, p, bytes, flags).unwrap()
}

fn paths(c: &mut Criterion) {
    let (s, p) = system(Volume::Memory);
    let h = section(&s, p, 64 * PAGE, 0);
    let v = s.map_view_of_file(p, h, FILE_MAP_WRITE, 0, 0, 0).unwrap();
    for i in 0..64 {
        s.write_value(p, at(v, i * PAGE), 8, i).unwrap();
    }

    c.bench_function("resident_read8", |b| {
        let mut i = 0u64;
        b.iter(|| {
            i = (i + 64) % (64 * PAGE);
            black_box(s.read_value(p, at(v, i), 8).unwrap())
        })
    });

    let (bs, bp) = system(Volume::Memory);
    let bh = section(&bs, bp, 1 << 20, 0);
    let bv = fixture::view(&bs, bp, bh, 0).unwrap();
    fixture::touch_write(&bs, bp, bv, (1 << 20) / PAGE).unwrap();
    let mut buf = vec![0u8; 1 << 20];
    c.bench_function("bulk_read_1mib", |b| {
        b.iter(|| {
            bs.executive().vmm().read(bp, bv, &mut buf).unwrap();
            black_box(&mut buf);
        })
    });

    c.bench_function("share_fault_64_pages", |b| {
        b.iter_custom(|iters| {
            timed_parts(iters, || {
                let w = s.map_view_of_file(p, h, FILE_MAP_READ, 0, 0, 0).unwrap();
                let t = Instant::now();
                for i in 0..64 {
                    black_box(s.read_value(p, at(w, i * PAGE), 8).unwrap());
                }
                let d = t.elapsed();
                s.unmap_view_of_file(p, w).unwrap();
                d
            })
        })
    });

    c.bench_function("demand_zero_fault_64_pages", |b| {
        b.iter_custom(|iters| {
            timed_parts(iters, || {
                let h = section(&s, p, 64 * PAGE, 0);
                let w = s.map_view_of_file(p, h, FILE_MAP_WRITE, 0, 0, 0).unwrap();
                let t = Instant::now();
                for i in 0..64 {
                    s.write_value(p, at(w, i * PAGE), 8, i).unwrap();
                }
                let d = t.elapsed();
                s.unmap_view_of_file(p, w).unwrap();
                s.close_handle(p, h).unwrap();
                d
            })
        })
    });

    c.bench_function("soft_fault_transition_64_pages", |b| {
        b.iter_batched(
            || {
                s.executive().trim(p).unwrap();
            },
            |()| {
                for i in 0..64 {
                    black_box(s.read_value(p, at(v, i * PAGE), 8).unwrap());
                }
            },
            BatchSize::PerIteration,
        )
    });

    // A 64 KiB view of the 256 KiB section: 64 KiB mapped, as the name says.
    c.bench_function("map_unmap_64k", |b| {
        b.iter(|| {
            let w = s
                .map_view_of_file(p, h, FILE_MAP_WRITE, 0, 0, 64 * 1024)
                .unwrap();
            s.unmap_view_of_file(p, w).unwrap();
        })
    });

    c.bench_function("create_reserve_1tib", |b| {
        b.iter(|| {
            let r = section(&s, p, 1 << 40, SEC_RESERVE);
            let w = s.map_view_of_file(p, r, FILE_MAP_WRITE, 0, 0, 0).unwrap();
            s.unmap_view_of_file(p, w).unwrap();
            s.close_handle(p, r).unwrap();
        })
    });

    // 256 pages written to the pagefile, then 448 other pages touched on a machine of 512
    // frames so that their standby frames are reused: re-reading the 256 is all hard faults.
    let (hs, hp) = fixture::system(512, Volume::Memory).unwrap();
    let ha = section(&hs, hp, 256 * PAGE, 0);
    let hva = fixture::view(&hs, hp, ha, 0).unwrap();
    let hb = section(&hs, hp, 448 * PAGE, 0);
    let hvb = fixture::view(&hs, hp, hb, 0).unwrap();
    let evict = || {
        fixture::touch_write(&hs, hp, hva, 256).unwrap();
        hs.executive().trim(hp).unwrap();
        hs.executive().run_writers();
        fixture::touch_read(&hs, hp, hvb, 448).unwrap();
        hs.executive().trim(hp).unwrap();
    };
    let hard = || {
        hs.executive()
            .vmm()
            .fault_counters(hp)
            .unwrap()
            .hard_pagefile
    };
    evict();
    let before = hard();
    fixture::touch_read(&hs, hp, hva, 256).unwrap();
    assert!(hard() - before >= 128, "the pages were not evicted");
    c.bench_function("hard_fault_pagefile_256_pages", |b| {
        b.iter_batched(
            evict,
            |()| black_box(fixture::touch_read(&hs, hp, hva, 256).unwrap()),
            BatchSize::PerIteration,
        )
    });

    // The flushes write to a real file store, as `ntmm bench` does.
    let dir = tempfile::tempdir().unwrap();
    let (fs, fp, fv, fh) =
        fixture::file_view(Volume::HostDirectory(dir.path().join("ntmm")), 16 << 20).unwrap();
    fs.flush_view_of_file(fp, fv, 0).unwrap();
    c.bench_function("flush_clean_16mib", |b| {
        b.iter(|| fs.flush_view_of_file(fp, fv, 0).unwrap())
    });
    let mut k = 0u64;
    // Durable: the page reaches the host file and the file is synced (FlushFileBuffers).
    c.bench_function("flush_dirty_page", |b| {
        b.iter(|| {
            k += 1;
            let page = k * 97 % ((16 << 20) / PAGE);
            fs.write_value(fp, at(fv, page * PAGE), 8, k).unwrap();
            fs.flush_view_of_file(fp, fv, 0).unwrap();
            fs.flush_file_buffers(fp, fh).unwrap()
        })
    });
    // The page reaches the host file (the host's page cache), no sync.
    c.bench_function("flush_dirty_page_cache", |b| {
        b.iter(|| {
            k += 1;
            let page = k * 97 % ((16 << 20) / PAGE);
            fs.write_value(fp, at(fv, page * PAGE), 8, k).unwrap();
            fs.flush_view_of_file(fp, fv, 0).unwrap()
        })
    });
}

criterion_group!(benches, paths);
criterion_main!(benches);

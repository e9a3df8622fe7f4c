//! Criterion benchmarks of the paths `ntmm bench` measures against the host: resident loads,
//! share faults, demand-zero faults, soft faults, map/unmap, flush of a clean view and the
//! 1 TiB reserve section. `cargo bench -p ntmm-bench`.
#![allow(missing_docs)]

use criterion::{black_box, criterion_group, criterion_main, BatchSize, Criterion};
use ntmm_api::*;
use ntmm_bench::fixture::{self, at, PAGE};

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

    c.bench_function("share_fault_64_pages", |b| {
        b.iter(|| {
            let w = s.map_view_of_file(p, h, FILE_MAP_READ, 0, 0, 0).unwrap();
            for i in 0..64 {
                black_box(s.read_value(p, at(w, i * PAGE), 8).unwrap());
            }
            s.unmap_view_of_file(p, w).unwrap();
        })
    });

    c.bench_function("demand_zero_fault_64_pages", |b| {
        b.iter_batched(
            || {
                let h = section(&s, p, 64 * PAGE, 0);
                (
                    h,
                    s.map_view_of_file(p, h, FILE_MAP_WRITE, 0, 0, 0).unwrap(),
                )
            },
            |(h, w)| {
                for i in 0..64 {
                    s.write_value(p, at(w, i * PAGE), 8, i).unwrap();
                }
                s.unmap_view_of_file(p, w).unwrap();
                s.close_handle(p, h).unwrap();
            },
            BatchSize::PerIteration,
        )
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

    c.bench_function("map_unmap_64k", |b| {
        b.iter(|| {
            let w = s.map_view_of_file(p, h, FILE_MAP_WRITE, 0, 0, 0).unwrap();
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

    let (fs, fp) = system(Volume::Memory);
    fs.create_volume_file("f.bin", &vec![1u8; 16 << 20])
        .unwrap();
    let fh = fs
        .create_file(
            fp,
            "f.bin",
            GENERIC_READ | GENERIC_WRITE,
            7,
            false,
            OPEN_EXISTING,
            0,
        )
        .unwrap();
    let fsec = fs
        .create_file_mapping(fp, fh, false, PAGE_READWRITE, 0, 0, None)
        .unwrap();
    let fv = fs
        .map_view_of_file(fp, fsec, FILE_MAP_WRITE, 0, 0, 0)
        .unwrap();
    for i in 0..(16 << 20) / PAGE {
        black_box(fs.read_value(fp, at(fv, i * PAGE), 8).unwrap());
    }
    c.bench_function("flush_clean_16mib", |b| {
        b.iter(|| fs.flush_view_of_file(fp, fv, 0).unwrap())
    });
}

criterion_group!(benches, paths);
criterion_main!(benches);

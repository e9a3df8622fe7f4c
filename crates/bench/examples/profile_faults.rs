//! Fixed loops of demand-zero faults (first write to each page of a fresh pagefile-backed view)
//! and share faults (first read through a second view), for profiling with
//! `valgrind --tool=callgrind` or `perf record`:
//! `cargo build --release -p ntmm-bench --example profile_faults &&
//!  valgrind --tool=callgrind target/release/examples/profile_faults`
//! (`NTMM_PROFILE_ROUNDS`, default 20, sets the number of rounds).

use ntmm_api::*;

const PAGES: u64 = 2048;

fn main() {
    // The benchmarks' machine: 16,384 frames and a working-set maximum as large, so that no
    // fault trims.
    let (s, p) = ntmm_bench::fixture::system(16_384, Volume::Memory).expect("machine");
    let mut acc = 0u64;
    let rounds: u64 = std::env::var("NTMM_PROFILE_ROUNDS")
        .ok()
        .and_then(|r| r.parse().ok())
        .unwrap_or(20);
    for round in 0..rounds {
        let h = s
            .create_file_mapping(
                p,
                Handle::INVALID,
                false,
                PAGE_READWRITE,
                0,
                (PAGES * 4096) as u32,
                None,
            )
            .expect("section");
        let v = s
            .map_view_of_file(p, h, FILE_MAP_WRITE, 0, 0, 0)
            .expect("view");
        for i in 0..PAGES {
            s.write_value(p, Va::new(v.raw() + i * 4096), 8, i + round)
                .expect("demand-zero fault");
        }
        let w = s
            .map_view_of_file(p, h, FILE_MAP_READ, 0, 0, 0)
            .expect("second view");
        for i in 0..PAGES {
            acc = acc.wrapping_add(
                s.read_value(p, Va::new(w.raw() + i * 4096), 8)
                    .expect("share fault"),
            );
        }
        s.unmap_view_of_file(p, w).expect("unmap");
        s.unmap_view_of_file(p, v).expect("unmap");
        s.close_handle(p, h).expect("close");
    }
    println!("{acc}");
}

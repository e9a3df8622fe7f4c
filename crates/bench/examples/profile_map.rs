//! A fixed loop of `MapViewOfFile` + `UnmapViewOfFile` of an untouched 64 KiB pagefile-backed
//! section (the `map_unmap_64k` workload), for profiling with `valgrind --tool=callgrind` or
//! `perf record`:
//! `cargo build --release -p ntmm-bench --example profile_map &&
//!  valgrind --tool=callgrind target/release/examples/profile_map`
//! (`NTMM_PROFILE_ROUNDS`, default 10,000, sets the number of map/unmap pairs; with
//! `NTMM_PROFILE_RESIDENT=1` a first view of the section is mapped and touched before the loop,
//! as in the `map_unmap_64k@small` scaling row).

use ntmm_api::Volume;
use ntmm_bench::fixture::{anon, system, touch_write, view};

fn main() -> Result<(), String> {
    let rounds: u64 = std::env::var("NTMM_PROFILE_ROUNDS")
        .ok()
        .and_then(|r| r.parse().ok())
        .unwrap_or(10_000);
    let (s, p) = system(4096, Volume::Memory)?;
    let h = anon(&s, p, 64 * 1024, 0)?;
    if std::env::var("NTMM_PROFILE_RESIDENT").is_ok_and(|v| v == "1") {
        let first = view(&s, p, h, 0)?;
        touch_write(&s, p, first, 16)?;
    }
    for _ in 0..rounds {
        let v = view(&s, p, h, 0)?;
        s.unmap_view_of_file(p, v).map_err(|e| format!("{e:?}"))?;
    }
    println!("{rounds} map/unmap pairs");
    Ok(())
}

//! Fixed loops of the paths issue 7/7 speeds up, one per argument, for profiling with
//! `valgrind --tool=callgrind` (instruction counts are repeatable where timings are not):
//! `cargo build --release -p ntmm-bench --example profile_paths &&
//!  valgrind --tool=callgrind target/release/examples/profile_paths PATH` with PATH one of
//! `start16m`, `start4g` (machine creation), `write8` (resident stores), `zero` (demand-zero
//! faults zeroing in the fault), `share` (share faults), `readfile` (ReadFile of 64 KiB),
//! `map` (map + unmap 64 KiB).

use ntmm_api::*;
use ntmm_bench::fixture::{anon, at, system, touch_read, touch_write, view, PAGE};
use ntmm_vmm::{VmmConfig, WriterPolicy};

fn machine(frames: u32) -> System {
    System::new(SystemConfig {
        vmm: VmmConfig {
            frames,
            pagefile_pages: 65_536,
            working_set_max: u64::from(frames),
            writer: WriterPolicy::Lazy,
        },
        volume: Volume::Memory,
    })
    .expect("machine")
}

fn main() {
    let which = std::env::args().nth(1).unwrap_or_default();
    let mut acc = 0u64;
    match which.as_str() {
        "start16m" => drop(machine(4096)),
        "start4g" => drop(machine(1 << 20)),
        "write8" => {
            let (s, p) = system(16_384, Volume::Memory).unwrap();
            let h = anon(&s, p, 256 * PAGE, 0).unwrap();
            let v = view(&s, p, h, 0).unwrap();
            touch_write(&s, p, v, 256).unwrap();
            for i in 0..1_000_000u64 {
                s.write_value(p, at(v, (i * 64) % (256 * PAGE)), 8, i)
                    .unwrap();
            }
        }
        "zero" => {
            let (s, p) = system(16_384, Volume::Memory).unwrap();
            // Every zeroed frame to the free list, then 16 rounds of 2048 demand-zero faults.
            let all = s.executive().vmm().list_counts().zeroed;
            let h = anon(&s, p, all * PAGE, 0).unwrap();
            let v = view(&s, p, h, 0).unwrap();
            touch_write(&s, p, v, all).unwrap();
            s.unmap_view_of_file(p, v).unwrap();
            s.close_handle(p, h).unwrap();
            for _ in 0..16 {
                let h = anon(&s, p, 2048 * PAGE, 0).unwrap();
                let v = view(&s, p, h, 0).unwrap();
                touch_write(&s, p, v, 2048).unwrap();
                s.unmap_view_of_file(p, v).unwrap();
                s.close_handle(p, h).unwrap();
            }
        }
        "share" => {
            let (s, p) = system(16_384, Volume::Memory).unwrap();
            let h = anon(&s, p, 2048 * PAGE, 0).unwrap();
            let v = view(&s, p, h, 0).unwrap();
            touch_write(&s, p, v, 2048).unwrap();
            for _ in 0..16 {
                let w = view(&s, p, h, 0).unwrap();
                acc = acc.wrapping_add(touch_read(&s, p, w, 2048).unwrap());
                s.unmap_view_of_file(p, w).unwrap();
            }
        }
        "readfile" => {
            let (s, p) = system(16_384, Volume::Memory).unwrap();
            s.create_volume_file("f.bin", &vec![1u8; 16 << 20]).unwrap();
            let fh = s
                .create_file(p, "f.bin", GENERIC_READ, 7, false, OPEN_EXISTING, 0)
                .unwrap();
            for _ in 0..4 {
                s.set_file_pointer(p, fh, 0, None, FILE_BEGIN).unwrap();
                for _ in 0..256 {
                    acc += s.read_file(p, fh, 65_536).unwrap().len() as u64;
                }
            }
        }
        "map" => {
            let (s, p) = system(4096, Volume::Memory).unwrap();
            let h = anon(&s, p, 65_536, 0).unwrap();
            for _ in 0..10_000 {
                let v = s
                    .map_view_of_file(p, h, FILE_MAP_WRITE, 0, 0, 65_536)
                    .unwrap();
                s.unmap_view_of_file(p, v).unwrap();
            }
        }
        other => panic!("unknown path `{other}`"),
    }
    println!("{acc}");
}

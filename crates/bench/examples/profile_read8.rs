//! A fixed loop of 8-byte resident loads through the Win32 facade, for profiling with
//! `valgrind --tool=callgrind` (instruction counts are repeatable where timings are not):
//! `cargo build --release -p ntmm-bench --example profile_read8 &&
//!  valgrind --tool=callgrind target/release/examples/profile_read8`.

use ntmm_api::*;
use ntmm_vmm::VmmConfig;

fn main() {
    let s = System::new(SystemConfig {
        vmm: VmmConfig::default(),
        volume: Volume::Memory,
    })
    .expect("machine");
    let p = s.create_process(None, false).expect("process");
    let h = s
        .create_file_mapping(p, Handle::INVALID, false, PAGE_READWRITE, 0, 1 << 20, None)
        .expect("section");
    let v = s
        .map_view_of_file(p, h, FILE_MAP_WRITE, 0, 0, 0)
        .expect("view");
    for i in 0..256u64 {
        s.write_value(p, Va::new(v.raw() + i * 4096), 8, i)
            .expect("touch");
    }
    let mut acc = 0u64;
    for i in 0..1_000_000u64 {
        let off = (i * 64) % (1 << 20);
        acc = acc.wrapping_add(s.read_value(p, Va::new(v.raw() + off), 8).expect("load"));
    }
    println!("{acc}");
}

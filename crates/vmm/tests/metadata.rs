//! A 1 TiB segment (2^28 pages) costs almost nothing until touched: measured with a counting
//! global allocator, not with time.
#![allow(clippy::tests_outside_test_module)]

use ntmm_vmm::*;
use stats_alloc::{Region, StatsAlloc, INSTRUMENTED_SYSTEM};
use std::alloc::System;

#[global_allocator]
static GLOBAL: &StatsAlloc<System> = &INSTRUMENTED_SYSTEM;

const TIB_PAGES: u64 = 1 << 28;

/// The allocator's counters are global: measurements must not overlap with another test's.
static MEASURING: std::sync::Mutex<()> = std::sync::Mutex::new(());
const MIB: isize = 1 << 20;

fn net(region: &Region<'_, System>) -> isize {
    let s = region.change();
    s.bytes_allocated as isize - s.bytes_deallocated as isize
}

#[test]
fn test_one_tib_pagefile_segment_touched_once_costs_under_one_mib() {
    let _serial = MEASURING.lock().unwrap_or_else(|e| e.into_inner());
    let vmm = Vmm::new(VmmConfig {
        frames: 16,
        pagefile_pages: 16,
        working_set_max: 8,
        writer: WriterPolicy::Lazy,
    })
    .unwrap();
    let a = vmm.create_address_space();
    let region = Region::new(GLOBAL);
    let seg = vmm
        .create_pagefile_segment(PageCount::new(TIB_PAGES), Protection::READWRITE, true)
        .unwrap();
    let base = vmm
        .map_segment(
            a,
            seg,
            0,
            PageCount::new(TIB_PAGES),
            Placement::BottomUp,
            Protection::READWRITE,
        )
        .unwrap();
    let last = TIB_PAGES - 1;
    vmm.commit_segment(seg, last, PageCount::new(1)).unwrap();
    let at = Va::new(base.raw() + last * PAGE_SIZE);
    vmm.write_u64(a, at, 42).unwrap();
    assert_eq!(vmm.read_u64(a, at).unwrap(), 42);
    let q = vmm.query(a, base).unwrap();
    let used = net(&region);
    assert_eq!(
        q.size.raw(),
        last * PAGE_SIZE,
        "one reserved run, found without a page walk"
    );
    assert!(
        used < MIB,
        "1 TiB segment + view + one touched page used {used} bytes"
    );
    assert!(
        used >= 4096,
        "at least the prototype PTE chunk and the page table leaf: {used}"
    );
    vmm.check_invariants().unwrap();
}

#[test]
fn test_one_tib_file_segment_touched_once_costs_under_one_mib() {
    let _serial = MEASURING.lock().unwrap_or_else(|e| e.into_inner());
    let vmm = Vmm::new(VmmConfig {
        frames: 16,
        pagefile_pages: 16,
        working_set_max: 8,
        writer: WriterPolicy::Lazy,
    })
    .unwrap();
    let mut big = MemoryStore::new();
    big.set_size(ByteCount::new(TIB_PAGES * PAGE_SIZE)).unwrap();
    let store = vmm.add_store(Box::new(big));
    let a = vmm.create_address_space();
    let region = Region::new(GLOBAL);
    let seg = vmm
        .create_file_segment(store, PageCount::new(TIB_PAGES))
        .unwrap();
    let base = vmm
        .map_segment(
            a,
            seg,
            0,
            PageCount::new(TIB_PAGES),
            Placement::BottomUp,
            Protection::READWRITE,
        )
        .unwrap();
    let mid = Va::new(base.raw() + (TIB_PAGES / 2) * PAGE_SIZE);
    vmm.write_u32(a, mid, 7).unwrap();
    let used = net(&region);
    assert!(used < MIB, "used {used} bytes");
    let info = vmm.segment_info(seg).unwrap();
    assert_eq!(
        info.chunk_bytes,
        512 * std::mem::size_of::<ProtoPte>() + 512 / 8,
        "one chunk of prototype PTEs with its one-bit-per-PTE dirty index"
    );
    vmm.check_invariants().unwrap();
}

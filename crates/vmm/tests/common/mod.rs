//! Fixtures shared by the vmm integration tests.
#![allow(dead_code)]

use ntmm_vmm::*;

/// A machine with `frames` frames, a pagefile of 256 pages and a working-set maximum of 64.
pub fn tiny(frames: u32) -> Vmm {
    Vmm::new(VmmConfig {
        frames,
        pagefile_pages: 256,
        working_set_max: 64,
        writer: WriterPolicy::Lazy,
    })
    .unwrap()
}

/// `n` pages as a count.
pub fn pages(n: u64) -> PageCount {
    PageCount::new(n)
}

/// The address of page `i` of a region at `base`.
pub fn page(base: Va, i: u64) -> Va {
    Va::new(base.raw() + i * PAGE_SIZE)
}

/// A file store holding `bytes`, registered with the machine, and a segment over it.
pub fn file_segment(vmm: &Vmm, bytes: &[u8]) -> (StoreId, SegmentId) {
    let store = vmm.add_store(Box::new(MemoryStore::with_contents(bytes)));
    let n = (bytes.len() as u64).div_ceil(PAGE_SIZE).max(1);
    let seg = vmm.create_file_segment(store, pages(n)).unwrap();
    (store, seg)
}

/// Reads the store's bytes (what is on disk).
pub fn disk(vmm: &Vmm, store: StoreId, offset: u64, len: usize) -> Vec<u8> {
    let mut out = vec![0u8; len];
    vmm.with_store(store, |s| {
        ntmm_vmm::store::read_bytes(s, offset, &mut out).unwrap()
    })
    .unwrap();
    out
}

/// Maps all of a segment read-write, bottom-up.
pub fn map_rw(vmm: &Vmm, asid: AsId, seg: SegmentId) -> Va {
    let n = vmm.segment_info(seg).unwrap().pages;
    vmm.map_segment(asid, seg, 0, n, Placement::BottomUp, Protection::READWRITE)
        .unwrap()
}

/// Commits `n` read-write private pages, bottom-up.
pub fn private_rw(vmm: &Vmm, asid: AsId, n: u64) -> Va {
    allocate_rw(vmm, asid, n, true)
}

/// Reserves `n` read-write private pages, bottom-up, committing none.
pub fn reserve_rw(vmm: &Vmm, asid: AsId, n: u64) -> Va {
    allocate_rw(vmm, asid, n, false)
}

fn allocate_rw(vmm: &Vmm, asid: AsId, n: u64, commit: bool) -> Va {
    vmm.allocate_private(
        asid,
        pages(n),
        Placement::BottomUp,
        Protection::READWRITE,
        commit,
    )
    .unwrap()
}

/// The exception an access raised.
pub fn exception(r: Result<impl std::fmt::Debug>) -> Exception {
    match r {
        Err(VmmError::Exception(e)) => e,
        other => panic!("expected an exception, got {other:?}"),
    }
}

/// Asserts the invariants hold.
pub fn ok(vmm: &Vmm) {
    if let Err(v) = vmm.check_invariants() {
        panic!("{v}");
    }
}

/// The frame a valid PTE maps.
pub fn frame_of(vmm: &Vmm, asid: AsId, va: Va) -> Pfn {
    match vmm.pte(asid, va).unwrap() {
        Pte::Valid(h) => h.pfn,
        other => panic!("PTE of {va} is {other:?}, not valid"),
    }
}

/// A machine whose pagefile fails as the returned plan says.
pub fn with_faulty_pagefile(
    frames: u32,
    pagefile_pages: u32,
    working_set_max: u64,
) -> (Vmm, FaultPlan) {
    let (pf, plan) = FaultyStore::new(MemoryStore::new());
    let vmm = Vmm::with_pagefile_store(
        VmmConfig {
            frames,
            pagefile_pages,
            working_set_max,
            writer: WriterPolicy::Lazy,
        },
        Box::new(pf),
    )
    .unwrap();
    (vmm, plan)
}

/// A file segment over a store holding `bytes` that fails as the returned plan says.
pub fn faulty_file_segment(vmm: &Vmm, bytes: &[u8]) -> (StoreId, SegmentId, FaultPlan) {
    let (faulty, plan) = FaultyStore::new(MemoryStore::with_contents(bytes));
    let store = vmm.add_store(Box::new(faulty));
    let n = (bytes.len() as u64).div_ceil(PAGE_SIZE).max(1);
    let seg = vmm.create_file_segment(store, pages(n)).unwrap();
    (store, seg, plan)
}

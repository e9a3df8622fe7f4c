//! Lock-free resident loads through the per-thread TLB (crate `tlb`): a cached translation
//! must never outlive the PTE it came from — the TLB flush NT does on every valid-PTE change
//! (nt_internals §3) — and a load racing with a change must never return another page's bytes.
#![allow(clippy::tests_outside_test_module)]

mod common;
use common::*;
use ntmm_vmm::*;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

/// The word every 8-byte slot of page `i` of segment `tag` holds.
fn pattern(tag: u64, i: u64) -> u64 {
    (tag << 48) | (i << 16) | 0xA5
}

/// Writes page `i`'s pattern into every word of `n` pages at `base`.
fn fill(vmm: &Vmm, asid: AsId, base: Va, tag: u64, n: u64) {
    for i in 0..n {
        let words: Vec<u8> = (0..PAGE_SIZE / 8)
            .flat_map(|_| pattern(tag, i).to_le_bytes())
            .collect();
        vmm.write(asid, page(base, i), &words).unwrap();
    }
}

#[test]
fn test_cached_load_after_trim_and_repurpose_reads_the_page_not_the_old_frame() {
    // 8 frames: the page's frame goes to standby on trim and is repurposed for other pages.
    let vmm = tiny(8);
    let a = vmm.create_address_space();
    let seg = vmm
        .create_pagefile_segment(pages(1), Protection::READWRITE, false)
        .unwrap();
    let v = map_rw(&vmm, a, seg);
    vmm.write_u64(a, v, 0x1111).unwrap();
    // Two loads: the first fills the TLB, the second hits it.
    assert_eq!(vmm.read_u64(a, v).unwrap(), 0x1111);
    assert_eq!(vmm.read_u64(a, v).unwrap(), 0x1111);
    let old = frame_of(&vmm, a, v);
    vmm.trim(a, None).unwrap();
    vmm.run_writers();
    // Other pages take every frame, the old one included, and fill it with their own data.
    let other = private_rw(&vmm, a, 16);
    for i in 0..16 {
        vmm.write_u64(a, page(other, i), 0xBAD0 + i).unwrap();
    }
    assert!(vmm.machine_counters().repurposed + vmm.machine_counters().pagefile_writes > 0);
    // The load faults the page back (from the pagefile), wherever it lands.
    assert_eq!(vmm.read_u64(a, v).unwrap(), 0x1111);
    let _ = old;
    ok(&vmm);
}

#[test]
fn test_cached_load_sees_the_private_copy_after_copy_on_write_a7() {
    let vmm = tiny(16);
    let a = vmm.create_address_space();
    let seg = vmm
        .create_pagefile_segment(pages(1), Protection::READWRITE, false)
        .unwrap();
    let rw = map_rw(&vmm, a, seg);
    vmm.write_u64(a, rw, 7).unwrap();
    let cow = vmm
        .map_segment(
            a,
            seg,
            0,
            pages(1),
            Placement::BottomUp,
            Protection::WRITECOPY,
        )
        .unwrap();
    assert_eq!(vmm.read_u64(a, cow).unwrap(), 7);
    assert_eq!(vmm.read_u64(a, cow).unwrap(), 7);
    vmm.write_u64(a, cow, 8).unwrap();
    // The view now maps its private copy; the shared page keeps 7.
    assert_eq!(vmm.read_u64(a, cow).unwrap(), 8);
    assert_eq!(vmm.read_u64(a, rw).unwrap(), 7);
    ok(&vmm);
}

#[test]
fn test_cached_load_after_protect_noaccess_raises_access_violation() {
    let vmm = tiny(16);
    let a = vmm.create_address_space();
    let p = private_rw(&vmm, a, 1);
    vmm.write_u64(a, p, 3).unwrap();
    assert_eq!(vmm.read_u64(a, p).unwrap(), 3);
    assert_eq!(vmm.read_u64(a, p).unwrap(), 3);
    vmm.protect(a, p, pages(1), Protection::NOACCESS).unwrap();
    assert_eq!(
        exception(vmm.read_u64(a, p)).kind,
        ExceptionKind::AccessViolation
    );
    ok(&vmm);
}

#[test]
fn test_cached_load_after_unmap_and_after_address_space_deletion_fails() {
    let vmm = tiny(16);
    let a = vmm.create_address_space();
    let seg = vmm
        .create_pagefile_segment(pages(1), Protection::READWRITE, false)
        .unwrap();
    let v = map_rw(&vmm, a, seg);
    vmm.write_u32(a, v, 5).unwrap();
    assert_eq!(vmm.read_u32(a, v).unwrap(), 5);
    assert_eq!(vmm.read_u32(a, v).unwrap(), 5);
    vmm.free_region(a, v).unwrap();
    assert_eq!(
        exception(vmm.read_u32(a, v)).kind,
        ExceptionKind::AccessViolation
    );

    let b = vmm.create_address_space();
    let w = map_rw(&vmm, b, seg);
    assert_eq!(vmm.read_u32(b, w).unwrap(), 5);
    assert_eq!(vmm.read_u32(b, w).unwrap(), 5);
    vmm.delete_address_space(b).unwrap();
    assert!(matches!(
        vmm.read_u32(b, w),
        Err(VmmError::UnknownAddressSpace(id)) if id == b
    ));
    ok(&vmm);
}

#[test]
fn test_two_machines_never_share_cached_translations() {
    // Same address-space identifier, same address, different bytes.
    let (m1, m2) = (tiny(16), tiny(16));
    let (a1, a2) = (m1.create_address_space(), m2.create_address_space());
    assert_eq!(a1, a2);
    let mk = |m: &Vmm, a: AsId| private_rw(m, a, 1);
    let (v1, v2) = (mk(&m1, a1), mk(&m2, a2));
    assert_eq!(v1, v2);
    m1.write_u64(a1, v1, 1).unwrap();
    m2.write_u64(a2, v2, 2).unwrap();
    for _ in 0..3 {
        assert_eq!(m1.read_u64(a1, v1).unwrap(), 1);
        assert_eq!(m2.read_u64(a2, v2).unwrap(), 2);
    }
    ok(&m1);
    ok(&m2);
}

#[test]
fn test_unaligned_and_small_cached_loads_are_little_endian() {
    let vmm = tiny(16);
    let a = vmm.create_address_space();
    let p = private_rw(&vmm, a, 2);
    let bytes: Vec<u8> = (0..2 * PAGE_SIZE).map(|i| (i % 251) as u8).collect();
    vmm.write(a, p, &bytes).unwrap();
    for off in [0u64, 1, 3, 7, 8, 13, 4088, 4089, 4095] {
        let at = Va::new(p.raw() + off);
        let o = off as usize;
        for _ in 0..2 {
            assert_eq!(vmm.read_u8(a, at).unwrap(), bytes[o]);
            assert_eq!(
                vmm.read_u16(a, at).unwrap(),
                u16::from_le_bytes(bytes[o..o + 2].try_into().unwrap())
            );
            assert_eq!(
                vmm.read_u32(a, at).unwrap(),
                u32::from_le_bytes(bytes[o..o + 4].try_into().unwrap())
            );
            assert_eq!(
                vmm.read_u64(a, at).unwrap(),
                u64::from_le_bytes(bytes[o..o + 8].try_into().unwrap())
            );
        }
    }
    ok(&vmm);
}

#[test]
fn test_a_store_through_another_view_is_seen_by_a_cached_load() {
    // Coherence (F1-style shared views): the cached translation names the shared frame itself.
    let vmm = tiny(16);
    let (a, b) = (vmm.create_address_space(), vmm.create_address_space());
    let seg = vmm
        .create_pagefile_segment(pages(1), Protection::READWRITE, false)
        .unwrap();
    let (va, vb) = (map_rw(&vmm, a, seg), map_rw(&vmm, b, seg));
    vmm.write_u64(a, va, 1).unwrap();
    assert_eq!(vmm.read_u64(b, vb).unwrap(), 1);
    assert_eq!(vmm.read_u64(b, vb).unwrap(), 1);
    vmm.write_u64(a, va, 2).unwrap();
    assert_eq!(vmm.read_u64(b, vb).unwrap(), 2);
    ok(&vmm);
}

/// Readers load page patterns without pause while another thread forces trims, pagefile
/// writes and frame repurposing on a machine too small for both: every load must return its
/// own page's pattern (a stale translation would return another page's bytes or zeros).
#[test]
fn test_racing_loads_never_see_another_pages_bytes() {
    const SHARED: u64 = 12;
    const OTHER: u64 = 24;
    let vmm = Arc::new(
        Vmm::new(VmmConfig {
            frames: 24,
            pagefile_pages: 256,
            working_set_max: 64,
            writer: WriterPolicy::Lazy,
        })
        .unwrap(),
    );
    let seg = vmm
        .create_pagefile_segment(pages(SHARED), Protection::READWRITE, false)
        .unwrap();
    let readers: Vec<(AsId, Va)> = (0..2)
        .map(|_| {
            let a = vmm.create_address_space();
            (a, map_rw(&vmm, a, seg))
        })
        .collect();
    fill(&vmm, readers[0].0, readers[0].1, 1, SHARED);
    let w = vmm.create_address_space();
    let wp = private_rw(&vmm, w, OTHER);
    let stop = Arc::new(AtomicBool::new(false));
    let rounds: u64 = std::env::var("NTMM_TLB_ROUNDS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(20_000);

    let handles: Vec<_> = readers
        .iter()
        .copied()
        .map(|(a, base)| {
            let (vmm, stop) = (Arc::clone(&vmm), Arc::clone(&stop));
            std::thread::spawn(move || {
                let mut loads = 0u64;
                let mut x = 0x9E37_79B9_7F4A_7C15u64 ^ u64::from(a.raw());
                while !stop.load(Ordering::Relaxed) || loads < rounds {
                    x ^= x << 13;
                    x ^= x >> 7;
                    x ^= x << 17;
                    let i = x % SHARED;
                    let off = (x >> 8) % (PAGE_SIZE / 8) * 8;
                    // Several loads per pick, so most hit the TLB.
                    for k in 0..4 {
                        let at = Va::new(page(base, i).raw() + (off + k * 8) % PAGE_SIZE);
                        let got = vmm.read_u64(a, at).unwrap();
                        assert_eq!(got, pattern(1, i), "page {i} at {at} read {got:#x}");
                        loads += 1;
                    }
                    if loads >= rounds && stop.load(Ordering::Relaxed) {
                        break;
                    }
                }
                loads
            })
        })
        .collect();

    for r in 0..rounds / 10 {
        let i = r % OTHER;
        vmm.write_u64(w, page(wp, i), pattern(2, i)).unwrap();
        if r % 7 == 0 {
            vmm.trim(readers[(r as usize / 7) % 2].0, Some(2)).unwrap();
        }
        if r % 11 == 0 {
            vmm.run_writers();
        }
    }
    stop.store(true, Ordering::Relaxed);
    for h in handles {
        assert!(h.join().unwrap() >= rounds);
    }
    let c = vmm.machine_counters();
    assert!(
        c.trims > 0 && c.pagefile_writes > 0 && c.repurposed > 0,
        "{c:?}"
    );
    for i in 0..OTHER {
        assert_eq!(vmm.read_u64(w, page(wp, i)).unwrap(), pattern(2, i));
    }
    ok(&vmm);
}

//! Working sets, trimming, the writers, flush and I/O failures (nt_internals §4.5–§4.7, §5).
#![allow(clippy::tests_outside_test_module)]

mod common;
use common::*;
use ntmm_vmm::*;

#[test]
fn test_trim_shared_page_returns_pte_to_prototype_form_s4_5() {
    let vmm = tiny(16);
    let seg = vmm
        .create_pagefile_segment(pages(2), Protection::READWRITE, false)
        .unwrap();
    let a = vmm.create_address_space();
    let rw = map_rw(&vmm, a, seg);
    let ro = vmm
        .map_segment(
            a,
            seg,
            0,
            pages(2),
            Placement::BottomUp,
            Protection::READONLY,
        )
        .unwrap();
    vmm.write_u8(a, rw, 1).unwrap();
    vmm.read_u8(a, ro).unwrap();
    let pfn = frame_of(&vmm, a, rw);
    assert_eq!(vmm.pfn_entry(pfn).unwrap().share_count(), 2);
    vmm.trim(a, None).unwrap();
    // Same protection as the prototype → encoded pointer; a different per-view protection →
    // the lookup form carrying it.
    assert_eq!(
        vmm.pte(a, rw).unwrap(),
        Pte::Prototype {
            proto: ProtoRef {
                segment: seg,
                index: ntmm_vmm::ProtoIndex::ZERO
            },
            read_only: false
        }
    );
    assert_eq!(
        vmm.pte(a, ro).unwrap(),
        Pte::PrototypeLookup {
            protection: Protection::READONLY
        }
    );
    assert_eq!(
        vmm.pfn_entry(pfn).unwrap().location(),
        PageLocation::Modified
    );
    // Both forms fault back in by soft fault to the same frame.
    assert_eq!(vmm.read_u8(a, rw).unwrap(), 1);
    assert_eq!(vmm.read_u8(a, ro).unwrap(), 1);
    assert_eq!(frame_of(&vmm, a, ro), pfn);
    assert_eq!(
        exception(vmm.write_u8(a, ro, 2)).kind,
        ExceptionKind::AccessViolation
    );
    ok(&vmm);
}

#[test]
fn test_trim_private_page_goes_to_transition_then_pagefile() {
    let vmm = tiny(8);
    let a = vmm.create_address_space();
    let p = private_rw(&vmm, a, 1);
    vmm.write_u64(a, p, 0xDEAD_BEEF).unwrap();
    let pfn = frame_of(&vmm, a, p);
    vmm.trim(a, None).unwrap();
    assert_eq!(
        vmm.pte(a, p).unwrap(),
        Pte::Transition {
            pfn,
            protection: Protection::READWRITE
        }
    );
    assert_eq!(
        vmm.pfn_entry(pfn).unwrap().location(),
        PageLocation::Modified
    );
    let r = vmm.run_writers();
    assert_eq!((r.pagefile_pages, r.file_pages), (1, 0));
    assert_eq!(
        vmm.pfn_entry(pfn).unwrap().location(),
        PageLocation::Standby
    );
    // Soft fault back: still clean, keeps its slot.
    assert_eq!(vmm.read_u64(a, p).unwrap(), 0xDEAD_BEEF);
    assert!(vmm.pfn_entry(pfn).unwrap().original().slot().is_some());
    // A store dirties it: the stale pagefile copy's slot is released once harvested (§5.1).
    vmm.write_u8(a, p, 0).unwrap();
    vmm.trim(a, None).unwrap();
    assert_eq!(vmm.pagefile_used(), 0);
    assert!(vmm.pfn_entry(pfn).unwrap().modified());
    ok(&vmm);
}

#[test]
fn test_working_set_is_bounded_and_replaces_oldest() {
    let vmm = tiny(32);
    let a = vmm.create_address_space();
    vmm.set_working_set_max(a, 4).unwrap();
    let p = private_rw(&vmm, a, 10);
    for i in 0..10 {
        vmm.write_u8(a, page(p, i), i as u8).unwrap();
    }
    let ws = vmm.working_set(a).unwrap();
    assert_eq!(ws, (6..10).map(|i| page(p, i).vpn()).collect::<Vec<_>>());
    for i in 0..10 {
        assert_eq!(vmm.read_u8(a, page(p, i)).unwrap(), i as u8);
    }
    assert!(vmm.fault_counters(a).unwrap().transition >= 6);
    ok(&vmm);
}

#[test]
fn test_memory_pressure_with_eight_frames_keeps_every_byte() {
    let vmm = tiny(8);
    let a = vmm.create_address_space();
    let n = 40;
    let p = private_rw(&vmm, a, n);
    for i in 0..n {
        vmm.write_u64(a, page(p, i), 0x1000 + i).unwrap();
        ok(&vmm);
    }
    for i in 0..n {
        assert_eq!(vmm.read_u64(a, page(p, i)).unwrap(), 0x1000 + i, "page {i}");
    }
    let c = vmm.machine_counters();
    assert!(
        c.pagefile_writes >= n - 8 && c.pagefile_reads > 0 && c.trims > 0,
        "{c:?}"
    );
    ok(&vmm);
}

#[test]
fn test_standby_reuse_order_free_first_then_standby_fifo() {
    // §4.2: MiRemoveAnyPage takes free, then zeroed, then standby (oldest first).
    let vmm = tiny(4);
    let (_store, seg) = file_segment(&vmm, &[7u8; 4 * 4096]);
    let a = vmm.create_address_space();
    let p = map_rw(&vmm, a, seg);
    for i in 0..4 {
        vmm.read_u8(a, page(p, i)).unwrap();
    }
    let first = frame_of(&vmm, a, p);
    vmm.trim(a, None).unwrap();
    assert_eq!(vmm.list_counts().standby, 4);
    let b = vmm.create_address_space();
    let q = private_rw(&vmm, b, 1);
    vmm.write_u8(b, q, 1).unwrap();
    assert_eq!(
        frame_of(&vmm, b, q),
        first,
        "the oldest standby frame is repurposed"
    );
    // Its prototype PTE went back to subsection form and the segment lost a PFN reference.
    assert!(matches!(
        vmm.proto_pte(seg, 0).unwrap(),
        ProtoPte::Subsection { .. }
    ));
    assert_eq!(vmm.segment_info(seg).unwrap().pfn_references, 3);
    assert_eq!(vmm.machine_counters().repurposed, 1);
    ok(&vmm);
}

#[test]
fn test_mapped_writer_writes_file_pages_after_unmap_s4_4() {
    let vmm = tiny(16);
    let (store, seg) = file_segment(&vmm, &[0u8; 4096]);
    let a = vmm.create_address_space();
    let p = map_rw(&vmm, a, seg);
    vmm.write(a, p, b"lazy").unwrap();
    vmm.free_region(a, p).unwrap();
    // Unmap never writes (§5.3).
    assert_eq!(disk(&vmm, store, 0, 4), [0; 4]);
    assert_eq!(vmm.list_counts().modified, 1);
    let r = vmm.run_mapped_page_writer();
    assert_eq!(r.file_pages, 1);
    assert_eq!(disk(&vmm, store, 0, 4), b"lazy");
    assert_eq!(vmm.list_counts().standby, 1, "clean now, cached on standby");
    ok(&vmm);
}

#[test]
fn test_eager_writer_policy_writes_at_end_of_operation() {
    let vmm = Vmm::new(VmmConfig {
        frames: 16,
        pagefile_pages: 64,
        working_set_max: 16,
        writer: WriterPolicy::Eager,
    })
    .unwrap();
    let (store, seg) = file_segment(&vmm, &[0u8; 4096]);
    let a = vmm.create_address_space();
    let p = map_rw(&vmm, a, seg);
    vmm.write(a, p, b"now").unwrap();
    assert_eq!(
        disk(&vmm, store, 0, 3),
        [0; 3],
        "still mapped: nothing on the modified list"
    );
    vmm.free_region(a, p).unwrap();
    assert_eq!(disk(&vmm, store, 0, 3), b"now");
    // Private pages are not written eagerly (only the mapped writer is eager).
    let q = private_rw(&vmm, a, 1);
    vmm.write_u8(a, q, 1).unwrap();
    vmm.trim(a, None).unwrap();
    assert_eq!(vmm.list_counts().modified, 1);
    ok(&vmm);
}

#[test]
fn test_worked_example_s5_4_step_by_step() {
    let vmm = tiny(16);
    let (store, seg) = file_segment(&vmm, &[0u8; 8192]);
    let a = vmm.create_address_space();
    let b = vmm.create_address_space();
    let pa = map_rw(&vmm, a, seg);
    let pb = map_rw(&vmm, b, seg);
    let flush = |asid, va: Va| {
        // NtFlushVirtualMemory: harvest this process's dirty bits, then write modified pages.
        vmm.harvest_dirty(asid, va, pages(1)).unwrap();
        vmm.flush_segment(seg, 0, pages(1)).unwrap()
    };
    // 1. A writes page 0: valid + dirty, frame modified at fault time, share 1.
    vmm.write(a, pa, b"A1").unwrap();
    let f0 = frame_of(&vmm, a, pa);
    assert!(vmm.pfn_entry(f0).unwrap().modified());
    // 2. B reads page 0: share fault, share 2, B sees A's bytes.
    assert_eq!(vmm.read_u16(b, pb).unwrap(), u16::from_le_bytes(*b"A1"));
    assert_eq!(vmm.pfn_entry(f0).unwrap().share_count(), 2);
    // 3. A writes again: nothing new.
    vmm.write(a, pa, b"A3").unwrap();
    // 4. B flushes: B's PTE is clean but the frame is modified from step 1 → written.
    assert_eq!(flush(b, pb), 1);
    assert_eq!(disk(&vmm, store, 0, 2), b"A3");
    assert!(!vmm.pfn_entry(f0).unwrap().modified());
    assert!(
        matches!(vmm.pte(a, pa).unwrap(), Pte::Valid(h) if h.dirty),
        "A's PTE still dirty"
    );
    // 5. A writes again (PTE already dirty: no fault, frame stays clean).
    vmm.write(a, pa, b"A5").unwrap();
    assert!(!vmm.pfn_entry(f0).unwrap().modified());
    // 6. B flushes again: nothing written; the file lags A's last write.
    assert_eq!(flush(b, pb), 0);
    assert_eq!(disk(&vmm, store, 0, 2), b"A3");
    // 7. A unmaps: dirty bit captured, share 2 → 1, nothing written.
    vmm.free_region(a, pa).unwrap();
    assert!(vmm.pfn_entry(f0).unwrap().modified());
    assert_eq!(vmm.pfn_entry(f0).unwrap().share_count(), 1);
    assert_eq!(disk(&vmm, store, 0, 2), b"A3");
    // 8. B unmaps: share → 0, proto to transition, frame on the modified list; the mapped
    // writer writes it; then it sits on standby.
    vmm.free_region(b, pb).unwrap();
    assert_eq!(
        vmm.pfn_entry(f0).unwrap().location(),
        PageLocation::Modified
    );
    assert!(matches!(
        vmm.proto_pte(seg, 0).unwrap(),
        ProtoPte::Transition { .. }
    ));
    vmm.run_mapped_page_writer();
    assert_eq!(disk(&vmm, store, 0, 2), b"A5");
    assert_eq!(vmm.pfn_entry(f0).unwrap().location(), PageLocation::Standby);
    ok(&vmm);
}

#[test]
fn test_flush_only_harvests_own_dirty_bits_s5_2() {
    let vmm = tiny(16);
    let (store, seg) = file_segment(&vmm, &[0u8; 4096]);
    let a = vmm.create_address_space();
    let b = vmm.create_address_space();
    let pa = map_rw(&vmm, a, seg);
    let pb = map_rw(&vmm, b, seg);
    vmm.read_u8(a, pa).unwrap();
    vmm.read_u8(b, pb).unwrap();
    vmm.write(a, pa, b"only-A").unwrap(); // valid clean PTE: only A's dirty bit is set
    vmm.harvest_dirty(b, pb, pages(1)).unwrap();
    assert_eq!(
        vmm.flush_segment(seg, 0, pages(1)).unwrap(),
        0,
        "B's flush misses A's dirty bit"
    );
    vmm.harvest_dirty(a, pa, pages(1)).unwrap();
    assert_eq!(vmm.flush_segment(seg, 0, pages(1)).unwrap(), 1);
    assert_eq!(disk(&vmm, store, 0, 6), b"only-A");
    ok(&vmm);
}

#[test]
fn test_last_partial_page_is_clipped_to_the_file_size() {
    let vmm = tiny(16);
    let (store, seg) = file_segment(&vmm, b"12345");
    let a = vmm.create_address_space();
    let p = map_rw(&vmm, a, seg);
    assert_eq!(vmm.read_u8(a, page(p, 0)).unwrap(), b'1');
    // Bytes past EOF in the last page read as zero and are never written to the file.
    assert_eq!(vmm.read_u8(a, Va::new(p.raw() + 100)).unwrap(), 0);
    vmm.write(a, Va::new(p.raw() + 3), b"ab-past-eof").unwrap();
    vmm.free_region(a, p).unwrap();
    vmm.run_writers();
    vmm.with_store(store, |s| assert_eq!(s.size(), ByteCount::new(5)))
        .unwrap();
    assert_eq!(disk(&vmm, store, 0, 5), b"123ab");
    ok(&vmm);
}

#[test]
fn test_in_page_error_on_failed_file_read_then_retry_succeeds() {
    let vmm = tiny(16);
    let (_store, seg, plan) = faulty_file_segment(&vmm, b"payload");
    let a = vmm.create_address_space();
    let p = map_rw(&vmm, a, seg);
    plan.fail_nth_read(1);
    let e = exception(vmm.read_u8(a, p));
    assert_eq!(
        e.kind,
        ExceptionKind::InPageError(NtStatus::STATUS_DEVICE_DATA_ERROR)
    );
    assert_eq!(e.code(), NtStatus::STATUS_IN_PAGE_ERROR);
    assert!(matches!(
        vmm.proto_pte(seg, 0).unwrap(),
        ProtoPte::Subsection { .. }
    ));
    ok(&vmm);
    assert_eq!(vmm.read_u8(a, p).unwrap(), b'p');
    assert_eq!(vmm.fault_counters(a).unwrap().in_page_error, 1);
    ok(&vmm);
}

#[test]
fn test_failed_mapped_write_loses_nothing_and_is_retried() {
    let vmm = tiny(16);
    let (store, seg, plan) = faulty_file_segment(&vmm, &[0u8; 4096]);
    let a = vmm.create_address_space();
    let p = map_rw(&vmm, a, seg);
    vmm.write(a, p, b"keep").unwrap();
    vmm.free_region(a, p).unwrap();
    plan.fail_all();
    let r = vmm.run_writers();
    assert_eq!((r.file_pages, r.errors.len()), (0, 1));
    assert_eq!(r.errors[0].op, StoreOp::Write);
    assert_eq!(vmm.list_counts().modified, 1, "the page stays modified");
    ok(&vmm);
    plan.clear();
    assert_eq!(vmm.run_writers().file_pages, 1);
    assert_eq!(disk(&vmm, store, 0, 4), b"keep");
    ok(&vmm);
}

#[test]
fn test_failed_flush_reports_error_and_keeps_page_modified() {
    let vmm = tiny(16);
    let (store, seg, plan) = faulty_file_segment(&vmm, &[0u8; 4096]);
    let a = vmm.create_address_space();
    let p = map_rw(&vmm, a, seg);
    vmm.write(a, p, b"x").unwrap();
    plan.fail_nth_write(1);
    plan.set_status(NtStatus::STATUS_UNEXPECTED_IO_ERROR);
    let err = vmm.flush_segment(seg, 0, pages(1)).unwrap_err();
    assert_eq!(err.status(), NtStatus::STATUS_UNEXPECTED_IO_ERROR);
    assert!(vmm.pfn_entry(frame_of(&vmm, a, p)).unwrap().modified());
    assert_eq!(vmm.flush_segment(seg, 0, pages(1)).unwrap(), 1);
    assert_eq!(disk(&vmm, store, 0, 1), b"x");
    ok(&vmm);
}

#[test]
fn test_failed_pagefile_write_releases_slot_and_keeps_page() {
    let (vmm, plan) = with_faulty_pagefile(8, 32, 8);
    let a = vmm.create_address_space();
    let p = private_rw(&vmm, a, 1);
    vmm.write_u32(a, p, 77).unwrap();
    vmm.trim(a, None).unwrap();
    plan.fail_all();
    let r = vmm.run_modified_page_writer();
    assert_eq!((r.pagefile_pages, r.errors.len()), (0, 1));
    assert_eq!(vmm.pagefile_used(), 0);
    ok(&vmm);
    plan.clear();
    assert_eq!(vmm.run_modified_page_writer().pagefile_pages, 1);
    assert_eq!(vmm.read_u32(a, p).unwrap(), 77);
    ok(&vmm);
}

#[test]
fn test_failed_pagefile_read_is_in_page_error() {
    let (vmm, plan) = with_faulty_pagefile(4, 32, 4);
    let a = vmm.create_address_space();
    let p = private_rw(&vmm, a, 8);
    for i in 0..8 {
        vmm.write_u8(a, page(p, i), 10 + i as u8).unwrap();
    }
    assert!(matches!(vmm.pte(a, p).unwrap(), Pte::Pagefile { .. }));
    plan.fail_nth_read(1);
    assert!(matches!(
        exception(vmm.read_u8(a, p)).kind,
        ExceptionKind::InPageError(_)
    ));
    ok(&vmm);
    assert_eq!(vmm.read_u8(a, p).unwrap(), 10);
    ok(&vmm);
}

#[test]
fn test_pagefile_full_leaves_pages_modified() {
    let vmm = Vmm::new(VmmConfig {
        frames: 8,
        pagefile_pages: 2,
        working_set_max: 8,
        writer: WriterPolicy::Lazy,
    })
    .unwrap();
    let a = vmm.create_address_space();
    let p = private_rw(&vmm, a, 3);
    for i in 0..3 {
        vmm.write_u8(a, page(p, i), 1).unwrap();
    }
    vmm.trim(a, None).unwrap();
    let r = vmm.run_modified_page_writer();
    assert_eq!(r.pagefile_pages, 1, "one usable slot (slot 0 is reserved)");
    assert!(r.pagefile_full);
    assert_eq!(vmm.list_counts().modified, 2);
    ok(&vmm);
}

#[test]
fn test_cached_io_is_coherent_with_views_s8() {
    let vmm = tiny(16);
    let (store, seg) = file_segment(&vmm, b"0123456789");
    let a = vmm.create_address_space();
    let p = map_rw(&vmm, a, seg);
    vmm.write_segment(seg, 2, b"ab").unwrap();
    let mut buf = [0u8; 4];
    vmm.read(a, p, &mut buf).unwrap();
    assert_eq!(&buf, b"01ab", "the view sees WriteFile data at once");
    vmm.write(a, Va::new(p.raw() + 4), b"XY").unwrap();
    let mut got = [0u8; 10];
    vmm.read_segment(seg, 0, &mut got).unwrap();
    assert_eq!(&got, b"01abXY6789", "ReadFile sees the view's store");
    assert_eq!(frame_of(&vmm, a, p), {
        let ProtoPte::Valid { pfn } = vmm.proto_pte(seg, 0).unwrap() else {
            panic!()
        };
        pfn
    });
    assert_eq!(
        disk(&vmm, store, 0, 10),
        b"0123456789",
        "nothing on disk yet"
    );
    assert!(
        vmm.read_segment(seg, 4090, &mut [0u8; 10]).is_err(),
        "past the segment"
    );
    ok(&vmm);
}

#[test]
fn test_cached_io_pages_land_on_lists_like_an_unmapped_view() {
    let vmm = tiny(16);
    let (store, seg) = file_segment(&vmm, &[0u8; 8192]);
    vmm.write_segment(seg, 4096, b"cache").unwrap();
    assert_eq!(vmm.list_counts().modified, 1);
    let mut b = [0u8; 1];
    vmm.read_segment(seg, 0, &mut b).unwrap();
    assert_eq!(vmm.list_counts().standby, 1);
    assert_eq!(vmm.segment_info(seg).unwrap().pfn_references, 2);
    vmm.run_writers();
    assert_eq!(disk(&vmm, store, 4096, 5), b"cache");
    ok(&vmm);
}

#[test]
fn test_parked_file_segment_is_queued_when_its_last_page_leaves() {
    let vmm = tiny(4);
    let (_store, seg) = file_segment(&vmm, &[1u8; 4096]);
    let a = vmm.create_address_space();
    let p = map_rw(&vmm, a, seg);
    vmm.read_u8(a, p).unwrap();
    vmm.free_region(a, p).unwrap();
    vmm.set_segment_parked(seg, true).unwrap();
    assert!(
        vmm.take_segments_to_delete().is_empty(),
        "a cached page keeps it alive (§6.2)"
    );
    // Memory pressure repurposes the standby frame: MiCheckForControlAreaDeletion.
    let q = private_rw(&vmm, a, 4);
    for i in 0..4 {
        vmm.write_u8(a, page(q, i), 1).unwrap();
    }
    assert_eq!(vmm.take_segments_to_delete(), vec![seg]);
    vmm.delete_segment(seg).unwrap();
    ok(&vmm);
}

#[test]
fn test_purge_writes_modified_pages_then_frees_frames() {
    let vmm = tiny(16);
    let (store, seg) = file_segment(&vmm, &[0u8; 8192]);
    vmm.write_segment(seg, 0, b"purged").unwrap();
    vmm.read_segment(seg, 4096, &mut [0u8; 1]).unwrap();
    assert_eq!(vmm.delete_segment(seg), Err(VmmError::SegmentInUse(seg)));
    vmm.purge_segment(seg).unwrap();
    assert_eq!(disk(&vmm, store, 0, 6), b"purged");
    assert_eq!(vmm.segment_info(seg).unwrap().pfn_references, 0);
    assert_eq!(vmm.list_counts().standby + vmm.list_counts().modified, 0);
    vmm.delete_segment(seg).unwrap();
    assert!(vmm.remove_store(store).is_ok());
    ok(&vmm);
}

#[test]
fn test_no_modified_writing_parks_pages_on_modified_no_write_list() {
    let vmm = tiny(16);
    let (store, seg) = file_segment(&vmm, &[0u8; 4096]);
    vmm.set_no_modified_writing(seg, true).unwrap();
    vmm.write_segment(seg, 0, b"meta").unwrap();
    let r = vmm.run_writers();
    assert_eq!((r.file_pages, r.no_write_pages), (0, 1));
    assert_eq!(vmm.list_counts().modified_no_write, 1);
    assert_eq!(disk(&vmm, store, 0, 4), [0; 4]);
    ok(&vmm);
    vmm.set_no_modified_writing(seg, false).unwrap();
    assert_eq!(vmm.run_writers().file_pages, 1);
    assert_eq!(disk(&vmm, store, 0, 4), b"meta");
    ok(&vmm);
}

#[test]
fn test_a13_address_space_deletion_unmaps_like_unmap() {
    let vmm = tiny(16);
    let (store, seg) = file_segment(&vmm, &[0u8; 4096]);
    let a = vmm.create_address_space();
    let p = map_rw(&vmm, a, seg);
    vmm.read_u8(a, p).unwrap();
    vmm.write(a, p, b"exit").unwrap(); // dirty bit only in the PTE
    let q = private_rw(&vmm, a, 2);
    vmm.write_u8(a, q, 1).unwrap();
    vmm.delete_address_space(a).unwrap();
    assert_eq!(vmm.segment_info(seg).unwrap().mapped, 0);
    assert_eq!(
        vmm.list_counts().modified,
        1,
        "dirty bit captured; page on the modified list"
    );
    assert_eq!(vmm.commit().charged(), PageCount::ZERO);
    assert_eq!(vmm.read_u8(a, q), Err(VmmError::UnknownAddressSpace(a)));
    vmm.run_writers();
    assert_eq!(disk(&vmm, store, 0, 4), b"exit");
    ok(&vmm);
}

#[test]
fn test_host_file_store_backs_a_segment_and_the_pagefile() {
    let dir = tempfile::tempdir().unwrap();
    let pf = HostFileStore::create(dir.path().join("pagefile.sys"), ByteCount::new(0)).unwrap();
    let vmm = Vmm::with_pagefile_store(
        VmmConfig {
            frames: 4,
            pagefile_pages: 64,
            working_set_max: 4,
            writer: WriterPolicy::Lazy,
        },
        Box::new(pf),
    )
    .unwrap();
    let path = dir.path().join("data.bin");
    std::fs::write(&path, b"on the host").unwrap();
    let store = vmm.add_store(Box::new(HostFileStore::open(&path).unwrap()));
    let seg = vmm.create_file_segment(store, pages(1)).unwrap();
    let a = vmm.create_address_space();
    let p = map_rw(&vmm, a, seg);
    vmm.write(a, p, b"ON").unwrap();
    let q = private_rw(&vmm, a, 8);
    for i in 0..8 {
        vmm.write_u8(a, page(q, i), i as u8).unwrap();
    }
    for i in 0..8 {
        assert_eq!(vmm.read_u8(a, page(q, i)).unwrap(), i as u8);
    }
    vmm.free_region(a, p).unwrap();
    vmm.run_writers();
    assert_eq!(std::fs::read(&path).unwrap(), b"ON the host");
    assert_eq!(
        std::fs::metadata(dir.path().join("pagefile.sys"))
            .unwrap()
            .len(),
        64 * 4096
    );
    ok(&vmm);
}

#[test]
fn test_truncate_segment_discards_cached_tail_pages() {
    let vmm = tiny(16);
    let (_store, seg) = file_segment(&vmm, &[3u8; 3 * 4096]);
    vmm.write_segment(seg, 2 * 4096, b"tail").unwrap();
    vmm.read_segment(seg, 4096, &mut [0u8; 1]).unwrap();
    assert_eq!(vmm.segment_info(seg).unwrap().pfn_references, 2);
    vmm.truncate_segment(seg, pages(1)).unwrap();
    let info = vmm.segment_info(seg).unwrap();
    assert_eq!((info.pages, info.pfn_references), (pages(1), 0));
    assert_eq!(vmm.list_counts().modified + vmm.list_counts().standby, 0);
    vmm.extend_segment(seg, pages(3)).unwrap();
    assert!(matches!(
        vmm.proto_pte(seg, 2).unwrap(),
        ProtoPte::Subsection { .. }
    ));
    ok(&vmm);
}

#[test]
fn test_guard_view_raises_once_per_page_f53() {
    let vmm = tiny(16);
    let seg = vmm
        .create_pagefile_segment(pages(2), Protection::READWRITE, false)
        .unwrap();
    let a = vmm.create_address_space();
    let guard = Protection::from_win32(0x104).unwrap();
    let p = vmm
        .map_segment(a, seg, 0, pages(2), Placement::BottomUp, guard)
        .unwrap();
    assert_eq!(exception(vmm.read_u8(a, p)).kind, ExceptionKind::GuardPage);
    assert_eq!(vmm.read_u8(a, p).unwrap(), 0);
    assert_eq!(
        exception(vmm.write_u8(a, page(p, 1), 1)).kind,
        ExceptionKind::GuardPage
    );
    vmm.write_u8(a, page(p, 1), 1).unwrap();
    ok(&vmm);
}

/// §3.1 step 3: a fault through a zero PTE of a view writes the "prototype, lookup needed" PTE
/// with the view protection. When the fault then fails (here: an uncommitted page of a
/// SEC_RESERVE segment), that PTE stays; when it succeeds, the PTE is valid.
#[test]
fn test_failed_view_fault_leaves_the_lookup_pte_s3_1() {
    let vmm = tiny(16);
    let seg = vmm
        .create_pagefile_segment(pages(2), Protection::READWRITE, true)
        .unwrap();
    vmm.commit_segment(seg, 0, pages(1)).unwrap();
    let a = vmm.create_address_space();
    let v = map_rw(&vmm, a, seg);
    let second = Va::new(v.raw() + 4096);
    assert_eq!(vmm.pte(a, second).unwrap(), Pte::Zero);
    assert_eq!(
        exception(vmm.read_u8(a, second)).kind,
        ExceptionKind::AccessViolation
    );
    assert_eq!(
        vmm.pte(a, second).unwrap(),
        Pte::PrototypeLookup {
            protection: Protection::READWRITE
        }
    );
    vmm.read_u8(a, v).unwrap();
    assert!(vmm.pte(a, v).unwrap().is_valid());
    vmm.check_invariants().unwrap();
}

//! Fault paths, one resolver per PTE state (nt_internals §3), and the Appendix A scenarios that
//! live at the machine layer.
#![allow(clippy::tests_outside_test_module)]

mod common;
use common::*;
use ntmm_vmm::*;

#[test]
fn test_private_demand_zero_fault_s3_6() {
    let vmm = tiny(16);
    let a = vmm.create_address_space();
    let p = private_rw(&vmm, a, 4);
    assert_eq!(
        p,
        Va::new(USER_MIN),
        "bottom-up first fit from 0x10000 (§7.3)"
    );
    assert_eq!(
        vmm.pte(a, p).unwrap(),
        Pte::Zero,
        "PTEs stay zero until touched"
    );
    assert_eq!(vmm.read_u64(a, page(p, 2)).unwrap(), 0);
    let c = vmm.fault_counters(a).unwrap();
    assert_eq!(c.demand_zero, 1);
    let pfn = frame_of(&vmm, a, page(p, 2));
    let e = vmm.pfn_entry(pfn).unwrap();
    // §3.6: a demand-zero page is born modified, share 1, reference 1, PTE back-pointer.
    assert!(e.modified());
    assert_eq!((e.share_count(), e.reference_count()), (1, 1));
    assert_eq!(
        e.pte(),
        Some(PteRef::Process {
            space: a,
            vpn: page(p, 2).vpn()
        })
    );
    assert_eq!(vmm.working_set(a).unwrap(), vec![page(p, 2).vpn()]);
    ok(&vmm);
}

#[test]
fn test_a1_pagefile_section_demand_zero_on_proto() {
    // Appendix A1: 64 KiB pagefile section; commit 16 pages at create; read page 3.
    let vmm = tiny(32);
    let before = vmm.commit().charged();
    let seg = vmm
        .create_pagefile_segment(pages(16), Protection::READWRITE, false)
        .unwrap();
    assert_eq!(vmm.commit().charged().raw() - before.raw(), 16);
    let a = vmm.create_address_space();
    let p = map_rw(&vmm, a, seg);
    assert_eq!(vmm.read_u32(a, page(p, 3)).unwrap(), 0);
    let ProtoPte::Valid { pfn } = vmm.proto_pte(seg, 3).unwrap() else {
        panic!("proto PTE 3 should be valid");
    };
    let e = vmm.pfn_entry(pfn).unwrap();
    assert!(e.modified(), "A1: frame Modified = 1");
    assert!(e.is_prototype());
    assert_eq!(vmm.fault_counters(a).unwrap().demand_zero, 1);
    assert_eq!(vmm.segment_info(seg).unwrap().pfn_references, 1);
    ok(&vmm);
}

#[test]
fn test_a2_sec_reserve_uncommitted_proto_is_access_violation() {
    let vmm = tiny(16);
    let seg = vmm
        .create_pagefile_segment(pages(16), Protection::READWRITE, true)
        .unwrap();
    assert_eq!(
        vmm.commit().charged(),
        PageCount::ZERO,
        "SEC_RESERVE charges nothing"
    );
    let a = vmm.create_address_space();
    let p = map_rw(&vmm, a, seg);
    let e = exception(vmm.read_u8(a, p));
    assert_eq!(e.kind, ExceptionKind::AccessViolation);
    assert_eq!(e.address, p);
    assert_eq!(vmm.commit_segment(seg, 0, pages(1)).unwrap(), pages(1));
    assert_eq!(
        vmm.commit().charged(),
        pages(1),
        "A2: commit rises by one page"
    );
    assert_eq!(vmm.read_u8(a, p).unwrap(), 0);
    // Committing again charges nothing more.
    assert_eq!(vmm.commit_segment(seg, 0, pages(2)).unwrap(), pages(1));
    ok(&vmm);
}

#[test]
fn test_a3_share_fault_two_address_spaces_one_frame() {
    let vmm = tiny(16);
    let seg = vmm
        .create_pagefile_segment(pages(4), Protection::READWRITE, false)
        .unwrap();
    let a = vmm.create_address_space();
    let b = vmm.create_address_space();
    let pa = map_rw(&vmm, a, seg);
    let pb = map_rw(&vmm, b, seg);
    vmm.write(a, pa, b"hello").unwrap();
    let mut buf = [0u8; 5];
    vmm.read(b, pb, &mut buf).unwrap();
    assert_eq!(&buf, b"hello");
    let pfn = frame_of(&vmm, a, pa);
    assert_eq!(frame_of(&vmm, b, pb), pfn, "one frame per section page");
    assert_eq!(vmm.pfn_entry(pfn).unwrap().share_count(), 2);
    assert_eq!(vmm.fault_counters(b).unwrap().share, 1, "§3.2 share fault");
    ok(&vmm);
}

#[test]
fn test_a4_unmap_all_then_soft_fault_from_modified_list() {
    let vmm = tiny(16);
    let seg = vmm
        .create_pagefile_segment(pages(4), Protection::READWRITE, false)
        .unwrap();
    let a = vmm.create_address_space();
    let b = vmm.create_address_space();
    let pa = map_rw(&vmm, a, seg);
    let pb = map_rw(&vmm, b, seg);
    vmm.write(a, pa, b"data").unwrap();
    vmm.read_u8(b, pb).unwrap();
    let pfn = frame_of(&vmm, a, pa);
    vmm.free_region(a, pa).unwrap();
    assert_eq!(vmm.pfn_entry(pfn).unwrap().share_count(), 1);
    vmm.free_region(b, pb).unwrap();
    // §4.3: share → 0 puts the proto PTE in transition and the dirty frame on the modified list.
    assert!(
        matches!(vmm.proto_pte(seg, 0).unwrap(), ProtoPte::Transition { pfn: f, .. } if f == pfn)
    );
    assert_eq!(
        vmm.pfn_entry(pfn).unwrap().location(),
        PageLocation::Modified
    );
    let pc = map_rw(&vmm, a, seg);
    let mut buf = [0u8; 4];
    vmm.read(a, pc, &mut buf).unwrap();
    assert_eq!(&buf, b"data");
    assert_eq!(frame_of(&vmm, a, pc), pfn, "the same frame came back");
    assert_eq!(
        vmm.fault_counters(a).unwrap().transition,
        1,
        "§3.3 soft fault"
    );
    assert!(
        vmm.pfn_entry(pfn).unwrap().modified(),
        "Modified survives standby ↔ active"
    );
    ok(&vmm);
}

#[test]
fn test_a5_pagefile_segment_delete_frees_frames_and_commit() {
    let vmm = tiny(16);
    let seg = vmm
        .create_pagefile_segment(pages(4), Protection::READWRITE, false)
        .unwrap();
    let a = vmm.create_address_space();
    let p = map_rw(&vmm, a, seg);
    vmm.write(a, p, b"x").unwrap();
    vmm.write(a, page(p, 1), b"y").unwrap();
    assert_eq!(
        vmm.delete_segment(seg),
        Err(VmmError::SegmentInUse(seg)),
        "views pin it"
    );
    vmm.free_region(a, p).unwrap();
    let free_before = vmm.list_counts().free;
    vmm.delete_segment(seg).unwrap();
    // §6.3: transition frames are freed, commit returned, contents lost.
    assert_eq!(vmm.list_counts().free, free_before + 2);
    assert_eq!(vmm.list_counts().modified, 0);
    assert_eq!(vmm.commit().charged(), PageCount::ZERO);
    assert!(vmm.segment_info(seg).is_err());
    ok(&vmm);
}

#[test]
fn test_pagefile_segment_pages_go_to_pagefile_and_come_back() {
    let vmm = tiny(16);
    let seg = vmm
        .create_pagefile_segment(pages(2), Protection::READWRITE, false)
        .unwrap();
    let a = vmm.create_address_space();
    let p = map_rw(&vmm, a, seg);
    vmm.write(a, p, b"persist").unwrap();
    vmm.trim(a, None).unwrap();
    let r = vmm.run_writers();
    assert_eq!(r.pagefile_pages, 1);
    let ProtoPte::Transition { pfn, .. } = vmm.proto_pte(seg, 0).unwrap() else {
        panic!("transition expected");
    };
    assert_eq!(
        vmm.pfn_entry(pfn).unwrap().location(),
        PageLocation::Standby
    );
    let slot = vmm
        .pfn_entry(pfn)
        .unwrap()
        .original()
        .slot()
        .expect("slot in OriginalPte (§2.5)");
    // Force the frame's reuse: the proto PTE gets the pagefile form back (§4.7).
    vmm.make_available(16).unwrap();
    let other = vmm.create_address_space();
    let q = private_rw(&vmm, other, 16);
    for i in 0..16 {
        vmm.write_u8(other, page(q, i), 1).unwrap();
    }
    assert_eq!(
        vmm.proto_pte(seg, 0).unwrap(),
        ProtoPte::Pagefile {
            slot,
            protection: Protection::READWRITE
        }
    );
    let mut buf = [0u8; 7];
    vmm.read(a, p, &mut buf).unwrap();
    assert_eq!(&buf, b"persist");
    assert_eq!(vmm.fault_counters(a).unwrap().hard_pagefile, 1, "§3.5");
    ok(&vmm);
}

#[test]
fn test_file_hard_fault_reads_the_file_clean_s3_4() {
    let vmm = tiny(16);
    let mut bytes = vec![0u8; 8192];
    bytes[4096..4101].copy_from_slice(b"page1");
    let (_store, seg) = file_segment(&vmm, &bytes);
    let a = vmm.create_address_space();
    let p = map_rw(&vmm, a, seg);
    let mut buf = [0u8; 5];
    vmm.read(a, page(p, 1), &mut buf).unwrap();
    assert_eq!(&buf, b"page1");
    let pfn = frame_of(&vmm, a, page(p, 1));
    let e = vmm.pfn_entry(pfn).unwrap();
    assert!(!e.modified(), "§3.4: the frame arrives clean");
    assert_eq!(
        e.original(),
        OriginalPte::Subsection {
            protection: FILE_PROTO_PROTECTION
        }
    );
    assert_eq!(vmm.fault_counters(a).unwrap().hard_file, 1);
    // The view is READWRITE, the prototype EXECUTE_READWRITE: the PTE carries the view's.
    assert_eq!(
        vmm.query(a, page(p, 1)).unwrap().protect,
        Protection::READWRITE
    );
    ok(&vmm);
}

#[test]
fn test_first_touch_write_marks_frame_modified_but_later_writes_only_dirty_the_pte() {
    // §3.1 step 6 vs §5.1: the fault for a store sets PFN Modified at once; a store to a valid
    // clean PTE only sets the hardware dirty bit, harvested at defined events.
    let vmm = tiny(16);
    let (_store, seg) = file_segment(&vmm, &[0u8; 8192]);
    let a = vmm.create_address_space();
    let p = map_rw(&vmm, a, seg);
    vmm.write_u8(a, p, 1).unwrap();
    assert!(vmm.pfn_entry(frame_of(&vmm, a, p)).unwrap().modified());
    vmm.read_u8(a, page(p, 1)).unwrap();
    let pfn1 = frame_of(&vmm, a, page(p, 1));
    vmm.write_u8(a, page(p, 1), 2).unwrap();
    assert!(
        !vmm.pfn_entry(pfn1).unwrap().modified(),
        "dirty bit not yet harvested"
    );
    assert!(matches!(vmm.pte(a, page(p, 1)).unwrap(), Pte::Valid(h) if h.dirty));
    assert_eq!(vmm.harvest_dirty(a, p, pages(2)).unwrap(), 2);
    assert!(vmm.pfn_entry(pfn1).unwrap().modified());
    assert!(matches!(vmm.pte(a, page(p, 1)).unwrap(), Pte::Valid(h) if !h.dirty));
    ok(&vmm);
}

#[test]
fn test_a8_write_to_read_only_view_faults_before_any_page_is_read() {
    let vmm = tiny(16);
    let (_store, seg) = file_segment(&vmm, b"abc");
    let a = vmm.create_address_space();
    let p = vmm
        .map_segment(
            a,
            seg,
            0,
            pages(1),
            Placement::BottomUp,
            Protection::READONLY,
        )
        .unwrap();
    let e = exception(vmm.write_u8(a, p, 1));
    assert_eq!(
        (e.kind, e.access, e.address),
        (ExceptionKind::AccessViolation, Access::Write, p)
    );
    assert_eq!(
        vmm.machine_counters().file_reads,
        0,
        "no page brought in (§3.8)"
    );
    assert!(matches!(
        vmm.proto_pte(seg, 0).unwrap(),
        ProtoPte::Subsection { .. }
    ));
    // Once valid, the store fails at the valid-PTE check.
    assert_eq!(vmm.read_u8(a, p).unwrap(), b'a');
    let e = exception(vmm.write_u8(a, page(p, 0), 1));
    assert_eq!(e.kind, ExceptionKind::AccessViolation);
    assert_eq!(vmm.fault_counters(a).unwrap().access_violation, 2);
    ok(&vmm);
}

#[test]
fn test_a7_copy_on_write_private_copy_file_and_other_views_unchanged() {
    let vmm = tiny(16);
    let (store, seg) = file_segment(&vmm, b"original");
    let a = vmm.create_address_space();
    let b = vmm.create_address_space();
    let commit0 = vmm.commit().charged();
    let pc = vmm
        .map_segment(
            a,
            seg,
            0,
            pages(1),
            Placement::BottomUp,
            Protection::WRITECOPY,
        )
        .unwrap();
    assert_eq!(
        vmm.commit().charged().raw(),
        commit0.raw() + 1,
        "COW view charged at map (§1.9)"
    );
    let pb = map_rw(&vmm, b, seg);
    assert_eq!(vmm.read_u8(b, pb).unwrap(), b'o');
    let shared = frame_of(&vmm, b, pb);
    // First touch by A (a read) shares the frame with a read-only + COW PTE (§3.7 step 1).
    vmm.read_u8(a, pc).unwrap();
    let Pte::Valid(h) = vmm.pte(a, pc).unwrap() else {
        panic!()
    };
    assert!(h.copy_on_write && !h.write && h.pfn == shared);
    vmm.write(a, pc, b"PRIVATE!").unwrap();
    let Pte::Valid(h2) = vmm.pte(a, pc).unwrap() else {
        panic!()
    };
    assert!(h2.write && h2.dirty && !h2.copy_on_write && h2.pfn != shared);
    assert_eq!(
        vmm.pfn_entry(h2.pfn).unwrap().pte(),
        Some(PteRef::Process {
            space: a,
            vpn: pc.vpn()
        })
    );
    assert_eq!(
        vmm.pfn_entry(shared).unwrap().share_count(),
        1,
        "old frame's share decremented"
    );
    let mut buf = [0u8; 8];
    vmm.read(b, pb, &mut buf).unwrap();
    assert_eq!(&buf, b"original", "other views unchanged");
    // A7: VirtualQuery reports the copied page PAGE_READWRITE.
    assert_eq!(vmm.query(a, pc).unwrap().protect, Protection::READWRITE);
    assert_eq!(vmm.fault_counters(a).unwrap().copy_on_write, 1);
    vmm.trim(a, None).unwrap();
    vmm.trim(b, None).unwrap();
    vmm.run_writers();
    assert_eq!(
        disk(&vmm, store, 0, 8),
        b"original",
        "never written to the file"
    );
    // Unmapping frees the private copy (contents lost) and returns the commit.
    vmm.free_region(a, pc).unwrap();
    assert_eq!(vmm.commit().charged(), commit0);
    ok(&vmm);
}

#[test]
fn test_cow_store_to_demand_zero_proto_goes_private_at_once() {
    // §3.1 step 5: a store to an untouched demand-zero page of a copy-on-write view skips the
    // shared page.
    let vmm = tiny(16);
    let seg = vmm
        .create_pagefile_segment(pages(1), Protection::READWRITE, false)
        .unwrap();
    let a = vmm.create_address_space();
    let p = vmm
        .map_segment(
            a,
            seg,
            0,
            pages(1),
            Placement::BottomUp,
            Protection::WRITECOPY,
        )
        .unwrap();
    vmm.write_u8(a, p, 9).unwrap();
    assert!(matches!(
        vmm.proto_pte(seg, 0).unwrap(),
        ProtoPte::DemandZero { .. }
    ));
    let pfn = frame_of(&vmm, a, p);
    assert!(!vmm.pfn_entry(pfn).unwrap().is_prototype());
    assert_eq!(vmm.fault_counters(a).unwrap().demand_zero, 1);
    assert_eq!(vmm.fault_counters(a).unwrap().copy_on_write, 0);
    ok(&vmm);
}

#[test]
fn test_guard_page_raises_once_then_behaves_normally() {
    let vmm = tiny(16);
    let a = vmm.create_address_space();
    let guard = Protection::from_win32(
        ntmm_vmm::protection::PAGE_READWRITE | ntmm_vmm::protection::PAGE_GUARD,
    )
    .unwrap();
    let p = vmm
        .allocate_private(a, pages(2), Placement::BottomUp, guard, true)
        .unwrap();
    let e = exception(vmm.write_u8(a, page(p, 1), 5));
    assert_eq!(e.kind, ExceptionKind::GuardPage);
    assert_eq!(e.address, page(p, 1));
    assert_eq!(e.code(), NtStatus::STATUS_GUARD_PAGE_VIOLATION);
    vmm.write_u8(a, page(p, 1), 5).unwrap();
    assert_eq!(vmm.read_u8(a, page(p, 1)).unwrap(), 5);
    // The other page still has its guard.
    assert_eq!(exception(vmm.read_u8(a, p)).kind, ExceptionKind::GuardPage);
    assert_eq!(vmm.fault_counters(a).unwrap().guard_page, 2);
    ok(&vmm);
}

#[test]
fn test_reserved_private_memory_is_access_violation_until_committed() {
    let vmm = tiny(16);
    let a = vmm.create_address_space();
    let p = reserve_rw(&vmm, a, 4);
    assert_eq!(
        exception(vmm.read_u8(a, p)).kind,
        ExceptionKind::AccessViolation
    );
    assert_eq!(
        vmm.commit_private(a, page(p, 1), pages(2), Protection::READONLY)
            .unwrap(),
        pages(2)
    );
    assert_eq!(vmm.read_u8(a, page(p, 1)).unwrap(), 0);
    assert_eq!(
        exception(vmm.write_u8(a, page(p, 1), 1)).kind,
        ExceptionKind::AccessViolation
    );
    assert_eq!(
        vmm.decommit_private(a, page(p, 1), pages(3)).unwrap(),
        pages(2)
    );
    assert_eq!(
        exception(vmm.read_u8(a, page(p, 1))).kind,
        ExceptionKind::AccessViolation
    );
    assert_eq!(vmm.commit().charged(), PageCount::ZERO);
    ok(&vmm);
}

#[test]
fn test_unmapped_and_kernel_addresses_raise_or_fail() {
    let vmm = tiny(16);
    let a = vmm.create_address_space();
    assert_eq!(
        exception(vmm.read_u8(a, Va::new(0x5000_0000))).address,
        Va::new(0x5000_0000)
    );
    assert_eq!(
        vmm.read_u8(a, Va::new(0)),
        Err(VmmError::AddressOutOfRange(Va::new(0)))
    );
    assert_eq!(
        vmm.read_u8(a, Va::new(0xFFFF_8000_0000_0000)),
        Err(VmmError::AddressOutOfRange(Va::new(0xFFFF_8000_0000_0000)))
    );
}

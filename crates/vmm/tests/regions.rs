//! Regions: placement, VirtualQuery records, protection changes, commit, and accesses that
//! cross pages (nt_internals §7).
#![allow(clippy::tests_outside_test_module)]

mod common;
use common::*;
use ntmm_vmm::*;

#[test]
fn test_a11_view_of_two_pages_leaves_rest_of_block_free() {
    let vmm = tiny(16);
    let seg = vmm
        .create_pagefile_segment(pages(2), Protection::READWRITE, false)
        .unwrap();
    let a = vmm.create_address_space();
    let base = Va::new(0x50_0000);
    let p = vmm
        .map_segment(
            a,
            seg,
            0,
            pages(2),
            Placement::At(base),
            Protection::READWRITE,
        )
        .unwrap();
    assert_eq!(p, base);
    let q = vmm.query(a, Va::new(base.raw() + 0x2000)).unwrap();
    assert_eq!(q.state, MemState::Free, "A11: MEM_FREE after a 2-page view");
    assert_eq!(q.allocation_base, None);
    assert_eq!(q.protect, Protection::NOACCESS);
    // The tail of the 64 KiB block is unusable for new regions (bases are 64 KiB-aligned).
    let r = private_rw(&vmm, a, 1);
    assert_eq!(r, Va::new(0x1_0000));
    let s = vmm
        .allocate_private(
            a,
            pages(1),
            Placement::At(Va::new(0x50_0000 + 0x2000)),
            Protection::READWRITE,
            true,
        )
        .unwrap_err();
    assert!(matches!(s, VmmError::Misaligned { .. }));
    assert_eq!(s.status(), NtStatus::STATUS_INVALID_PARAMETER);
}

#[test]
fn test_conflicting_addresses_at_requested_base() {
    let vmm = tiny(16);
    let seg = vmm
        .create_pagefile_segment(pages(32), Protection::READWRITE, false)
        .unwrap();
    let a = vmm.create_address_space();
    let base = Va::new(0x100_0000);
    vmm.map_segment(
        a,
        seg,
        0,
        pages(32),
        Placement::At(base),
        Protection::READWRITE,
    )
    .unwrap();
    let e = vmm
        .map_segment(
            a,
            seg,
            0,
            pages(1),
            Placement::At(Va::new(0x101_0000)),
            Protection::READWRITE,
        )
        .unwrap_err();
    assert_eq!(e.status(), NtStatus::STATUS_CONFLICTING_ADDRESSES);
    let top = vmm
        .map_segment(
            a,
            seg,
            0,
            pages(1),
            Placement::TopDown,
            Protection::READWRITE,
        )
        .unwrap();
    assert_eq!(
        top,
        Va::new(0x7FFF_FFFE_0000),
        "top-down: the last 64 KiB block below USER_END"
    );
    ok(&vmm);
}

#[test]
fn test_fresh_view_is_one_committed_mapped_region_s7_4() {
    let vmm = tiny(16);
    let seg = vmm
        .create_pagefile_segment(pages(16), Protection::READWRITE, false)
        .unwrap();
    let a = vmm.create_address_space();
    let p = vmm
        .map_segment(
            a,
            seg,
            0,
            pages(16),
            Placement::BottomUp,
            Protection::READONLY,
        )
        .unwrap();
    let q = vmm.query(a, Va::new(p.raw() + 0x3123)).unwrap();
    assert_eq!(q.base, Va::new(p.raw() + 0x3000));
    assert_eq!(q.allocation_base, Some(p));
    assert_eq!(q.allocation_protect, Protection::READONLY);
    assert_eq!(q.size, ByteCount::new(13 * PAGE_SIZE));
    assert_eq!(
        (q.state, q.protect, q.kind),
        (
            MemState::Commit,
            Protection::READONLY,
            Some(RegionType::Mapped)
        )
    );
    // Touching pages does not split the region.
    vmm.read_u8(a, page(p, 5)).unwrap();
    assert_eq!(
        vmm.query(a, p).unwrap().size,
        ByteCount::new(16 * PAGE_SIZE)
    );
}

#[test]
fn test_query_splits_at_cow_copies_and_reserved_pages() {
    let vmm = tiny(16);
    let seg = vmm
        .create_pagefile_segment(pages(4), Protection::READWRITE, true)
        .unwrap();
    vmm.commit_segment(seg, 0, pages(2)).unwrap();
    let a = vmm.create_address_space();
    let p = vmm
        .map_segment(
            a,
            seg,
            0,
            pages(4),
            Placement::BottomUp,
            Protection::WRITECOPY,
        )
        .unwrap();
    vmm.write_u8(a, page(p, 1), 1).unwrap();
    let r0 = vmm.query(a, p).unwrap();
    assert_eq!(
        (r0.size.raw(), r0.protect),
        (PAGE_SIZE, Protection::WRITECOPY)
    );
    let r1 = vmm.query(a, page(p, 1)).unwrap();
    assert_eq!(
        (r1.size.raw(), r1.protect, r1.state),
        (PAGE_SIZE, Protection::READWRITE, MemState::Commit)
    );
    let r2 = vmm.query(a, page(p, 2)).unwrap();
    assert_eq!(
        (r2.size.raw(), r2.state, r2.protect),
        (2 * PAGE_SIZE, MemState::Reserve, Protection::ZERO)
    );
    ok(&vmm);
}

#[test]
fn test_query_private_regions_and_free_space() {
    let vmm = tiny(16);
    let a = vmm.create_address_space();
    let free = vmm.query(a, Va::new(0x1_0000)).unwrap();
    assert_eq!(
        free.size.raw(),
        USER_END - 0x1_0000,
        "free to the top of user space"
    );
    let p = reserve_rw(&vmm, a, 8);
    vmm.commit_private(a, page(p, 2), pages(3), Protection::READONLY)
        .unwrap();
    let r = vmm.query(a, p).unwrap();
    assert_eq!(
        (r.state, r.size.raw(), r.kind),
        (MemState::Reserve, 2 * PAGE_SIZE, Some(RegionType::Private))
    );
    let r = vmm.query(a, page(p, 2)).unwrap();
    assert_eq!(
        (r.state, r.protect, r.size.raw()),
        (MemState::Commit, Protection::READONLY, 3 * PAGE_SIZE)
    );
    assert_eq!(r.allocation_protect, Protection::READWRITE);
    let r = vmm.query(a, page(p, 5)).unwrap();
    assert_eq!((r.state, r.size.raw()), (MemState::Reserve, 3 * PAGE_SIZE));
    assert!(vmm.query(a, Va::new(USER_END)).is_err());
}

#[test]
fn test_query_of_huge_fresh_view_is_one_step() {
    let vmm = tiny(16);
    let seg = vmm
        .create_pagefile_segment(pages(1 << 24), Protection::READWRITE, true)
        .unwrap();
    let a = vmm.create_address_space();
    let p = vmm
        .map_segment(
            a,
            seg,
            0,
            pages(1 << 24),
            Placement::BottomUp,
            Protection::READWRITE,
        )
        .unwrap();
    vmm.commit_segment(seg, 100, pages(1)).unwrap();
    let r = vmm.query(a, p).unwrap();
    assert_eq!(
        (r.state, r.size.raw()),
        (MemState::Reserve, 100 * PAGE_SIZE)
    );
    let r = vmm.query(a, page(p, 101)).unwrap();
    assert_eq!(r.size.raw(), ((1 << 24) - 101) * PAGE_SIZE);
}

#[test]
fn test_protect_view_pages_per_pte_rules_s7_5() {
    let vmm = tiny(16);
    let seg = vmm
        .create_pagefile_segment(pages(4), Protection::READWRITE, false)
        .unwrap();
    let a = vmm.create_address_space();
    let p = map_rw(&vmm, a, seg);
    vmm.write_u8(a, p, 1).unwrap(); // page 0 valid and dirty
                                    // Untouched page → lookup form with the new protection.
    let old = vmm
        .protect(a, page(p, 1), pages(1), Protection::READONLY)
        .unwrap();
    assert_eq!(old, Protection::READWRITE);
    assert_eq!(
        vmm.pte(a, page(p, 1)).unwrap(),
        Pte::PrototypeLookup {
            protection: Protection::READONLY
        }
    );
    // Valid page: dirty bit captured into the frame, hardware bits rewritten.
    let pfn = frame_of(&vmm, a, p);
    vmm.protect(a, p, pages(1), Protection::READONLY).unwrap();
    assert!(vmm.pfn_entry(pfn).unwrap().modified());
    assert!(matches!(vmm.pte(a, p).unwrap(), Pte::Valid(h) if !h.write && !h.dirty));
    assert_eq!(
        exception(vmm.write_u8(a, p, 2)).kind,
        ExceptionKind::AccessViolation
    );
    assert_eq!(vmm.read_u8(a, p).unwrap(), 1);
    // NOACCESS takes a valid page out of the working set.
    vmm.protect(a, p, pages(1), Protection::NOACCESS).unwrap();
    assert!(!vmm.pte(a, p).unwrap().is_valid());
    assert_eq!(
        exception(vmm.read_u8(a, p)).kind,
        ExceptionKind::AccessViolation
    );
    assert_eq!(vmm.query(a, p).unwrap().protect, Protection::NOACCESS);
    // The prototype PTE (shared by all views) never changes: protection is per view.
    let b = vmm.create_address_space();
    let q = map_rw(&vmm, b, seg);
    vmm.write_u8(b, q, 3).unwrap();
    assert_eq!(
        vmm.protect(a, p, pages(1), Protection::READWRITE).unwrap(),
        Protection::NOACCESS
    );
    assert_eq!(vmm.read_u8(a, p).unwrap(), 3);
    ok(&vmm);
}

#[test]
fn test_protect_to_writecopy_charges_commit_and_copies_on_store() {
    let vmm = tiny(16);
    let (_store, seg) = file_segment(&vmm, &[5u8; 8192]);
    let a = vmm.create_address_space();
    let p = map_rw(&vmm, a, seg);
    let before = vmm.commit().charged();
    vmm.protect(a, p, pages(1), Protection::WRITECOPY).unwrap();
    assert_eq!(vmm.commit().charged().raw(), before.raw() + 1);
    vmm.write_u8(a, p, 6).unwrap();
    assert_eq!(vmm.fault_counters(a).unwrap().copy_on_write, 1);
    let mut b = [0u8; 1];
    vmm.read_segment(seg, 0, &mut b).unwrap();
    assert_eq!(b[0], 5, "the file's page is untouched");
    vmm.free_region(a, p).unwrap();
    assert_eq!(vmm.commit().charged(), before);
    ok(&vmm);
}

#[test]
fn test_protect_guard_on_private_page_and_uncommitted_fails() {
    let vmm = tiny(16);
    let a = vmm.create_address_space();
    let p = reserve_rw(&vmm, a, 4);
    vmm.commit_private(a, p, pages(2), Protection::READWRITE)
        .unwrap();
    vmm.write_u8(a, p, 1).unwrap();
    let e = vmm
        .protect(a, p, pages(3), Protection::READONLY)
        .unwrap_err();
    assert_eq!(e.status(), NtStatus::STATUS_NOT_COMMITTED);
    let guard = Protection::from_win32(0x104).unwrap();
    vmm.protect(a, p, pages(1), guard).unwrap();
    assert_eq!(exception(vmm.read_u8(a, p)).kind, ExceptionKind::GuardPage);
    assert_eq!(
        vmm.read_u8(a, p).unwrap(),
        1,
        "the data survived the trip through transition"
    );
    let e = vmm
        .protect(a, p, pages(1), Protection::WRITECOPY)
        .unwrap_err();
    assert_eq!(
        e,
        VmmError::InvalidProtection,
        "private memory cannot be copy-on-write"
    );
    let e = vmm
        .protect(a, page(p, 3), pages(2), Protection::READONLY)
        .unwrap_err();
    assert_eq!(
        e.status(),
        NtStatus::STATUS_CONFLICTING_ADDRESSES,
        "range spans two regions"
    );
    ok(&vmm);
}

#[test]
fn test_byte_write_across_pages_keeps_bytes_before_the_fault() {
    let vmm = tiny(16);
    let a = vmm.create_address_space();
    let p = private_rw(&vmm, a, 2);
    vmm.protect(a, page(p, 1), pages(1), Protection::READONLY)
        .unwrap();
    let at = Va::new(page(p, 1).raw() - 3);
    let e = exception(vmm.write(a, at, b"abcdef"));
    assert_eq!(
        e.address,
        page(p, 1),
        "the first byte that could not be stored"
    );
    let mut got = [0u8; 3];
    vmm.read(a, at, &mut got).unwrap();
    assert_eq!(&got, b"abc", "bytes already stored stay stored");
}

#[test]
fn test_value_store_across_pages_is_all_or_nothing() {
    let vmm = tiny(16);
    let a = vmm.create_address_space();
    let p = private_rw(&vmm, a, 2);
    let at = Va::new(page(p, 1).raw() - 2);
    vmm.write_u32(a, at, 0x4433_2211).unwrap();
    assert_eq!(vmm.read_u32(a, at).unwrap(), 0x4433_2211);
    assert_eq!(vmm.read_u8(a, page(p, 1)).unwrap(), 0x33);
    vmm.protect(a, page(p, 1), pages(1), Protection::READONLY)
        .unwrap();
    let e = exception(vmm.write_u32(a, at, 0xFFFF_FFFF));
    assert_eq!(e.address, page(p, 1));
    assert_eq!(
        vmm.read_u32(a, at).unwrap(),
        0x4433_2211,
        "nothing was stored"
    );
}

#[test]
fn test_value_access_across_pages_with_tiny_working_set() {
    let vmm = tiny(8);
    let a = vmm.create_address_space();
    vmm.set_working_set_max(a, 2).unwrap();
    let p = private_rw(&vmm, a, 4);
    for i in 0..3 {
        let at = Va::new(page(p, i + 1).raw() - 4);
        vmm.write_u64(a, at, 0x0102_0304_0506_0708 * (i + 1))
            .unwrap();
        vmm.write_u8(a, Va::new(page(p, 3).raw() + 0x800), 0)
            .unwrap(); // churn the working set
    }
    for i in 0..3 {
        let at = Va::new(page(p, i + 1).raw() - 4);
        assert_eq!(
            vmm.read_u64(a, at).unwrap(),
            0x0102_0304_0506_0708 * (i + 1)
        );
    }
    ok(&vmm);
}

#[test]
fn test_commit_limit_enforced_everywhere_s1_9() {
    let vmm = Vmm::new(VmmConfig {
        frames: 8,
        pagefile_pages: 9,
        working_set_max: 8,
        writer: WriterPolicy::Lazy,
    })
    .unwrap();
    assert_eq!(
        vmm.commit().limit(),
        pages(16),
        "frames + usable pagefile slots"
    );
    let e = vmm
        .create_pagefile_segment(pages(17), Protection::READWRITE, false)
        .unwrap_err();
    assert_eq!(e.status(), NtStatus::STATUS_COMMITMENT_LIMIT);
    let seg = vmm
        .create_pagefile_segment(pages(10), Protection::READWRITE, false)
        .unwrap();
    let a = vmm.create_address_space();
    let e = vmm
        .map_segment(
            a,
            seg,
            0,
            pages(10),
            Placement::BottomUp,
            Protection::WRITECOPY,
        )
        .unwrap_err();
    assert!(matches!(e, VmmError::CommitmentLimit { .. }));
    assert!(
        vmm.regions(a).unwrap().is_empty(),
        "a failed map leaves nothing behind"
    );
    let p = reserve_rw(&vmm, a, 8);
    assert_eq!(
        vmm.commit_private(a, p, pages(6), Protection::READWRITE)
            .unwrap(),
        pages(6)
    );
    assert!(vmm
        .commit_private(a, p, pages(7), Protection::READWRITE)
        .is_err());
    assert_eq!(vmm.commit().charged(), pages(16));
    vmm.free_region(a, p).unwrap();
    vmm.delete_segment(seg).unwrap();
    assert_eq!(vmm.commit().charged(), PageCount::ZERO);
    ok(&vmm);
}

#[test]
fn test_release_private_region_frees_frames_and_slots() {
    let vmm = tiny(8);
    let a = vmm.create_address_space();
    let p = private_rw(&vmm, a, 16);
    for i in 0..16 {
        vmm.write_u8(a, page(p, i), 1).unwrap();
    }
    assert!(vmm.pagefile_used() > 0);
    let vad = vmm.free_region(a, page(p, 7)).unwrap();
    assert_eq!(vad.start, p.vpn());
    assert_eq!(vmm.pagefile_used(), 0);
    assert_eq!(vmm.list_counts().in_use, 0);
    assert_eq!(vmm.list_counts().free + vmm.list_counts().zeroed, 8);
    ok(&vmm);
}

/// Placeholders at the machine level (F68–F72): a view replaces a split placeholder at a page
/// boundary inside a 64 KiB block, goes back to a placeholder, and the pieces coalesce; the
/// machine's invariants (placeholder rule 11, the gap index) hold after every step, and the
/// range is whole and free again at the end.
#[test]
fn test_f68_f72_placeholders_split_replace_restore_coalesce() {
    let vmm = tiny(16);
    let seg = vmm
        .create_pagefile_segment(pages(2), Protection::READWRITE, false)
        .unwrap();
    let a = vmm.create_address_space();
    let ok = |v: &Vmm| v.check_invariants().unwrap();
    let p = vmm
        .reserve_placeholder(a, pages(16), Placement::BottomUp)
        .unwrap();
    ok(&vmm);
    let q = vmm.query(a, p).unwrap();
    assert_eq!(
        (q.state, q.kind, q.allocation_protect, q.size.raw()),
        (
            MemState::Reserve,
            Some(RegionType::Private),
            Protection::NOACCESS,
            0x10000
        )
    );
    // Split two pages off at page 3: three placeholders.
    let mid = page(p, 3);
    vmm.split_placeholder(a, mid, pages(2)).unwrap();
    ok(&vmm);
    assert_eq!(vmm.regions(a).unwrap().len(), 3);
    // A view of exactly the middle placeholder's size replaces it; any other size does not.
    let err = vmm
        .map_segment(
            a,
            seg,
            0,
            pages(1),
            Placement::Replace(mid),
            Protection::READWRITE,
        )
        .unwrap_err();
    assert!(matches!(err, VmmError::ConflictingAddresses { .. }), "F69");
    let v = vmm
        .map_segment(
            a,
            seg,
            0,
            pages(2),
            Placement::Replace(mid),
            Protection::READWRITE,
        )
        .unwrap();
    assert_eq!(v, mid, "F70");
    ok(&vmm);
    vmm.write(a, v, b"in a placeholder").unwrap();
    ok(&vmm);
    // Splitting the whole of a placeholder, or a view, splits nothing.
    assert!(vmm.split_placeholder(a, p, pages(3)).is_err());
    assert!(vmm.split_placeholder(a, v, pages(1)).is_err());
    // Back to a placeholder (F72), then coalesce the three.
    let vad = vmm.free_region_to_placeholder(a, v).unwrap();
    assert!(vad.placeholder);
    ok(&vmm);
    assert!(
        vmm.coalesce_placeholders(a, p, pages(3)).is_err(),
        "a partial range"
    );
    vmm.coalesce_placeholders(a, p, pages(16)).unwrap();
    ok(&vmm);
    assert_eq!(vmm.regions(a).unwrap().len(), 1);
    vmm.free_region(a, p).unwrap();
    ok(&vmm);
    assert_eq!(vmm.query(a, p).unwrap().state, MemState::Free);
    // The freed block is placed again by the ordinary first fit.
    assert_eq!(private_rw(&vmm, a, 1), p);
    ok(&vmm);
}

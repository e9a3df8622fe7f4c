//! Bad input never panics: every public function validates and returns an error.
#![allow(clippy::tests_outside_test_module)]

mod common;
use common::*;
use ntmm_vmm::*;
use proptest::prelude::*;

#[test]
fn test_invalid_configurations_are_rejected() {
    for (frames, pf, ws) in [
        (0, 16, 8),
        (3, 16, 8),
        // Accepted before the limits table, then aborted allocating 64 GiB (limits::FRAMES).
        (1 << 24, 16, 8),
        ((1 << 20) + 1, 16, 8),
        (1 << 25, 16, 8),
        (16, 16, (1 << 20) + 1),
        (16, 0, 8),
        // Pagefile slots are packed in 25 bits of the PFN entry's original PTE.
        (16, (1 << 24) + 1, 8),
        (16, 16, 1),
    ] {
        let r = Vmm::new(VmmConfig {
            frames,
            pagefile_pages: pf,
            working_set_max: ws,
            writer: WriterPolicy::Lazy,
        });
        assert!(
            matches!(r, Err(VmmError::OutOfRange(_))),
            "{frames} {pf} {ws}"
        );
    }
}

#[test]
fn test_unknown_objects_are_errors() {
    let vmm = tiny(8);
    let ghost = AsId::new(999);
    let va = Va::new(USER_MIN);
    assert_eq!(
        vmm.read_u8(ghost, va),
        Err(VmmError::UnknownAddressSpace(ghost))
    );
    assert_eq!(
        vmm.write(ghost, va, b"x"),
        Err(VmmError::UnknownAddressSpace(ghost))
    );
    assert_eq!(
        vmm.trim(ghost, None),
        Err(VmmError::UnknownAddressSpace(ghost))
    );
    assert_eq!(
        vmm.delete_address_space(ghost),
        Err(VmmError::UnknownAddressSpace(ghost))
    );
    assert!(vmm.query(ghost, va).is_err());
    assert!(vmm.pte(ghost, va).is_err());
    assert_eq!(
        vmm.fault_counters(ghost).unwrap_err().status(),
        NtStatus::STATUS_INVALID_HANDLE
    );
    let seg = SegmentId::new(77);
    let a = vmm.create_address_space();
    assert_eq!(
        vmm.map_segment(
            a,
            seg,
            0,
            pages(1),
            Placement::BottomUp,
            Protection::READWRITE
        ),
        Err(VmmError::UnknownSegment(seg))
    );
    assert_eq!(vmm.delete_segment(seg), Err(VmmError::UnknownSegment(seg)));
    assert!(vmm.read_segment(seg, 0, &mut [0u8; 1]).is_err());
    assert!(vmm.proto_pte(seg, 0).is_err());
    let store = StoreId::new(5);
    assert_eq!(
        vmm.create_file_segment(store, pages(1)),
        Err(VmmError::UnknownStore(store))
    );
    assert!(vmm.with_store(store, |_| ()).is_err());
    assert!(vmm.remove_store(store).is_err());
    ok(&vmm);
}

#[test]
fn test_address_and_size_edge_cases() {
    let vmm = tiny(8);
    let a = vmm.create_address_space();
    // Ranges starting outside user space (one wrapping past the top) raise at their start.
    assert_eq!(
        vmm.read(a, Va::new(u64::MAX - 2), &mut [0u8; 8]),
        Err(VmmError::AddressOutOfRange(Va::new(u64::MAX - 2)))
    );
    assert!(vmm.write_u64(a, Va::new(u64::MAX - 3), 1).is_err());
    // Ranges that leave user space are accessed page by page: over an unmapped last page the
    // access violation comes first; over a committed one, the bytes below the end are stored
    // and the access raises at the first byte past it.
    let e = vmm
        .read(a, Va::new(USER_MAX - 1), &mut [0u8; 4])
        .unwrap_err();
    assert!(matches!(e, VmmError::Exception(_)), "{e:?}");
    let top = Va::new(USER_END - 0x10000);
    let base = vmm
        .allocate_private(
            a,
            pages(16),
            Placement::At(top),
            Protection::READWRITE,
            true,
        )
        .unwrap();
    assert_eq!(base, top);
    let e = vmm.write(a, Va::new(USER_MAX - 1), b"abcd").unwrap_err();
    assert_eq!(e, VmmError::AddressOutOfRange(Va::new(USER_END)));
    let mut tail = [0u8; 2];
    vmm.read(a, Va::new(USER_MAX - 1), &mut tail).unwrap();
    assert_eq!(&tail, b"ab");
    let mut over = [0u8; 4];
    assert_eq!(
        vmm.read(a, Va::new(USER_MAX - 1), &mut over),
        Err(VmmError::AddressOutOfRange(Va::new(USER_END)))
    );
    // Zero-length accesses touch nothing.
    vmm.read(a, Va::new(USER_MIN), &mut []).unwrap();
    // Regions: zero pages, overflowing sizes, misaligned or out-of-range bases.
    let p = Protection::READWRITE;
    assert!(matches!(
        vmm.allocate_private(a, pages(0), Placement::BottomUp, p, true),
        Err(VmmError::InvalidParameter(_))
    ));
    assert_eq!(
        vmm.allocate_private(a, pages(u64::MAX), Placement::BottomUp, p, true),
        Err(VmmError::RangeOverflow)
    );
    assert!(matches!(
        vmm.allocate_private(a, pages(1 << 40), Placement::BottomUp, p, false),
        Err(VmmError::NoVirtualSpace(_))
    ));
    assert!(matches!(
        vmm.allocate_private(a, pages(1), Placement::At(Va::new(0x1_1000)), p, true),
        Err(VmmError::Misaligned { .. })
    ));
    assert_eq!(
        vmm.allocate_private(a, pages(1), Placement::At(Va::new(0)), p, true),
        Err(VmmError::AddressOutOfRange(Va::new(0)))
    );
    assert!(vmm
        .allocate_private(
            a,
            pages(32),
            Placement::At(Va::new(0x7FFF_FFFF_0000)),
            p,
            true
        )
        .is_err());
    // Segments: zero and overflowing sizes, indexes past the end.
    assert!(vmm.create_pagefile_segment(pages(0), p, true).is_err());
    assert_eq!(
        vmm.create_pagefile_segment(pages(u64::MAX), p, true),
        Err(VmmError::RangeOverflow)
    );
    let seg = vmm.create_pagefile_segment(pages(4), p, false).unwrap();
    assert!(matches!(
        vmm.map_segment(a, seg, 2, pages(3), Placement::BottomUp, p),
        Err(VmmError::BeyondSegment { .. })
    ));
    assert_eq!(
        vmm.map_segment(a, seg, u64::MAX, pages(2), Placement::BottomUp, p),
        Err(VmmError::RangeOverflow)
    );
    assert!(vmm.commit_segment(seg, u64::MAX, pages(2)).is_err());
    assert!(vmm.proto_pte(seg, 4).is_err());
    assert!(vmm.read_segment(seg, u64::MAX, &mut [0u8; 2]).is_err());
    assert!(
        vmm.flush_segment(seg, 0, pages(1)).is_err(),
        "pagefile segments are not flushed to a file"
    );
    assert!(vmm.extend_segment(seg, pages(8)).is_err());
    // Protections that make no sense where they are used.
    assert_eq!(
        vmm.map_segment(
            a,
            seg,
            0,
            pages(1),
            Placement::BottomUp,
            Protection::DECOMMIT
        ),
        Err(VmmError::InvalidProtection)
    );
    assert_eq!(
        vmm.allocate_private(
            a,
            pages(1),
            Placement::BottomUp,
            Protection::WRITECOPY,
            true
        ),
        Err(VmmError::InvalidProtection)
    );
    assert_eq!(
        vmm.create_pagefile_segment(pages(1), Protection::NOACCESS, false),
        Err(VmmError::InvalidProtection)
    );
    // Operations on addresses with no region.
    assert_eq!(
        vmm.free_region(a, Va::new(0x40_0000)),
        Err(VmmError::NotAllocated(Va::new(0x40_0000)))
    );
    assert!(vmm.protect(a, Va::new(0x40_0000), pages(1), p).is_err());
    assert!(vmm
        .protect(a, Va::new(0x40_0000), pages(u64::MAX), p)
        .is_err());
    assert!(vmm.commit_private(a, Va::new(0), pages(1), p).is_err());
    assert!(vmm
        .harvest_dirty(a, Va::new(USER_MIN), pages(u64::MAX))
        .is_err());
    assert!(vmm.make_available(1 << 20).is_err());
    assert!(vmm.set_working_set_max(a, 1).is_err());
    ok(&vmm);
}

#[test]
fn test_all_io_failing_under_pressure_is_a_clear_error_and_loses_nothing() {
    let (vmm, plan) = with_faulty_pagefile(4, 32, 4);
    let a = vmm.create_address_space();
    let p = private_rw(&vmm, a, 8);
    for i in 0..4 {
        vmm.write_u8(a, page(p, i), 1 + i as u8).unwrap();
    }
    plan.fail_all();
    assert_eq!(vmm.write_u8(a, page(p, 4), 9), Err(VmmError::NoFreeFrame));
    ok(&vmm);
    plan.clear();
    vmm.write_u8(a, page(p, 4), 9).unwrap();
    for i in 0..4 {
        assert_eq!(vmm.read_u8(a, page(p, i)).unwrap(), 1 + i as u8);
    }
    ok(&vmm);
}

#[derive(Debug, Clone)]
enum Wild {
    Alloc(u64, u64, u32, bool),
    Map(u32, u64, u64, u64, u32),
    Read(u64, usize),
    Write(u64, Vec<u8>),
    ReadValue(u64),
    Protect(u64, u64, u32),
    Commit(u64, u64, u32),
    Decommit(u64, u64),
    Free(u64),
    CreateSeg(u64, u32, bool),
    DeleteSeg(u32),
    CommitSeg(u32, u64, u64),
    SegIo(u32, u64, usize),
    Trim(u32),
    Writers,
    Query(u64),
}

fn addr() -> impl Strategy<Value = u64> {
    prop_oneof![
        any::<u64>(),
        0u64..0x40_0000,
        (0u64..64).prop_map(|i| USER_MIN + i * 0x1000),
        Just(USER_MAX),
        Just(u64::MAX),
    ]
}

fn count() -> impl Strategy<Value = u64> {
    prop_oneof![0u64..20, Just(u64::MAX), Just(1 << 40), any::<u64>()]
}

fn wild() -> impl Strategy<Value = Wild> {
    prop_oneof![
        (addr(), count(), any::<u32>(), any::<bool>())
            .prop_map(|(a, n, p, c)| Wild::Alloc(a, n, p, c)),
        (0u32..6, count(), count(), addr(), any::<u32>())
            .prop_map(|(s, f, n, a, p)| Wild::Map(s, f, n, a, p)),
        (addr(), 0usize..9000).prop_map(|(a, n)| Wild::Read(a, n)),
        (addr(), prop::collection::vec(any::<u8>(), 0..64)).prop_map(|(a, d)| Wild::Write(a, d)),
        addr().prop_map(Wild::ReadValue),
        (addr(), count(), any::<u32>()).prop_map(|(a, n, p)| Wild::Protect(a, n, p)),
        (addr(), count(), any::<u32>()).prop_map(|(a, n, p)| Wild::Commit(a, n, p)),
        (addr(), count()).prop_map(|(a, n)| Wild::Decommit(a, n)),
        addr().prop_map(Wild::Free),
        (count(), any::<u32>(), any::<bool>()).prop_map(|(n, p, r)| Wild::CreateSeg(n, p, r)),
        (0u32..6).prop_map(Wild::DeleteSeg),
        (0u32..6, count(), count()).prop_map(|(s, f, n)| Wild::CommitSeg(s, f, n)),
        (0u32..6, count(), 0usize..5000).prop_map(|(s, o, n)| Wild::SegIo(s, o, n)),
        (0u32..4).prop_map(Wild::Trim),
        Just(Wild::Writers),
        addr().prop_map(Wild::Query),
    ]
}

fn prot(bits: u32) -> Protection {
    Protection::from_win32(bits & 0x7FF)
        .unwrap_or(Protection::from_bits((bits % 32) as u8).unwrap_or_default())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    /// Random and invalid arguments to every entry point: errors, never panics, and the
    /// invariants hold after every call.
    #[test]
    fn prop_wild_calls_never_panic(calls in prop::collection::vec(wild(), 1..60)) {
        let vmm = tiny(8);
        let a = vmm.create_address_space();
        let (_store, file) = file_segment(&vmm, b"file bytes");
        let _ = file;
        for call in calls {
            let seg = |i: u32| SegmentId::new(i);
            match call {
                Wild::Alloc(at, n, p, c) => {
                    let place = if at % 3 == 0 { Placement::BottomUp } else { Placement::At(Va::new(at)) };
                    let _ = vmm.allocate_private(a, pages(n), place, prot(p), c);
                }
                Wild::Map(s, f, n, at, p) => {
                    let place = if at % 2 == 0 { Placement::TopDown } else { Placement::At(Va::new(at)) };
                    let _ = vmm.map_segment(a, seg(s), f, pages(n), place, prot(p));
                }
                Wild::Read(at, n) => { let _ = vmm.read(a, Va::new(at), &mut vec![0u8; n]); }
                Wild::Write(at, d) => { let _ = vmm.write(a, Va::new(at), &d); }
                Wild::ReadValue(at) => { let _ = vmm.read_u64(a, Va::new(at)); let _ = vmm.write_u16(a, Va::new(at), 7); }
                Wild::Protect(at, n, p) => { let _ = vmm.protect(a, Va::new(at), pages(n), prot(p)); }
                Wild::Commit(at, n, p) => { let _ = vmm.commit_private(a, Va::new(at), pages(n), prot(p)); }
                Wild::Decommit(at, n) => { let _ = vmm.decommit_private(a, Va::new(at), pages(n)); }
                Wild::Free(at) => { let _ = vmm.free_region(a, Va::new(at)); }
                Wild::CreateSeg(n, p, r) => { let _ = vmm.create_pagefile_segment(pages(n % 64), prot(p), r); }
                Wild::DeleteSeg(s) => { let _ = vmm.delete_segment(seg(s)); }
                Wild::CommitSeg(s, f, n) => { let _ = vmm.commit_segment(seg(s), f, pages(n)); }
                Wild::SegIo(s, o, n) => {
                    let _ = vmm.read_segment(seg(s), o, &mut vec![0u8; n]);
                    let _ = vmm.write_segment(seg(s), o, &vec![1u8; n]);
                }
                Wild::Trim(s) => { let _ = vmm.trim(AsId::new(s), None); }
                Wild::Writers => { let _ = vmm.run_writers(); }
                Wild::Query(at) => { let _ = vmm.query(a, Va::new(at)); }
            }
            if let Err(v) = vmm.check_invariants() {
                return Err(TestCaseError::fail(v.to_string()));
            }
        }
    }
}

//! Views: map, unmap, flush, VirtualQuery, VirtualProtect, commit through views
//! (nt_internals §4.4, §5.2, §7; facts §G–§L, §O, §R).
#![allow(clippy::tests_outside_test_module)]

mod common;
use common::*;

fn mv(protection: u32) -> MapView {
    MapView {
        protection,
        ..MapView::default()
    }
}

#[test]
fn test_f2_system_chosen_base_is_64k_aligned_in_every_process() {
    let ex = exec(32);
    let s = anon(&ex, 0x3000, PAGE_READWRITE, 0).unwrap();
    for _ in 0..3 {
        let p = ex.create_process();
        for _ in 0..3 {
            let v = map(&ex, p, s, PAGE_READWRITE).unwrap();
            assert_eq!(v.raw() & 0xFFFF, 0);
        }
    }
}

#[test]
fn test_f50_view_protection_beyond_section_is_section_protection() {
    let ex = exec(32);
    let p = ex.create_process();
    let rw = anon(&ex, 0x1000, PAGE_READWRITE, 0).unwrap();
    assert_eq!(
        status(map(&ex, p, rw, PAGE_EXECUTE_READWRITE)),
        NtStatus::STATUS_SECTION_PROTECTION
    );
    let f = file(&ex, &[0u8; 0x1000]);
    let frw = file_section(&ex, f, FileAccess::ALL, 0, PAGE_READWRITE).unwrap();
    assert_eq!(
        status(map(&ex, p, frw, PAGE_EXECUTE_WRITECOPY)),
        NtStatus::STATUS_SECTION_PROTECTION
    );
    let fro = file_section(&ex, f, FileAccess::ALL, 0, PAGE_READONLY).unwrap();
    for bad in [PAGE_READWRITE, PAGE_EXECUTE_READ, PAGE_EXECUTE] {
        assert_eq!(
            status(map(&ex, p, fro, bad)),
            NtStatus::STATUS_SECTION_PROTECTION,
            "{bad:#x}"
        );
    }
    for good in [PAGE_WRITECOPY, PAGE_READONLY, PAGE_NOACCESS] {
        map(&ex, p, fro, good).unwrap();
    }
    ok(&ex);
}

#[test]
fn test_f51_invalid_view_protection() {
    let ex = exec(32);
    let p = ex.create_process();
    let s = anon(&ex, 0x1000, PAGE_READWRITE, 0).unwrap();
    assert_eq!(
        status(map(&ex, p, s, PAGE_READWRITE | PAGE_READONLY)),
        NtStatus::STATUS_INVALID_PAGE_PROTECTION
    );
}

#[test]
fn test_f52_f73_views_of_one_section_keep_their_own_protection() {
    let ex = exec(32);
    let p = ex.create_process();
    let s = anon(&ex, 0x1000, PAGE_READWRITE, 0).unwrap();
    for prot in [PAGE_READONLY, PAGE_WRITECOPY, PAGE_READWRITE] {
        let v = map(&ex, p, s, prot).unwrap();
        let m = query(&ex, p, v);
        assert_eq!(
            (
                m.allocation_protect,
                m.protect,
                m.base_address,
                m.allocation_base
            ),
            (prot, prot, v.raw(), v.raw())
        );
        assert_eq!((m.state, m.kind), (MEM_COMMIT, MEM_MAPPED));
    }
}

#[test]
fn test_f53_guard_view_raises_once() {
    let ex = exec(32);
    let p = ex.create_process();
    let s = anon(&ex, 0x1000, PAGE_READWRITE, 0).unwrap();
    let v = map(&ex, p, s, PAGE_READWRITE | PAGE_GUARD).unwrap();
    assert_eq!(raised(ex.vmm().read_u8(p, v)), ExceptionKind::GuardPage);
    assert_eq!(ex.vmm().read_u8(p, v).unwrap(), 0);
}

#[test]
fn test_f54_offset_must_be_64k_aligned() {
    let ex = exec(32);
    let p = ex.create_process();
    let s = anon(&ex, 0x80000, PAGE_READWRITE, 0).unwrap();
    for off in [1, 0x1000, 0x40211, u64::MAX] {
        let r = ex.map_view(
            p,
            s,
            MapView {
                offset: off,
                ..mv(PAGE_READWRITE)
            },
        );
        assert_eq!(
            status(r),
            NtStatus::STATUS_MAPPED_ALIGNMENT,
            "A10 / F54 offset {off:#x}"
        );
    }
    let (v, size) = ex
        .map_view(
            p,
            s,
            MapView {
                offset: 0x10000,
                ..mv(PAGE_READWRITE)
            },
        )
        .unwrap();
    assert_eq!(size, 0x70000);
    ex.vmm().write(p, v, b"at 64k").unwrap();
    let w = map(&ex, p, s, PAGE_READONLY).unwrap();
    let mut b = [0u8; 6];
    ex.vmm().read(p, at(w, 0x10000), &mut b).unwrap();
    assert_eq!(
        &b, b"at 64k",
        "F55: the offset applies to the section's pages"
    );
}

#[test]
fn test_f56_f57_requested_base_alignment_and_conflicts() {
    let ex = exec(32);
    let p = ex.create_process();
    let s = anon(&ex, 0x2000, PAGE_READWRITE, 0).unwrap();
    for base in [0x3000_1000u64, 0x0056_7A20] {
        let r = ex.map_view(
            p,
            s,
            MapView {
                base: Some(Va::new(base)),
                ..mv(PAGE_READWRITE)
            },
        );
        assert_eq!(status(r), NtStatus::STATUS_MAPPED_ALIGNMENT);
    }
    let want = Va::new(0x4008_0000);
    let (v, _) = ex
        .map_view(
            p,
            s,
            MapView {
                base: Some(want),
                ..mv(PAGE_READWRITE)
            },
        )
        .unwrap();
    assert_eq!(v, want, "F55: exactly the requested base");
    let again = ex.map_view(
        p,
        s,
        MapView {
            base: Some(want),
            ..mv(PAGE_READWRITE)
        },
    );
    assert_eq!(status(again), NtStatus::STATUS_CONFLICTING_ADDRESSES);
    let (priv_base, _) = ex
        .allocate_virtual_memory(p, None, 0x1000, MEM_RESERVE | MEM_COMMIT, PAGE_READWRITE)
        .unwrap();
    let over = ex.map_view(
        p,
        s,
        MapView {
            base: Some(priv_base),
            ..mv(PAGE_READWRITE)
        },
    );
    assert_eq!(status(over), NtStatus::STATUS_CONFLICTING_ADDRESSES);
}

#[test]
fn test_f58_unusable_bases_and_sizes_are_parameter_3() {
    let ex = exec(32);
    let p = ex.create_process();
    let s = anon(&ex, 0x2000, PAGE_READWRITE, 0).unwrap();
    let high = ex.map_view(
        p,
        s,
        MapView {
            base: Some(Va::new(0xFFFF_8000_0000_00C8)),
            ..mv(PAGE_READWRITE)
        },
    );
    assert_eq!(status(high), NtStatus::STATUS_INVALID_PARAMETER_3);
    let huge = ex.map_view(
        p,
        s,
        MapView {
            view_size: u64::MAX,
            ..mv(PAGE_READWRITE)
        },
    );
    assert_eq!(status(huge), NtStatus::STATUS_INVALID_PARAMETER_3);
}

#[test]
fn test_view_size_limits_are_exact_not_page_rounded_s7_2() {
    // facts §3.5 / nt_internals §7.2: a 0x3452-byte section rejects a 0x3453-byte view.
    let ex = exec(32);
    let p = ex.create_process();
    let f = file(&ex, &[1u8; 0x3452]);
    let s = file_section(&ex, f, FileAccess::ALL, 0, PAGE_READWRITE).unwrap();
    assert_eq!(
        status(ex.map_view(
            p,
            s,
            MapView {
                view_size: 0x3453,
                ..mv(PAGE_READWRITE)
            }
        )),
        NtStatus::STATUS_INVALID_VIEW_SIZE
    );
    let (_, size) = ex
        .map_view(
            p,
            s,
            MapView {
                view_size: 0x3452,
                ..mv(PAGE_READWRITE)
            },
        )
        .unwrap();
    assert_eq!(size, 0x4000);
    let big = file(&ex, &[1u8; 0x20000]);
    let bs = file_section(&ex, big, FileAccess::ALL, 0, PAGE_READWRITE).unwrap();
    assert_eq!(
        status(ex.map_view(
            p,
            bs,
            MapView {
                offset: 0x20000,
                ..mv(PAGE_READWRITE)
            }
        )),
        NtStatus::STATUS_INVALID_VIEW_SIZE
    );
}

#[test]
fn test_f61_view_size_zero_maps_to_the_end() {
    let ex = exec(32);
    let p = ex.create_process();
    let s = anon(&ex, 0x10_0000, PAGE_READWRITE, 0).unwrap();
    let v = map(&ex, p, s, PAGE_READWRITE).unwrap();
    assert_eq!(query(&ex, p, v).region_size, 0x10_0000);
    let r = anon(&ex, 0x2_0000_0000, PAGE_READWRITE, SEC_RESERVE).unwrap();
    let (_, size) = ex.map_view(p, r, mv(PAGE_READWRITE)).unwrap();
    assert_eq!(size, 0x2_0000_0000, "an 8 GiB SEC_RESERVE view");
}

#[test]
fn test_f62_commit_size_and_allocation_type_rules() {
    let ex = exec(32);
    let p = ex.create_process();
    let f = file(&ex, &[0u8; 0x2000]);
    let fs = file_section(&ex, f, FileAccess::ALL, 0, PAGE_READWRITE).unwrap();
    assert_eq!(
        status(ex.map_view(
            p,
            fs,
            MapView {
                commit_size: 0x1000,
                ..mv(PAGE_READWRITE)
            }
        )),
        NtStatus::STATUS_INVALID_PARAMETER_5
    );
    ex.map_view(
        p,
        fs,
        MapView {
            commit_size: 0x1000,
            allocation_type: MEM_RESERVE,
            ..mv(PAGE_READWRITE)
        },
    )
    .unwrap();
    assert_eq!(
        status(ex.map_view(
            p,
            fs,
            MapView {
                allocation_type: MEM_RESERVE | MEM_COMMIT,
                ..mv(PAGE_READWRITE)
            }
        )),
        NtStatus::STATUS_INVALID_PARAMETER_9
    );
    let ps = anon(&ex, 0x2000, PAGE_READWRITE, SEC_RESERVE).unwrap();
    let (v, _) = ex
        .map_view(
            p,
            ps,
            MapView {
                commit_size: 500,
                ..mv(PAGE_READWRITE)
            },
        )
        .unwrap();
    ex.vmm().write_u8(p, v, 1).unwrap();
    assert_eq!(
        raised(ex.vmm().read_u8(p, at(v, 0x1000))),
        ExceptionKind::AccessViolation,
        "only the first page committed"
    );
    for cs in [u64::MAX, 0x1000_0000] {
        assert_eq!(
            status(ex.map_view(
                p,
                ps,
                MapView {
                    commit_size: cs,
                    ..mv(PAGE_READWRITE)
                }
            )),
            NtStatus::STATUS_INVALID_PARAMETER_5
        );
    }
    for at in [MEM_RESERVE, MEM_COMMIT] {
        assert_eq!(
            status(ex.map_view(
                p,
                ps,
                MapView {
                    allocation_type: at,
                    ..mv(PAGE_READWRITE)
                }
            )),
            NtStatus::STATUS_INVALID_PARAMETER_9
        );
    }
    ok(&ex);
}

#[test]
fn test_f64_at_round_to_page_rejected_on_64_bit() {
    let ex = exec(32);
    let p = ex.create_process();
    let s = anon(&ex, 0x2000, PAGE_READWRITE, 0).unwrap();
    let r = ex.map_view(
        p,
        s,
        MapView {
            base: Some(Va::new(0x5000_1000)),
            allocation_type: AT_ROUND_TO_PAGE,
            ..mv(PAGE_READWRITE)
        },
    );
    assert_eq!(status(r), NtStatus::STATUS_INVALID_PARAMETER_9);
}

#[test]
fn test_f63_zero_bits_are_not_modelled() {
    let ex = exec(32);
    let p = ex.create_process();
    let s = anon(&ex, 0x2000, PAGE_READWRITE, 0).unwrap();
    assert_eq!(
        status(ex.map_view(
            p,
            s,
            MapView {
                zero_bits: 8,
                ..mv(PAGE_READWRITE)
            }
        )),
        NtStatus::STATUS_NOT_SUPPORTED
    );
}

#[test]
fn test_top_down_mapping_s7_3() {
    let ex = exec(32);
    let p = ex.create_process();
    let s = anon(&ex, 0x2000, PAGE_READWRITE, 0).unwrap();
    let (v, _) = ex
        .map_view(
            p,
            s,
            MapView {
                allocation_type: MEM_TOP_DOWN,
                ..mv(PAGE_READWRITE)
            },
        )
        .unwrap();
    assert_eq!(v.raw(), 0x7FFF_FFFE_0000);
}

#[test]
fn test_f74_f75_reserve_and_commit_views_in_virtual_query() {
    let ex = exec(32);
    let p = ex.create_process();
    let r = anon(&ex, 0x10_0000, PAGE_READWRITE, SEC_RESERVE).unwrap();
    let v = map(&ex, p, r, PAGE_READWRITE).unwrap();
    let m = query(&ex, p, v);
    assert_eq!(
        (m.base_address, m.allocation_base, m.region_size),
        (v.raw(), v.raw(), 0x10_0000)
    );
    assert_eq!(
        (m.state, m.allocation_protect, m.protect, m.kind),
        (MEM_RESERVE, PAGE_READWRITE, 0, MEM_MAPPED)
    );
    let c = anon(&ex, 0x10_0000, PAGE_READWRITE, SEC_COMMIT).unwrap();
    let w = map(&ex, p, c, PAGE_READWRITE).unwrap();
    let m = query(&ex, p, w);
    assert_eq!(
        (
            m.region_size,
            m.state,
            m.allocation_protect,
            m.protect,
            m.kind
        ),
        (
            0x10_0000,
            MEM_COMMIT,
            PAGE_READWRITE,
            PAGE_READWRITE,
            MEM_MAPPED
        )
    );
}

#[test]
fn test_f76_nocache_sections_show_page_nocache() {
    let ex = exec(32);
    let p = ex.create_process();
    let s = anon(&ex, 0x20000, PAGE_READWRITE, SEC_RESERVE | SEC_NOCACHE).unwrap();
    let v = map(&ex, p, s, PAGE_READWRITE).unwrap();
    assert_eq!(
        query(&ex, p, v).allocation_protect,
        PAGE_READWRITE | PAGE_NOCACHE
    );
    ex.allocate_virtual_memory(p, Some(v), 0x1000, MEM_COMMIT, PAGE_READONLY)
        .unwrap();
    let m = query(&ex, p, v);
    assert_eq!(
        (m.protect, m.region_size),
        (PAGE_READONLY | PAGE_NOCACHE, 0x1000)
    );
}

#[test]
fn test_f78_f114_unmapped_range_is_free_and_reusable() {
    let ex = exec(32);
    let p = ex.create_process();
    let s = anon(&ex, 0x4000, PAGE_READWRITE, 0).unwrap();
    let v = map(&ex, p, s, PAGE_READWRITE).unwrap();
    ex.unmap_view(p, at(v, 0x2000)).unwrap();
    let m = query(&ex, p, at(v, 0x1000));
    assert_eq!(
        (m.base_address, m.allocation_base, m.allocation_protect),
        (v.raw() + 0x1000, 0, 0)
    );
    assert_eq!((m.state, m.protect, m.kind), (MEM_FREE, PAGE_NOACCESS, 0));
    assert_eq!(
        raised(ex.vmm().read_u8(p, v)),
        ExceptionKind::AccessViolation
    );
    assert_eq!(
        map(&ex, p, s, PAGE_READWRITE).unwrap(),
        v,
        "the range is reused"
    );
    ok(&ex);
}

#[test]
fn test_f80_copy_on_write_views_charge_commit_at_map_time() {
    let ex = exec(32);
    let p = ex.create_process();
    let s = anon(&ex, 0x1000, PAGE_READWRITE, 0).unwrap();
    let before = ex.vmm().commit().charged().raw();
    map(&ex, p, s, PAGE_READONLY).unwrap();
    assert_eq!(
        ex.vmm().commit().charged().raw(),
        before,
        "read-only view: 0"
    );
    let c = map(&ex, p, s, PAGE_WRITECOPY).unwrap();
    assert_eq!(
        ex.vmm().commit().charged().raw(),
        before + 1,
        "write-copy view: one page up front"
    );
    ex.vmm().write_u8(p, c, 1).unwrap();
    assert_eq!(
        ex.vmm().commit().charged().raw(),
        before + 1,
        "still one page after the write"
    );
    ex.unmap_view(p, c).unwrap();
    assert_eq!(ex.vmm().commit().charged().raw(), before);
}

#[test]
fn test_f112_unmap_of_something_not_a_view() {
    let ex = exec(32);
    let p = ex.create_process();
    let (b, _) = ex
        .allocate_virtual_memory(p, None, 0x10000, MEM_RESERVE | MEM_COMMIT, PAGE_READWRITE)
        .unwrap();
    for va in [b, at(b, 0x3000), Va::new(0xdead_beef), Va::new(0)] {
        assert_eq!(
            status(ex.unmap_view(p, va)),
            NtStatus::STATUS_NOT_MAPPED_VIEW,
            "{va}"
        );
    }
}

#[test]
fn test_flush_rules_s5_2_f129_f130() {
    let ex = exec(32);
    let p = ex.create_process();
    let f = file(&ex, &[0u8; 0x3000]);
    let s = file_section(&ex, f, FileAccess::ALL, 0, PAGE_READWRITE).unwrap();
    let v = map(&ex, p, s, PAGE_READWRITE).unwrap();
    ex.vmm().write(p, at(v, 0x1000), b"flushed").unwrap();
    // Size 0 flushes to the end of the view; the range comes back page-rounded.
    assert_eq!(
        ex.flush_virtual_memory(p, at(v, 0x10), 0).unwrap(),
        (v, 0x3000)
    );
    assert_eq!(disk(&ex, f, 0x1000, 7), b"flushed");
    assert_eq!(
        ex.flush_virtual_memory(p, at(v, 0x1800), 0x10).unwrap(),
        (at(v, 0x1000), 0x1000)
    );
    // Past the view, or not a view: STATUS_NOT_MAPPED_VIEW; pagefile view: STATUS_NOT_MAPPED_DATA.
    assert_eq!(
        status(ex.flush_virtual_memory(p, v, 0x4000)),
        NtStatus::STATUS_NOT_MAPPED_VIEW
    );
    let (b, _) = ex
        .allocate_virtual_memory(p, None, 0x1000, MEM_COMMIT, PAGE_READWRITE)
        .unwrap();
    assert_eq!(
        status(ex.flush_virtual_memory(p, b, 0)),
        NtStatus::STATUS_NOT_MAPPED_VIEW
    );
    assert_eq!(
        status(ex.flush_virtual_memory(p, Va::new(0x6666_0000), 0)),
        NtStatus::STATUS_NOT_MAPPED_VIEW
    );
    let a = anon(&ex, 0x1000, PAGE_READWRITE, 0).unwrap();
    let av = map(&ex, p, a, PAGE_READWRITE).unwrap();
    assert_eq!(
        status(ex.flush_virtual_memory(p, av, 0)),
        NtStatus::STATUS_NOT_MAPPED_DATA
    );
}

#[test]
fn test_flush_io_error_is_reported_and_nothing_is_lost_s5_2() {
    let ex = exec(32);
    let p = ex.create_process();
    let (store, plan) = ntmm_vmm::FaultyStore::new(MemoryStore::with_contents(&[0u8; 0x1000]));
    let f = ex.create_stream(Box::new(store));
    let s = file_section(&ex, f, FileAccess::ALL, 0, PAGE_READWRITE).unwrap();
    let v = map(&ex, p, s, PAGE_READWRITE).unwrap();
    ex.vmm().write(p, v, b"precious").unwrap();
    plan.fail_nth_write(1);
    assert_eq!(
        status(ex.flush_virtual_memory(p, v, 0)),
        NtStatus::STATUS_DEVICE_DATA_ERROR
    );
    assert_eq!(disk(&ex, f, 0, 8), [0u8; 8]);
    ex.flush_virtual_memory(p, v, 0).unwrap();
    assert_eq!(disk(&ex, f, 0, 8), b"precious");
    ok(&ex);
}

#[test]
fn test_f82_f85_virtual_protect_ceiling_rule_on_views() {
    let ex = exec(32);
    let p = ex.create_process();
    let f = file(&ex, &[0u8; 0x1000]);
    let s = file_section(&ex, f, FileAccess::ALL, 0, PAGE_EXECUTE_READWRITE).unwrap();
    let v = map(&ex, p, s, PAGE_EXECUTE_READWRITE).unwrap();
    let (old, _, _) = ex
        .protect_virtual_memory(p, v, 0x1000, PAGE_NOACCESS)
        .unwrap();
    assert_eq!(old, PAGE_EXECUTE_READWRITE);
    let m = query(&ex, p, v);
    assert_eq!(
        (m.protect, m.allocation_protect),
        (PAGE_NOACCESS, PAGE_EXECUTE_READWRITE)
    );
    let mut prev = PAGE_NOACCESS;
    for prot in [
        PAGE_READONLY,
        PAGE_READWRITE,
        PAGE_WRITECOPY,
        PAGE_EXECUTE,
        PAGE_EXECUTE_READ,
        PAGE_EXECUTE_READWRITE,
        PAGE_EXECUTE_WRITECOPY,
        PAGE_NOACCESS,
    ] {
        let (old, _, _) = ex.protect_virtual_memory(p, v, 0x1000, prot).unwrap();
        assert_eq!(old, prev);
        assert_eq!(query(&ex, p, v).protect, prot);
        prev = prot;
    }
    assert_eq!(
        status(ex.protect_virtual_memory(p, v, 0x1000, PAGE_READONLY | PAGE_READWRITE)),
        NtStatus::STATUS_INVALID_PAGE_PROTECTION
    );
}

#[test]
fn test_f84_a9_read_view_allows_only_readonly_and_writecopy() {
    let ex = exec(32);
    let p = ex.create_process();
    let f = file(&ex, &[0u8; 0x1000]);
    let s = file_section(&ex, f, FileAccess::ALL, 0, PAGE_READWRITE).unwrap();
    let v = map(&ex, p, s, PAGE_READONLY).unwrap();
    for ok_prot in [PAGE_READONLY, PAGE_WRITECOPY] {
        ex.protect_virtual_memory(p, v, 0x1000, ok_prot).unwrap();
    }
    for bad in [
        PAGE_READWRITE,
        PAGE_EXECUTE,
        PAGE_EXECUTE_READ,
        PAGE_EXECUTE_READWRITE,
        PAGE_EXECUTE_WRITECOPY,
    ] {
        assert_eq!(
            status(ex.protect_virtual_memory(p, v, 0x1000, bad)),
            NtStatus::STATUS_SECTION_PROTECTION,
            "A9 {bad:#x}"
        );
    }
    let c = map(&ex, p, s, PAGE_WRITECOPY).unwrap();
    assert_eq!(
        status(ex.protect_virtual_memory(p, c, 0x1000, PAGE_READWRITE)),
        NtStatus::STATUS_SECTION_PROTECTION,
        "A9: COPY view"
    );
}

#[test]
fn test_f89_private_memory_refuses_writecopy() {
    let ex = exec(32);
    let p = ex.create_process();
    assert_eq!(
        status(ex.allocate_virtual_memory(p, None, 0x1000, MEM_COMMIT, PAGE_WRITECOPY)),
        NtStatus::STATUS_INVALID_PAGE_PROTECTION
    );
    let (b, _) = ex
        .allocate_virtual_memory(p, None, 0x1000, MEM_COMMIT, PAGE_READWRITE)
        .unwrap();
    assert_eq!(
        status(ex.protect_virtual_memory(p, b, 0x1000, PAGE_EXECUTE_WRITECOPY)),
        NtStatus::STATUS_INVALID_PAGE_PROTECTION
    );
}

#[test]
fn test_f90_protection_zero_is_invalid_page_protection() {
    let ex = exec(32);
    let p = ex.create_process();
    let (b, _) = ex
        .allocate_virtual_memory(p, None, 0x1000, MEM_COMMIT, PAGE_READWRITE)
        .unwrap();
    assert_eq!(
        status(ex.protect_virtual_memory(p, b, 0x1000, 0)),
        NtStatus::STATUS_INVALID_PAGE_PROTECTION
    );
}

#[test]
fn test_f92_noaccess_reserve_view_cannot_be_made_accessible() {
    let ex = exec(32);
    let p = ex.create_process();
    let s = anon(&ex, 0x1000, PAGE_READWRITE, SEC_RESERVE).unwrap();
    let v = map(&ex, p, s, PAGE_NOACCESS).unwrap();
    for prot in [PAGE_READWRITE, PAGE_READONLY] {
        assert_eq!(
            status(ex.protect_virtual_memory(p, v, 0x1000, prot)),
            NtStatus::STATUS_SECTION_PROTECTION
        );
    }
    assert_eq!(
        raised(ex.vmm().read_u8(p, v)),
        ExceptionKind::AccessViolation,
        "F137"
    );
}

#[test]
fn test_f94_commit_through_one_view_is_visible_in_all() {
    let ex = exec(32);
    let p = ex.create_process();
    let s = anon(&ex, 0x2000, PAGE_READWRITE, SEC_RESERVE).unwrap();
    let (a, _) = ex
        .map_view(
            p,
            s,
            MapView {
                commit_size: 0x1000,
                ..mv(PAGE_READWRITE)
            },
        )
        .unwrap();
    ex.vmm().write_u8(p, a, 1).unwrap();
    assert_eq!(
        raised(ex.vmm().write_u8(p, at(a, 0x1000), 1)),
        ExceptionKind::AccessViolation
    );
    let b = map(&ex, p, s, PAGE_READWRITE).unwrap();
    ex.allocate_virtual_memory(p, Some(at(b, 0x1000)), 0x1000, MEM_COMMIT, PAGE_READONLY)
        .unwrap();
    ex.vmm().write_u32(p, at(a, 0x1000), 0xABCD).unwrap();
    assert_eq!(ex.vmm().read_u32(p, at(b, 0x1000)).unwrap(), 0xABCD);
    // Committing an already committed page succeeds.
    ex.allocate_virtual_memory(p, Some(b), 0x2000, MEM_COMMIT, PAGE_READWRITE)
        .unwrap();
    ok(&ex);
}

#[test]
fn test_f95_commit_on_committed_view_changes_protection() {
    let ex = exec(32);
    let p = ex.create_process();
    let s = anon(&ex, 0x20000, PAGE_READWRITE, SEC_COMMIT).unwrap();
    let v = map(&ex, p, s, PAGE_READWRITE).unwrap();
    ex.allocate_virtual_memory(p, Some(v), 0x10000, MEM_COMMIT, PAGE_READONLY)
        .unwrap();
    let m = query(&ex, p, v);
    assert_eq!((m.protect, m.region_size), (PAGE_READONLY, 0x10000));
}

#[test]
fn test_f96_commit_on_view_follows_the_ceiling_rule() {
    let ex = exec(32);
    let p = ex.create_process();
    let s = anon(&ex, 0x2000, PAGE_READWRITE, SEC_RESERVE).unwrap();
    let v = map(&ex, p, s, PAGE_READWRITE).unwrap();
    ex.allocate_virtual_memory(p, Some(v), 0x1000, MEM_COMMIT, PAGE_WRITECOPY)
        .unwrap();
    assert_eq!(query(&ex, p, v).protect, PAGE_WRITECOPY);
    let r = map(&ex, p, s, PAGE_READONLY).unwrap();
    assert_eq!(
        status(ex.allocate_virtual_memory(
            p,
            Some(at(r, 0x1000)),
            0x1000,
            MEM_COMMIT,
            PAGE_READWRITE
        )),
        NtStatus::STATUS_SECTION_PROTECTION
    );
}

#[test]
fn test_f97_commit_on_file_view_fails() {
    let ex = exec(32);
    let p = ex.create_process();
    let f = file(&ex, &[0u8; 0x1000]);
    let s = file_section(&ex, f, FileAccess::ALL, 0, PAGE_READWRITE).unwrap();
    let v = map(&ex, p, s, PAGE_READWRITE).unwrap();
    for prot in [PAGE_READONLY, PAGE_READWRITE] {
        assert_eq!(
            status(ex.allocate_virtual_memory(p, Some(v), 0x1000, MEM_COMMIT, prot)),
            NtStatus::STATUS_ALREADY_COMMITTED
        );
    }
}

#[test]
fn test_f98_mem_reset_on_views_succeeds() {
    let ex = exec(32);
    let p = ex.create_process();
    for attrs in [SEC_RESERVE, SEC_COMMIT] {
        let s = anon(&ex, 0x10000, PAGE_READWRITE, attrs).unwrap();
        let v = map(&ex, p, s, PAGE_READWRITE).unwrap();
        assert_eq!(
            ex.allocate_virtual_memory(p, Some(v), 0x10000, MEM_RESET, PAGE_READONLY)
                .unwrap()
                .0,
            v
        );
    }
}

#[test]
fn test_f100_views_cannot_be_freed_or_decommitted() {
    let ex = exec(32);
    let p = ex.create_process();
    let s = anon(&ex, 0x1000, PAGE_READWRITE, 0).unwrap();
    let v = map(&ex, p, s, PAGE_READWRITE).unwrap();
    assert_eq!(
        status(ex.free_virtual_memory(p, v, 0, MEM_RELEASE)),
        NtStatus::STATUS_UNABLE_TO_DELETE_SECTION
    );
    assert_eq!(
        status(ex.free_virtual_memory(p, v, 0x1000, MEM_DECOMMIT)),
        NtStatus::STATUS_UNABLE_TO_DELETE_SECTION
    );
}

#[test]
fn test_f101_the_granule_around_a_view_belongs_to_it() {
    let ex = exec(32);
    let p = ex.create_process();
    let s = anon(&ex, 0x2000, PAGE_READWRITE, SEC_RESERVE).unwrap();
    let v = map(&ex, p, s, PAGE_READWRITE).unwrap();
    assert_eq!(
        status(ex.allocate_virtual_memory(p, Some(v), 0x3000, MEM_COMMIT, PAGE_READWRITE)),
        NtStatus::STATUS_CONFLICTING_ADDRESSES
    );
    assert_eq!(
        status(ex.allocate_virtual_memory(
            p,
            Some(at(v, 0x2000)),
            0x1000,
            MEM_COMMIT,
            PAGE_READWRITE
        )),
        NtStatus::STATUS_CONFLICTING_ADDRESSES
    );
    assert_eq!(
        status(ex.allocate_virtual_memory(
            p,
            Some(at(v, 0x2000)),
            0x1000,
            MEM_RESERVE | MEM_COMMIT,
            PAGE_READWRITE
        )),
        NtStatus::STATUS_CONFLICTING_ADDRESSES
    );
    let (n, _) = ex
        .allocate_virtual_memory(
            p,
            Some(at(v, 0x10000)),
            0x1000,
            MEM_RESERVE | MEM_COMMIT,
            PAGE_READWRITE,
        )
        .unwrap();
    assert_eq!(
        n,
        at(v, 0x10000),
        "the next 64 KiB boundary can be allocated"
    );
}

#[test]
fn test_f141_private_memory_baseline() {
    let ex = exec(32);
    let p = ex.create_process();
    let (b, size) = ex
        .allocate_virtual_memory(p, None, 0x3000, MEM_RESERVE, PAGE_READWRITE)
        .unwrap();
    assert_eq!((b.raw() & 0xFFFF, size), (0, 0x3000));
    let m = query(&ex, p, b);
    assert_eq!(
        (m.kind, m.state, m.protect, m.allocation_protect),
        (MEM_PRIVATE, MEM_RESERVE, 0, PAGE_READWRITE)
    );
    assert_eq!(
        status(ex.free_virtual_memory(p, b, 0x1000, MEM_RELEASE)),
        NtStatus::STATUS_UNABLE_TO_FREE_VM,
        "partial release"
    );
    assert_eq!(
        status(ex.free_virtual_memory(p, at(b, 0x1000), 0, MEM_RELEASE)),
        NtStatus::STATUS_FREE_VM_NOT_AT_BASE
    );
    ex.free_virtual_memory(p, b, 0, MEM_RELEASE).unwrap();
    assert_eq!(query(&ex, p, b).state, MEM_FREE);
    assert_eq!(
        status(ex.free_virtual_memory(p, b, 0, MEM_RELEASE)),
        NtStatus::STATUS_MEMORY_NOT_ALLOCATED
    );
}

#[test]
fn test_f10_f141_private_commit_decommit_cycle() {
    let ex = exec(32);
    let p = ex.create_process();
    let (b, _) = ex
        .allocate_virtual_memory(p, None, 0x4000, MEM_RESERVE, PAGE_READWRITE)
        .unwrap();
    assert_eq!(
        raised(ex.vmm().read_u8(p, b)),
        ExceptionKind::AccessViolation
    );
    ex.allocate_virtual_memory(p, Some(at(b, 0x1000)), 0x2000, MEM_COMMIT, PAGE_READWRITE)
        .unwrap();
    ex.vmm().write_u8(p, at(b, 0x1000), 7).unwrap();
    let m = query(&ex, p, at(b, 0x1000));
    assert_eq!((m.state, m.region_size), (MEM_COMMIT, 0x2000));
    ex.free_virtual_memory(p, at(b, 0x1000), 0x1000, MEM_DECOMMIT)
        .unwrap();
    assert_eq!(
        raised(ex.vmm().read_u8(p, at(b, 0x1000))),
        ExceptionKind::AccessViolation
    );
    ex.allocate_virtual_memory(p, Some(at(b, 0x1000)), 0x1000, MEM_COMMIT, PAGE_READWRITE)
        .unwrap();
    assert_eq!(
        ex.vmm().read_u8(p, at(b, 0x1000)).unwrap(),
        0,
        "F10: recommitted pages read as zero"
    );
    assert_eq!(
        status(ex.free_virtual_memory(p, b, 0, 0)),
        NtStatus::STATUS_INVALID_PARAMETER_4
    );
    assert_eq!(
        status(ex.allocate_virtual_memory(p, None, 0, MEM_COMMIT, PAGE_READWRITE)),
        NtStatus::STATUS_INVALID_PARAMETER_4
    );
    assert_eq!(
        status(ex.allocate_virtual_memory(p, None, 0x1000, 0, PAGE_READWRITE)),
        NtStatus::STATUS_INVALID_PARAMETER_5
    );
    ok(&ex);
}

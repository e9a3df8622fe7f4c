//! Control areas, teardown, coherence and cached file I/O: Appendix A1–A14, the worked example
//! of §5.4, and nt_internals §6 and §8.
#![allow(clippy::tests_outside_test_module)]

mod common;
use common::*;
use ntmm_vmm::{PageLocation, ProtoPte};

fn mv(protection: u32) -> MapView {
    MapView {
        protection,
        ..MapView::default()
    }
}

#[test]
fn test_a1_pagefile_section_demand_zero_and_commit() {
    let ex = exec(32);
    let before = ex.vmm().commit().charged().raw();
    let s = anon(&ex, 0x10000, PAGE_READWRITE, 0).unwrap();
    assert_eq!(
        ex.vmm().commit().charged().raw() - before,
        16,
        "16 pages charged at create"
    );
    let p = ex.create_process();
    let v = map(&ex, p, s, PAGE_READWRITE).unwrap();
    assert_eq!(ex.vmm().read_u64(p, at(v, 0x3000)).unwrap(), 0);
    let ca = ex.section_control_area(s).unwrap();
    let ProtoPte::Valid { pfn } = ex.vmm().proto_pte(ca.segment, 3).unwrap() else {
        panic!()
    };
    assert!(
        ex.vmm().pfn_entry(pfn).unwrap().modified(),
        "A1: frame Modified = 1"
    );
    assert_eq!(ex.vmm().fault_counters(p).unwrap().demand_zero, 1);
}

#[test]
fn test_a2_sec_reserve_read_faults_until_committed() {
    let ex = exec(32);
    let s = anon(&ex, 0x10000, PAGE_READWRITE, SEC_RESERVE).unwrap();
    let p = ex.create_process();
    let v = map(&ex, p, s, PAGE_READWRITE).unwrap();
    assert_eq!(
        raised(ex.vmm().read_u8(p, v)),
        ExceptionKind::AccessViolation,
        "F138"
    );
    let before = ex.vmm().commit().charged().raw();
    ex.allocate_virtual_memory(p, Some(v), 0x1000, MEM_COMMIT, PAGE_READWRITE)
        .unwrap();
    assert_eq!(ex.vmm().commit().charged().raw(), before + 1);
    assert_eq!(ex.vmm().read_u8(p, v).unwrap(), 0);
}

#[test]
fn test_a3_f38_two_processes_share_a_pagefile_section() {
    let ex = exec(32);
    let s = anon(&ex, 0x1000, PAGE_READWRITE, 0).unwrap();
    let (p1, p2) = (ex.create_process(), ex.create_process());
    let (v1, v2) = (
        map(&ex, p1, s, PAGE_READWRITE).unwrap(),
        map(&ex, p2, s, PAGE_READWRITE).unwrap(),
    );
    ex.vmm().write_u32(p1, v1, 0x1a2b_3c4d).unwrap();
    assert_eq!(ex.vmm().read_u32(p2, v2).unwrap(), 0x1a2b_3c4d);
    let ca = ex.section_control_area(s).unwrap();
    let ProtoPte::Valid { pfn } = ex.vmm().proto_pte(ca.segment, 0).unwrap() else {
        panic!()
    };
    assert_eq!(ex.vmm().pfn_entry(pfn).unwrap().share_count(), 2);
    assert_eq!(
        (ca.mapped_views, ca.user_references, ca.section_references),
        (2, 3, 1)
    );
}

#[test]
fn test_a4_a5_pagefile_contents_live_while_a_handle_does() {
    let ex = exec(32);
    let s = anon(&ex, 0x1000, PAGE_READWRITE, 0).unwrap();
    let (p1, p2) = (ex.create_process(), ex.create_process());
    let v1 = map(&ex, p1, s, PAGE_READWRITE).unwrap();
    let v2 = map(&ex, p2, s, PAGE_READWRITE).unwrap();
    ex.vmm().write(p1, v1, b"kept").unwrap();
    ex.unmap_view(p1, v1).unwrap();
    ex.unmap_view(p2, v2).unwrap();
    // A4: frame on the modified list, proto in transition; a new view soft-faults it back.
    let ca = ex.section_control_area(s).unwrap();
    let ProtoPte::Transition { pfn, .. } = ex.vmm().proto_pte(ca.segment, 0).unwrap() else {
        panic!()
    };
    assert_eq!(
        ex.vmm().pfn_entry(pfn).unwrap().location(),
        PageLocation::Modified
    );
    let v3 = map(&ex, p1, s, PAGE_READONLY).unwrap();
    let mut b = [0u8; 4];
    ex.vmm().read(p1, v3, &mut b).unwrap();
    assert_eq!(&b, b"kept");
    assert_eq!(ex.vmm().fault_counters(p1).unwrap().transition, 1);
    ex.unmap_view(p1, v3).unwrap();
    // A5: the last handle closes: control area deleted at once, frame freed, commit returned.
    let commit = ex.vmm().commit().charged().raw();
    ex.close_section(s).unwrap();
    assert!(ex.control_areas().is_empty());
    assert_eq!(ex.vmm().commit().charged().raw(), commit - 1);
    assert_eq!(
        ex.vmm().pfn_entry(pfn).unwrap().location(),
        PageLocation::Free
    );
    let fresh = anon(&ex, 0x1000, PAGE_READWRITE, 0).unwrap();
    let v = map(&ex, p1, fresh, PAGE_READWRITE).unwrap();
    assert_eq!(
        ex.vmm().read_u32(p1, v).unwrap(),
        0,
        "a new section is zero-filled"
    );
    ok(&ex);
}

#[test]
fn test_closing_the_section_keeps_views_alive_s6_1() {
    let ex = exec(32);
    let s = anon(&ex, 0x1000, PAGE_READWRITE, 0).unwrap();
    let p = ex.create_process();
    let v = map(&ex, p, s, PAGE_READWRITE).unwrap();
    ex.close_section(s).unwrap();
    ex.vmm().write(p, v, b"still here").unwrap();
    let ca = &ex.control_areas()[0];
    assert_eq!(
        (ca.section_references, ca.mapped_views, ca.user_references),
        (0, 1, 1)
    );
    ex.unmap_view(p, v).unwrap();
    assert!(
        ex.control_areas().is_empty(),
        "views = sections = 0: pagefile CA deleted"
    );
    ok(&ex);
}

#[test]
fn test_a6_file_write_unmap_close_then_read_through_cache() {
    let ex = exec(32);
    let f = file(&ex, &[0u8; 0x2000]);
    let s = file_section(&ex, f, FileAccess::ALL, 0, PAGE_READWRITE).unwrap();
    let p = ex.create_process();
    let v = map(&ex, p, s, PAGE_READWRITE).unwrap();
    ex.vmm().write(p, at(v, 0x1000), b"mapped").unwrap();
    ex.unmap_view(p, v).unwrap();
    ex.close_section(s).unwrap();
    // The file control area is parked (its page is cached), not deleted (§6.2).
    let ca = ex.file_control_area(f).unwrap().expect("parked");
    assert!(ca.parked);
    let mut b = [0u8; 6];
    assert_eq!(ex.read_file(f, 0x1000, &mut b).unwrap(), 6);
    assert_eq!(&b, b"mapped", "A6: visible through the cache at once");
    assert_eq!(
        disk(&ex, f, 0x1000, 6),
        [0u8; 6],
        "not on disk until the writer runs"
    );
    ex.run_writers();
    assert_eq!(disk(&ex, f, 0x1000, 6), b"mapped");
    ok(&ex);
}

#[test]
fn test_a7_file_map_copy_private_copy() {
    let ex = exec(32);
    let f = file(&ex, b"original");
    let s = file_section(&ex, f, FileAccess::ALL, 0, PAGE_READWRITE).unwrap();
    let p = ex.create_process();
    let before = ex.vmm().commit().charged().raw();
    let c = map(&ex, p, s, PAGE_WRITECOPY).unwrap();
    assert_eq!(ex.vmm().commit().charged().raw(), before + 1);
    let r = map(&ex, p, s, PAGE_READONLY).unwrap();
    ex.vmm().write(p, c, b"PRIVATE").unwrap();
    let mut b = [0u8; 8];
    ex.vmm().read(p, r, &mut b).unwrap();
    assert_eq!(&b, b"original");
    assert_eq!(
        query(&ex, p, c).protect,
        PAGE_READWRITE,
        "A7: the copied page is RW"
    );
    ex.flush_virtual_memory(p, c, 0).unwrap();
    ex.unmap_view(p, c).unwrap();
    ex.run_writers();
    assert_eq!(disk(&ex, f, 0, 8), b"original");
    ok(&ex);
}

#[test]
fn test_a8_f137_write_to_read_only_view_is_access_violation() {
    let ex = exec(32);
    let f = file(&ex, b"data");
    let s = file_section(&ex, f, FileAccess::ALL, 0, PAGE_READWRITE).unwrap();
    let p = ex.create_process();
    let v = map(&ex, p, s, PAGE_READONLY).unwrap();
    assert_eq!(
        raised(ex.vmm().write_u8(p, v, 1)),
        ExceptionKind::AccessViolation
    );
    assert_eq!(
        ex.vmm().machine_counters().file_reads,
        0,
        "no page brought in"
    );
    let n = map(&ex, p, s, PAGE_NOACCESS).unwrap();
    assert_eq!(
        raised(ex.vmm().read_u8(p, n)),
        ExceptionKind::AccessViolation
    );
}

#[test]
fn test_a10_a11_alignment_and_free_tail() {
    let ex = exec(32);
    let s = anon(&ex, 0x20000, PAGE_READWRITE, 0).unwrap();
    let p = ex.create_process();
    assert_eq!(
        status(ex.map_view(
            p,
            s,
            MapView {
                offset: 0x1000,
                ..mv(PAGE_READWRITE)
            }
        )),
        NtStatus::STATUS_MAPPED_ALIGNMENT
    );
    let base = Va::new(0x60_0000);
    ex.map_view(
        p,
        s,
        MapView {
            base: Some(base),
            view_size: 0x1400,
            ..mv(PAGE_READWRITE)
        },
    )
    .unwrap();
    assert_eq!(query(&ex, p, at(base, 0x2000)).state, MEM_FREE);
    assert_eq!(query(&ex, p, base).region_size, 0x2000);
}

#[test]
fn test_a12_worked_example_s5_4() {
    let ex = exec(32);
    let f = file(&ex, &[0u8; 0x2000]);
    let sa = file_section(&ex, f, FileAccess::ALL, 0, PAGE_READWRITE).unwrap();
    let sb = file_section(&ex, f, FileAccess::ALL, 0, PAGE_READWRITE).unwrap();
    let (a, b) = (ex.create_process(), ex.create_process());
    let va = map(&ex, a, sa, PAGE_READWRITE).unwrap();
    let vb = map(&ex, b, sb, PAGE_READWRITE).unwrap();
    let seg = ex.file_control_area(f).unwrap().unwrap().segment;
    let frame = || match ex.vmm().proto_pte(seg, 0).unwrap() {
        ProtoPte::Valid { pfn } | ProtoPte::Transition { pfn, .. } => {
            ex.vmm().pfn_entry(pfn).unwrap()
        }
        other => panic!("{other:?}"),
    };
    ex.vmm().write(a, va, b"s1").unwrap(); // 1
    assert!(frame().modified());
    assert_eq!(
        ex.vmm().read_u16(b, vb).unwrap(),
        u16::from_le_bytes(*b"s1")
    ); // 2
    assert_eq!(frame().share_count(), 2);
    ex.vmm().write(a, va, b"s3").unwrap(); // 3
    ex.flush_virtual_memory(b, vb, 0x1000).unwrap(); // 4: written with A's data
    assert_eq!(disk(&ex, f, 0, 2), b"s3");
    assert!(!frame().modified());
    ex.vmm().write(a, va, b"s5").unwrap(); // 5
    ex.flush_virtual_memory(b, vb, 0x1000).unwrap(); // 6: nothing written
    assert_eq!(disk(&ex, f, 0, 2), b"s3", "the file lags A's last write");
    ex.unmap_view(a, va).unwrap(); // 7
    assert!(frame().modified());
    assert_eq!(frame().share_count(), 1);
    assert_eq!(disk(&ex, f, 0, 2), b"s3");
    ex.unmap_view(b, vb).unwrap(); // 8
    assert_eq!(frame().location(), PageLocation::Modified);
    ex.close_section(sa).unwrap();
    ex.close_section(sb).unwrap();
    assert!(
        ex.file_control_area(f).unwrap().unwrap().parked,
        "on the unused-segment list"
    );
    ex.run_writers();
    assert_eq!(disk(&ex, f, 0, 2), b"s5");
    assert_eq!(frame().location(), PageLocation::Standby);
    ok(&ex);
}

#[test]
fn test_a13_process_exit_with_dirty_file_view() {
    let ex = exec(32);
    let f = file(&ex, &[0u8; 0x1000]);
    let s = file_section(&ex, f, FileAccess::ALL, 0, PAGE_READWRITE).unwrap();
    let p = ex.create_process();
    let v = map(&ex, p, s, PAGE_READWRITE).unwrap();
    ex.vmm().read_u8(p, v).unwrap();
    ex.vmm().write(p, v, b"exit").unwrap();
    ex.allocate_virtual_memory(p, None, 0x3000, MEM_COMMIT, PAGE_READWRITE)
        .unwrap();
    ex.close_section(s).unwrap();
    ex.terminate_process(p).unwrap();
    let ca = ex.file_control_area(f).unwrap().expect("parked");
    assert!(ca.parked && ca.mapped_views == 0);
    assert_eq!(
        ex.vmm().list_counts().modified,
        1,
        "dirty bit captured; waits for the writer"
    );
    ex.run_writers();
    assert_eq!(disk(&ex, f, 0, 4), b"exit");
    assert_eq!(
        status(ex.query_virtual_memory(p, v)),
        NtStatus::STATUS_INVALID_HANDLE
    );
    ok(&ex);
}

#[test]
fn test_a14_view_outlives_all_handles() {
    // The name part of A14 lives in the api layer; here: with every section reference gone,
    // the other process's view still works.
    let ex = exec(32);
    let s = anon(&ex, 0x1000, PAGE_READWRITE, 0).unwrap();
    let (p1, p2) = (ex.create_process(), ex.create_process());
    let v2 = map(&ex, p2, s, PAGE_READWRITE).unwrap();
    let v1 = map(&ex, p1, s, PAGE_READWRITE).unwrap();
    ex.vmm().write(p1, v1, b"A14").unwrap();
    ex.close_section(s).unwrap();
    let mut b = [0u8; 3];
    ex.vmm().read(p2, v2, &mut b).unwrap();
    assert_eq!(&b, b"A14");
    ok(&ex);
}

#[test]
fn test_parked_file_control_area_is_revived_by_a_new_section_s6_2() {
    let ex = exec(32);
    let f = file(&ex, &[5u8; 0x1000]);
    let s = file_section(&ex, f, FileAccess::ALL, 0, PAGE_READWRITE).unwrap();
    let p = ex.create_process();
    let v = map(&ex, p, s, PAGE_READWRITE).unwrap();
    ex.vmm().read_u8(p, v).unwrap();
    ex.unmap_view(p, v).unwrap();
    ex.close_section(s).unwrap();
    let parked = ex.file_control_area(f).unwrap().unwrap();
    assert!(parked.parked);
    let s2 = file_section(&ex, f, FileAccess::ALL, 0, PAGE_READONLY).unwrap();
    let revived = ex.section_control_area(s2).unwrap();
    assert_eq!(revived.id, parked.id);
    assert!(!revived.parked);
    let v2 = map(&ex, p, s2, PAGE_READONLY).unwrap();
    assert_eq!(ex.vmm().read_u8(p, v2).unwrap(), 5);
    assert_eq!(
        ex.vmm().fault_counters(p).unwrap().transition,
        1,
        "cached page: soft fault only"
    );
    ok(&ex);
}

#[test]
fn test_parked_file_control_area_dies_when_its_last_page_is_reused_s4_7() {
    let ex = exec(8);
    let f = file(&ex, &[5u8; 0x1000]);
    let s = file_section(&ex, f, FileAccess::ALL, 0, PAGE_READONLY).unwrap();
    let p = ex.create_process();
    let v = map(&ex, p, s, PAGE_READONLY).unwrap();
    ex.vmm().read_u8(p, v).unwrap();
    ex.unmap_view(p, v).unwrap();
    ex.close_section(s).unwrap();
    assert!(ex.file_control_area(f).unwrap().is_some());
    let (b, _) = ex
        .allocate_virtual_memory(p, None, 0x8000, MEM_COMMIT, PAGE_READWRITE)
        .unwrap();
    for i in 0..8 {
        ex.vmm().write_u8(p, at(b, i * 0x1000), 1).unwrap();
    }
    ok(&ex); // reaps the dereference queue
    assert!(
        ex.file_control_area(f).unwrap().is_none(),
        "DataSectionObject cleared"
    );
    assert!(ex.control_areas().is_empty());
}

#[test]
fn test_unreferenced_file_control_area_without_pages_is_deleted_at_once_s6_2() {
    let ex = exec(32);
    let f = file(&ex, &[5u8; 0x1000]);
    let s = file_section(&ex, f, FileAccess::ALL, 0, PAGE_READONLY).unwrap();
    ex.close_section(s).unwrap();
    assert!(ex.file_control_area(f).unwrap().is_none());
    ok(&ex);
}

#[test]
fn test_f106_f108_view_writes_visible_to_read_file_at_once() {
    let ex = exec(32);
    let f = file(&ex, &[0u8; 0x2000]);
    let s = file_section(&ex, f, FileAccess::ALL, 0, PAGE_READWRITE).unwrap();
    let p = ex.create_process();
    let v = map(&ex, p, s, PAGE_READWRITE).unwrap();
    ex.vmm().write(p, at(v, 0x1234), b"coherent").unwrap();
    let mut b = [0u8; 8];
    ex.read_file(f, 0x1234, &mut b).unwrap();
    assert_eq!(&b, b"coherent");
    ex.write_file(f, 0x10, b"from WriteFile").unwrap();
    let mut c = [0u8; 14];
    ex.vmm().read(p, at(v, 0x10), &mut c).unwrap();
    assert_eq!(&c, b"from WriteFile");
    // A view of a second section on the same file is coherent too.
    let s2 = file_section(&ex, f, FileAccess::ALL, 0, PAGE_READONLY).unwrap();
    let q = ex.create_process();
    let w = map(&ex, q, s2, PAGE_READONLY).unwrap();
    ex.vmm().read(q, at(w, 0x10), &mut c).unwrap();
    assert_eq!(&c, b"from WriteFile");
    ok(&ex);
}

#[test]
fn test_cached_write_extends_file_and_reaches_disk_on_flush_s8() {
    let ex = exec(32);
    let f = file(&ex, b"abc");
    assert_eq!(ex.write_file(f, 0x1800, b"far").unwrap(), 3);
    assert_eq!(ex.file_size(f).unwrap(), 0x1803);
    let mut b = [9u8; 4];
    assert_eq!(
        ex.read_file(f, 0x17FE, &mut b).unwrap(),
        4,
        "two zero-filled bytes, then the data"
    );
    assert_eq!(&b, &[0, 0, b'f', b'a']);
    assert_eq!(ex.read_file(f, 0x1803, &mut b).unwrap(), 0, "at EOF");
    assert_eq!(disk(&ex, f, 0x1800, 3), [0u8; 3]);
    ex.flush_file(f).unwrap();
    assert_eq!(disk(&ex, f, 0x1800, 3), b"far");
    ok(&ex);
}

#[test]
fn test_truncation_refused_while_user_mapped_allowed_when_only_cached_s8() {
    let ex = exec(32);
    let f = file(&ex, &[1u8; 0x3000]);
    let s = file_section(&ex, f, FileAccess::ALL, 0, PAGE_READONLY).unwrap();
    assert!(ex.is_user_mapped(f).unwrap());
    assert_eq!(
        status(ex.set_file_size(f, 0x1000)),
        NtStatus::STATUS_USER_MAPPED_FILE
    );
    ex.set_file_size(f, 0x4000).unwrap();
    ex.close_section(s).unwrap();
    assert!(!ex.is_user_mapped(f).unwrap());
    ex.read_file(f, 0x2000, &mut [0u8; 1]).unwrap();
    ex.set_file_size(f, 0x1800).unwrap();
    assert_eq!(ex.file_size(f).unwrap(), 0x1800);
    let mut b = [9u8; 0x1000];
    assert_eq!(ex.read_file(f, 0x1000, &mut b).unwrap(), 0x800);
    assert!(b[..0x800].iter().all(|&x| x == 1));
    ok(&ex);
}

#[test]
fn test_bytes_past_eof_in_the_last_page_read_as_zero_after_growth_s8() {
    let ex = exec(32);
    let f = file(&ex, b"12345");
    let s = file_section(&ex, f, FileAccess::ALL, 0, PAGE_READWRITE).unwrap();
    let p = ex.create_process();
    let v = map(&ex, p, s, PAGE_READWRITE).unwrap();
    ex.vmm().write(p, at(v, 5), b"junk past EOF").unwrap();
    ex.unmap_view(p, v).unwrap();
    ex.close_section(s).unwrap();
    ex.set_file_size(f, 0x100).unwrap();
    let mut b = [7u8; 12];
    ex.read_file(f, 5, &mut b).unwrap();
    assert_eq!(
        b, [0u8; 12],
        "the grown range reads as zero, not the old junk"
    );
    ex.run_writers();
    assert_eq!(disk(&ex, f, 0, 6), b"12345\0");
    ok(&ex);
}

#[test]
fn test_cache_reference_keeps_control_area_until_released_s8() {
    let ex = exec(32);
    let f = file(&ex, &[1u8; 0x1000]);
    ex.read_file(f, 0, &mut [0u8; 4]).unwrap();
    let ca = ex.file_control_area(f).unwrap().unwrap();
    assert_eq!(
        (ca.section_references, ca.user_references, ca.parked),
        (1, 0, false)
    );
    ex.release_file_cache(f).unwrap();
    let ca = ex.file_control_area(f).unwrap().unwrap();
    assert!(ca.parked, "its page is still cached");
    ex.delete_stream(f).unwrap();
    assert!(ex.control_areas().is_empty());
    ok(&ex);
}

#[test]
fn test_delete_stream_refused_while_user_mapped_s8() {
    let ex = exec(32);
    let f = file(&ex, &[1u8; 0x1000]);
    let s = file_section(&ex, f, FileAccess::ALL, 0, PAGE_READONLY).unwrap();
    assert_eq!(
        status(ex.delete_stream(f)),
        NtStatus::STATUS_USER_MAPPED_FILE
    );
    ex.close_section(s).unwrap();
    ex.write_file(f, 0, b"x").unwrap();
    let store = ex.delete_stream(f).unwrap();
    let mut b = [0u8; 1];
    let mut store = store;
    ntmm_vmm::store::read_bytes(store.as_mut(), 0, &mut b).unwrap();
    assert_eq!(&b, b"x", "cached data was written before the stream went");
}

//! Conformance: names, handles, access rights, DuplicateHandle, lifetimes, processes and events
//! (windows_facts §E, §F, §P; nt_internals §6).
#![allow(clippy::tests_outside_test_module)]

mod common;
use common::*;

#[test]
fn f31_create_existing_name_returns_existing_with_already_exists() {
    let (s, p) = one();
    let a = anon(
        &s,
        p,
        SEC_COMMIT | PAGE_READWRITE,
        0x1000,
        Some("Wine Test Mapping"),
    )
    .unwrap();
    assert_eq!(s.get_last_error(p), ERROR_SUCCESS);
    let b = anon(
        &s,
        p,
        SEC_COMMIT | PAGE_READWRITE,
        0x1000,
        Some("Wine Test Mapping"),
    )
    .unwrap();
    assert_ne!(b, Handle::NULL);
    assert_eq!(s.get_last_error(p), ERROR_ALREADY_EXISTS);
    let va = s.map_view_of_file(p, a, FILE_MAP_WRITE, 0, 0, 0).unwrap();
    let vb = s.map_view_of_file(p, b, FILE_MAP_READ, 0, 0, 0).unwrap();
    s.write_memory(p, va, b"same").unwrap();
    assert_eq!(s.read_memory(p, vb, 4).unwrap(), b"same", "one object");
}

#[test]
fn f31_success_clears_a_stale_last_error() {
    let (s, p) = one();
    s.set_last_error(p, 1234);
    anon(&s, p, PAGE_READWRITE, 0x1000, Some("fresh")).unwrap();
    assert_eq!(s.get_last_error(p), 0);
}

#[test]
fn s6_5_existing_name_ignores_new_size_and_protection() {
    let (s, p) = one();
    let a = anon(&s, p, PAGE_READWRITE, 0x1000, Some("sized")).unwrap();
    let b = anon(&s, p, PAGE_READONLY, 0x8000, Some("sized")).unwrap();
    assert_eq!(s.nt_query_section(p, b).unwrap().size, 0x1000);
    assert_eq!(s.nt_query_section(p, a).unwrap().size, 0x1000);
}

/// CreateFileMapping on an existing name builds the new section first, then the object
/// manager's insert finds the name (NtCreateSection, then ObInsertObject; KB Q104012): a file
/// section still grows the file to the size asked for, and a pagefile-backed request beyond the
/// commit limit fails with ERROR_COMMITMENT_LIMIT although the name exists.
#[test]
fn existing_name_still_grows_the_file_and_still_charges_commit() {
    let (s, p) = one();
    let f = rw_file(&s, p, "grow.bin", b"abc");
    let a = s
        .create_file_mapping(p, f, false, PAGE_READWRITE, 0, 0x1000, Some("grow"))
        .unwrap();
    assert_eq!(s.get_file_size(p, f).unwrap(), 0x1000);
    let b = s
        .create_file_mapping(p, f, false, PAGE_READWRITE, 0, 0x3000, Some("grow"))
        .unwrap();
    assert_eq!(s.get_last_error(p), ERROR_ALREADY_EXISTS);
    assert_eq!(
        s.get_file_size(p, f).unwrap(),
        0x3000,
        "the new section grew the file before the name was found"
    );
    // The existing object is what was returned: its size is still one page.
    let v = s.map_view_of_file(p, b, FILE_MAP_READ, 0, 0, 0).unwrap();
    assert_eq!(vq(&s, p, v).region_size, 0x1000);
    s.unmap_view_of_file(p, v).unwrap();
    for h in [a, b] {
        s.close_handle(p, h).unwrap();
    }
    // Pagefile-backed: the new section's commit charge is taken (and fails) first.
    anon(&s, p, PAGE_READWRITE, 0x1000, Some("commit")).unwrap();
    let huge = 0xFFFF_0000u32;
    assert_eq!(
        err(&s, p, anon(&s, p, PAGE_READWRITE, huge, Some("commit"))),
        ERROR_COMMITMENT_LIMIT
    );
    // Within the limit, the temporary section's charge is returned when it is deleted.
    let c0 = s.executive().vmm().commit().charged().raw();
    anon(&s, p, PAGE_READWRITE, 0x2000, Some("commit")).unwrap();
    assert_eq!(s.get_last_error(p), ERROR_ALREADY_EXISTS);
    assert_eq!(s.executive().vmm().commit().charged().raw(), c0);
}

#[test]
fn f33_open_missing_name_is_file_not_found() {
    let (s, p) = one();
    assert_eq!(
        err(&s, p, s.open_file_mapping(p, FILE_MAP_READ, false, "nope")),
        ERROR_FILE_NOT_FOUND
    );
}

#[test]
fn f34_nt_create_section_on_existing_name() {
    let (s, p) = one();
    anon(&s, p, PAGE_READWRITE, 0x1000, Some("f34")).unwrap();
    let (h, st) = s
        .nt_create_section(
            p,
            NtCreateSectionArgs {
                name: Some("f34"),
                maximum_size: 0x1000,
                ..section_args(PAGE_READWRITE, SEC_COMMIT)
            },
        )
        .unwrap();
    assert_eq!(st, NtStatus::STATUS_OBJECT_NAME_EXISTS);
    assert!(st.is_success());
    assert_ne!(h, Handle::NULL);
    anon(&s, p, PAGE_READWRITE, 0x1000, Some("f34")).unwrap();
    assert_eq!(s.get_last_error(p), ERROR_ALREADY_EXISTS);
}

#[test]
fn f36_local_prefixed_names_work_and_match_unprefixed() {
    let (s, p) = one();
    anon(&s, p, PAGE_READWRITE, 0x1000, Some("Local\\Foo")).unwrap();
    s.open_file_mapping(p, FILE_MAP_READ, false, "Foo").unwrap();
    s.open_file_mapping(p, FILE_MAP_READ, false, "Local\\Foo")
        .unwrap();
    assert_eq!(
        err(
            &s,
            p,
            s.open_file_mapping(p, FILE_MAP_READ, false, "Global\\Foo")
        ),
        ERROR_FILE_NOT_FOUND
    );
}

#[test]
fn f37_name_length_limits() {
    let (s, p) = one();
    let ok_name = "n".repeat(32766);
    anon(&s, p, PAGE_READWRITE, 0x1000, Some(&ok_name)).unwrap();
    let long = "n".repeat(32767);
    assert_eq!(
        err(&s, p, anon(&s, p, PAGE_READWRITE, 0x1000, Some(&long))),
        ERROR_INVALID_NAME
    );
}

#[test]
fn f38_named_objects_are_shared_across_processes() {
    let (s, parent) = one();
    let child = s.create_process(Some(parent), false).unwrap();
    let h = anon(&s, parent, PAGE_READWRITE, 4096, Some("winetest_virtual.c")).unwrap();
    let pv = s
        .map_view_of_file(parent, h, FILE_MAP_READ | FILE_MAP_WRITE, 0, 0, 0)
        .unwrap();
    s.write_value(parent, pv, 4, 0x1a2b_3c4d).unwrap();
    let ch = anon(&s, child, PAGE_READWRITE, 4096, Some("winetest_virtual.c")).unwrap();
    assert_eq!(s.get_last_error(child), ERROR_ALREADY_EXISTS);
    let cv = s
        .map_view_of_file(child, ch, FILE_MAP_READ, 0, 0, 0)
        .unwrap();
    assert_eq!(s.read_value(child, cv, 4).unwrap(), 0x1a2b_3c4d);
}

#[test]
fn a14_name_vanishes_with_the_last_handle_while_views_remain() {
    let (s, p1) = one();
    let p2 = s.create_process(None, false).unwrap();
    let h1 = anon(&s, p1, PAGE_READWRITE, 0x1000, Some("A14")).unwrap();
    // F48 (corrected): a read-write view needs SECTION_MAP_WRITE; MAP_READ rides along here.
    let h2 = s
        .open_file_mapping(p2, FILE_MAP_READ | FILE_MAP_WRITE, false, "A14")
        .unwrap();
    let v2 = s.map_view_of_file(p2, h2, FILE_MAP_WRITE, 0, 0, 0).unwrap();
    s.write_memory(p2, v2, b"alive").unwrap();
    s.close_handle(p1, h1).unwrap();
    s.close_handle(p2, h2).unwrap();
    assert_eq!(
        err(&s, p1, s.open_file_mapping(p1, FILE_MAP_READ, false, "A14")),
        ERROR_FILE_NOT_FOUND
    );
    assert_eq!(
        s.read_memory(p2, v2, 5).unwrap(),
        b"alive",
        "P2's view still works"
    );
    // §6.5: a new anonymous mapping with the name is a new, zero-filled object.
    let h3 = anon(&s, p1, PAGE_READWRITE, 0x1000, Some("A14")).unwrap();
    assert_eq!(s.get_last_error(p1), ERROR_SUCCESS);
    let v3 = s.map_view_of_file(p1, h3, FILE_MAP_READ, 0, 0, 0).unwrap();
    assert_eq!(s.read_memory(p1, v3, 5).unwrap(), vec![0u8; 5]);
    ok(&s);
}

#[test]
fn s6_5_new_named_mapping_on_the_same_file_is_coherent_with_old_views() {
    let (s, p) = one();
    let f = rw_file(&s, p, "coh.bin", &[0u8; 4096]);
    let h = s
        .create_file_mapping(p, f, false, PAGE_READWRITE, 0, 0, Some("fileName"))
        .unwrap();
    let v = s.map_view_of_file(p, h, FILE_MAP_WRITE, 0, 0, 0).unwrap();
    s.close_handle(p, h).unwrap();
    let h2 = s
        .create_file_mapping(p, f, false, PAGE_READWRITE, 0, 0, Some("fileName"))
        .unwrap();
    assert_eq!(s.get_last_error(p), 0, "a new section object");
    let v2 = s.map_view_of_file(p, h2, FILE_MAP_READ, 0, 0, 0).unwrap();
    s.write_memory(p, v, b"shared frame").unwrap();
    assert_eq!(s.read_memory(p, v2, 12).unwrap(), b"shared frame");
}

#[test]
fn name_held_by_another_type_is_invalid_handle() {
    // Issue 3/6 and ntdll om.c test_name_collisions: a type collision → ERROR_INVALID_HANDLE (F34's test).
    let (s, p) = one();
    s.create_event(p, false, true, false, Some("shared-name"))
        .unwrap();
    assert_eq!(
        err(
            &s,
            p,
            anon(&s, p, PAGE_READWRITE, 0x1000, Some("shared-name"))
        ),
        ERROR_INVALID_HANDLE
    );
    assert_eq!(
        err(
            &s,
            p,
            s.open_file_mapping(p, FILE_MAP_READ, false, "shared-name")
        ),
        ERROR_INVALID_HANDLE
    );
    anon(&s, p, PAGE_READWRITE, 0x1000, Some("a-mapping")).unwrap();
    assert_eq!(
        err(
            &s,
            p,
            s.create_event(p, false, true, false, Some("a-mapping"))
        ),
        ERROR_INVALID_HANDLE
    );
}

#[test]
fn f37_names_are_case_sensitive() {
    let (s, p) = one();
    anon(&s, p, PAGE_READWRITE, 0x1000, Some("CaseName")).unwrap();
    assert_eq!(
        err(
            &s,
            p,
            s.open_file_mapping(p, FILE_MAP_READ, false, "casename")
        ),
        ERROR_FILE_NOT_FOUND
    );
}

#[test]
fn f40_open_grants_exactly_what_is_asked() {
    let (s, p) = one();
    anon(&s, p, PAGE_EXECUTE_READWRITE, 0x1000, Some("f40")).unwrap();
    let r = s.open_file_mapping(p, FILE_MAP_READ, false, "f40").unwrap();
    assert_eq!(s.handle_access(p, r).unwrap(), SECTION_MAP_READ);
    let x = s
        .open_file_mapping(p, FILE_MAP_EXECUTE, false, "f40")
        .unwrap();
    assert_eq!(s.handle_access(p, x).unwrap(), SECTION_MAP_EXECUTE);
}

#[test]
fn f41_query_needs_section_query() {
    let (s, p) = one();
    anon(&s, p, PAGE_READWRITE, 0x1000, Some("f41")).unwrap();
    let r = s.open_file_mapping(p, FILE_MAP_READ, false, "f41").unwrap();
    assert_eq!(
        s.nt_query_section(p, r).unwrap_err(),
        NtStatus::STATUS_ACCESS_DENIED
    );
    let q = s
        .open_file_mapping(p, FILE_MAP_READ | SECTION_QUERY, false, "f41")
        .unwrap();
    let info = s.nt_query_section(p, q).unwrap();
    let v = s.map_view_of_file(p, q, FILE_MAP_READ, 0, 0, 0).unwrap();
    assert_eq!(
        (info.attributes, info.base_address, info.size),
        (SEC_COMMIT, 0, vq(&s, p, v).region_size)
    );
    let w = s
        .open_file_mapping(p, FILE_MAP_WRITE, false, "f41")
        .unwrap();
    assert_eq!(
        s.nt_query_section(p, w).unwrap_err(),
        NtStatus::STATUS_ACCESS_DENIED
    );
}

#[test]
fn f42_read_handle_maps_only_read_views() {
    let (s, p) = one();
    anon(&s, p, PAGE_READWRITE, 0x1000, Some("f42")).unwrap();
    let r = s.open_file_mapping(p, FILE_MAP_READ, false, "f42").unwrap();
    assert_eq!(
        err(&s, p, s.map_view_of_file(p, r, FILE_MAP_WRITE, 0, 0, 0)),
        ERROR_ACCESS_DENIED
    );
    let v = s.map_view_of_file(p, r, FILE_MAP_READ, 0, 0, 0).unwrap();
    let m = vq(&s, p, v);
    assert_eq!(
        (m.protect, m.allocation_protect, m.region_size, m.state),
        (PAGE_READONLY, PAGE_READONLY, 4096, MEM_COMMIT)
    );
}

#[test]
fn f45_create_file_mapping_handle_rights_follow_protection() {
    let (s, p) = one();
    for (prot, rights) in [
        (
            PAGE_READWRITE,
            SECTION_MAP_READ | SECTION_MAP_WRITE | SECTION_QUERY,
        ),
        (
            PAGE_EXECUTE_READWRITE,
            SECTION_MAP_READ | SECTION_MAP_WRITE | SECTION_MAP_EXECUTE | SECTION_QUERY,
        ),
        (PAGE_READONLY, SECTION_MAP_READ | SECTION_QUERY),
        (PAGE_WRITECOPY, SECTION_MAP_READ | SECTION_QUERY),
        (
            PAGE_EXECUTE_READ,
            SECTION_MAP_READ | SECTION_MAP_EXECUTE | SECTION_QUERY,
        ),
        (
            PAGE_EXECUTE_WRITECOPY,
            SECTION_MAP_READ | SECTION_MAP_EXECUTE | SECTION_QUERY,
        ),
    ] {
        let h = anon(&s, p, prot, 0x1000, None).unwrap();
        assert_eq!(s.handle_access(p, h).unwrap(), rights, "{prot:#x}");
    }
}

#[test]
fn f65_bad_handles_at_nt_level() {
    let (s, p) = one();
    let h = anon(&s, p, PAGE_READWRITE, 0x1000, None).unwrap();
    let args = shared(PAGE_READWRITE);
    assert_eq!(
        s.nt_map_view_of_section(p, h, Handle::NULL, args)
            .unwrap_err(),
        NtStatus::STATUS_INVALID_HANDLE
    );
    assert_eq!(
        nt_map(&s, p, Handle(0xBAD0), args).unwrap_err(),
        NtStatus::STATUS_INVALID_HANDLE
    );
    assert_eq!(
        nt_map(&s, p, Handle::INVALID, args).unwrap_err(),
        NtStatus::STATUS_OBJECT_TYPE_MISMATCH
    );
}

#[test]
fn f116_closing_the_file_handle_after_create_is_fine() {
    let (s, p) = one();
    let f = rw_file(&s, p, "f116.bin", &[0u8; 0x2000]);
    let m = s
        .create_file_mapping(p, f, false, PAGE_READWRITE, 0, 0, None)
        .unwrap();
    s.close_handle(p, f).unwrap();
    let v = s.map_view_of_file(p, m, FILE_MAP_WRITE, 0, 0, 0).unwrap();
    s.write_memory(p, v, b"vbox").unwrap();
    s.flush_view_of_file(p, v, 0).unwrap();
    s.unmap_view_of_file(p, v).unwrap();
    assert_eq!(&s.read_disk("f116.bin").unwrap()[..4], b"vbox");
}

#[test]
fn s6_1_close_mapping_handle_with_views_open() {
    let (s, p) = one();
    let h = anon(&s, p, PAGE_READWRITE, 0x1000, None).unwrap();
    let v = s.map_view_of_file(p, h, FILE_MAP_WRITE, 0, 0, 0).unwrap();
    s.close_handle(p, h).unwrap();
    s.write_memory(p, v, b"ok").unwrap();
    s.unmap_view_of_file(p, v).unwrap();
    ok(&s);
}

#[test]
fn handle_values_are_multiples_of_four_and_closed_handles_are_invalid() {
    // Issue 3/6 object manager rules; nt_internals §6.1 handle count.
    let (s, p) = one();
    let hs: Vec<Handle> = (0..5)
        .map(|_| anon(&s, p, PAGE_READWRITE, 0x1000, None).unwrap())
        .collect();
    for h in &hs {
        assert!(h.raw() % 4 == 0 && h.raw() != 0);
    }
    s.close_handle(p, hs[2]).unwrap();
    assert_eq!(err(&s, p, s.close_handle(p, hs[2])), ERROR_INVALID_HANDLE);
    assert_eq!(
        err(&s, p, s.map_view_of_file(p, hs[2], FILE_MAP_READ, 0, 0, 0)),
        ERROR_INVALID_HANDLE
    );
    assert_eq!(
        err(&s, p, s.close_handle(p, Handle(0x1235))),
        ERROR_INVALID_HANDLE
    );
    assert!(
        s.close_handle(p, Handle::INVALID).is_ok(),
        "the current-process pseudo handle"
    );
}

#[test]
fn s6_1_handle_is_valid_only_in_its_own_process() {
    let (s, a) = one();
    let b = s.create_process(None, false).unwrap();
    let h = anon(&s, a, PAGE_READWRITE, 0x1000, None).unwrap();
    assert_eq!(
        err(&s, b, s.map_view_of_file(b, h, FILE_MAP_READ, 0, 0, 0)),
        ERROR_INVALID_HANDLE
    );
    assert_eq!(err(&s, b, s.close_handle(b, h)), ERROR_INVALID_HANDLE);
}

#[test]
fn s6_1_duplicate_handle_to_another_process_same_access() {
    let (s, a) = one();
    let b = s.create_process(None, false).unwrap();
    let h = anon(&s, a, PAGE_READWRITE, 0x1000, None).unwrap();
    let bh = s.open_process(a, b).unwrap();
    let hb = s
        .duplicate_handle(a, Handle::INVALID, h, bh, 0, false, DUPLICATE_SAME_ACCESS)
        .unwrap();
    assert_eq!(
        s.handle_access(b, hb).unwrap(),
        s.handle_access(a, h).unwrap()
    );
    let va = s.map_view_of_file(a, h, FILE_MAP_WRITE, 0, 0, 0).unwrap();
    let vb = s.map_view_of_file(b, hb, FILE_MAP_READ, 0, 0, 0).unwrap();
    s.write_memory(a, va, b"dup").unwrap();
    assert_eq!(s.read_memory(b, vb, 3).unwrap(), b"dup");
    assert_eq!(s.object_counts(a, h).unwrap().0, 2, "two handles");
}

#[test]
fn s6_1_duplicate_with_narrowed_access_enforces_it() {
    let (s, a) = one();
    let h = anon(&s, a, PAGE_READWRITE, 0x1000, None).unwrap();
    let ro = s
        .duplicate_handle(
            a,
            Handle::INVALID,
            h,
            Handle::INVALID,
            FILE_MAP_READ,
            false,
            0,
        )
        .unwrap();
    assert_eq!(s.handle_access(a, ro).unwrap(), SECTION_MAP_READ);
    assert_eq!(
        err(&s, a, s.map_view_of_file(a, ro, FILE_MAP_WRITE, 0, 0, 0)),
        ERROR_ACCESS_DENIED
    );
}

#[test]
fn s6_1_duplicate_close_source() {
    let (s, a) = one();
    let h = anon(&s, a, PAGE_READWRITE, 0x1000, Some("dupname")).unwrap();
    let h2 = s
        .duplicate_handle(
            a,
            Handle::INVALID,
            h,
            Handle::INVALID,
            0,
            false,
            DUPLICATE_SAME_ACCESS | DUPLICATE_CLOSE_SOURCE,
        )
        .unwrap();
    assert_eq!(err(&s, a, s.close_handle(a, h)), ERROR_INVALID_HANDLE);
    s.open_file_mapping(a, FILE_MAP_READ, false, "dupname")
        .unwrap();
    s.close_handle(a, h2).unwrap();
    ok(&s);
}

#[test]
fn inheritable_handles_are_inherited_at_the_same_values() {
    // Issue 3/6: process creation with inheritance; nt_internals §6.1 (handle count +1).
    let (s, a) = one();
    let inh = s
        .create_file_mapping(a, Handle::INVALID, true, PAGE_READWRITE, 0, 0x1000, None)
        .unwrap();
    let not = anon(&s, a, PAGE_READWRITE, 0x1000, None).unwrap();
    let child = s.create_process(Some(a), true).unwrap();
    assert!(s
        .map_view_of_file(child, inh, FILE_MAP_READ, 0, 0, 0)
        .is_ok());
    assert_eq!(
        err(
            &s,
            child,
            s.map_view_of_file(child, not, FILE_MAP_READ, 0, 0, 0)
        ),
        ERROR_INVALID_HANDLE
    );
    let other = s.create_process(Some(a), false).unwrap();
    assert_eq!(
        err(
            &s,
            other,
            s.map_view_of_file(other, inh, FILE_MAP_READ, 0, 0, 0)
        ),
        ERROR_INVALID_HANDLE
    );
    assert_eq!(s.object_counts(a, inh).unwrap().0, 2);
    ok(&s);
}

#[test]
fn a13_s6_4_process_exit_unmaps_views_and_closes_handles() {
    let (s, a) = one();
    let f = rw_file(&s, a, "exit.bin", &[0u8; 4096]);
    let m = s
        .create_file_mapping(a, f, false, PAGE_READWRITE, 0, 0, Some("exitmap"))
        .unwrap();
    let v = s.map_view_of_file(a, m, FILE_MAP_WRITE, 0, 0, 0).unwrap();
    s.write_memory(a, v, b"exit").unwrap();
    s.exit_process(a).unwrap();
    // The exited process's address is no longer a view of anything: its caller is gone.
    assert_eq!(
        s.unmap_view_of_file(a, v),
        Err(Win32Error(ERROR_INVALID_HANDLE))
    );
    let b = s.create_process(None, false).unwrap();
    assert_eq!(
        err(
            &s,
            b,
            s.open_file_mapping(b, FILE_MAP_READ, false, "exitmap")
        ),
        ERROR_FILE_NOT_FOUND
    );
    s.executive().run_writers();
    assert_eq!(
        &s.read_disk("exit.bin").unwrap()[..4],
        b"exit",
        "dirty data survives exit"
    );
    ok(&s);
}

#[test]
fn last_error_is_per_process() {
    // SCENARIO.md: the last-error value is per process; a failure sets it.
    let (s, a) = one();
    let b = s.create_process(None, false).unwrap();
    s.set_last_error(b, 77);
    let _ = s.open_file_mapping(a, FILE_MAP_READ, false, "missing");
    assert_eq!(
        (s.get_last_error(a), s.get_last_error(b)),
        (ERROR_FILE_NOT_FOUND, 77)
    );
}

#[test]
fn events_create_open_and_already_exists() {
    // Named-object rules shared with sections (F31, F33).
    let (s, p) = one();
    s.create_event(p, false, true, false, Some("ev")).unwrap();
    assert_eq!(s.get_last_error(p), 0);
    s.create_event(p, false, true, false, Some("ev")).unwrap();
    assert_eq!(s.get_last_error(p), ERROR_ALREADY_EXISTS);
    let h = s.open_event(p, EVENT_MODIFY_STATE, false, "ev").unwrap();
    assert_eq!(s.handle_access(p, h).unwrap(), EVENT_MODIFY_STATE);
    assert_eq!(
        err(&s, p, s.open_event(p, EVENT_ALL_ACCESS, false, "nope")),
        ERROR_FILE_NOT_FOUND
    );
}

#[test]
fn s6_1_object_pointer_and_handle_counts() {
    let (s, p) = one();
    let h = anon(&s, p, PAGE_READWRITE, 0x1000, Some("counts")).unwrap();
    let h2 = s
        .open_file_mapping(p, FILE_MAP_READ, false, "counts")
        .unwrap();
    assert_eq!(s.object_counts(p, h).unwrap(), (2, 2));
    s.close_handle(p, h2).unwrap();
    assert_eq!(s.object_counts(p, h).unwrap(), (1, 1));
}

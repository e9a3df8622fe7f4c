//! Conformance of the native calls (SCENARIO.md "Native calls (reach)"), each with its success
//! and documented failures — bad handle, missing access right, misaligned or out-of-range
//! argument, NULL — in the native form and, where there is one, the Win32 form, cited to
//! windows_facts.md (F<n>) or nt_internals.md (§<n>). Native calls never change the last error.
#![allow(clippy::tests_outside_test_module)]

mod common;
use common::*;

const LE: u32 = 0x1234_5678;

/// A process whose last error is a marker no call here sets.
fn marked() -> (System, AsId) {
    let (s, p) = one();
    s.set_last_error(p, LE);
    (s, p)
}

fn untouched(s: &System, p: AsId) {
    assert_eq!(
        s.get_last_error(p),
        LE,
        "a native call changed the last error"
    );
}

fn create(s: &System, p: AsId, name: Option<&str>, size: u64) -> Result<Handle, NtStatus> {
    s.nt_create_section_attributes(
        p,
        ObjectAttributes {
            name,
            ..ObjectAttributes::default()
        },
        NtCreateSectionArgs {
            maximum_size: size,
            ..section_args(PAGE_READWRITE, SEC_COMMIT)
        },
    )
    .map(|(h, st)| {
        assert_eq!(st, NtStatus::STATUS_SUCCESS);
        h
    })
}

// ---- NtCreateSection / NtOpenSection (§6.5 named objects, F31–F34, F37) -------------------

#[test]
fn nt_create_section_by_nt_name_is_the_win32_global_object() {
    let (s, p) = marked();
    let h = create(&s, p, Some("\\BaseNamedObjects\\Foo"), 0x1000).unwrap();
    let v = nt_map(&s, p, h, shared(PAGE_READWRITE)).unwrap().0;
    s.write_memory(p, v, b"native").unwrap();
    untouched(&s, p);
    // Win32 calls the same object Global\Foo.
    let w = s
        .open_file_mapping(p, FILE_MAP_READ, false, "Global\\Foo")
        .unwrap();
    let q = s.map_view_of_file(p, w, FILE_MAP_READ, 0, 0, 0).unwrap();
    assert_eq!(s.read_memory(p, q, 6).unwrap(), b"native");
    ok(&s);
}

#[test]
fn nt_create_section_local_nt_name_is_the_session_directory() {
    let (s, p) = marked();
    create(&s, p, Some("\\Sessions\\1\\BaseNamedObjects\\Bar"), 0x1000).unwrap();
    s.open_file_mapping(p, FILE_MAP_READ, false, "Local\\Bar")
        .unwrap();
    s.open_file_mapping(p, FILE_MAP_READ, false, "Bar").unwrap();
    assert_eq!(
        s.open_file_mapping(p, FILE_MAP_READ, false, "Global\\Bar"),
        Err(Win32Error(ERROR_FILE_NOT_FOUND))
    );
}

/// F34's source (ntdll om.c `test_case_sensitive`, Vista and later): a native create without
/// OBJ_OPENIF on a name held by an object of *another* type fails with
/// STATUS_OBJECT_TYPE_MISMATCH, not the collision a same-type name gives; no handle is made.
#[test]
fn nt_create_section_on_another_types_name_is_type_mismatch_f34() {
    let (s, p) = marked();
    s.create_event(p, false, false, false, Some("Global\\Other"))
        .unwrap();
    assert_eq!(
        create(&s, p, Some("\\BaseNamedObjects\\Other"), 0x1000),
        Err(NtStatus::STATUS_OBJECT_TYPE_MISMATCH)
    );
    ok(&s);
}

/// F34: NtCreateSection on an existing name opens it with STATUS_OBJECT_NAME_EXISTS only with
/// OBJ_OPENIF (as kernel32 passes it); without, the name collides.
#[test]
fn nt_create_section_existing_name_collides_without_obj_openif() {
    let (s, p) = marked();
    let name = Some("\\BaseNamedObjects\\Twice");
    let h = create(&s, p, name, 0x1000).unwrap();
    assert_eq!(
        create(&s, p, name, 0x1000),
        Err(NtStatus::STATUS_OBJECT_NAME_COLLISION)
    );
    // NT builds the section before the object manager finds the name (KB Q104012): a
    // zero-size pagefile section fails even though the name exists.
    let r = s.nt_create_section_attributes(
        p,
        ObjectAttributes {
            name,
            open_if: true,
            ..ObjectAttributes::default()
        },
        section_args(PAGE_READWRITE, SEC_COMMIT),
    );
    assert!(r.is_err(), "{r:?}");
    let (h3, st) = s
        .nt_create_section_attributes(
            p,
            ObjectAttributes {
                name,
                open_if: true,
                ..ObjectAttributes::default()
            },
            NtCreateSectionArgs {
                maximum_size: 0x1000,
                ..section_args(PAGE_READWRITE, SEC_COMMIT)
            },
        )
        .unwrap();
    assert_eq!(st, NtStatus::STATUS_OBJECT_NAME_EXISTS);
    assert_eq!(
        s.object_counts(p, h3).unwrap().0,
        2,
        "both handles name one object"
    );
    s.nt_close(p, h).unwrap();
    untouched(&s, p);
    ok(&s);
}

#[test]
fn nt_create_section_bad_names_fail_with_nt_statuses() {
    let (s, p) = marked();
    for (name, status) in [
        ("Foo", NtStatus::STATUS_OBJECT_PATH_SYNTAX_BAD),
        ("\\Nowhere\\Foo", NtStatus::STATUS_OBJECT_PATH_NOT_FOUND),
        (
            "\\Sessions\\7\\BaseNamedObjects\\Foo",
            NtStatus::STATUS_OBJECT_PATH_NOT_FOUND,
        ),
        ("\\BaseNamedObjects\\", NtStatus::STATUS_OBJECT_NAME_INVALID),
        (
            "\\BaseNamedObjects\\a\\b",
            NtStatus::STATUS_OBJECT_PATH_NOT_FOUND,
        ),
    ] {
        assert_eq!(create(&s, p, Some(name), 0x1000), Err(status), "{name}");
    }
    untouched(&s, p);
}

/// F9 (native form): a pagefile-backed section needs a size.
#[test]
fn nt_create_section_pagefile_without_size_fails() {
    let (s, p) = marked();
    let r = create(&s, p, None, 0);
    assert!(r.is_err(), "{r:?}");
    untouched(&s, p);
}

/// F65: a handle that is not a file is refused.
#[test]
fn nt_create_section_bad_file_handle() {
    let (s, p) = marked();
    let r = s.nt_create_section_attributes(
        p,
        ObjectAttributes::default(),
        NtCreateSectionArgs {
            file: Some(Handle(0x4444)),
            ..section_args(PAGE_READWRITE, SEC_COMMIT)
        },
    );
    assert_eq!(r, Err(NtStatus::STATUS_INVALID_HANDLE));
    untouched(&s, p);
}

#[test]
fn nt_open_section_success_missing_and_null_attributes() {
    let (s, p) = marked();
    let name = Some("\\BaseNamedObjects\\Open");
    create(&s, p, name, 0x1000).unwrap();
    let attrs = |n| {
        Some(ObjectAttributes {
            name: n,
            ..ObjectAttributes::default()
        })
    };
    let h = s
        .nt_open_section_attributes(p, SECTION_MAP_READ, attrs(name))
        .unwrap();
    // F40/F41: the handle has what was asked: no SECTION_QUERY.
    assert_eq!(
        s.nt_query_section(p, h),
        Err(NtStatus::STATUS_ACCESS_DENIED)
    );
    assert_eq!(
        s.nt_open_section_attributes(p, SECTION_MAP_READ, attrs(Some("\\BaseNamedObjects\\No"))),
        Err(NtStatus::STATUS_OBJECT_NAME_NOT_FOUND)
    );
    assert_eq!(
        s.nt_open_section_attributes(p, SECTION_MAP_READ, None),
        Err(NtStatus::STATUS_INVALID_PARAMETER)
    );
    assert_eq!(
        s.nt_open_section_attributes(p, SECTION_MAP_READ, attrs(None)),
        Err(NtStatus::STATUS_OBJECT_PATH_SYNTAX_BAD)
    );
    untouched(&s, p);
    // Win32 form: OpenFileMapping on a missing name is ERROR_FILE_NOT_FOUND (F33).
    assert_eq!(
        err(
            &s,
            p,
            s.open_file_mapping(p, FILE_MAP_READ, false, "Global\\No")
        ),
        ERROR_FILE_NOT_FOUND
    );
}

// ---- NtMapViewOfSection / NtUnmapViewOfSection (§G–§H) ------------------------------------

#[test]
fn nt_map_view_into_another_process_f67() {
    let (s, p) = marked();
    let b = s.create_process(None, false).unwrap();
    let hb = s.open_process(p, b).unwrap();
    let h = create(&s, p, None, 0x10000).unwrap();
    let (v, n) = s
        .nt_map_view_of_section(p, h, hb, shared(PAGE_READWRITE))
        .unwrap();
    assert_eq!((v.raw() & 0xFFFF, n), (0, 0x10000), "F2: 64 KiB-aligned");
    s.write_memory(b, v, b"in B").unwrap();
    assert!(s.read_memory(p, v, 4).is_err(), "not mapped in the caller");
    s.nt_unmap_view_of_section(p, hb, v).unwrap();
    assert!(s.read_memory(b, v, 4).is_err());
    untouched(&s, p);
    ok(&s);
}

#[test]
fn nt_map_view_failures_f54_f56_f57_f65() {
    let (s, p) = marked();
    let h = create(&s, p, None, 0x20000).unwrap();
    let map = |a: NtMapViewArgs| nt_map(&s, p, h, a);
    // F54: offset not a multiple of 64 KiB.
    assert_eq!(
        map(NtMapViewArgs {
            offset: 0x1000,
            ..shared(PAGE_READWRITE)
        }),
        Err(NtStatus::STATUS_MAPPED_ALIGNMENT)
    );
    // F56: a base not 64 KiB-aligned.
    assert_eq!(
        map(NtMapViewArgs {
            base: Some(Va::new(0x3000_1000)),
            ..shared(PAGE_READWRITE)
        }),
        Err(NtStatus::STATUS_MAPPED_ALIGNMENT)
    );
    // F57: a base on an existing view.
    let (v, _) = map(shared(PAGE_READWRITE)).unwrap();
    assert_eq!(
        map(NtMapViewArgs {
            base: Some(v),
            ..shared(PAGE_READWRITE)
        }),
        Err(NtStatus::STATUS_CONFLICTING_ADDRESSES)
    );
    // F65: NULL process, bogus section, the process pseudo-handle as section.
    assert_eq!(
        s.nt_map_view_of_section(p, h, Handle::NULL, shared(PAGE_READWRITE)),
        Err(NtStatus::STATUS_INVALID_HANDLE)
    );
    assert_eq!(
        nt_map(&s, p, Handle(0x7770), shared(PAGE_READWRITE)),
        Err(NtStatus::STATUS_INVALID_HANDLE)
    );
    assert_eq!(
        nt_map(&s, p, Handle::INVALID, shared(PAGE_READWRITE)),
        Err(NtStatus::STATUS_OBJECT_TYPE_MISMATCH)
    );
    untouched(&s, p);
}

/// F48: the section handle must hold the rights the view protection needs.
#[test]
fn nt_map_view_needs_the_section_rights_f48() {
    let (s, p) = marked();
    create(&s, p, Some("\\BaseNamedObjects\\Rights"), 0x1000).unwrap();
    let r = s
        .nt_open_section_attributes(
            p,
            SECTION_MAP_READ,
            Some(ObjectAttributes {
                name: Some("\\BaseNamedObjects\\Rights"),
                ..ObjectAttributes::default()
            }),
        )
        .unwrap();
    assert_eq!(
        nt_map(&s, p, r, shared(PAGE_READWRITE)),
        Err(NtStatus::STATUS_ACCESS_DENIED)
    );
    nt_map(&s, p, r, shared(PAGE_READONLY)).unwrap();
    untouched(&s, p);
    // Win32 form: ERROR_ACCESS_DENIED.
    assert_eq!(
        err(&s, p, s.map_view_of_file(p, r, FILE_MAP_WRITE, 0, 0, 0)),
        ERROR_ACCESS_DENIED
    );
}

/// F112 (native form): unmapping what is not a view.
#[test]
fn nt_unmap_view_not_a_view_and_bad_process() {
    let (s, p) = marked();
    let a = s
        .nt_allocate_virtual_memory(p, Handle::INVALID, None, 0x1000, MEM_COMMIT, PAGE_READWRITE)
        .unwrap()
        .0;
    assert_eq!(
        s.nt_unmap_view_of_section(p, Handle::INVALID, a),
        Err(NtStatus::STATUS_NOT_MAPPED_VIEW)
    );
    assert_eq!(
        s.nt_unmap_view_of_section(p, Handle(0x5550), a),
        Err(NtStatus::STATUS_INVALID_HANDLE)
    );
    untouched(&s, p);
    assert_eq!(
        err(&s, p, s.unmap_view_of_file(p, a)),
        ERROR_INVALID_ADDRESS
    );
}

// ---- NtQuerySection / NtExtendSection (F4, F41, F46, F142) ---------------------------------

#[test]
fn nt_query_section_basic_information_f4_f41() {
    let (s, p) = marked();
    let h = create(&s, p, None, 4090).unwrap();
    let sbi = s.nt_query_section(p, h).unwrap();
    // F4: a pagefile section's size is rounded up to pages; attributes SEC_COMMIT.
    assert_eq!(
        (sbi.base_address, sbi.attributes, sbi.size),
        (0, SEC_COMMIT, 4096)
    );
    assert_eq!(
        s.nt_query_section(p, Handle(0x6660)),
        Err(NtStatus::STATUS_INVALID_HANDLE)
    );
    let ro = s
        .nt_duplicate_object(
            p,
            Handle::INVALID,
            h,
            Handle::INVALID,
            SECTION_MAP_READ,
            false,
            0,
        )
        .unwrap();
    assert_eq!(
        s.nt_query_section(p, ro),
        Err(NtStatus::STATUS_ACCESS_DENIED)
    );
    untouched(&s, p);
}

#[test]
fn nt_extend_section_needs_extend_size_and_grows_a_file() {
    let (s, p) = marked();
    let f = rw_file(&s, p, "grow.bin", &[7u8; 0x1000]);
    let (h, _) = s
        .nt_create_section(
            p,
            NtCreateSectionArgs {
                file: Some(f),
                ..section_args(PAGE_READWRITE, SEC_COMMIT)
            },
        )
        .unwrap();
    assert_eq!(s.nt_extend_section(p, h, 0x3000), Ok(0x3000));
    assert_eq!(s.nt_query_section(p, h).unwrap().size, 0x3000);
    assert_eq!(s.get_file_size(p, f), Ok(0x3000));
    let no_extend = s
        .nt_duplicate_object(
            p,
            Handle::INVALID,
            h,
            Handle::INVALID,
            SECTION_QUERY,
            false,
            0,
        )
        .unwrap();
    assert_eq!(
        s.nt_extend_section(p, no_extend, 0x4000),
        Err(NtStatus::STATUS_ACCESS_DENIED)
    );
    assert_eq!(
        s.nt_extend_section(p, Handle(0x6660), 0x4000),
        Err(NtStatus::STATUS_INVALID_HANDLE)
    );
    ok(&s);
}

// ---- Nt{Allocate,Free,Protect,Query}VirtualMemory (§J–§L, F89, F90, F100, F141) -----------

#[test]
fn nt_allocate_and_free_return_the_rounded_range_f141() {
    let (s, p) = marked();
    let (v, n) = s
        .nt_allocate_virtual_memory(
            p,
            Handle::INVALID,
            None,
            0x1801,
            MEM_RESERVE | MEM_COMMIT,
            PAGE_READWRITE,
        )
        .unwrap();
    assert_eq!((v.raw() & 0xFFFF, n), (0, 0x2000));
    assert_eq!(vq(&s, p, v).kind, MEM_PRIVATE);
    assert_eq!(
        s.nt_free_virtual_memory(p, Handle::INVALID, v, 0, MEM_RELEASE),
        Ok((v, 0x2000))
    );
    untouched(&s, p);
}

#[test]
fn nt_allocate_failures() {
    let (s, p) = marked();
    let alloc =
        |size, t, prot| s.nt_allocate_virtual_memory(p, Handle::INVALID, None, size, t, prot);
    // Size 0 and a bad type or protection are parameter errors; F89: no write-copy on
    // private memory.
    assert!(alloc(0, MEM_COMMIT, PAGE_READWRITE).is_err());
    assert!(alloc(0x1000, 0, PAGE_READWRITE).is_err());
    assert!(alloc(0x1000, MEM_COMMIT, PAGE_WRITECOPY).is_err());
    assert_eq!(
        s.nt_allocate_virtual_memory(p, Handle::NULL, None, 0x1000, MEM_COMMIT, PAGE_READWRITE),
        Err(NtStatus::STATUS_INVALID_HANDLE)
    );
    untouched(&s, p);
    assert_eq!(
        err(
            &s,
            p,
            s.virtual_alloc(p, None, 0x1000, MEM_COMMIT, PAGE_WRITECOPY)
        ),
        ERROR_INVALID_PARAMETER
    );
}

/// F100: a view is not released by NtFreeVirtualMemory.
#[test]
fn nt_free_on_a_view_is_unable_to_delete_section_f100() {
    let (s, p) = marked();
    let h = create(&s, p, None, 0x1000).unwrap();
    let (v, _) = nt_map(&s, p, h, shared(PAGE_READWRITE)).unwrap();
    assert_eq!(
        s.nt_free_virtual_memory(p, Handle::INVALID, v, 0, MEM_RELEASE),
        Err(NtStatus::STATUS_UNABLE_TO_DELETE_SECTION)
    );
    untouched(&s, p);
    assert_eq!(
        err(&s, p, s.virtual_free(p, v, 0, MEM_RELEASE)),
        ERROR_INVALID_PARAMETER
    );
}

/// F90: protection 0 is STATUS_INVALID_PAGE_PROTECTION; the range comes back page-rounded.
#[test]
fn nt_protect_returns_old_protection_and_rounded_range_f90() {
    let (s, p) = marked();
    let (v, _) = s
        .nt_allocate_virtual_memory(p, Handle::INVALID, None, 0x3000, MEM_COMMIT, PAGE_READWRITE)
        .unwrap();
    assert_eq!(
        s.nt_protect_virtual_memory_range(p, Handle::INVALID, at(v, 0x1010), 0x10, PAGE_READONLY),
        Ok((PAGE_READWRITE, at(v, 0x1000), 0x1000))
    );
    assert_eq!(vq(&s, p, at(v, 0x1000)).protect, PAGE_READONLY);
    assert_eq!(
        s.nt_protect_virtual_memory_range(p, Handle::INVALID, v, 0x1000, 0),
        Err(NtStatus::STATUS_INVALID_PAGE_PROTECTION)
    );
    assert_eq!(
        s.nt_protect_virtual_memory_range(p, Handle::NULL, v, 0x1000, PAGE_READONLY),
        Err(NtStatus::STATUS_INVALID_HANDLE)
    );
    untouched(&s, p);
}

#[test]
fn nt_query_virtual_memory_free_and_out_of_range() {
    let (s, p) = marked();
    let m = s
        .nt_query_virtual_memory(p, Handle::INVALID, Va::new(0x7000_0000))
        .unwrap();
    assert_eq!(m.state, MEM_FREE);
    assert!(s
        .nt_query_virtual_memory(p, Handle::INVALID, Va::new(u64::MAX - 0xFFF))
        .is_err());
    assert_eq!(
        s.nt_query_virtual_memory(p, Handle::NULL, Va::new(0x7000_0000)),
        Err(NtStatus::STATUS_INVALID_HANDLE)
    );
    untouched(&s, p);
    assert_eq!(
        err(&s, p, s.virtual_query(p, Va::new(u64::MAX - 0xFFF))),
        ERROR_INVALID_PARAMETER
    );
}

// ---- NtFlushVirtualMemory (F129, §5.2) ----------------------------------------------------

#[test]
fn nt_flush_virtual_memory_f129_and_pagefile_views() {
    let (s, p) = marked();
    let f = rw_file(&s, p, "flush.bin", &[0u8; 0x2000]);
    s.set_last_error(p, LE);
    let (h, _) = s
        .nt_create_section(
            p,
            NtCreateSectionArgs {
                file: Some(f),
                ..section_args(PAGE_READWRITE, SEC_COMMIT)
            },
        )
        .unwrap();
    let (v, _) = nt_map(&s, p, h, shared(PAGE_READWRITE)).unwrap();
    s.write_memory(p, at(v, 0x1000), b"flushed").unwrap();
    let (b, n) = s
        .nt_flush_virtual_memory(p, Handle::INVALID, at(v, 0x1004), 1)
        .unwrap();
    assert_eq!((b, n), (at(v, 0x1000), 0x1000), "the range, page-rounded");
    assert_eq!(
        s.read_disk_range("flush.bin", 0x1000, 7).unwrap(),
        b"flushed"
    );
    // §5.2: a pagefile-backed view has no file to flush to.
    let a = create(&s, p, None, 0x1000).unwrap();
    let (w, _) = nt_map(&s, p, a, shared(PAGE_READWRITE)).unwrap();
    assert_eq!(
        s.nt_flush_virtual_memory(p, Handle::INVALID, w, 0),
        Err(NtStatus::STATUS_NOT_MAPPED_DATA)
    );
    assert_eq!(
        s.nt_flush_virtual_memory(p, Handle::NULL, v, 0),
        Err(NtStatus::STATUS_INVALID_HANDLE)
    );
    untouched(&s, p);
    // Win32 form: a pagefile view's flush is a success (§5.2).
    s.flush_view_of_file(p, w, 0).unwrap();
}

// ---- NtClose, NtAreMappedFilesTheSame (F136) ----------------------------------------------

#[test]
fn nt_close_twice_is_invalid_handle() {
    let (s, p) = marked();
    let h = create(&s, p, None, 0x1000).unwrap();
    assert_eq!(s.nt_close(p, h), Ok(()));
    assert_eq!(s.nt_close(p, h), Err(NtStatus::STATUS_INVALID_HANDLE));
    untouched(&s, p);
    assert_eq!(err(&s, p, s.close_handle(p, h)), ERROR_INVALID_HANDLE);
}

#[test]
fn nt_are_mapped_files_the_same_f136() {
    let (s, p) = marked();
    let f = rw_file(&s, p, "same.bin", &[1u8; 0x1000]);
    let m = s
        .create_file_mapping(p, f, false, PAGE_READWRITE, 0, 0x1000, None)
        .unwrap();
    let ptr = s
        .map_view_of_file(p, m, FILE_MAP_READ, 0, 0, 0x1000)
        .unwrap();
    s.set_last_error(p, LE);
    let same = |a: Va, b: Va| s.nt_are_mapped_files_the_same(p, a, b);
    // Same view: success.
    assert_eq!(same(ptr, ptr), NtStatus::STATUS_SUCCESS);
    assert_eq!(same(ptr, at(ptr, 30)), NtStatus::STATUS_SUCCESS);
    // Two data views of one file, through one section or two: not the same.
    let ptr2 = s
        .map_view_of_file(p, m, FILE_MAP_READ, 0, 0, 0x1000)
        .unwrap();
    assert_eq!(same(ptr, ptr2), NtStatus::STATUS_NOT_SAME_DEVICE);
    let f2 = open(&s, p, "same.bin", GENERIC_READ, 7).unwrap();
    let m2 = s
        .create_file_mapping(p, f2, false, PAGE_READONLY, 0, 0x1000, None)
        .unwrap();
    let ptr3 = s
        .map_view_of_file(p, m2, FILE_MAP_READ, 0, 0, 0x1000)
        .unwrap();
    assert_eq!(same(ptr, ptr3), NtStatus::STATUS_NOT_SAME_DEVICE);
    // NULL, a wild pointer, private memory.
    assert_eq!(same(ptr, Va::new(0)), NtStatus::STATUS_INVALID_ADDRESS);
    assert_eq!(
        same(Va::new(0), Va::new(0)),
        NtStatus::STATUS_INVALID_ADDRESS
    );
    assert!(matches!(
        same(ptr, Va::new(0xdead_beef)),
        NtStatus::STATUS_INVALID_ADDRESS | NtStatus::STATUS_CONFLICTING_ADDRESSES
    ));
    let heap = s
        .virtual_alloc(p, None, 0x10000, MEM_COMMIT, PAGE_READWRITE)
        .unwrap();
    s.set_last_error(p, LE);
    assert_eq!(same(ptr, heap), NtStatus::STATUS_CONFLICTING_ADDRESSES);
    untouched(&s, p);
}

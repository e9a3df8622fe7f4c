//! Conformance: system parameters and CreateFileMapping (windows_facts §A–§D). Each test names
//! the fact it checks.
#![allow(clippy::tests_outside_test_module)]

mod common;
use common::*;

#[test]
fn f1_page_size_and_granularity() {
    let s = sys();
    let si = s.get_system_info();
    assert_eq!((si.page_size, si.allocation_granularity), (4096, 65536));
    assert_eq!(
        (
            si.minimum_application_address,
            si.maximum_application_address
        ),
        (0x10000, 0x7FFF_FFFE_FFFF)
    );
}

#[test]
fn f2_system_chosen_views_are_64k_aligned() {
    let (s, p) = one();
    let h = anon(&s, p, PAGE_READWRITE, 0x3000, None).unwrap();
    for _ in 0..4 {
        let v = s.map_view_of_file(p, h, FILE_MAP_WRITE, 0, 0, 0).unwrap();
        assert_eq!(v.raw() % 0x10000, 0);
    }
}

#[test]
fn f2_views_in_another_process_are_64k_aligned() {
    let (s, p) = one();
    let q = s.create_process(None, false).unwrap();
    let h = anon(&s, p, PAGE_READWRITE, 0x1000, None).unwrap();
    let qh = s.open_process(p, q).unwrap();
    let (v, _) = s
        .nt_map_view_of_section(p, h, qh, shared(PAGE_READWRITE))
        .unwrap();
    assert_eq!(v.raw() % 0x10000, 0);
    assert_eq!(
        vq(&s, q, v).kind,
        MEM_MAPPED,
        "F67: mapped into the other process"
    );
}

#[test]
fn f4_anonymous_size_rounds_up_to_a_page() {
    let (s, p) = one();
    let h = anon(&s, p, PAGE_READWRITE, 4090, Some("Local\\Foo")).unwrap();
    let q = s.nt_query_section(p, h).unwrap();
    assert_eq!(
        (q.attributes, q.base_address, q.size),
        (SEC_COMMIT, 0, 4096)
    );
    let v = s.map_view_of_file(p, h, FILE_MAP_WRITE, 0, 0, 0).unwrap();
    assert_eq!(vq(&s, p, v).region_size, 4096);
}

#[test]
fn f5_nt_create_section_rounds_0x3452_to_0x4000() {
    let (s, p) = one();
    let (h, st) = s
        .nt_create_section(
            p,
            NtCreateSectionArgs {
                maximum_size: 0x3452, // F5 (corrected 2026-11-30): 0x3452, not 0x3457
                ..section_args(PAGE_READONLY, SEC_COMMIT)
            },
        )
        .unwrap();
    assert_eq!(st, NtStatus::STATUS_SUCCESS);
    let q = s.nt_query_section(p, h).unwrap();
    assert_eq!((q.size, q.attributes), (0x4000, SEC_COMMIT));
}

#[test]
fn f6_no_sec_flag_means_sec_commit() {
    let (s, p) = one();
    let h = anon(&s, p, PAGE_READWRITE, 0x1000, None).unwrap();
    assert_eq!(s.nt_query_section(p, h).unwrap().attributes, SEC_COMMIT);
}

#[test]
fn f7_null_file_handle_is_pagefile_backed() {
    let (s, p) = one();
    let h = s
        .create_file_mapping(p, Handle::NULL, false, PAGE_READWRITE, 0, 0x10_0000, None)
        .unwrap();
    assert_eq!(s.nt_query_section(p, h).unwrap().attributes, SEC_COMMIT);
}

#[test]
fn f8_commit_limit_on_huge_sec_commit() {
    let (s, p) = one();
    let r = s.nt_create_section(
        p,
        NtCreateSectionArgs {
            maximum_size: 512 << 30,
            ..section_args(PAGE_READWRITE, SEC_COMMIT)
        },
    );
    assert_eq!(r.unwrap_err(), NtStatus::STATUS_COMMITMENT_LIMIT);
    assert_eq!(
        err(
            &s,
            p,
            s.create_file_mapping(
                p,
                Handle::INVALID,
                false,
                PAGE_READWRITE | SEC_COMMIT,
                128,
                0,
                None
            )
        ),
        ERROR_COMMITMENT_LIMIT
    );
}

#[test]
fn f8_reserve_limits() {
    let (s, p) = one();
    let mk = |size: u64, prot| {
        s.nt_create_section(
            p,
            NtCreateSectionArgs {
                maximum_size: size,
                ..section_args(prot, SEC_RESERVE)
            },
        )
    };
    assert_eq!(
        mk(0x800_0000_0000, PAGE_READWRITE).unwrap_err(),
        NtStatus::STATUS_INSUFFICIENT_RESOURCES
    );
    assert_eq!(
        mk(0x8000_0000_0000, PAGE_READWRITE).unwrap_err(),
        NtStatus::STATUS_SECTION_TOO_BIG
    );
    assert_eq!(
        mk(512 << 30, PAGE_NOACCESS).unwrap_err(),
        NtStatus::STATUS_INVALID_PAGE_PROTECTION
    );
    assert!(mk(0x2_0000_0000, PAGE_READWRITE).is_ok());
}

#[test]
fn f9_anonymous_mapping_of_size_zero() {
    let (s, p) = one();
    assert_eq!(
        err(&s, p, anon(&s, p, PAGE_READWRITE, 0, None)),
        ERROR_INVALID_PARAMETER
    );
}

#[test]
fn f10_anonymous_memory_starts_zero_filled() {
    let (s, p) = one();
    let h = anon(&s, p, PAGE_READWRITE, 0x4000, None).unwrap();
    let v = s.map_view_of_file(p, h, FILE_MAP_READ, 0, 0, 0).unwrap();
    assert_eq!(s.read_memory(p, at(v, 0x2FF0), 32).unwrap(), vec![0u8; 32]);
}

#[test]
fn f11_empty_file_size_zero_is_file_invalid() {
    let (s, p) = one();
    let f = rw_file(&s, p, "empty.bin", b"");
    assert_eq!(
        err(
            &s,
            p,
            s.create_file_mapping(p, f, false, PAGE_READWRITE, 0, 0, None)
        ),
        ERROR_FILE_INVALID
    );
    let r = s.nt_create_section(
        p,
        NtCreateSectionArgs {
            file: Some(f),
            ..section_args(PAGE_READWRITE, SEC_COMMIT)
        },
    );
    assert_eq!(r.unwrap_err(), NtStatus::STATUS_MAPPED_FILE_SIZE_ZERO);
}

#[test]
fn f11_sec_image_on_empty_file_fails() {
    let (s, p) = one();
    let f = rw_file(&s, p, "empty.bin", b"");
    assert_eq!(
        err(
            &s,
            p,
            s.create_file_mapping(p, f, false, PAGE_READONLY | SEC_IMAGE, 0, 0, None)
        ),
        ERROR_BAD_EXE_FORMAT
    );
}

#[test]
fn f12_explicit_size_grows_a_writable_file() {
    let (s, p) = one();
    let f = rw_file(&s, p, "grow.bin", b"");
    let m = s
        .create_file_mapping(
            p,
            f,
            false,
            PAGE_READWRITE,
            0,
            0x1000,
            Some("named_file_map"),
        )
        .unwrap();
    assert_eq!(s.get_file_size(p, f).unwrap(), 0x1000);
    s.close_handle(p, m).unwrap();
    s.create_file_mapping(p, f, false, PAGE_READWRITE, 0, 0, None)
        .unwrap();
}

#[test]
fn f13_one_mib_mapping_over_a_4k_file() {
    let (s, p) = one();
    let f = rw_file(&s, p, "f13.bin", &[1u8; 4096]);
    let m = s
        .create_file_mapping(p, f, false, PAGE_READWRITE, 0, 0x10_0000, Some("Foo"))
        .unwrap();
    let q = s.nt_query_section(p, m).unwrap();
    assert_eq!((q.size, q.attributes), (0x10_0000, SEC_FILE));
    let v = s.map_view_of_file(p, m, FILE_MAP_WRITE, 0, 0, 0).unwrap();
    let mbi = vq(&s, p, v);
    assert_eq!(
        (mbi.region_size, mbi.state, mbi.protect, mbi.kind),
        (0x10_0000, MEM_COMMIT, PAGE_READWRITE, MEM_MAPPED)
    );
}

#[test]
fn f17_absurd_sizes_fail() {
    let (s, p) = one();
    let f = rw_file(&s, p, "absurd.bin", b"");
    assert!(s
        .create_file_mapping(p, f, false, PAGE_READWRITE, 0x8000_0000, 0, None)
        .is_err());
    assert!(s
        .create_file_mapping(p, f, false, PAGE_READWRITE, 0x8000_0000, 0x10000, None)
        .is_err());
}

#[test]
fn f19_accepted_protections() {
    let (s, p) = one();
    s.create_volume_file("prot.bin", &[0u8; 4096]).unwrap();
    let f = s
        .create_file(
            p,
            "prot.bin",
            GENERIC_READ | GENERIC_WRITE | GENERIC_EXECUTE,
            7,
            false,
            OPEN_EXISTING,
            0,
        )
        .unwrap();
    for prot in [
        PAGE_READONLY,
        PAGE_READWRITE,
        PAGE_WRITECOPY,
        PAGE_EXECUTE_READ,
        PAGE_EXECUTE_READWRITE,
        PAGE_EXECUTE_WRITECOPY,
    ] {
        assert!(
            s.create_file_mapping(p, f, false, prot | SEC_COMMIT, 0, 4096, None)
                .is_ok(),
            "{prot:#x}"
        );
    }
}

#[test]
fn f19_rejected_protections() {
    let (s, p) = one();
    let f = rw_file(&s, p, "prot.bin", &[0u8; 4096]);
    for prot in [
        0,
        PAGE_NOACCESS,
        PAGE_EXECUTE,
        PAGE_READONLY | PAGE_NOACCESS,
        PAGE_EXECUTE_READ | PAGE_EXECUTE,
    ] {
        assert_eq!(
            err(
                &s,
                p,
                s.create_file_mapping(p, f, false, prot | SEC_COMMIT, 0, 4096, None)
            ),
            ERROR_INVALID_PARAMETER,
            "{prot:#x}"
        );
    }
}

#[test]
fn f20_anonymous_noaccess_and_execute_rejected() {
    let (s, p) = one();
    for prot in [PAGE_NOACCESS, PAGE_EXECUTE] {
        assert_eq!(
            err(&s, p, anon(&s, p, prot, 4096, None)),
            ERROR_INVALID_PARAMETER
        );
    }
}

#[test]
fn f21_invalid_protection_at_nt_level() {
    let (s, p) = one();
    let r = s.nt_create_section(
        p,
        NtCreateSectionArgs {
            maximum_size: 4096,
            ..section_args(0x1234, SEC_COMMIT)
        },
    );
    assert!(matches!(
        r.unwrap_err(),
        NtStatus::STATUS_INVALID_PARAMETER | NtStatus::STATUS_INVALID_PAGE_PROTECTION
    ));
}

#[test]
fn f22_read_only_file_refuses_writable_and_execute_mappings() {
    let (s, p) = one();
    s.create_volume_file("ro.bin", &[0u8; 4096]).unwrap();
    let f = open(&s, p, "ro.bin", GENERIC_READ, 7).unwrap();
    for prot in [
        PAGE_READWRITE,
        PAGE_EXECUTE_READ,
        PAGE_EXECUTE_READWRITE,
        PAGE_EXECUTE_WRITECOPY,
    ] {
        assert_eq!(
            err(&s, p, s.create_file_mapping(p, f, false, prot, 0, 0, None)),
            ERROR_ACCESS_DENIED,
            "{prot:#x}"
        );
    }
    for prot in [PAGE_READONLY, PAGE_WRITECOPY] {
        s.create_file_mapping(p, f, false, prot, 0, 0, None)
            .unwrap();
    }
}

#[test]
fn f23_file_opened_with_no_access() {
    let (s, p) = one();
    s.create_volume_file("none.bin", &[0u8; 4096]).unwrap();
    let f = open(&s, p, "none.bin", 0, 7).unwrap();
    for prot in [PAGE_READWRITE, PAGE_WRITECOPY, PAGE_READONLY] {
        let e = err(&s, p, s.create_file_mapping(p, f, false, prot, 0, 0, None));
        assert!(e == ERROR_ACCESS_DENIED || e == ERROR_INVALID_PARAMETER);
        assert_eq!(
            e, ERROR_ACCESS_DENIED,
            "modern Windows, by analogy with F22"
        );
    }
}

#[test]
fn f24_read_data_only_file_at_nt_level() {
    let (s, p) = one();
    s.create_volume_file("rd.bin", &[0u8; 4096]).unwrap();
    let f = open(&s, p, "rd.bin", FILE_READ_DATA, 7).unwrap();
    let r = s.nt_create_section(
        p,
        NtCreateSectionArgs {
            file: Some(f),
            ..section_args(PAGE_READWRITE, SEC_COMMIT)
        },
    );
    assert_eq!(r.unwrap_err(), NtStatus::STATUS_ACCESS_DENIED);
}

#[test]
fn f25_execute_needs_file_execute_access() {
    let (s, p) = one();
    s.create_volume_file("x.bin", &[0u8; 4096]).unwrap();
    let f = open(&s, p, "x.bin", GENERIC_READ, 7).unwrap();
    assert_eq!(
        err(
            &s,
            p,
            s.create_file_mapping(p, f, false, PAGE_EXECUTE_READ, 0, 0, None)
        ),
        ERROR_ACCESS_DENIED
    );
}

#[test]
fn f26_pagefile_sec_flags_accepted_and_echoed() {
    let (s, p) = one();
    for flags in [
        SEC_RESERVE,
        SEC_RESERVE | SEC_NOCACHE,
        SEC_RESERVE | SEC_WRITECOMBINE,
        SEC_COMMIT,
        SEC_COMMIT | SEC_NOCACHE,
        SEC_COMMIT | SEC_WRITECOMBINE,
    ] {
        let h = anon(&s, p, PAGE_READWRITE | flags, 0x1000, None).unwrap();
        assert_eq!(s.get_last_error(p), 0);
        assert_eq!(s.nt_query_section(p, h).unwrap().attributes, flags);
    }
}

#[test]
fn f26_pagefile_sec_flags_rejected() {
    let (s, p) = one();
    for flags in [
        SEC_RESERVE | SEC_LARGE_PAGES,
        SEC_RESERVE | SEC_COMMIT,
        SEC_IMAGE | SEC_RESERVE,
        SEC_IMAGE | SEC_COMMIT,
        SEC_NOCACHE,
        SEC_LARGE_PAGES,
        SEC_WRITECOMBINE,
        SEC_FILE,
        SEC_FILE | SEC_RESERVE,
        SEC_FILE | SEC_COMMIT,
    ] {
        assert_eq!(
            err(&s, p, anon(&s, p, PAGE_READWRITE | flags, 0x1000, None)),
            ERROR_INVALID_PARAMETER,
            "{flags:#x}"
        );
    }
    assert_eq!(
        err(&s, p, anon(&s, p, PAGE_READWRITE | SEC_IMAGE, 0x1000, None)),
        ERROR_BAD_EXE_FORMAT
    );
}

#[test]
fn f27_file_sec_flags_report_sec_file() {
    let (s, p) = one();
    let f = rw_file(&s, p, "f27.bin", &[0u8; 0x2000]);
    for (flags, want) in [
        (SEC_RESERVE, SEC_FILE),
        (SEC_COMMIT, SEC_FILE),
        (0, SEC_FILE),
        (SEC_COMMIT | SEC_NOCACHE, SEC_FILE | SEC_NOCACHE),
        (SEC_COMMIT | SEC_WRITECOMBINE, SEC_FILE | SEC_WRITECOMBINE),
    ] {
        let h = s
            .create_file_mapping(p, f, false, PAGE_READWRITE | flags, 0, 0, None)
            .unwrap();
        assert_eq!(
            s.nt_query_section(p, h).unwrap().attributes,
            want,
            "{flags:#x}"
        );
    }
    for flags in [
        SEC_COMMIT | SEC_LARGE_PAGES,
        SEC_RESERVE | SEC_COMMIT,
        SEC_FILE,
        SEC_NOCACHE,
        SEC_LARGE_PAGES,
        SEC_WRITECOMBINE,
        SEC_IMAGE | SEC_RESERVE,
        SEC_IMAGE | SEC_COMMIT,
    ] {
        assert_eq!(
            err(
                &s,
                p,
                s.create_file_mapping(p, f, false, PAGE_READWRITE | flags, 0, 0, None)
            ),
            ERROR_INVALID_PARAMETER,
            "{flags:#x}"
        );
    }
    assert_eq!(
        err(
            &s,
            p,
            s.create_file_mapping(p, f, false, PAGE_READONLY | SEC_IMAGE, 0, 0, None)
        ),
        ERROR_BAD_EXE_FORMAT
    );
}

#[test]
fn f29_sec_reserve_file_view_is_committed() {
    let (s, p) = one();
    let f = rw_file(&s, p, "f29.bin", &[0u8; 0x2000]);
    let h = s
        .create_file_mapping(p, f, false, PAGE_READWRITE | SEC_RESERVE, 0, 0, None)
        .unwrap();
    let v = s.map_view_of_file(p, h, FILE_MAP_WRITE, 0, 0, 0).unwrap();
    assert_eq!(
        (vq(&s, p, v).state, vq(&s, p, v).protect),
        (MEM_COMMIT, PAGE_READWRITE)
    );
}

#[test]
fn f30_sec_image_on_a_data_file_is_not_mz() {
    let (s, p) = one();
    let f = rw_file(&s, p, "data.bin", b"not a PE file");
    let r = s.nt_create_section(
        p,
        NtCreateSectionArgs {
            file: Some(f),
            ..section_args(PAGE_READONLY, SEC_IMAGE)
        },
    );
    assert_eq!(r.unwrap_err(), NtStatus::STATUS_INVALID_IMAGE_NOT_MZ);
}

#[test]
fn f142_file_sections_report_sec_file_never_commit() {
    let (s, p) = one();
    let f = rw_file(&s, p, "f142.bin", &[0u8; 0x2000]);
    let h = s
        .create_file_mapping(p, f, false, PAGE_READWRITE | SEC_COMMIT, 0, 0, None)
        .unwrap();
    assert_eq!(s.nt_query_section(p, h).unwrap().attributes & SEC_COMMIT, 0);
}

//! Section creation, query and deletion (nt_internals §1.2–§1.9; facts §B–§D).
#![allow(clippy::tests_outside_test_module)]

mod common;
use common::*;

#[test]
fn test_f4_pagefile_section_size_rounded_up_and_sec_commit() {
    let ex = exec(32);
    let s = anon(&ex, 4090, PAGE_READWRITE, 0).unwrap();
    let q = ex.query_section(s).unwrap();
    assert_eq!(
        (q.attributes, q.base_address, q.size),
        (SEC_COMMIT, 0, 4096)
    );
    let p = ex.create_process();
    let (v, size) = ex
        .map_view(
            p,
            s,
            MapView {
                protection: PAGE_READWRITE,
                ..MapView::default()
            },
        )
        .unwrap();
    assert_eq!(size, 4096);
    assert_eq!(
        query(&ex, p, v).region_size,
        4096,
        "F4: a view of size 0 is 4096 bytes"
    );
}

#[test]
fn test_f5_readonly_pagefile_section_0x3452_rounds_to_0x4000() {
    let ex = exec(32);
    let s = anon(&ex, 0x3452, PAGE_READONLY, SEC_COMMIT).unwrap(); // F5 corrected: 0x3452
    let q = ex.query_section(s).unwrap();
    assert_eq!((q.size, q.attributes), (0x4000, SEC_COMMIT));
}

#[test]
fn test_f6_f26_pagefile_attribute_echo() {
    let ex = exec(32);
    for (attrs, reported) in [
        (0, SEC_COMMIT),
        (SEC_RESERVE, SEC_RESERVE),
        (SEC_RESERVE | SEC_NOCACHE, SEC_RESERVE | SEC_NOCACHE),
        (
            SEC_RESERVE | SEC_WRITECOMBINE,
            SEC_RESERVE | SEC_WRITECOMBINE,
        ),
        (SEC_COMMIT | SEC_NOCACHE, SEC_COMMIT | SEC_NOCACHE),
        (SEC_COMMIT | SEC_WRITECOMBINE, SEC_COMMIT | SEC_WRITECOMBINE),
    ] {
        let s = anon(&ex, 0x1000, PAGE_READWRITE, attrs).unwrap();
        assert_eq!(
            ex.query_section(s).unwrap().attributes,
            reported,
            "{attrs:#x}"
        );
    }
}

#[test]
fn test_f26_invalid_pagefile_attribute_combinations() {
    let ex = exec(32);
    for attrs in [
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
        let st = status(anon(&ex, 0x1000, PAGE_READWRITE, attrs));
        assert_eq!(st, NtStatus::STATUS_INVALID_PARAMETER_6, "{attrs:#x}");
    }
    // SEC_IMAGE alone on the pagefile → ERROR_BAD_EXE_FORMAT at Win32 (F26).
    assert_eq!(
        status(anon(&ex, 0x1000, PAGE_READWRITE, SEC_IMAGE)),
        NtStatus::STATUS_INVALID_FILE_FOR_SECTION
    );
}

#[test]
fn test_f8_pagefile_size_limits() {
    let ex = exec(32);
    assert_eq!(
        status(anon(&ex, 512 << 30, PAGE_READWRITE, SEC_COMMIT)),
        NtStatus::STATUS_COMMITMENT_LIMIT
    );
    assert_eq!(
        status(anon(&ex, 512 << 30, PAGE_NOACCESS, SEC_COMMIT)),
        NtStatus::STATUS_INVALID_PAGE_PROTECTION
    );
    assert_eq!(
        status(anon(&ex, 0x800_0000_0000, PAGE_READWRITE, SEC_RESERVE)),
        NtStatus::STATUS_INSUFFICIENT_RESOURCES
    );
    assert_eq!(
        status(anon(&ex, 0x8000_0000_0000, PAGE_READWRITE, SEC_RESERVE)),
        NtStatus::STATUS_SECTION_TOO_BIG
    );
    let s = anon(&ex, 0x2_0000_0000, PAGE_READWRITE, SEC_RESERVE).unwrap();
    assert_eq!(ex.query_section(s).unwrap().size, 0x2_0000_0000);
    ok(&ex);
}

#[test]
fn test_f9_pagefile_section_of_size_zero_is_invalid_parameter() {
    let ex = exec(32);
    assert_eq!(
        status(anon(&ex, 0, PAGE_READWRITE, 0)),
        NtStatus::STATUS_INVALID_PARAMETER_4
    );
}

#[test]
fn test_f10_pagefile_section_memory_starts_zero_filled() {
    let ex = exec(32);
    let s = anon(&ex, 0x10000, PAGE_READWRITE, 0).unwrap();
    let p = ex.create_process();
    let v = map(&ex, p, s, PAGE_READONLY).unwrap();
    let mut b = [0xFFu8; 64];
    ex.vmm().read(p, at(v, 0x5000), &mut b).unwrap();
    assert_eq!(b, [0u8; 64]);
}

#[test]
fn test_f11_empty_file_with_size_zero_is_mapped_file_size_zero() {
    let ex = exec(32);
    let f = file(&ex, b"");
    assert_eq!(
        status(file_section(&ex, f, FileAccess::ALL, 0, PAGE_READWRITE)),
        NtStatus::STATUS_MAPPED_FILE_SIZE_ZERO
    );
}

#[test]
fn test_f12_writable_section_larger_than_file_grows_it() {
    let ex = exec(32);
    let f = file(&ex, b"");
    let s = file_section(&ex, f, FileAccess::ALL, 0x1000, PAGE_READWRITE).unwrap();
    assert_eq!(ex.file_size(f).unwrap(), 0x1000);
    ex.close_section(s).unwrap();
    file_section(&ex, f, FileAccess::ALL, 0, PAGE_READWRITE).unwrap();
    ok(&ex);
}

#[test]
fn test_f13_file_section_of_one_mib_over_4k_file() {
    let ex = exec(64);
    let f = file(&ex, &[1u8; 4096]);
    let s = file_section(&ex, f, FileAccess::ALL, 0x10_0000, PAGE_READWRITE).unwrap();
    let q = ex.query_section(s).unwrap();
    assert_eq!((q.size, q.attributes), (0x10_0000, SEC_FILE));
    let p = ex.create_process();
    let v = map(&ex, p, s, PAGE_READWRITE).unwrap();
    let m = query(&ex, p, v);
    assert_eq!(
        (m.region_size, m.state, m.protect, m.kind),
        (0x10_0000, MEM_COMMIT, PAGE_READWRITE, MEM_MAPPED)
    );
    assert_eq!(
        ex.vmm().read_u8(p, at(v, 0x8_0000)).unwrap(),
        0,
        "grown bytes are zeros"
    );
}

#[test]
fn test_read_only_section_larger_than_file_is_section_too_big_s1_7() {
    let ex = exec(32);
    let f = file(&ex, &[1u8; 100]);
    for prot in [PAGE_READONLY, PAGE_WRITECOPY, PAGE_EXECUTE_READ] {
        assert_eq!(
            status(file_section(&ex, f, FileAccess::ALL, 0x2000, prot)),
            NtStatus::STATUS_SECTION_TOO_BIG
        );
    }
    assert_eq!(ex.file_size(f).unwrap(), 100, "the file did not grow");
}

#[test]
fn test_file_section_keeps_its_exact_byte_size_s1_7() {
    let ex = exec(32);
    let f = file(&ex, &[7u8; 0x3452]);
    let s = file_section(&ex, f, FileAccess::ALL, 0, PAGE_READWRITE).unwrap();
    assert_eq!(
        ex.query_section(s).unwrap().size,
        0x3452,
        "not page-rounded"
    );
}

#[test]
fn test_f17_absurd_sizes_fail() {
    let ex = exec(32);
    let f = file(&ex, b"");
    assert!(file_section(&ex, f, FileAccess::ALL, 0x8000_0000 << 32, PAGE_READWRITE).is_err());
    assert!(file_section(
        &ex,
        f,
        FileAccess::ALL,
        (0x8000_0000 << 32) | 0x10000,
        PAGE_READWRITE
    )
    .is_err());
    assert_eq!(ex.file_size(f).unwrap(), 0);
}

#[test]
fn test_f19_f20_section_protections() {
    let ex = exec(64);
    let f = file(&ex, &[0u8; 4096]);
    for ok_prot in [
        PAGE_READONLY,
        PAGE_READWRITE,
        PAGE_WRITECOPY,
        PAGE_EXECUTE_READ,
        PAGE_EXECUTE_READWRITE,
        PAGE_EXECUTE_WRITECOPY,
    ] {
        file_section(&ex, f, FileAccess::ALL, 4096, ok_prot).unwrap();
        anon(&ex, 4096, ok_prot, SEC_COMMIT).unwrap();
    }
    for bad in [
        0,
        PAGE_NOACCESS,
        PAGE_EXECUTE,
        PAGE_READONLY | PAGE_NOACCESS,
        PAGE_EXECUTE_READ | PAGE_EXECUTE,
        0x1234,
    ] {
        assert_eq!(
            status(file_section(&ex, f, FileAccess::ALL, 4096, bad)),
            NtStatus::STATUS_INVALID_PAGE_PROTECTION,
            "{bad:#x}"
        );
        assert_eq!(
            status(anon(&ex, 4096, bad, 0)),
            NtStatus::STATUS_INVALID_PAGE_PROTECTION,
            "F21 {bad:#x}"
        );
    }
}

#[test]
fn test_f22_f24_file_access_must_allow_the_protection() {
    let ex = exec(32);
    let f = file(&ex, &[0u8; 4096]);
    for prot in [
        PAGE_READWRITE,
        PAGE_EXECUTE_READ,
        PAGE_EXECUTE_READWRITE,
        PAGE_EXECUTE_WRITECOPY,
    ] {
        assert_eq!(
            status(file_section(&ex, f, FileAccess::READ, 0, prot)),
            NtStatus::STATUS_ACCESS_DENIED,
            "{prot:#x}"
        );
    }
    for prot in [PAGE_READONLY, PAGE_WRITECOPY] {
        file_section(&ex, f, FileAccess::READ, 0, prot).unwrap();
    }
}

#[test]
fn test_f23_file_opened_without_access_maps_nothing() {
    let ex = exec(32);
    let f = file(&ex, &[0u8; 4096]);
    for prot in [PAGE_READWRITE, PAGE_WRITECOPY, PAGE_READONLY] {
        assert_eq!(
            status(file_section(&ex, f, FileAccess::default(), 0, prot)),
            NtStatus::STATUS_ACCESS_DENIED
        );
    }
}

#[test]
fn test_f27_f142_file_attributes_report_sec_file() {
    let ex = exec(32);
    let f = file(&ex, &[0u8; 0x2000]);
    for (attrs, reported) in [
        (SEC_RESERVE, SEC_FILE),
        (SEC_COMMIT, SEC_FILE),
        (0, SEC_FILE),
        (SEC_COMMIT | SEC_NOCACHE, SEC_FILE | SEC_NOCACHE),
        (SEC_COMMIT | SEC_WRITECOMBINE, SEC_FILE | SEC_WRITECOMBINE),
    ] {
        let s = ex
            .create_section(CreateSection {
                file: Some(FileSpec {
                    stream: f,
                    access: FileAccess::ALL,
                }),
                maximum_size: 0,
                protection: PAGE_READWRITE,
                attributes: attrs,
            })
            .unwrap();
        assert_eq!(
            ex.query_section(s).unwrap().attributes,
            reported,
            "{attrs:#x}"
        );
    }
    let img = ex.create_section(CreateSection {
        file: Some(FileSpec {
            stream: f,
            access: FileAccess::ALL,
        }),
        maximum_size: 0,
        protection: PAGE_READONLY,
        attributes: SEC_IMAGE,
    });
    assert_eq!(
        status(img),
        NtStatus::STATUS_INVALID_IMAGE_NOT_MZ,
        "F30: not a PE file"
    );
}

#[test]
fn test_f29_sec_reserve_file_view_is_fully_committed() {
    let ex = exec(32);
    let f = file(&ex, &[0u8; 0x2000]);
    let s = ex
        .create_section(CreateSection {
            file: Some(FileSpec {
                stream: f,
                access: FileAccess::ALL,
            }),
            maximum_size: 0,
            protection: PAGE_READWRITE,
            attributes: SEC_RESERVE,
        })
        .unwrap();
    let p = ex.create_process();
    let v = map(&ex, p, s, PAGE_READWRITE).unwrap();
    let m = query(&ex, p, v);
    assert_eq!(
        (m.state, m.protect, m.region_size),
        (MEM_COMMIT, PAGE_READWRITE, 0x2000)
    );
}

#[test]
fn test_two_sections_on_one_file_share_one_control_area_s1_7() {
    let ex = exec(32);
    let f = file(&ex, &[0u8; 0x2000]);
    let a = file_section(&ex, f, FileAccess::ALL, 0, PAGE_READWRITE).unwrap();
    let b = file_section(&ex, f, FileAccess::ALL, 0x1000, PAGE_READONLY).unwrap();
    let (ca, cb) = (
        ex.section_control_area(a).unwrap(),
        ex.section_control_area(b).unwrap(),
    );
    assert_eq!(ca.id, cb.id);
    assert_eq!((cb.section_references, cb.user_references), (2, 2));
    // Two pagefile sections never share.
    let x = anon(&ex, 0x1000, PAGE_READWRITE, 0).unwrap();
    let y = anon(&ex, 0x1000, PAGE_READWRITE, 0).unwrap();
    assert_ne!(
        ex.section_control_area(x).unwrap().id,
        ex.section_control_area(y).unwrap().id
    );
    ok(&ex);
}

#[test]
fn test_sec_commit_charges_commit_at_creation_s1_9() {
    let ex = exec(32);
    let before = ex.vmm().commit().charged().raw();
    let s = anon(&ex, 0x10000, PAGE_READWRITE, SEC_COMMIT).unwrap();
    assert_eq!(ex.vmm().commit().charged().raw(), before + 16);
    let r = anon(&ex, 0x10000, PAGE_READWRITE, SEC_RESERVE).unwrap();
    assert_eq!(
        ex.vmm().commit().charged().raw(),
        before + 16,
        "SEC_RESERVE charges nothing"
    );
    let f = file(&ex, &[0u8; 0x10000]);
    file_section(&ex, f, FileAccess::ALL, 0, PAGE_READWRITE).unwrap();
    assert_eq!(
        ex.vmm().commit().charged().raw(),
        before + 16,
        "file sections charge nothing"
    );
    ex.close_section(s).unwrap();
    ex.close_section(r).unwrap();
    assert_eq!(
        ex.vmm().commit().charged().raw(),
        before,
        "returned when the segment dies"
    );
}

#[test]
fn test_extend_section_grows_file_section_only_f13() {
    let ex = exec(32);
    let f = file(&ex, &[1u8; 0x1000]);
    let s = file_section(&ex, f, FileAccess::ALL, 0, PAGE_READWRITE).unwrap();
    assert_eq!(
        ex.extend_section(s, 0x800).unwrap(),
        0x1000,
        "never shrinks"
    );
    assert_eq!(ex.extend_section(s, 0x5000).unwrap(), 0x5000);
    assert_eq!(ex.file_size(f).unwrap(), 0x5000);
    let a = anon(&ex, 0x1000, PAGE_READWRITE, 0).unwrap();
    assert_eq!(
        status(ex.extend_section(a, 0x2000)),
        NtStatus::STATUS_SECTION_NOT_EXTENDED
    );
    ok(&ex);
}

#[test]
fn test_f65_unknown_objects_are_invalid_handle() {
    let ex = exec(16);
    let p = ex.create_process();
    let ghost = SectionId::new(999);
    assert_eq!(
        status(ex.query_section(ghost)),
        NtStatus::STATUS_INVALID_HANDLE
    );
    assert_eq!(
        status(ex.close_section(ghost)),
        NtStatus::STATUS_INVALID_HANDLE
    );
    assert_eq!(
        status(map(&ex, p, ghost, PAGE_READWRITE)),
        NtStatus::STATUS_INVALID_HANDLE
    );
    let s = anon(&ex, 4096, PAGE_READWRITE, 0).unwrap();
    assert_eq!(
        status(map(&ex, AsId::new(77), s, PAGE_READWRITE)),
        NtStatus::STATUS_INVALID_HANDLE
    );
    assert_eq!(
        status(ex.read_file(StreamId::new(55), 0, &mut [0u8; 1])),
        NtStatus::STATUS_INVALID_HANDLE
    );
}

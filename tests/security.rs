//! Security: handles are per process, access masks are enforced on every use, processes cannot
//! reach each other's private memory, and the matrix section protection × handle access × view
//! access (F45–F49).
#![allow(clippy::tests_outside_test_module)]

mod common;
use common::*;

const ACCESSES: [u32; 10] = [
    0,
    FILE_MAP_READ,
    FILE_MAP_WRITE,
    FILE_MAP_COPY,
    FILE_MAP_READ | FILE_MAP_WRITE,
    FILE_MAP_READ | FILE_MAP_COPY,
    FILE_MAP_EXECUTE | FILE_MAP_READ,
    FILE_MAP_EXECUTE | FILE_MAP_WRITE,
    FILE_MAP_EXECUTE | FILE_MAP_COPY,
    FILE_MAP_ALL_ACCESS,
];

/// F49: which FILE_MAP_* requests succeed on a CreateFileMapping handle of each protection.
fn expected(section: u32, access: u32) -> bool {
    let write = access & FILE_MAP_WRITE != 0;
    let exec = access & FILE_MAP_EXECUTE != 0;
    match section {
        PAGE_READWRITE => !exec,
        PAGE_READONLY | PAGE_WRITECOPY => !write && !exec,
        PAGE_EXECUTE_READ | PAGE_EXECUTE_WRITECOPY => !write,
        PAGE_EXECUTE_READWRITE => true,
        _ => unreachable!(),
    }
}

fn matrix(section: u32) {
    let (s, p) = one();
    s.create_volume_file("m.bin", &[0u8; 4096]).unwrap();
    let f = s
        .create_file(
            p,
            "m.bin",
            GENERIC_READ | GENERIC_WRITE | GENERIC_EXECUTE,
            7,
            false,
            OPEN_EXISTING,
            0,
        )
        .unwrap();
    for file_backed in [false, true] {
        let h = if file_backed {
            s.create_file_mapping(p, f, false, section, 0, 0, None)
                .unwrap()
        } else {
            anon(&s, p, section, 4096, None).unwrap()
        };
        for access in ACCESSES {
            let r = s.map_view_of_file(p, h, access, 0, 0, 0);
            if expected(section, access) {
                let v = r.unwrap_or_else(|e| panic!("{section:#x} {access:#x}: {e}"));
                // The view protection is F47's, and the access it allows is enforced.
                let prot = vq(&s, p, v).protect;
                let can_write = matches!(
                    prot,
                    PAGE_READWRITE
                        | PAGE_EXECUTE_READWRITE
                        | PAGE_WRITECOPY
                        | PAGE_EXECUTE_WRITECOPY
                );
                assert_eq!(
                    s.write_memory(p, v, b"w").is_ok(),
                    can_write,
                    "{section:#x} {access:#x} {prot:#x}"
                );
                s.unmap_view_of_file(p, v).unwrap();
            } else {
                assert_eq!(
                    err(&s, p, r),
                    ERROR_ACCESS_DENIED,
                    "F49 {section:#x} {access:#x}"
                );
            }
        }
    }
    ok(&s);
}

#[test]
fn f49_matrix_page_readwrite() {
    matrix(PAGE_READWRITE);
}
#[test]
fn f49_matrix_page_readonly() {
    matrix(PAGE_READONLY);
}
#[test]
fn f49_matrix_page_writecopy() {
    matrix(PAGE_WRITECOPY);
}
#[test]
fn f49_matrix_page_execute_read() {
    matrix(PAGE_EXECUTE_READ);
}
#[test]
fn f49_matrix_page_execute_writecopy() {
    matrix(PAGE_EXECUTE_WRITECOPY);
}
#[test]
fn f49_matrix_page_execute_readwrite() {
    matrix(PAGE_EXECUTE_READWRITE);
}

#[test]
fn f48_opened_handles_matrix() {
    // Handles opened with explicit rights: a view is allowed iff the handle holds what the view
    // protection needs (F48), whatever the section allows.
    let (s, p) = one();
    anon(&s, p, PAGE_EXECUTE_READWRITE, 4096, Some("open-matrix")).unwrap();
    let rights = [
        SECTION_MAP_READ,
        SECTION_MAP_WRITE,
        SECTION_MAP_READ | SECTION_MAP_WRITE,
        SECTION_MAP_READ | SECTION_MAP_EXECUTE,
        SECTION_ALL_ACCESS,
    ];
    for r in rights {
        let h = s.open_file_mapping(p, r, false, "open-matrix").unwrap();
        for access in ACCESSES {
            let prot = view_protection(access);
            let need = rights_for_view(prot);
            let got = s.map_view_of_file(p, h, access, 0, 0, 0);
            assert_eq!(
                got.is_ok(),
                r & need == need,
                "rights {r:#x} access {access:#x}"
            );
            if let Ok(v) = got {
                s.unmap_view_of_file(p, v).unwrap();
            } else {
                assert_eq!(s.get_last_error(p), ERROR_ACCESS_DENIED);
            }
        }
    }
}

#[test]
fn s6_1_a_process_cannot_reach_anothers_private_memory() {
    let (s, a) = one();
    let b = s.create_process(None, false).unwrap();
    let pa = s
        .virtual_alloc(a, None, 0x1000, MEM_COMMIT, PAGE_READWRITE)
        .unwrap();
    s.write_memory(a, pa, b"secret").unwrap();
    // The same address in B is not allocated (or is B's own memory): never A's bytes.
    assert_eq!(
        raised(s.read_memory(b, pa, 6)),
        ExceptionKind::AccessViolation
    );
    let pb = s
        .virtual_alloc(b, None, 0x1000, MEM_COMMIT, PAGE_READWRITE)
        .unwrap();
    assert_eq!(pb, pa, "same address, different address space");
    assert_eq!(s.read_memory(b, pb, 6).unwrap(), vec![0u8; 6]);
    assert_eq!(s.read_memory(a, pa, 6).unwrap(), b"secret");
}

#[test]
fn s6_1_handles_of_every_type_are_valid_only_in_their_process() {
    let (s, a) = one();
    let b = s.create_process(None, false).unwrap();
    let f = rw_file(&s, a, "sec.bin", b"x");
    let m = anon(&s, a, PAGE_READWRITE, 0x1000, None).unwrap();
    let e = s.create_event(a, false, true, false, None).unwrap();
    let ph = s.open_process(a, a).unwrap();
    assert_eq!(err(&s, b, s.read_file(b, f, 1)), ERROR_INVALID_HANDLE);
    assert_eq!(
        err(&s, b, s.map_view_of_file(b, m, FILE_MAP_READ, 0, 0, 0)),
        ERROR_INVALID_HANDLE
    );
    for h in [f, m, e, ph] {
        assert_eq!(
            err(
                &s,
                b,
                s.duplicate_handle(
                    b,
                    Handle::INVALID,
                    h,
                    Handle::INVALID,
                    0,
                    false,
                    DUPLICATE_SAME_ACCESS
                )
            ),
            ERROR_INVALID_HANDLE
        );
    }
}

#[test]
fn f45_mapping_rights_cannot_be_widened_by_the_view() {
    let (s, p) = one();
    let h = anon(&s, p, PAGE_READONLY, 0x1000, None).unwrap();
    assert_eq!(
        err(&s, p, s.map_view_of_file(p, h, FILE_MAP_WRITE, 0, 0, 0)),
        ERROR_ACCESS_DENIED
    );
    assert_eq!(
        err(
            &s,
            p,
            s.map_view_of_file(p, h, FILE_MAP_EXECUTE | FILE_MAP_READ, 0, 0, 0)
        ),
        ERROR_ACCESS_DENIED
    );
}

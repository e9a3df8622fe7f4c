//! Conformance: MapViewOfFile, offsets and bases, VirtualQuery, VirtualProtect, commit through
//! views, copy-on-write, coherence, unmap and flush (windows_facts §G–§O, §R, §T).
#![allow(clippy::tests_outside_test_module)]

mod common;
use common::*;

fn rw(s: &System, p: AsId, size: u32) -> Handle {
    anon(s, p, PAGE_READWRITE, size, None).unwrap()
}

macro_rules! f47_rows {
    ($($name:ident: $access:expr => $prot:expr;)*) => {$(
        #[test]
        fn $name() {
            // F47: dwDesiredAccess → view protection (Protect == AllocationProtect).
            let (s, p) = one();
            let h = anon(&s, p, PAGE_EXECUTE_READWRITE, 0x1000, None).unwrap();
            let v = s.map_view_of_file(p, h, $access, 0, 0, 0).unwrap();
            let m = vq(&s, p, v);
            assert_eq!((m.protect, m.allocation_protect), ($prot, $prot));
        }
    )*};
}

f47_rows! {
    f47_access_0_is_noaccess: 0 => PAGE_NOACCESS;
    f47_copy_is_writecopy: FILE_MAP_COPY => PAGE_WRITECOPY;
    f47_write_is_readwrite: FILE_MAP_WRITE => PAGE_READWRITE;
    f47_write_copy_is_readwrite: FILE_MAP_WRITE | FILE_MAP_COPY => PAGE_READWRITE;
    f47_read_write_is_readwrite: FILE_MAP_READ | FILE_MAP_WRITE => PAGE_READWRITE;
    f47_read_is_readonly: FILE_MAP_READ => PAGE_READONLY;
    f47_read_copy_is_readonly: FILE_MAP_READ | FILE_MAP_COPY => PAGE_READONLY;
    f47_section_map_execute_alone_is_noaccess: SECTION_MAP_EXECUTE => PAGE_NOACCESS;
    f47_section_map_execute_copy_is_noaccess: SECTION_MAP_EXECUTE | FILE_MAP_COPY => PAGE_NOACCESS;
    f47_section_map_execute_write_is_readwrite: SECTION_MAP_EXECUTE | FILE_MAP_WRITE => PAGE_READWRITE;
    f47_section_map_execute_read_is_readonly: SECTION_MAP_EXECUTE | FILE_MAP_READ => PAGE_READONLY;
    f47_execute_alone_is_noaccess: FILE_MAP_EXECUTE => PAGE_NOACCESS;
    f47_execute_copy_is_execute_writecopy: FILE_MAP_EXECUTE | FILE_MAP_COPY => PAGE_EXECUTE_WRITECOPY;
    f47_execute_write_is_execute_readwrite: FILE_MAP_EXECUTE | FILE_MAP_WRITE => PAGE_EXECUTE_READWRITE;
    f47_execute_read_is_execute_read: FILE_MAP_EXECUTE | FILE_MAP_READ => PAGE_EXECUTE_READ;
}

#[test]
fn f48_write_only_handle_maps_a_read_write_view_but_not_a_read_view() {
    // F48 (corrected 2026-11-30; kernel32 test_MapViewOfFile): a handle from
    // OpenFileMapping(FILE_MAP_WRITE) maps a FILE_MAP_WRITE view (PAGE_READWRITE), and fails
    // FILE_MAP_READ and access-0 views with ERROR_ACCESS_DENIED.
    let (s, p) = one();
    anon(&s, p, PAGE_READWRITE, 0x1000, Some("f48")).unwrap();
    let w = s
        .open_file_mapping(p, FILE_MAP_WRITE, false, "f48")
        .unwrap();
    let v = s.map_view_of_file(p, w, FILE_MAP_WRITE, 0, 0, 0).unwrap();
    let m = vq(&s, p, v);
    assert_eq!(
        (m.protect, m.allocation_protect),
        (PAGE_READWRITE, PAGE_READWRITE)
    );
    s.write_memory(p, v, b"w").unwrap();
    assert_eq!(
        err(&s, p, s.map_view_of_file(p, w, FILE_MAP_READ, 0, 0, 0)),
        ERROR_ACCESS_DENIED
    );
    assert_eq!(
        err(&s, p, s.map_view_of_file(p, w, 0, 0, 0, 0)),
        ERROR_ACCESS_DENIED,
        "NOACCESS needs MAP_READ"
    );
}

/// F48's full table (NT's `MmMakeSectionAccess`), checked for every subset of the three map
/// rights and every view protection, natively and through MapViewOfFile.
#[test]
fn f48_rights_table_in_full_native_and_win32() {
    let views: [(u32, u32); 8] = [
        (PAGE_NOACCESS, SECTION_MAP_READ),
        (PAGE_READONLY, SECTION_MAP_READ),
        (PAGE_WRITECOPY, SECTION_MAP_READ),
        (PAGE_READWRITE, SECTION_MAP_WRITE),
        (PAGE_EXECUTE, SECTION_MAP_EXECUTE),
        (PAGE_EXECUTE_READ, SECTION_MAP_EXECUTE | SECTION_MAP_READ),
        (
            PAGE_EXECUTE_WRITECOPY,
            SECTION_MAP_EXECUTE | SECTION_MAP_READ,
        ),
        (
            PAGE_EXECUTE_READWRITE,
            SECTION_MAP_EXECUTE | SECTION_MAP_WRITE,
        ),
    ];
    // FILE_MAP_* access → the view protection it asks for (F47).
    let win32: [(u32, u32); 6] = [
        (0, PAGE_NOACCESS),
        (FILE_MAP_READ, PAGE_READONLY),
        (FILE_MAP_COPY, PAGE_WRITECOPY),
        (FILE_MAP_WRITE, PAGE_READWRITE),
        (FILE_MAP_EXECUTE | FILE_MAP_READ, PAGE_EXECUTE_READ),
        (FILE_MAP_EXECUTE | FILE_MAP_WRITE, PAGE_EXECUTE_READWRITE),
    ];
    let (s, p) = one();
    let h = anon(&s, p, PAGE_EXECUTE_READWRITE, 0x1000, None).unwrap();
    let me = Handle::INVALID; // GetCurrentProcess()
    for mask in 0..8u32 {
        let rights = [SECTION_MAP_READ, SECTION_MAP_WRITE, SECTION_MAP_EXECUTE]
            .iter()
            .enumerate()
            .filter(|(i, _)| mask & (1 << i) != 0)
            .fold(0, |a, (_, r)| a | r);
        let d = s.duplicate_handle(p, me, h, me, rights, false, 0).unwrap();
        for (prot, need) in views {
            assert_eq!(rights_for_view(prot), need, "table row {prot:#x}");
            let r = s.nt_map_view_of_section(p, d, me, shared(prot));
            if rights & need == need {
                let (v, _) = r.unwrap_or_else(|e| panic!("{rights:#x} {prot:#x}: {e:?}"));
                s.unmap_view_of_file(p, v).unwrap();
            } else {
                assert_eq!(
                    r,
                    Err(NtStatus::STATUS_ACCESS_DENIED),
                    "{rights:#x} {prot:#x}"
                );
            }
        }
        for (access, prot) in win32 {
            let need = rights_for_view(prot);
            let r = s.map_view_of_file(p, d, access, 0, 0, 0);
            if rights & need == need {
                let v = r.unwrap_or_else(|e| panic!("{rights:#x} {access:#x}: {e:?}"));
                assert_eq!(vq(&s, p, v).allocation_protect, prot);
                s.unmap_view_of_file(p, v).unwrap();
            } else {
                assert_eq!(
                    err(&s, p, r),
                    ERROR_ACCESS_DENIED,
                    "{rights:#x} {access:#x}"
                );
            }
        }
        s.close_handle(p, d).unwrap();
    }
}

#[test]
fn f50_nt_level_protection_beyond_section_is_section_protection() {
    let (s, p) = one();
    let (h, _) = s
        .nt_create_section(
            p,
            NtCreateSectionArgs {
                maximum_size: 0x1000,
                ..section_args(PAGE_READWRITE, SEC_COMMIT)
            },
        )
        .unwrap();
    let args = shared(PAGE_EXECUTE_READWRITE);
    assert_eq!(
        nt_map(&s, p, h, args).unwrap_err(),
        NtStatus::STATUS_SECTION_PROTECTION
    );
}

#[test]
fn f51_invalid_win32_protect_at_nt_level() {
    let (s, p) = one();
    let h = rw(&s, p, 0x1000);
    let args = shared(PAGE_READWRITE | PAGE_READONLY);
    assert_eq!(
        nt_map(&s, p, h, args).unwrap_err(),
        NtStatus::STATUS_INVALID_PAGE_PROTECTION
    );
}

#[test]
fn f52_views_of_one_section_with_different_protections() {
    let (s, p) = one();
    let h = rw(&s, p, 0x1000);
    for (access, prot) in [
        (FILE_MAP_READ, PAGE_READONLY),
        (FILE_MAP_COPY, PAGE_WRITECOPY),
        (FILE_MAP_WRITE, PAGE_READWRITE),
    ] {
        let v = s.map_view_of_file(p, h, access, 0, 0, 0).unwrap();
        assert_eq!(vq(&s, p, v).allocation_protect, prot);
    }
}

#[test]
fn f53_guard_view_at_nt_level() {
    let (s, p) = one();
    let h = rw(&s, p, 0x1000);
    let args = shared(PAGE_GUARD | PAGE_READWRITE);
    let (v, _) = nt_map(&s, p, h, args).unwrap();
    assert_eq!(raised(s.read_memory(p, v, 1)), ExceptionKind::GuardPage);
    assert!(s.read_memory(p, v, 1).is_ok());
}

#[test]
fn f54_a10_offset_must_be_64k_aligned() {
    let (s, p) = one();
    let h = rw(&s, p, 0x40000);
    for off in [4096u32, 8192, 16384, 32768, 69632] {
        assert_eq!(
            err(&s, p, s.map_view_of_file(p, h, FILE_MAP_WRITE, 0, off, 0)),
            ERROR_MAPPED_ALIGNMENT,
            "{off}"
        );
    }
    for off in [0u32, 65536] {
        s.map_view_of_file(p, h, FILE_MAP_WRITE, 0, off, 0).unwrap();
    }
    let args = NtMapViewArgs {
        offset: 1,
        ..shared(PAGE_READWRITE)
    };
    assert_eq!(
        nt_map(&s, p, h, args).unwrap_err(),
        NtStatus::STATUS_MAPPED_ALIGNMENT
    );
}

#[test]
fn f55_offset_applies_and_base_is_exact() {
    let (s, p) = one();
    let h = rw(&s, p, 0x20000);
    let whole = s.map_view_of_file(p, h, FILE_MAP_WRITE, 0, 0, 0).unwrap();
    s.write_memory(p, at(whole, 0x10000), b"offset").unwrap();
    let base = Va::new(0x4008_0000);
    let v = s
        .map_view_of_file_ex(p, h, FILE_MAP_READ, 0, 0x10000, 0, Some(base))
        .unwrap();
    assert_eq!(v, base);
    assert_eq!(s.read_memory(p, v, 6).unwrap(), b"offset");
}

#[test]
fn f56_misaligned_base_is_mapped_alignment() {
    let (s, p) = one();
    let h = rw(&s, p, 0x2000);
    for b in [0x3000_1000u64, 0x0056_7A20] {
        assert_eq!(
            err(
                &s,
                p,
                s.map_view_of_file_ex(p, h, FILE_MAP_WRITE, 0, 0, 0, Some(Va::new(b)))
            ),
            ERROR_MAPPED_ALIGNMENT
        );
    }
}

#[test]
fn f57_overlapping_base_is_invalid_address() {
    let (s, p) = one();
    let h = rw(&s, p, 0x2000);
    let v = s.map_view_of_file(p, h, FILE_MAP_WRITE, 0, 0, 0).unwrap();
    assert_eq!(
        err(
            &s,
            p,
            s.map_view_of_file_ex(p, h, FILE_MAP_WRITE, 0, 0, 0, Some(v))
        ),
        ERROR_INVALID_ADDRESS
    );
    let a = s
        .virtual_alloc(p, None, 0x1000, MEM_RESERVE, PAGE_READWRITE)
        .unwrap();
    assert_eq!(
        err(
            &s,
            p,
            s.map_view_of_file_ex(p, h, FILE_MAP_WRITE, 0, 0, 0, Some(a))
        ),
        ERROR_INVALID_ADDRESS
    );
}

#[test]
fn f58_unusable_bases() {
    let (s, p) = one();
    let h = rw(&s, p, 0x2000);
    let args = |base, view_size| NtMapViewArgs {
        base,
        view_size,
        ..shared(PAGE_READWRITE)
    };
    assert_eq!(
        nt_map(&s, p, h, args(Some(Va::new(0xFFFF_8000_0000_00C8)), 0)).unwrap_err(),
        NtStatus::STATUS_INVALID_PARAMETER_3
    );
    assert_eq!(
        nt_map(&s, p, h, args(None, u64::MAX)).unwrap_err(),
        NtStatus::STATUS_INVALID_PARAMETER_3
    );
}

#[test]
fn f61_size_zero_maps_the_whole_section() {
    let (s, p) = one();
    let h = rw(&s, p, 0x10_0000);
    let v = s.map_view_of_file(p, h, FILE_MAP_WRITE, 0, 0, 0).unwrap();
    assert_eq!(vq(&s, p, v).region_size, 0x10_0000);
}

#[test]
fn f62_commit_size_rules_at_nt_level() {
    let (s, p) = one();
    let h = anon(&s, p, PAGE_READWRITE | SEC_RESERVE, 0x2000, None).unwrap();
    let args = |commit_size, allocation_type| NtMapViewArgs {
        commit_size,
        allocation_type,
        ..shared(PAGE_READWRITE)
    };
    nt_map(&s, p, h, args(500, 0)).unwrap();
    assert_eq!(
        nt_map(&s, p, h, args(0x1000_0000, 0)).unwrap_err(),
        NtStatus::STATUS_INVALID_PARAMETER_5
    );
    assert_eq!(
        nt_map(&s, p, h, args(0, MEM_RESERVE)).unwrap_err(),
        NtStatus::STATUS_INVALID_PARAMETER_9
    );
    assert_eq!(
        nt_map(&s, p, h, args(0, MEM_COMMIT)).unwrap_err(),
        NtStatus::STATUS_INVALID_PARAMETER_9
    );
}

#[test]
fn f63_zero_bits_are_not_modelled() {
    let (s, p) = one();
    let h = rw(&s, p, 0x2000);
    let args = NtMapViewArgs {
        zero_bits: 1,
        ..shared(PAGE_READWRITE)
    };
    assert_eq!(
        nt_map(&s, p, h, args).unwrap_err(),
        NtStatus::STATUS_NOT_SUPPORTED
    );
}

#[test]
fn f64_at_round_to_page_on_64_bit() {
    let (s, p) = one();
    let h = rw(&s, p, 0x2000);
    let args = NtMapViewArgs {
        base: Some(Va::new(0x5000_1000)),
        allocation_type: AT_ROUND_TO_PAGE,
        ..shared(PAGE_READWRITE)
    };
    assert_eq!(
        nt_map(&s, p, h, args).unwrap_err(),
        NtStatus::STATUS_INVALID_PARAMETER_9
    );
}

#[test]
fn f73_virtual_query_on_a_committed_view() {
    let (s, p) = one();
    let h = anon(&s, p, PAGE_EXECUTE_READWRITE, 0x3000, None).unwrap();
    let v = s.map_view_of_file(p, h, FILE_MAP_READ, 0, 0, 0).unwrap();
    let m = vq(&s, p, at(v, 0x1800));
    assert_eq!(
        (m.base_address, m.allocation_base),
        (v.raw() + 0x1000, v.raw())
    );
    assert_eq!(
        (
            m.allocation_protect,
            m.protect,
            m.state,
            m.kind,
            m.region_size
        ),
        (PAGE_READONLY, PAGE_READONLY, MEM_COMMIT, MEM_MAPPED, 0x2000)
    );
}

#[test]
fn f74_reserve_view_before_commit() {
    let (s, p) = one();
    let h = anon(&s, p, PAGE_READWRITE | SEC_RESERVE, 0x10_0000, None).unwrap();
    let v = s.map_view_of_file(p, h, FILE_MAP_WRITE, 0, 0, 0).unwrap();
    let m = vq(&s, p, v);
    assert_eq!(
        (
            m.base_address,
            m.allocation_base,
            m.region_size,
            m.state,
            m.allocation_protect,
            m.protect,
            m.kind
        ),
        (
            v.raw(),
            v.raw(),
            0x10_0000,
            MEM_RESERVE,
            PAGE_READWRITE,
            0,
            MEM_MAPPED
        )
    );
}

#[test]
fn f75_commit_view_query() {
    let (s, p) = one();
    let h = anon(&s, p, PAGE_READWRITE | SEC_COMMIT, 0x10_0000, None).unwrap();
    let v = s.map_view_of_file(p, h, FILE_MAP_WRITE, 0, 0, 0).unwrap();
    let m = vq(&s, p, v);
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
fn f76_nocache_views() {
    let (s, p) = one();
    let h = anon(
        &s,
        p,
        PAGE_READWRITE | SEC_COMMIT | SEC_NOCACHE,
        0x20000,
        None,
    )
    .unwrap();
    let v = s.map_view_of_file(p, h, FILE_MAP_WRITE, 0, 0, 0).unwrap();
    let m = vq(&s, p, v);
    assert_eq!((m.allocation_protect, m.protect), (0x204, 0x204));
    s.virtual_alloc(p, Some(v), 0x1000, MEM_COMMIT, PAGE_READONLY)
        .unwrap();
    assert_eq!(vq(&s, p, v).protect, 0x202);
}

#[test]
fn f78_f114_unmapped_address_is_free_and_reusable() {
    let (s, p) = one();
    let h = rw(&s, p, 0x2000);
    let v = s.map_view_of_file(p, h, FILE_MAP_WRITE, 0, 0, 0).unwrap();
    s.unmap_view_of_file(p, v).unwrap();
    let m = vq(&s, p, v);
    assert_eq!(
        (
            m.base_address,
            m.allocation_base,
            m.allocation_protect,
            m.state,
            m.protect,
            m.kind
        ),
        (v.raw(), 0, 0, MEM_FREE, PAGE_NOACCESS, 0)
    );
    assert_eq!(
        raised(s.read_memory(p, v, 1)),
        ExceptionKind::AccessViolation
    );
    assert_eq!(
        s.map_view_of_file(p, h, FILE_MAP_WRITE, 0, 0, 0).unwrap(),
        v
    );
}

#[test]
fn f80_writecopy_views_are_charged_up_front() {
    let (s, p) = one();
    let h = rw(&s, p, 0x1000);
    let c0 = s.executive().vmm().commit().charged().raw();
    s.map_view_of_file(p, h, FILE_MAP_READ, 0, 0, 0).unwrap();
    assert_eq!(s.executive().vmm().commit().charged().raw(), c0);
    let c = s.map_view_of_file(p, h, FILE_MAP_COPY, 0, 0, 0).unwrap();
    assert_eq!(s.executive().vmm().commit().charged().raw(), c0 + 1);
    s.write_memory(p, c, b"x").unwrap();
    assert_eq!(s.executive().vmm().commit().charged().raw(), c0 + 1);
}

#[test]
fn f82_virtual_protect_ceiling_rule_for_a_read_write_view() {
    let (s, p) = one();
    let h = rw(&s, p, 0x1000);
    let v = s.map_view_of_file(p, h, FILE_MAP_WRITE, 0, 0, 0).unwrap();
    for prot in [PAGE_NOACCESS, PAGE_READONLY, PAGE_WRITECOPY, PAGE_READWRITE] {
        s.virtual_protect(p, v, 0x1000, prot).unwrap();
        assert_eq!(vq(&s, p, v).protect, prot);
    }
    for prot in [
        PAGE_EXECUTE,
        PAGE_EXECUTE_READ,
        PAGE_EXECUTE_READWRITE,
        PAGE_EXECUTE_WRITECOPY,
    ] {
        assert_eq!(
            err(&s, p, s.virtual_protect(p, v, 0x1000, prot)),
            ERROR_INVALID_PARAMETER,
            "{prot:#x}"
        );
    }
}

/// F84 (corrected 2026-11-30; kernel32 test_mapping and test_CreateFileMapping_protection): on a
/// FILE_MAP_READ view of a file mapping of any valid section protection, VirtualProtect accepts
/// PAGE_NOACCESS, PAGE_READONLY and PAGE_WRITECOPY; read-write, every execute protection and
/// OR-ed values fail with ERROR_INVALID_PARAMETER (the ceiling rule F82 against READONLY).
#[test]
fn f84_read_view_accepts_noaccess_readonly_writecopy_for_every_section_protection() {
    let (s, p) = one();
    let f = rwx_file(&s, p, "f84.bin", &[0u8; 4096]);
    for section in [
        PAGE_READONLY,
        PAGE_READWRITE,
        PAGE_WRITECOPY,
        PAGE_EXECUTE_READ,
        PAGE_EXECUTE_READWRITE,
        PAGE_EXECUTE_WRITECOPY,
    ] {
        let h = s
            .create_file_mapping(p, f, false, section, 0, 0, None)
            .unwrap();
        let v = s.map_view_of_file(p, h, FILE_MAP_READ, 0, 0, 0).unwrap();
        for prot in [PAGE_NOACCESS, PAGE_READONLY, PAGE_WRITECOPY] {
            s.virtual_protect(p, v, 0x1000, prot)
                .unwrap_or_else(|e| panic!("section {section:#x}, {prot:#x}: {e:?}"));
            assert_eq!(vq(&s, p, v).protect, prot, "section {section:#x}");
            assert_eq!(vq(&s, p, v).allocation_protect, PAGE_READONLY);
        }
        for prot in [
            PAGE_READWRITE,
            PAGE_EXECUTE,
            PAGE_EXECUTE_READ,
            PAGE_EXECUTE_READWRITE,
            PAGE_EXECUTE_WRITECOPY,
            PAGE_NOACCESS | PAGE_READONLY,
        ] {
            assert_eq!(
                err(&s, p, s.virtual_protect(p, v, 0x1000, prot)),
                ERROR_INVALID_PARAMETER,
                "section {section:#x}, {prot:#x}"
            );
        }
        s.unmap_view_of_file(p, v).unwrap();
        s.close_handle(p, h).unwrap();
    }
}

/// Current Windows fixes PAGE_NOCACHE on private memory at allocation (kernel32
/// test_VirtualAlloc, "PAGE_NOCACHE cannot be set per page in recent Windows"; the old results
/// are its `broken()` cases).
#[test]
fn nocache_private_memory_keeps_its_caching_through_virtual_protect() {
    let (s, p) = one();
    let a = s
        .virtual_alloc(p, None, 0x2000, MEM_COMMIT, PAGE_READWRITE | PAGE_NOCACHE)
        .unwrap();
    let m = vq(&s, p, a);
    assert_eq!(
        (m.allocation_protect, m.protect, m.region_size),
        (
            PAGE_READWRITE | PAGE_NOCACHE,
            PAGE_READWRITE | PAGE_NOCACHE,
            0x2000
        )
    );
    // Asking for plain PAGE_READWRITE keeps NOCACHE and does not split the region.
    assert_eq!(
        s.virtual_protect(p, a, 0x1000, PAGE_READWRITE).unwrap(),
        PAGE_READWRITE | PAGE_NOCACHE
    );
    let m = vq(&s, p, a);
    assert_eq!(
        (
            m.allocation_protect,
            m.protect,
            m.region_size,
            m.state,
            m.kind
        ),
        (
            PAGE_READWRITE | PAGE_NOCACHE,
            PAGE_READWRITE | PAGE_NOCACHE,
            0x2000,
            MEM_COMMIT,
            MEM_PRIVATE
        )
    );
    // PAGE_READONLY gives PAGE_READONLY | PAGE_NOCACHE for that page.
    assert_eq!(
        s.virtual_protect(p, a, 0x1000, PAGE_READONLY).unwrap(),
        PAGE_READWRITE | PAGE_NOCACHE
    );
    let m = vq(&s, p, a);
    assert_eq!(
        (m.protect, m.region_size),
        (PAGE_READONLY | PAGE_NOCACHE, 0x1000)
    );
    s.virtual_free(p, a, 0, MEM_RELEASE).unwrap();
    // Normal memory: adding PAGE_NOCACHE yields the plain protection.
    let b = s
        .virtual_alloc(p, None, 0x2000, MEM_COMMIT, PAGE_READWRITE)
        .unwrap();
    assert_eq!(
        s.virtual_protect(p, b, 0x1000, PAGE_READONLY | PAGE_NOCACHE)
            .unwrap(),
        PAGE_READWRITE
    );
    let m = vq(&s, p, b);
    assert_eq!(
        (m.allocation_protect, m.protect, m.region_size),
        (PAGE_READWRITE, PAGE_READONLY, 0x1000)
    );
}

#[test]
fn f85_execute_read_write_view_accepts_every_single_protection() {
    let (s, p) = one();
    let f = rwx_file(&s, p, "f85.bin", &[0u8; 4096]);
    let h = s
        .create_file_mapping(p, f, false, PAGE_EXECUTE_READWRITE, 0, 0, None)
        .unwrap();
    let v = s
        .map_view_of_file(
            p,
            h,
            FILE_MAP_READ | FILE_MAP_WRITE | FILE_MAP_EXECUTE,
            0,
            0,
            0,
        )
        .unwrap();
    assert_eq!(
        s.virtual_protect(p, v, 0x1000, PAGE_NOACCESS).unwrap(),
        PAGE_EXECUTE_READWRITE
    );
    let m = vq(&s, p, v);
    assert_eq!(
        (m.protect, m.allocation_protect),
        (PAGE_NOACCESS, PAGE_EXECUTE_READWRITE)
    );
    let mut old = PAGE_NOACCESS;
    for prot in [
        PAGE_NOACCESS,
        PAGE_READONLY,
        PAGE_READWRITE,
        PAGE_WRITECOPY,
        PAGE_EXECUTE,
        PAGE_EXECUTE_READ,
        PAGE_EXECUTE_READWRITE,
        PAGE_EXECUTE_WRITECOPY,
    ] {
        assert_eq!(s.virtual_protect(p, v, 0x1000, prot).unwrap(), old);
        s.virtual_protect(p, v, 0x1000, PAGE_NOACCESS).unwrap();
        old = PAGE_NOACCESS;
    }
    assert_eq!(
        err(
            &s,
            p,
            s.virtual_protect(p, v, 0x1000, PAGE_READONLY | PAGE_READWRITE)
        ),
        ERROR_INVALID_PARAMETER
    );
}

#[test]
fn f89_private_memory_refuses_writecopy() {
    let (s, p) = one();
    assert_eq!(
        err(
            &s,
            p,
            s.virtual_alloc(p, None, 0x1000, MEM_COMMIT, PAGE_WRITECOPY)
        ),
        ERROR_INVALID_PARAMETER
    );
    let a = s
        .virtual_alloc(p, None, 0x1000, MEM_COMMIT, PAGE_READWRITE)
        .unwrap();
    assert_eq!(
        err(
            &s,
            p,
            s.virtual_protect(p, a, 0x1000, PAGE_EXECUTE_WRITECOPY)
        ),
        ERROR_INVALID_PARAMETER
    );
    let h = rw(&s, p, 0x1000);
    let v = s.map_view_of_file(p, h, FILE_MAP_WRITE, 0, 0, 0).unwrap();
    s.virtual_protect(p, v, 0x1000, PAGE_WRITECOPY).unwrap();
}

#[test]
fn f90_protection_zero() {
    let (s, p) = one();
    let a = s
        .virtual_alloc(p, None, 0x1000, MEM_COMMIT, PAGE_READWRITE)
        .unwrap();
    assert_eq!(
        s.nt_protect_virtual_memory(p, Handle::INVALID, a, 0x1000, 0)
            .unwrap_err(),
        NtStatus::STATUS_INVALID_PAGE_PROTECTION
    );
}

#[test]
fn f92_noaccess_reserve_view() {
    let (s, p) = one();
    let h = anon(&s, p, PAGE_READWRITE | SEC_RESERVE, 0x1000, None).unwrap();
    let v = s.map_view_of_file(p, h, 0, 0, 0, 0).unwrap();
    for prot in [PAGE_READWRITE, PAGE_READONLY] {
        assert_eq!(
            s.nt_protect_virtual_memory(p, Handle::INVALID, v, 0x1000, prot)
                .unwrap_err(),
            NtStatus::STATUS_SECTION_PROTECTION
        );
    }
    assert_eq!(
        raised(s.read_memory(p, v, 1)),
        ExceptionKind::AccessViolation
    );
}

#[test]
fn f94_commit_through_one_view_shows_in_another() {
    let (s, p) = one();
    let h = anon(&s, p, PAGE_READWRITE | SEC_RESERVE, 0x2000, None).unwrap();
    let args = NtMapViewArgs {
        commit_size: 0x1000,
        ..shared(PAGE_READWRITE)
    };
    let (a, _) = nt_map(&s, p, h, args).unwrap();
    s.write_memory(p, a, b"1").unwrap();
    assert_eq!(
        raised(s.write_memory(p, at(a, 0x1000), b"2")),
        ExceptionKind::AccessViolation
    );
    let b = s.map_view_of_file(p, h, FILE_MAP_WRITE, 0, 0, 0).unwrap();
    s.virtual_alloc(p, Some(at(b, 0x1000)), 0x1000, MEM_COMMIT, PAGE_READONLY)
        .unwrap();
    s.write_value(p, at(a, 0x1000), 4, 0xFEED).unwrap();
    assert_eq!(s.read_value(p, at(b, 0x1000), 4).unwrap(), 0xFEED);
    s.virtual_alloc(p, Some(b), 0x1000, MEM_COMMIT, PAGE_READWRITE)
        .unwrap();
}

#[test]
fn f95_commit_on_committed_view_sets_protection() {
    let (s, p) = one();
    let h = anon(&s, p, PAGE_READWRITE | SEC_COMMIT, 0x20000, None).unwrap();
    let v = s.map_view_of_file(p, h, FILE_MAP_WRITE, 0, 0, 0).unwrap();
    s.virtual_alloc(p, Some(v), 0x10000, MEM_COMMIT, PAGE_READONLY)
        .unwrap();
    let m = vq(&s, p, v);
    assert_eq!((m.protect, m.region_size), (PAGE_READONLY, 0x10000));
}

#[test]
fn f96_commit_on_anonymous_view_follows_ceiling() {
    let (s, p) = one();
    let h = anon(&s, p, PAGE_READWRITE | SEC_RESERVE, 0x2000, None).unwrap();
    let v = s.map_view_of_file(p, h, FILE_MAP_WRITE, 0, 0, 0).unwrap();
    s.virtual_alloc(p, Some(v), 0x1000, MEM_COMMIT, PAGE_WRITECOPY)
        .unwrap();
    assert_eq!(vq(&s, p, v).protect, PAGE_WRITECOPY);
    assert_eq!(
        err(
            &s,
            p,
            s.virtual_alloc(
                p,
                Some(at(v, 0x1000)),
                0x1000,
                MEM_COMMIT,
                PAGE_EXECUTE_READWRITE
            )
        ),
        ERROR_INVALID_PARAMETER
    );
}

#[test]
fn f97_commit_on_file_view_is_access_denied() {
    let (s, p) = one();
    let f = rw_file(&s, p, "f97.bin", &[0u8; 4096]);
    let h = s
        .create_file_mapping(p, f, false, PAGE_READWRITE, 0, 0, None)
        .unwrap();
    let v = s.map_view_of_file(p, h, FILE_MAP_WRITE, 0, 0, 0).unwrap();
    for prot in [PAGE_READONLY, PAGE_READWRITE, PAGE_WRITECOPY] {
        assert_eq!(
            err(&s, p, s.virtual_alloc(p, Some(v), 0x1000, MEM_COMMIT, prot)),
            ERROR_ACCESS_DENIED
        );
    }
}

#[test]
fn f98_mem_reset_on_views() {
    let (s, p) = one();
    for flags in [SEC_RESERVE, SEC_COMMIT] {
        let h = anon(&s, p, PAGE_READWRITE | flags, 0x10000, None).unwrap();
        let v = s.map_view_of_file(p, h, FILE_MAP_WRITE, 0, 0, 0).unwrap();
        assert_eq!(
            s.virtual_alloc(p, Some(v), 0x10000, MEM_RESET, PAGE_READONLY)
                .unwrap(),
            v
        );
    }
}

#[test]
fn f100_virtual_free_on_a_view() {
    let (s, p) = one();
    let h = rw(&s, p, 0x1000);
    let v = s.map_view_of_file(p, h, FILE_MAP_WRITE, 0, 0, 0).unwrap();
    assert_eq!(
        s.nt_free_virtual_memory(p, Handle::INVALID, v, 0, MEM_RELEASE)
            .unwrap_err(),
        NtStatus::STATUS_UNABLE_TO_DELETE_SECTION
    );
    assert_eq!(
        err(&s, p, s.virtual_free(p, v, 0, MEM_RELEASE)),
        ERROR_INVALID_PARAMETER
    );
}

#[test]
fn f101_granule_after_a_view() {
    let (s, p) = one();
    let h = anon(&s, p, PAGE_READWRITE | SEC_RESERVE, 0x2000, None).unwrap();
    let v = s.map_view_of_file(p, h, FILE_MAP_WRITE, 0, 0, 0).unwrap();
    assert_eq!(
        s.nt_allocate_virtual_memory(
            p,
            Handle::INVALID,
            Some(v),
            0x3000,
            MEM_COMMIT,
            PAGE_READWRITE
        )
        .unwrap_err(),
        NtStatus::STATUS_CONFLICTING_ADDRESSES
    );
    assert_eq!(
        s.nt_allocate_virtual_memory(
            p,
            Handle::INVALID,
            Some(at(v, 0x2000)),
            0x1000,
            MEM_RESERVE | MEM_COMMIT,
            PAGE_READWRITE
        )
        .unwrap_err(),
        NtStatus::STATUS_CONFLICTING_ADDRESSES
    );
    assert_eq!(
        s.virtual_alloc(p, Some(at(v, 0x10000)), 0x1000, MEM_RESERVE, PAGE_READWRITE)
            .unwrap(),
        at(v, 0x10000)
    );
}

#[test]
fn f104_f105_copy_on_write_views() {
    let (s, p) = one();
    for prot in [PAGE_READWRITE, PAGE_READONLY, PAGE_WRITECOPY] {
        let h = anon(&s, p, prot, 0x1000, None).unwrap();
        let v = s.map_view_of_file(p, h, FILE_MAP_COPY, 0, 0, 0).unwrap();
        assert_eq!(vq(&s, p, v).protect, PAGE_WRITECOPY, "F104 {prot:#x}");
    }
    let wc = anon(&s, p, PAGE_WRITECOPY, 0x1000, None).unwrap();
    assert_eq!(
        err(&s, p, s.map_view_of_file(p, wc, FILE_MAP_WRITE, 0, 0, 0)),
        ERROR_ACCESS_DENIED,
        "F105"
    );
}

#[test]
fn a7_f104_private_copies_leave_the_file_and_other_views_alone() {
    let (s, p) = one();
    let f = rw_file(&s, p, "cow.bin", b"original");
    let h = s
        .create_file_mapping(p, f, false, PAGE_READWRITE, 0, 0, None)
        .unwrap();
    let c = s.map_view_of_file(p, h, FILE_MAP_COPY, 0, 0, 0).unwrap();
    let r = s.map_view_of_file(p, h, FILE_MAP_READ, 0, 0, 0).unwrap();
    s.write_memory(p, c, b"PRIVATE").unwrap();
    assert_eq!(s.read_memory(p, r, 8).unwrap(), b"original");
    assert_eq!(vq(&s, p, c).protect, PAGE_READWRITE);
    s.unmap_view_of_file(p, c).unwrap();
    s.flush_file_buffers(p, f).unwrap();
    assert_eq!(s.read_disk("cow.bin").unwrap(), b"original");
}

#[test]
fn f106_views_of_one_section_share_pages() {
    let (s, p) = one();
    let q = s.create_process(None, false).unwrap();
    let h = anon(&s, p, PAGE_READWRITE, 0x1000, Some("f106")).unwrap();
    let a = s.map_view_of_file(p, h, FILE_MAP_WRITE, 0, 0, 0).unwrap();
    let b = s.map_view_of_file(p, h, FILE_MAP_READ, 0, 0, 0).unwrap();
    let hq = s
        .open_file_mapping(q, FILE_MAP_READ, false, "f106")
        .unwrap();
    let c = s.map_view_of_file(q, hq, FILE_MAP_READ, 0, 0, 0).unwrap();
    s.write_memory(p, a, b"seen").unwrap();
    assert_eq!(s.read_memory(p, b, 4).unwrap(), b"seen");
    assert_eq!(s.read_memory(q, c, 4).unwrap(), b"seen");
}

#[test]
fn f108_view_writes_appear_in_read_file_at_once() {
    let (s, p) = one();
    let f = rw_file(&s, p, "f108.bin", &[0u8; 4096]);
    let h = s
        .create_file_mapping(p, f, false, PAGE_READWRITE, 0, 0, None)
        .unwrap();
    let v = s.map_view_of_file(p, h, FILE_MAP_WRITE, 0, 0, 0).unwrap();
    s.write_memory(p, at(v, 100), b"no flush needed").unwrap();
    s.set_file_pointer(p, f, 100, None, FILE_BEGIN).unwrap();
    assert_eq!(s.read_file(p, f, 15).unwrap(), b"no flush needed");
    assert_eq!(
        &s.read_disk("f108.bin").unwrap()[100..103],
        [0u8; 3],
        "not yet on disk"
    );
}

#[test]
fn f112_unmap_of_non_views() {
    let (s, p) = one();
    let a = s
        .virtual_alloc(p, None, 0x10000, MEM_COMMIT, PAGE_READWRITE)
        .unwrap();
    for va in [a, at(a, 0x3000), Va::new(0xdead_beef)] {
        assert_eq!(
            err(&s, p, s.unmap_view_of_file(p, va)),
            ERROR_INVALID_ADDRESS
        );
    }
}

#[test]
fn f129_flush_of_a_data_view_writes_the_file() {
    let (s, p) = one();
    let f = rw_file(&s, p, "f129.bin", &[0u8; 0x2000]);
    let h = s
        .create_file_mapping(p, f, false, PAGE_READWRITE, 0, 0, None)
        .unwrap();
    let v = s.map_view_of_file(p, h, FILE_MAP_WRITE, 0, 0, 0).unwrap();
    for round in 0..3u8 {
        s.write_memory(p, at(v, 0x1000), &[round; 16]).unwrap();
        let (base, size) = s
            .nt_flush_virtual_memory(p, Handle::INVALID, v, 0x2000)
            .unwrap();
        assert_eq!((base, size), (v, 0x2000));
        assert_eq!(
            &s.read_disk("f129.bin").unwrap()[0x1000..0x1010],
            &[round; 16]
        );
    }
}

#[test]
fn f130_flush_size_zero_and_non_view_addresses() {
    let (s, p) = one();
    let f = rw_file(&s, p, "f130.bin", &[0u8; 0x3000]);
    let h = s
        .create_file_mapping(p, f, false, PAGE_READWRITE, 0, 0, None)
        .unwrap();
    let v = s.map_view_of_file(p, h, FILE_MAP_WRITE, 0, 0, 0).unwrap();
    s.write_memory(p, at(v, 0x2FFF), b"z").unwrap();
    s.flush_view_of_file(p, at(v, 0x10), 0).unwrap();
    assert_eq!(s.read_disk("f130.bin").unwrap()[0x2FFF], b'z');
    let a = s
        .virtual_alloc(p, None, 0x1000, MEM_COMMIT, PAGE_READWRITE)
        .unwrap();
    assert_eq!(
        err(&s, p, s.flush_view_of_file(p, a, 0)),
        ERROR_INVALID_ADDRESS
    );
    assert_eq!(
        err(&s, p, s.flush_view_of_file(p, Va::new(0x6666_0000), 0)),
        ERROR_INVALID_ADDRESS
    );
}

#[test]
fn s5_2_flush_of_a_pagefile_view_is_success() {
    let (s, p) = one();
    let h = rw(&s, p, 0x1000);
    let v = s.map_view_of_file(p, h, FILE_MAP_WRITE, 0, 0, 0).unwrap();
    assert_eq!(
        s.nt_flush_virtual_memory(p, Handle::INVALID, v, 0)
            .unwrap_err(),
        NtStatus::STATUS_NOT_MAPPED_DATA
    );
    s.flush_view_of_file(p, v, 0).unwrap();
}

#[test]
fn f137_noaccess_and_readonly_views_raise() {
    let (s, p) = one();
    let h = rw(&s, p, 0x1000);
    let n = s.map_view_of_file(p, h, 0, 0, 0, 0).unwrap();
    assert_eq!(
        raised(s.read_memory(p, n, 1)),
        ExceptionKind::AccessViolation
    );
    let r = s.map_view_of_file(p, h, FILE_MAP_READ, 0, 0, 0).unwrap();
    assert_eq!(
        raised(s.write_memory(p, r, b"x")),
        ExceptionKind::AccessViolation
    );
}

#[test]
fn f138_uncommitted_reserve_pages_raise_until_committed() {
    let (s, p) = one();
    let h = anon(&s, p, PAGE_READWRITE | SEC_RESERVE, 0x2000, None).unwrap();
    let a = s.map_view_of_file(p, h, FILE_MAP_WRITE, 0, 0, 0).unwrap();
    let b = s.map_view_of_file(p, h, FILE_MAP_WRITE, 0, 0, 0).unwrap();
    assert_eq!(
        raised(s.read_memory(p, a, 1)),
        ExceptionKind::AccessViolation
    );
    s.virtual_alloc(p, Some(b), 0x1000, MEM_COMMIT, PAGE_READWRITE)
        .unwrap();
    assert_eq!(s.read_memory(p, a, 1).unwrap(), [0]);
}

#[test]
fn f141_private_memory_baseline() {
    let (s, p) = one();
    let a = s
        .virtual_alloc(p, None, 0x3000, MEM_RESERVE, PAGE_READWRITE)
        .unwrap();
    assert_eq!(a.raw() % 0x10000, 0);
    let m = vq(&s, p, a);
    assert_eq!((m.kind, m.state, m.protect), (MEM_PRIVATE, MEM_RESERVE, 0));
    assert_eq!(
        err(&s, p, s.virtual_free(p, a, 0x1000, MEM_RELEASE)),
        ERROR_INVALID_PARAMETER
    );
    s.virtual_free(p, a, 0, MEM_RELEASE).unwrap();
    assert_eq!(vq(&s, p, a).state, MEM_FREE);
}

#[test]
fn s7_4_virtual_query_above_user_space() {
    let (s, p) = one();
    assert_eq!(
        err(&s, p, s.virtual_query(p, Va::new(0xFFFF_8000_0000_0000))),
        ERROR_INVALID_PARAMETER
    );
}

#[test]
fn a11_two_page_view_leaves_the_rest_of_the_granule_free() {
    let (s, p) = one();
    let h = rw(&s, p, 0x20000);
    let base = Va::new(0x60_0000);
    s.map_view_of_file_ex(p, h, FILE_MAP_WRITE, 0, 0, 0x1400, Some(base))
        .unwrap();
    assert_eq!(vq(&s, p, at(base, 0x2000)).state, MEM_FREE);
}

#[test]
fn s3_7_copy_on_write_commit_is_returned_at_unmap() {
    let (s, p) = one();
    let h = rw(&s, p, 0x4000);
    let c0 = s.executive().vmm().commit().charged().raw();
    let c = s.map_view_of_file(p, h, FILE_MAP_COPY, 0, 0, 0).unwrap();
    assert_eq!(s.executive().vmm().commit().charged().raw(), c0 + 4);
    s.unmap_view_of_file(p, c).unwrap();
    assert_eq!(s.executive().vmm().commit().charged().raw(), c0);
}

#[test]
fn f141_views_are_mem_mapped_private_memory_is_mem_private() {
    // F141: the baseline that tells views (MEM_MAPPED) from private memory.
    let (s, p) = one();
    let h = rw(&s, p, 0x1000);
    let v = s.map_view_of_file(p, h, FILE_MAP_READ, 0, 0, 0).unwrap();
    let a = s
        .virtual_alloc(p, None, 0x1000, MEM_COMMIT, PAGE_READWRITE)
        .unwrap();
    assert_eq!(
        (vq(&s, p, v).kind, vq(&s, p, a).kind),
        (MEM_MAPPED, MEM_PRIVATE)
    );
}

/// A read far longer than the memory behind it is performed page by page like any access: it
/// raises at the first inaccessible page (here the end of the view), whatever the length asked
/// for, and the host is never asked for a buffer of that length.
#[test]
fn read_longer_than_the_view_raises_at_its_end() {
    let (s, p) = one();
    let h = rw(&s, p, 0x10000);
    let v = s.map_view_of_file(p, h, FILE_MAP_WRITE, 0, 0, 0).unwrap();
    s.write_memory(p, v, b"head").unwrap();
    for len in [0x10001, 1 << 40, usize::MAX] {
        match s.read_memory(p, v, len) {
            Err(VmmError::Exception(e)) => {
                assert_eq!(
                    (e.kind, e.address),
                    (ExceptionKind::AccessViolation, at(v, 0x10000))
                );
            }
            other => panic!("{len:#x}: {other:?}"),
        }
    }
    assert_eq!(s.read_memory(p, v, 4).unwrap(), b"head");
    ok(&s);
}

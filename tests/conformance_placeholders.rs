//! Conformance: placeholders (facts F68–F72), `MapViewOfFile3` (F140),
//! `MapViewOfFileFromApp` (F139) and the native `…Ex` services.
//!
//! Sources: windows_facts.md (F-numbers) and, where a fact and its source test disagree or the
//! fact says less, the source: Wine `dlls/kernelbase/tests/process.c` `test_VirtualAlloc2`
//! and `test_MapViewOfFile3` ("[Wine test_VirtualAlloc2]", "[Wine test_MapViewOfFile3]");
//! Microsoft's documentation ("[DOC]"); the choices stated in DESIGN.md "Placeholders"
//! ("[ntmm]").
#![allow(clippy::tests_outside_test_module)]

mod common;
use common::*;

const PS: u64 = 0x1000;
/// The size [Wine test_VirtualAlloc2] uses.
const SIZE: u64 = 0x80000;

fn placeholder(s: &System, p: AsId, size: u64) -> Va {
    s.virtual_alloc2(
        p,
        Handle::NULL,
        None,
        size,
        MEM_RESERVE | MEM_RESERVE_PLACEHOLDER,
        PAGE_NOACCESS,
    )
    .unwrap()
}

fn split(s: &System, p: AsId, va: Va, size: u64) -> Result<(), Win32Error> {
    s.virtual_free(p, va, size, MEM_RELEASE | MEM_PRESERVE_PLACEHOLDER)
}

fn replace_view(
    s: &System,
    p: AsId,
    h: Handle,
    base: Va,
    offset: u64,
    size: u64,
) -> Result<Va, Win32Error> {
    s.map_view_of_file3(
        p,
        h,
        Handle::NULL,
        Some(base),
        offset,
        size,
        MEM_REPLACE_PLACEHOLDER,
        PAGE_READWRITE,
    )
}

/// Asserts the F72 placeholder record at `va`: reserved private memory, AllocationProtect
/// `PAGE_NOACCESS`, `size` bytes.
fn is_placeholder(s: &System, p: AsId, va: Va, size: u64) {
    let m = vq(s, p, va);
    assert_eq!(
        (
            m.allocation_protect,
            m.state,
            m.kind,
            m.region_size,
            m.protect
        ),
        (PAGE_NOACCESS, MEM_RESERVE, MEM_PRIVATE, size, 0),
        "placeholder at {va}"
    );
    assert_eq!(m.allocation_base, va.raw());
}

#[test]
fn f72_a_placeholder_is_reserved_private_noaccess_memory() {
    // [Wine test_VirtualAlloc2]: VirtualQuery of a fresh 2*size placeholder.
    let (s, a) = one();
    let p = placeholder(&s, a, 2 * SIZE);
    assert_eq!(p.raw() % 0x10000, 0, "a new placeholder is 64 KiB-aligned");
    is_placeholder(&s, a, p, 2 * SIZE);
    // Nothing can be committed in it (it must be replaced first) and it cannot be touched.
    assert_eq!(
        err(
            &s,
            a,
            s.virtual_alloc(a, Some(p), PS, MEM_COMMIT, PAGE_READWRITE)
        ),
        ERROR_INVALID_ADDRESS
    );
    assert_eq!(
        raised(s.read_memory(a, p, 1)),
        ExceptionKind::AccessViolation
    );
    // It takes no commit.
    assert_eq!(s.virtual_query(a, p).unwrap().state, MEM_RESERVE);
    s.virtual_free(a, p, 0, MEM_RELEASE).unwrap();
    assert_eq!(vq(&s, a, p).state, MEM_FREE);
    ok(&s);
}

#[test]
fn f72_a_placeholder_needs_mem_reserve_and_page_noaccess() {
    // [DOC] VirtualAlloc2: MEM_RESERVE_PLACEHOLDER with MEM_RESERVE, PageProtection
    // PAGE_NOACCESS.
    let (s, a) = one();
    for (t, prot) in [
        (MEM_RESERVE_PLACEHOLDER, PAGE_NOACCESS),
        (
            MEM_RESERVE | MEM_COMMIT | MEM_RESERVE_PLACEHOLDER,
            PAGE_NOACCESS,
        ),
        (MEM_RESERVE | MEM_RESERVE_PLACEHOLDER, PAGE_READWRITE),
    ] {
        let r = s.virtual_alloc2(a, Handle::NULL, None, SIZE, t, prot);
        assert_eq!(err(&s, a, r), ERROR_INVALID_PARAMETER, "{t:#x} {prot:#x}");
    }
    ok(&s);
}

#[test]
fn f68_splitting_a_placeholder_makes_placeholders_at_page_granularity() {
    // [Wine test_VirtualAlloc2]: split in two (by the first half, by the lower part, by the
    // second half) and in three; each piece queries as a placeholder of its own size, and
    // each is released on its own.
    let (s, a) = one();
    let p = placeholder(&s, a, 2 * SIZE);
    split(&s, a, p, SIZE).unwrap();
    is_placeholder(&s, a, p, SIZE);
    is_placeholder(&s, a, at(p, SIZE), SIZE);
    s.virtual_free(a, p, 0, MEM_RELEASE).unwrap();
    s.virtual_free(a, at(p, SIZE), 0, MEM_RELEASE).unwrap();

    // Three regions, the middle one starting inside a 64 KiB block after a page split.
    let p = placeholder(&s, a, 2 * SIZE);
    let (p1, p2) = (at(p, SIZE / 2), at(p, SIZE / 2 + SIZE / 4));
    split(&s, a, p1, SIZE / 4).unwrap();
    is_placeholder(&s, a, p, SIZE / 2);
    is_placeholder(&s, a, p1, SIZE / 4);
    is_placeholder(&s, a, p2, 2 * SIZE - SIZE / 2 - SIZE / 4);
    let q = at(p1, PS);
    split(&s, a, q, PS).unwrap();
    is_placeholder(&s, a, p1, PS);
    is_placeholder(&s, a, q, PS);
    is_placeholder(&s, a, at(q, PS), SIZE / 4 - 2 * PS);
    ok(&s);
    for v in [p, p1, q, at(q, PS), p2] {
        s.virtual_free(a, v, 0, MEM_RELEASE).unwrap();
    }
    assert_eq!(vq(&s, a, p).state, MEM_FREE);

    // The lower part; size 0 is refused.
    let p = placeholder(&s, a, 2 * SIZE);
    assert_eq!(err(&s, a, split(&s, a, p, 0)), ERROR_INVALID_PARAMETER);
    split(&s, a, p, SIZE / 2).unwrap();
    is_placeholder(&s, a, p, SIZE / 2);
    is_placeholder(&s, a, at(p, SIZE / 2), 2 * SIZE - SIZE / 2);
    // The second half.
    let r = at(p, SIZE / 2);
    split(&s, a, at(r, SIZE), SIZE / 2).unwrap();
    is_placeholder(&s, a, r, SIZE);
    is_placeholder(&s, a, at(r, SIZE), SIZE / 2);
    ok(&s);
}

#[test]
fn f72_source_split_refuses_the_whole_placeholder_and_ordinary_reservations() {
    // [Wine test_VirtualAlloc2]: MEM_PRESERVE_PLACEHOLDER on a reservation made without
    // MEM_RESERVE_PLACEHOLDER, and over the whole of a placeholder (after a view went back to
    // it), fails with ERROR_INVALID_ADDRESS, through VirtualFree and VirtualFreeEx alike.
    let (s, a) = one();
    let r = s
        .virtual_alloc2(a, Handle::NULL, None, 2 * SIZE, MEM_RESERVE, PAGE_NOACCESS)
        .unwrap();
    assert_eq!(err(&s, a, split(&s, a, r, SIZE)), ERROR_INVALID_ADDRESS);
    s.virtual_free(a, r, 0, MEM_RELEASE).unwrap();
    let p = placeholder(&s, a, SIZE);
    assert_eq!(err(&s, a, split(&s, a, p, SIZE)), ERROR_INVALID_ADDRESS);
    let me = s.get_current_process();
    assert_eq!(
        err(
            &s,
            a,
            s.virtual_free_ex(a, me, p, SIZE, MEM_RELEASE | MEM_PRESERVE_PLACEHOLDER)
        ),
        ERROR_INVALID_ADDRESS
    );
    // Past its end.
    assert_eq!(err(&s, a, split(&s, a, p, 2 * SIZE)), ERROR_INVALID_ADDRESS);
    is_placeholder(&s, a, p, SIZE);
    ok(&s);
}

#[test]
fn f70_a_view_replaces_a_placeholder_at_exactly_its_address() {
    // [Wine test_VirtualAlloc2]: two views of one section in the two halves of a split
    // placeholder; each is at its placeholder's address and queries as F70 says.
    let (s, a) = one();
    let p = placeholder(&s, a, 2 * SIZE);
    split(&s, a, p, SIZE).unwrap();
    let sec = anon(&s, a, PAGE_READWRITE, SIZE as u32, None).unwrap();
    let v1 = replace_view(&s, a, sec, p, 0, SIZE).unwrap();
    let v2 = replace_view(&s, a, sec, at(p, SIZE), 0, SIZE).unwrap();
    assert_eq!((v1, v2), (p, at(p, SIZE)));
    for v in [v1, v2] {
        let m = vq(&s, a, v);
        assert_eq!(
            (m.allocation_protect, m.state, m.kind, m.region_size),
            (PAGE_READWRITE, MEM_COMMIT, MEM_MAPPED, SIZE)
        );
    }
    ok(&s);
}

#[test]
fn f70_a_ring_buffer_one_section_mapped_twice_back_to_back() {
    // The idiom placeholders exist for: a write that runs off the end of the first view
    // lands at the start of the section, seen through the second view (F108: views of one
    // section share its pages).
    let (s, a) = one();
    let n = 0x10000;
    let p = placeholder(&s, a, 2 * n);
    split(&s, a, p, n).unwrap();
    let sec = anon(&s, a, PAGE_READWRITE, n as u32, None).unwrap();
    let v1 = replace_view(&s, a, sec, p, 0, n).unwrap();
    let v2 = replace_view(&s, a, sec, at(p, n), 0, n).unwrap();
    s.write_memory(a, at(v1, n - 3), b"wrap-around").unwrap();
    assert_eq!(s.read_memory(a, v1, 8).unwrap(), b"p-around");
    assert_eq!(s.read_memory(a, at(v1, n - 3), 11).unwrap(), b"wrap-around");
    assert_eq!(s.read_memory(a, at(v2, n - 3), 3).unwrap(), b"wra");
    ok(&s);
}

#[test]
fn f68_a_placeholder_relaxes_alignment_to_pages() {
    // [Wine test_MapViewOfFile3], step by step.
    let (s, a) = one();
    let size = 0x10_0000;
    let sec = anon(&s, a, PAGE_READWRITE, size as u32, None).unwrap();
    let me = s.get_current_process();
    let alloc = s
        .virtual_alloc2(
            a,
            me,
            None,
            size,
            MEM_RESERVE | MEM_RESERVE_PLACEHOLDER,
            PAGE_NOACCESS,
        )
        .unwrap();
    let start = at(alloc, PS);
    let end = at(start, PS);
    split(&s, a, start, PS).unwrap();
    let map3 = |base: Va, offset: u64, size: u64, t: u32| {
        s.map_view_of_file3(a, sec, me, Some(base), offset, size, t, PAGE_READWRITE)
    };
    let v = map3(start, PS, PS, MEM_REPLACE_PLACEHOLDER).unwrap();
    assert_eq!(v, start);
    s.unmap_view_of_file(a, v).unwrap();
    // A plain unmap leaves free pages between the placeholders.
    assert_eq!(vq(&s, a, start).state, MEM_FREE);
    assert_eq!(
        err(
            &s,
            a,
            map3(Va::new(start.raw() - 1), PS, PS, MEM_REPLACE_PLACEHOLDER)
        ),
        ERROR_MAPPED_ALIGNMENT,
        "base not page-aligned"
    );
    assert_eq!(
        err(&s, a, map3(start, PS - 1, PS, MEM_REPLACE_PLACEHOLDER)),
        ERROR_MAPPED_ALIGNMENT,
        "offset not page-aligned"
    );
    s.virtual_free(a, alloc, 0, MEM_RELEASE).unwrap();
    s.virtual_free(a, end, 0, MEM_RELEASE).unwrap();
    // Without a placeholder the 64 KiB rules stand (F54, F56).
    assert_eq!(err(&s, a, map3(end, PS, 0, 0)), ERROR_MAPPED_ALIGNMENT);
    let aligned = Va::new((alloc.raw() + 0x10000) & !0xffff);
    assert_eq!(err(&s, a, map3(end, PS, PS, 0)), ERROR_MAPPED_ALIGNMENT);
    let v = map3(aligned, 0, PS, 0).unwrap();
    s.unmap_view_of_file(a, v).unwrap();
    let v = map3(aligned, 0x40000, PS, 0).unwrap();
    s.unmap_view_of_file(a, v).unwrap();
    ok(&s);
}

#[test]
fn f69_the_placeholder_must_fit_exactly() {
    // [PROBE] (unverified): a view smaller than its placeholder fails with
    // ERROR_INVALID_ADDRESS, and so does a placeholder-replacing view where there is none.
    let (s, a) = one();
    let p = placeholder(&s, a, 2 * SIZE);
    let sec = anon(&s, a, PAGE_READWRITE, SIZE as u32, None).unwrap();
    assert_eq!(
        err(&s, a, replace_view(&s, a, sec, p, 0, SIZE)),
        ERROR_INVALID_ADDRESS
    );
    assert_eq!(
        err(&s, a, replace_view(&s, a, sec, at(p, PS), 0, SIZE)),
        ERROR_INVALID_ADDRESS,
        "not at the placeholder's start"
    );
    let free = Va::new(0x7000_0000_0000);
    assert_eq!(
        err(&s, a, replace_view(&s, a, sec, free, 0, SIZE)),
        ERROR_INVALID_ADDRESS
    );
    assert_eq!(
        s.map_view_of_file3(
            a,
            sec,
            Handle::NULL,
            None,
            0,
            SIZE,
            MEM_REPLACE_PLACEHOLDER,
            PAGE_READWRITE
        )
        .map_err(|e| e.0),
        Err(ERROR_INVALID_PARAMETER),
        "MEM_REPLACE_PLACEHOLDER needs the placeholder's address"
    );
    is_placeholder(&s, a, p, 2 * SIZE);
    ok(&s);
}

#[test]
fn f71_preserve_placeholder_on_an_ordinary_view_fails_and_keeps_it() {
    // F71 ([Wine test_VirtualAlloc2]).
    let (s, a) = one();
    let sec = anon(&s, a, PAGE_READWRITE, SIZE as u32, None).unwrap();
    let view = s
        .map_view_of_file3(a, sec, Handle::NULL, None, 0, SIZE, 0, PAGE_READWRITE)
        .unwrap();
    assert_eq!(
        err(&s, a, split(&s, a, view, SIZE)),
        ERROR_INVALID_PARAMETER
    );
    let me = s.get_current_process();
    assert_eq!(
        err(
            &s,
            a,
            s.unmap_view_of_file2(a, me, view, MEM_PRESERVE_PLACEHOLDER)
        ),
        ERROR_INVALID_ADDRESS
    );
    assert_eq!(vq(&s, a, view).kind, MEM_MAPPED, "the view stays");
    s.unmap_view_of_file2(a, me, view, 0).unwrap();
    assert_eq!(vq(&s, a, view).state, MEM_FREE);
    ok(&s);
}

#[test]
fn f72_unmapping_with_preserve_placeholder_gives_the_placeholder_back() {
    // F72, every step of [Wine test_VirtualAlloc2] after the two views are mapped.
    let (s, a) = one();
    let me = s.get_current_process();
    let p1 = placeholder(&s, a, 2 * SIZE);
    split(&s, a, p1, SIZE).unwrap();
    let p2 = at(p1, SIZE);
    let sec = anon(&s, a, PAGE_READWRITE, SIZE as u32, None).unwrap();
    let v1 = replace_view(&s, a, sec, p1, 0, SIZE).unwrap();
    let v2 = replace_view(&s, a, sec, p2, 0, SIZE).unwrap();
    assert_eq!(
        err(
            &s,
            a,
            s.unmap_view_of_file2(a, Handle::NULL, v1, MEM_PRESERVE_PLACEHOLDER)
        ),
        ERROR_INVALID_HANDLE
    );
    assert_eq!(err(&s, a, split(&s, a, p1, SIZE)), ERROR_INVALID_PARAMETER);
    assert_eq!(
        err(
            &s,
            a,
            s.unmap_view_of_file2(a, me, v1, MEM_RELEASE | MEM_PRESERVE_PLACEHOLDER)
        ),
        ERROR_INVALID_PARAMETER
    );
    s.unmap_view_of_file2(a, me, v1, MEM_PRESERVE_PLACEHOLDER)
        .unwrap();
    is_placeholder(&s, a, p1, SIZE);
    ok(&s);
    assert_eq!(
        err(
            &s,
            a,
            s.unmap_view_of_file2(a, me, v1, MEM_PRESERVE_PLACEHOLDER)
        ),
        ERROR_INVALID_ADDRESS
    );
    assert_eq!(
        err(&s, a, s.unmap_view_of_file(a, v1)),
        ERROR_INVALID_ADDRESS
    );
    // Again, with the section handle closed first and the transient-boost bit.
    let v1 = replace_view(&s, a, sec, p1, 0, SIZE).unwrap();
    assert_eq!(v1, p1);
    s.close_handle(a, sec).unwrap();
    assert_eq!(err(&s, a, split(&s, a, v1, SIZE)), ERROR_INVALID_PARAMETER);
    s.unmap_view_of_file2(
        a,
        me,
        v1,
        MEM_UNMAP_WITH_TRANSIENT_BOOST | MEM_PRESERVE_PLACEHOLDER,
    )
    .unwrap();
    is_placeholder(&s, a, p1, SIZE);
    s.virtual_free(a, p1, 0, MEM_RELEASE).unwrap();
    // A plain unmap of a view in a placeholder frees its range.
    s.unmap_view_of_file(a, v2).unwrap();
    assert_eq!(vq(&s, a, p2).state, MEM_FREE);
    ok(&s);
}

#[test]
fn f72_coalescing_needs_exactly_adjacent_placeholders() {
    // [DOC] VirtualFree MEM_COALESCE_PLACEHOLDERS: "lpAddress and dwSize must exactly match
    // the overall range of the placeholders to be merged"; [ntmm] anything else is
    // ERROR_INVALID_ADDRESS and changes nothing.
    let (s, a) = one();
    let coalesce =
        |va: Va, size: u64| s.virtual_free(a, va, size, MEM_RELEASE | MEM_COALESCE_PLACEHOLDERS);
    let p = placeholder(&s, a, 2 * SIZE);
    split(&s, a, p, SIZE).unwrap();
    let sec = anon(&s, a, PAGE_READWRITE, SIZE as u32, None).unwrap();
    let v = replace_view(&s, a, sec, at(p, SIZE), 0, SIZE).unwrap();
    assert_eq!(
        err(&s, a, coalesce(p, 2 * SIZE)),
        ERROR_INVALID_ADDRESS,
        "a view in the range"
    );
    assert_eq!(
        err(&s, a, coalesce(p, SIZE)),
        ERROR_INVALID_ADDRESS,
        "one placeholder"
    );
    assert_eq!(
        err(&s, a, coalesce(p, 0)),
        ERROR_INVALID_PARAMETER,
        "size 0"
    );
    assert_eq!(
        err(&s, a, coalesce(v, SIZE)),
        ERROR_INVALID_PARAMETER,
        "a view"
    );
    let me = s.get_current_process();
    s.unmap_view_of_file2(a, me, v, MEM_PRESERVE_PLACEHOLDER)
        .unwrap();
    assert_eq!(
        err(&s, a, coalesce(p, SIZE + PS)),
        ERROR_INVALID_ADDRESS,
        "a partial range"
    );
    assert_eq!(
        err(
            &s,
            a,
            s.virtual_free(
                a,
                p,
                2 * SIZE,
                MEM_RELEASE | MEM_COALESCE_PLACEHOLDERS | MEM_PRESERVE_PLACEHOLDER
            )
        ),
        ERROR_INVALID_PARAMETER,
        "both flags"
    );
    coalesce(p, 2 * SIZE).unwrap();
    is_placeholder(&s, a, p, 2 * SIZE);
    ok(&s);
}

#[test]
fn f72_private_memory_can_replace_a_placeholder_and_go_back() {
    // [DOC] VirtualAlloc2 MEM_REPLACE_PLACEHOLDER; VirtualFree MEM_PRESERVE_PLACEHOLDER "frees
    // an allocation back to a placeholder".
    let (s, a) = one();
    let p = placeholder(&s, a, 2 * SIZE);
    split(&s, a, p, SIZE).unwrap();
    let m = s
        .virtual_alloc2(
            a,
            Handle::NULL,
            Some(at(p, SIZE)),
            SIZE,
            MEM_RESERVE | MEM_COMMIT | MEM_REPLACE_PLACEHOLDER,
            PAGE_READWRITE,
        )
        .unwrap();
    assert_eq!(m, at(p, SIZE));
    let q = vq(&s, a, m);
    assert_eq!(
        (q.state, q.kind, q.protect, q.region_size),
        (MEM_COMMIT, MEM_PRIVATE, PAGE_READWRITE, SIZE)
    );
    s.write_memory(a, m, b"private").unwrap();
    split(&s, a, m, SIZE).unwrap();
    is_placeholder(&s, a, m, SIZE);
    ok(&s);
}

#[test]
fn f140_map_view_of_file3_takes_a_page_protection() {
    // F140 ([Wine test_MapViewOfFile3]): PAGE_READONLY on a PAGE_READWRITE file mapping, with
    // a NULL process.
    let (s, a) = one();
    let f = rw_file(&s, a, "f3.bin", &[0u8; 12288]);
    let h = s
        .create_file_mapping(a, f, false, PAGE_READWRITE, 0, 4096, None)
        .unwrap();
    let v = s
        .map_view_of_file3(a, h, Handle::NULL, None, 0, 4096, 0, PAGE_READONLY)
        .unwrap();
    assert_eq!(vq(&s, a, v).protect, PAGE_READONLY);
    s.unmap_view_of_file(a, v).unwrap();
    ok(&s);
}

#[test]
fn f139_map_view_of_file_from_app_takes_a_file_map_mask() {
    // F139 (narrowed): 0x40 is no page protection here but a FILE_MAP mask with no FILE_MAP
    // bit; the call succeeds. [ntmm] the view is PAGE_NOACCESS, as the documented decoding
    // gives (Windows' result is untested).
    let (s, a) = one();
    let f = rw_file(&s, a, "app.bin", &[0u8; 12288]);
    let h = s
        .create_file_mapping(a, f, false, PAGE_READWRITE, 0, 4096, None)
        .unwrap();
    let v = s.map_view_of_file_from_app(a, h, 0x40, 0, 4096).unwrap();
    assert_eq!(vq(&s, a, v).protect, PAGE_NOACCESS);
    s.unmap_view_of_file(a, v).unwrap();
    let v = s
        .map_view_of_file_from_app(a, h, FILE_MAP_WRITE, 0, 4096)
        .unwrap();
    assert_eq!(vq(&s, a, v).protect, PAGE_READWRITE);
    ok(&s);
}

#[test]
fn f68_f72_the_native_services_give_the_statuses() {
    // The native forms: NtAllocateVirtualMemoryEx, NtFreeVirtualMemory with the placeholder
    // flags, NtMapViewOfSectionEx, NtUnmapViewOfSectionEx; failures are NTSTATUS values
    // (STATUS_CONFLICTING_ADDRESSES behind ERROR_INVALID_ADDRESS, STATUS_UNABLE_TO_DELETE_SECTION
    // behind ERROR_INVALID_PARAMETER, F100).
    let (s, a) = one();
    let me = Handle::INVALID;
    let (p, n) = s
        .nt_allocate_virtual_memory_ex(
            a,
            me,
            None,
            2 * SIZE,
            MEM_RESERVE | MEM_RESERVE_PLACEHOLDER,
            PAGE_NOACCESS,
        )
        .unwrap();
    assert_eq!(n, 2 * SIZE);
    assert_eq!(
        s.nt_free_virtual_memory(a, me, p, SIZE, MEM_RELEASE | MEM_PRESERVE_PLACEHOLDER),
        Ok((p, SIZE))
    );
    let sec = anon(&s, a, PAGE_READWRITE, SIZE as u32, None).unwrap();
    let (v, vn) = s
        .nt_map_view_of_section_ex(
            a,
            sec,
            me,
            Some(p),
            0,
            SIZE,
            MEM_REPLACE_PLACEHOLDER,
            PAGE_READWRITE,
        )
        .unwrap();
    assert_eq!((v, vn), (p, SIZE));
    assert_eq!(
        s.nt_map_view_of_section_ex(
            a,
            sec,
            me,
            Some(at(p, PS)),
            0,
            PS,
            MEM_REPLACE_PLACEHOLDER,
            PAGE_READWRITE
        ),
        Err(NtStatus::STATUS_CONFLICTING_ADDRESSES)
    );
    assert_eq!(
        s.nt_free_virtual_memory(a, me, v, SIZE, MEM_RELEASE | MEM_PRESERVE_PLACEHOLDER),
        Err(NtStatus::STATUS_UNABLE_TO_DELETE_SECTION)
    );
    assert_eq!(
        s.nt_unmap_view_of_section_ex(a, me, v, MEM_RELEASE),
        Err(NtStatus::STATUS_INVALID_PARAMETER)
    );
    s.nt_unmap_view_of_section_ex(a, me, v, MEM_PRESERVE_PLACEHOLDER)
        .unwrap();
    is_placeholder(&s, a, p, SIZE);
    assert_eq!(
        s.nt_unmap_view_of_section_ex(a, me, v, MEM_PRESERVE_PLACEHOLDER),
        Err(NtStatus::STATUS_NOT_MAPPED_VIEW)
    );
    assert_eq!(
        s.nt_free_virtual_memory(a, me, p, 2 * SIZE, MEM_RELEASE | MEM_COALESCE_PLACEHOLDERS),
        Ok((p, 2 * SIZE))
    );
    assert_eq!(
        s.nt_free_virtual_memory(a, me, p, 2 * SIZE, MEM_RELEASE | MEM_COALESCE_PLACEHOLDERS),
        Err(NtStatus::STATUS_CONFLICTING_ADDRESSES)
    );
    ok(&s);
}

#[test]
fn placeholders_go_with_their_process() {
    // Process exit releases placeholders and the views in them like any region (§6.4).
    let s = sys();
    let a = s.create_process(None, false).unwrap();
    let p = placeholder(&s, a, 2 * SIZE);
    split(&s, a, p, SIZE).unwrap();
    let sec = anon(&s, a, PAGE_READWRITE, SIZE as u32, None).unwrap();
    replace_view(&s, a, sec, p, 0, SIZE).unwrap();
    s.exit_process(a).unwrap();
    ok(&s);
}

#[test]
fn the_contract_placeholder_block_runs_as_written() {
    // docs/SCENARIO.md "Placeholders (images)": the block's lines, exactly as the contract
    // writes them, after a process and the section `h` they use. Each line runs; the last one
    // fails as Windows would, because `v2` still occupies the second half of the range
    // ([ntmm], DESIGN.md "Placeholders": a coalesce over a view is ERROR_INVALID_ADDRESS).
    let doc =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/docs/SCENARIO.md")).unwrap();
    let section = doc
        .split("### Placeholders (images)")
        .nth(1)
        .expect("the contract's placeholder block");
    let block = section
        .split("```")
        .nth(1)
        .expect("its code block")
        .trim_start_matches('\n');
    assert_eq!(block.lines().count(), 6, "{block}");
    let src = format!(
        "process A\nh = CreateFileMapping(INVALID_HANDLE_VALUE, NULL, PAGE_READWRITE, 0, 0x10000, NULL)\n{block}"
    );
    let r = ntmm::scenario::run_source("contract.ntm", &src, &Default::default());
    assert_eq!(r.failed, 0, "{}", r.output);
    let results: Vec<&str> = r
        .output
        .lines()
        .filter(|l| l.contains(" => "))
        .map(|l| l.rsplit(" => ").next().unwrap())
        .collect();
    assert_eq!(
        results,
        [
            "4 (ERROR_SUCCESS)",
            "0x10000 (last error unchanged: ERROR_SUCCESS)",
            "1 (last error unchanged: ERROR_SUCCESS)",
            "0x10000 (last error unchanged: ERROR_SUCCESS)",
            "0x20000 (last error unchanged: ERROR_SUCCESS)",
            "1 (last error unchanged: ERROR_SUCCESS)",
            "0 (ERROR_INVALID_ADDRESS)",
        ],
        "{}",
        r.output
    );
}

#[test]
fn f71_f72_every_placeholder_failure_names_its_status_and_rule() {
    // Each failure's `--trace` line names the NTSTATUS, the Win32 error and the rule that
    // failed, with its reference.
    let src = r#"process A
h = CreateFileMapping(INVALID_HANDLE_VALUE, NULL, PAGE_READWRITE, 0, 0x10000, NULL)
v = MapViewOfFile(h, FILE_MAP_WRITE, 0, 0, 0)
r = VirtualAlloc2(NULL, NULL, 0x20000, MEM_RESERVE | MEM_RESERVE_PLACEHOLDER, PAGE_NOACCESS, NULL, 0)
expect UnmapViewOfFile2(GetCurrentProcess(), v, MEM_PRESERVE_PLACEHOLDER) == FALSE, ERROR_INVALID_ADDRESS
expect VirtualFree(r, 0x20000, MEM_RELEASE | MEM_PRESERVE_PLACEHOLDER) == FALSE, ERROR_INVALID_ADDRESS
expect MapViewOfFile3(h, NULL, r, 0, 0x10000, MEM_REPLACE_PLACEHOLDER, PAGE_READWRITE, NULL, 0) == NULL, ERROR_INVALID_ADDRESS
expect MapViewOfFile3(h, NULL, r + 1, 0, 0x10000, MEM_REPLACE_PLACEHOLDER, PAGE_READWRITE, NULL, 0) == NULL, ERROR_MAPPED_ALIGNMENT
expect VirtualFree(r, 0x1000, MEM_DECOMMIT) == FALSE, ERROR_INVALID_ADDRESS
expect VirtualFree(v, 0x10000, MEM_RELEASE | MEM_PRESERVE_PLACEHOLDER) == FALSE, ERROR_INVALID_PARAMETER
"#;
    let r = ntmm::scenario::run_source(
        "why.ntm",
        src,
        &ntmm::scenario::Options {
            trace: true,
            ..Default::default()
        },
    );
    assert_eq!(r.failed, 0, "{}", r.output);
    let whys: Vec<&str> = r
        .output
        .lines()
        .filter_map(|l| l.trim().strip_prefix("why: "))
        .collect();
    let want = [
        (
            "STATUS_CONFLICTING_ADDRESSES → ERROR_INVALID_ADDRESS",
            "needs a view mapped into a placeholder",
        ),
        (
            "STATUS_CONFLICTING_ADDRESSES → ERROR_INVALID_ADDRESS",
            "not the whole",
        ),
        (
            "STATUS_CONFLICTING_ADDRESSES → ERROR_INVALID_ADDRESS",
            "exactly the view's size",
        ),
        ("STATUS_MAPPED_ALIGNMENT → ERROR_MAPPED_ALIGNMENT", "F68"),
        (
            "STATUS_CONFLICTING_ADDRESSES → ERROR_INVALID_ADDRESS",
            "no pages to decommit",
        ),
        (
            "STATUS_UNABLE_TO_DELETE_SECTION → ERROR_INVALID_PARAMETER",
            "F100",
        ),
    ];
    assert_eq!(whys.len(), want.len(), "{}", r.output);
    for (why, (status, rule)) in whys.iter().zip(want) {
        assert!(why.starts_with(status) && why.contains(rule), "{why}");
    }
}

//! Conformance of image sections (SCENARIO.md "Image sections (images)"): `SEC_IMAGE` through
//! `CreateFileMapping` and `NtCreateSection`, the image control area beside the data one
//! (nt_internals §1.6, §1.7), views laid out by PE section (F79, F134), relocation (F132),
//! `NtAreMappedFilesTheSame` (F136), the errors of malformed images (F11, F28, F30, F135), and
//! `LoadLibrary` / `FreeLibrary`. Each test names the fact or internals section it pins.
#![allow(clippy::tests_outside_test_module)]

mod common;
use common::*;
use ntmm::api::section::image::{ImageSectionSpec, ImageSpec};

const BASE: u64 = 0x1_8000_0000;

fn section(name: &str, flags: &str, data: &[u8], size: Option<u32>) -> ImageSectionSpec {
    ImageSectionSpec {
        name: name.into(),
        read: flags.contains('r'),
        write: flags.contains('w'),
        execute: flags.contains('x'),
        shared: flags.contains('s'),
        data: data.to_vec(),
        virtual_size: size,
    }
}

/// The contract's example image: .text rx at 0x1000, .data rw (0x2000, no raw data) at
/// 0x2000, .shared rws at 0x4000.
fn app(s: &System, path: &str) {
    s.write_image(
        path,
        &ImageSpec {
            base: BASE,
            sections: vec![
                section(".text", "rx", b"code bytes", None),
                section(".data", "rw", b"", Some(0x2000)),
                section(".shared", "rws", b"shared between processes", None),
            ],
        },
    )
    .unwrap();
}

fn image_mapping(s: &System, p: AsId, path: &str) -> Handle {
    let f = open(s, p, path, GENERIC_READ, FILE_SHARE_READ).unwrap();
    s.create_file_mapping(p, f, false, PAGE_READONLY | SEC_IMAGE, 0, 0, None)
        .unwrap()
}

/// `NtCreateSection(SEC_IMAGE)` on file handle `f` with protection `prot`, size 0.
fn nt_image(s: &System, p: AsId, f: Handle, prot: u32) -> Result<(Handle, NtStatus), NtStatus> {
    s.nt_create_section(
        p,
        NtCreateSectionArgs {
            file: Some(f),
            ..section_args(prot, SEC_IMAGE)
        },
    )
}

fn map_read(s: &System, p: AsId, h: Handle) -> Va {
    s.map_view_of_file(p, h, FILE_MAP_READ, 0, 0, 0).unwrap()
}

// ---- F28, F142: attributes ----------------------------------------------------------------

#[test]
fn f28_f142_sec_image_reports_sec_file_sec_image_and_drops_nocache() {
    let (s, p) = one();
    app(&s, "app.dll");
    let f = open(&s, p, "app.dll", GENERIC_READ, FILE_SHARE_READ).unwrap();
    for flags in [SEC_IMAGE, SEC_IMAGE | SEC_NOCACHE] {
        let h = s
            .create_file_mapping(p, f, false, PAGE_READONLY | flags, 0, 0x1000, None)
            .unwrap();
        assert_eq!(s.get_last_error(p), ERROR_SUCCESS);
        assert_eq!(
            s.nt_query_section(p, h).unwrap().attributes,
            SEC_FILE | SEC_IMAGE
        );
        s.close_handle(p, h).unwrap();
    }
    for bad in [
        SEC_FILE,
        SEC_LARGE_PAGES,
        SEC_WRITECOMBINE,
        SEC_RESERVE,
        SEC_COMMIT,
    ] {
        let r = s.create_file_mapping(p, f, false, PAGE_READONLY | SEC_IMAGE | bad, 0, 0, None);
        assert_eq!(err(&s, p, r), ERROR_INVALID_PARAMETER, "{bad:#x}");
    }
    ok(&s);
}

// ---- F11, F30: files that are not images ---------------------------------------------------

#[test]
fn f11_sec_image_on_an_empty_file_is_invalid_file_for_section() {
    let (s, p) = one();
    let f = rw_file(&s, p, "empty.dll", b"");
    let r = nt_image(&s, p, f, PAGE_READONLY);
    assert_eq!(r.unwrap_err(), NtStatus::STATUS_INVALID_FILE_FOR_SECTION);
}

#[test]
fn f30_no_mz_is_invalid_image_not_mz_and_bad_exe_format() {
    let (s, p) = one();
    let f = rw_file(&s, p, "zeros.dll", &[0u8; 0x1000]);
    let r = s.create_file_mapping(p, f, false, PAGE_READONLY | SEC_IMAGE, 0, 0, None);
    assert_eq!(err(&s, p, r), ERROR_BAD_EXE_FORMAT);
    let r = nt_image(&s, p, f, PAGE_READONLY);
    assert_eq!(r.unwrap_err(), NtStatus::STATUS_INVALID_IMAGE_NOT_MZ);
}

/// F30 leaves an MZ file without a valid PE header untested; ntmm answers
/// `STATUS_INVALID_IMAGE_FORMAT` (ERROR_BAD_EXE_FORMAT), NT's status for a bad image header.
#[test]
fn f30_mz_without_a_pe_header_is_invalid_image_format() {
    let (s, p) = one();
    let mut bytes = vec![0u8; 0x400];
    bytes[..2].copy_from_slice(b"MZ");
    let f = rw_file(&s, p, "mz.dll", &bytes);
    let r = nt_image(&s, p, f, PAGE_READONLY);
    assert_eq!(r.unwrap_err(), NtStatus::STATUS_INVALID_IMAGE_FORMAT);
    let r = s.create_file_mapping(p, f, false, PAGE_READONLY | SEC_IMAGE, 0, 0, None);
    assert_eq!(err(&s, p, r), ERROR_BAD_EXE_FORMAT);
}

/// F30 (ROS-api `Test_ImageSection`): a DLL whose header was overwritten through a data view,
/// without a flush, is no longer an image (§1.7: the data section is flushed first).
#[test]
fn f30_header_overwritten_through_a_data_view_is_not_mz() {
    let (s, p) = one();
    app(&s, "app.dll");
    let f = open(&s, p, "app.dll", GENERIC_READ | GENERIC_WRITE, 7).unwrap();
    let d = s
        .create_file_mapping(p, f, false, PAGE_READWRITE, 0, 0, None)
        .unwrap();
    let v = s.map_view_of_file(p, d, FILE_MAP_WRITE, 0, 0, 0).unwrap();
    s.write_memory(p, v, b"XX").unwrap();
    let r = nt_image(&s, p, f, PAGE_READONLY);
    assert_eq!(r.unwrap_err(), NtStatus::STATUS_INVALID_IMAGE_NOT_MZ);
    ok(&s);
}

// ---- F135: writable protections -----------------------------------------------------------

#[test]
fn f135_writable_image_section_on_a_read_write_file_succeeds() {
    let (s, p) = one();
    app(&s, "app.dll");
    let f = open(
        &s,
        p,
        "app.dll",
        GENERIC_READ | GENERIC_WRITE | GENERIC_EXECUTE,
        7,
    )
    .unwrap();
    for prot in [PAGE_READWRITE, PAGE_EXECUTE_READWRITE] {
        let (h, st) = nt_image(&s, p, f, prot).unwrap();
        assert_eq!(st, NtStatus::STATUS_SUCCESS);
        s.close_handle(p, h).unwrap();
    }
    // Without write access the file handle does not allow a writable protection (F22: the
    // file-rights rule of MmMakeFileAccess; F135's Wine case).
    let r = open(&s, p, "app.dll", GENERIC_READ, 7).unwrap();
    let e = nt_image(&s, p, r, PAGE_READWRITE);
    assert_eq!(e.unwrap_err(), NtStatus::STATUS_ACCESS_DENIED);
    ok(&s);
}

// ---- F79, F134, F142: the view ------------------------------------------------------------

#[test]
fn f79_header_page_is_readonly_image_with_execute_writecopy_allocation() {
    let (s, p) = one();
    app(&s, "app.dll");
    let h = image_mapping(&s, p, "app.dll");
    for access in [FILE_MAP_READ, FILE_MAP_COPY] {
        let v = s.map_view_of_file(p, h, access, 0, 0, 0).unwrap();
        let m = vq(&s, p, v);
        assert_eq!(m.region_size, 0x1000, "the header run");
        assert_eq!(m.protect, PAGE_READONLY);
        assert_eq!(m.allocation_protect, PAGE_EXECUTE_WRITECOPY);
        assert_eq!(m.kind, MEM_IMAGE);
        assert_eq!(m.state, MEM_COMMIT);
        assert_eq!(s.read_memory(p, v, 2).unwrap(), b"MZ");
        s.unmap_view_of_file(p, v).unwrap();
    }
    ok(&s);
}

#[test]
fn f134_each_section_has_its_own_protection() {
    let (s, p) = one();
    app(&s, "app.dll");
    let h = image_mapping(&s, p, "app.dll");
    let v = map_read(&s, p, h);
    assert_eq!(v.raw(), BASE, "placed at the image base when it is free");
    let m = |off| vq(&s, p, at(v, off));
    assert_eq!(
        (m(0x1000).protect, m(0x1000).region_size),
        (PAGE_EXECUTE_READ, 0x1000)
    );
    assert_eq!(
        (m(0x2000).protect, m(0x2000).region_size),
        (PAGE_WRITECOPY, 0x2000)
    );
    assert_eq!(
        (m(0x4000).protect, m(0x4000).region_size),
        (PAGE_READWRITE, 0x1000)
    );
    for off in [0x1000, 0x2000, 0x4000] {
        assert_eq!(m(off).kind, MEM_IMAGE);
        assert_eq!(m(off).allocation_base, v.raw());
    }
    assert_eq!(s.read_memory(p, at(v, 0x1000), 10).unwrap(), b"code bytes");
    // F134: past the raw data within the virtual size reads zero.
    assert_eq!(s.read_memory(p, at(v, 0x2ffc), 8).unwrap(), [0u8; 8]);
    assert_eq!(
        raised(s.write_memory(p, at(v, 0x1000), b"x")),
        ExceptionKind::AccessViolation,
        "F134: a store into a read-only section raises"
    );
    assert_eq!(
        raised(s.write_memory(p, v, b"x")),
        ExceptionKind::AccessViolation,
        "the headers are read-only (F79)"
    );
    ok(&s);
}

/// F134, §3.7: a writable section is copy-on-write: each process writes its own copy, the file
/// never changes; a shared (`s`) section is one set of pages for every process.
#[test]
fn f134_writable_sections_copy_on_write_shared_sections_shared() {
    let s = sys();
    app(&s, "app.dll");
    let a = s.create_process(None, false).unwrap();
    let b = s.create_process(None, false).unwrap();
    let va = map_read(&s, a, image_mapping(&s, a, "app.dll"));
    let vb = map_read(&s, b, image_mapping(&s, b, "app.dll"));
    assert_eq!(va, vb, "both at the image base");
    s.write_memory(a, at(va, 0x2000), b"A's data").unwrap();
    assert_eq!(
        vq(&s, a, at(va, 0x2000)).protect,
        PAGE_READWRITE,
        "a private copy now"
    );
    assert_eq!(s.read_memory(b, at(vb, 0x2000), 8).unwrap(), [0u8; 8]);
    s.write_memory(a, at(va, 0x4000), b"hello B").unwrap();
    assert_eq!(s.read_memory(b, at(vb, 0x4000), 7).unwrap(), b"hello B");
    // Through the pagefile and back: a modified shared image page is never written to the
    // file (§4.6).
    s.executive().trim_all();
    s.executive().run_writers();
    s.executive().trim_all();
    assert_eq!(s.read_memory(b, at(vb, 0x4000), 7).unwrap(), b"hello B");
    let before = s.read_disk("app.dll").unwrap();
    s.executive().run_writers();
    assert_eq!(
        s.read_disk("app.dll").unwrap(),
        before,
        "the file is untouched"
    );
    ok(&s);
}

/// §1.5, §3.2: two processes running one program share its code pages — one frame, two
/// valid PTEs — and one image control area.
#[test]
fn s1_7_two_processes_share_the_code_pages_of_one_image() {
    let s = sys();
    app(&s, "app.exe");
    let a = s.create_process(None, false).unwrap();
    let b = s.create_process(None, false).unwrap();
    let va = s.map_process_image(a, "app.exe").unwrap();
    let vb = s.map_process_image(b, "app.exe").unwrap();
    s.read_memory(a, at(va, 0x1000), 1).unwrap();
    s.read_memory(b, at(vb, 0x1000), 1).unwrap();
    let pfn = |p, v| match s.executive().vmm().pte(p, at(v, 0x1000)).unwrap() {
        ntmm::vmm::Pte::Valid(h) => h.pfn,
        other => panic!("not valid: {other:?}"),
    };
    assert_eq!(pfn(a, va), pfn(b, vb));
    ok(&s);
}

/// §1.6: a file has an image control area beside its data control area; both live at once.
#[test]
fn s1_6_image_and_data_control_areas_are_two() {
    let (s, p) = one();
    app(&s, "app.dll");
    let f = open(&s, p, "app.dll", GENERIC_READ, 7).unwrap();
    let w = open(&s, p, "app.dll", GENERIC_READ | GENERIC_WRITE, 7).unwrap();
    let d = s
        .create_file_mapping(p, f, false, PAGE_READONLY, 0, 0, None)
        .unwrap();
    let i = s
        .create_file_mapping(p, f, false, PAGE_READONLY | SEC_IMAGE, 0, 0, None)
        .unwrap();
    let cd = s
        .executive()
        .section_control_area(s.section_id(p, d).unwrap())
        .unwrap();
    let ci = s
        .executive()
        .section_control_area(s.section_id(p, i).unwrap())
        .unwrap();
    assert_ne!(cd.id, ci.id);
    assert!(ci.image && !cd.image);
    assert_eq!(cd.stream, ci.stream);
    // A second image section shares the image control area (§1.7).
    let i2 = s
        .create_file_mapping(p, f, false, PAGE_READONLY | SEC_IMAGE, 0, 0, None)
        .unwrap();
    let ci2 = s
        .executive()
        .section_control_area(s.section_id(p, i2).unwrap())
        .unwrap();
    assert_eq!(ci2.id, ci.id);
    assert_eq!(ci2.section_references, 2);
    // While an image section holds the file, it cannot be opened for writing
    // (MmFlushImageSection, §1.7) nor truncated through an older handle (§8).
    assert_eq!(
        err(&s, p, open(&s, p, "app.dll", GENERIC_WRITE, 7)),
        ERROR_SHARING_VIOLATION
    );
    s.set_file_pointer(p, w, 0x10, None, FILE_BEGIN).unwrap();
    assert_eq!(err(&s, p, s.set_end_of_file(p, w)), ERROR_USER_MAPPED_FILE);
    for h in [i, i2] {
        s.close_handle(p, h).unwrap();
    }
    ok(&s);
}

// ---- F132: relocation ----------------------------------------------------------------------

#[test]
fn f132_an_occupied_base_relocates_with_image_not_at_base() {
    let (s, p) = one();
    app(&s, "app.dll");
    let f = open(&s, p, "app.dll", GENERIC_READ, FILE_SHARE_READ).unwrap();
    let (h, _) = nt_image(&s, p, f, PAGE_READONLY).unwrap();
    let (v1, size) = nt_map(&s, p, h, shared(PAGE_READONLY)).unwrap();
    assert_eq!((v1.raw(), size), (BASE, 0x5000));
    assert_eq!(s.image_view_status(p, h, v1), NtStatus::STATUS_SUCCESS);
    let (v2, _) = nt_map(&s, p, h, shared(PAGE_READONLY)).unwrap();
    assert_ne!(v2, v1);
    assert_eq!(
        s.image_view_status(p, h, v2),
        NtStatus::STATUS_IMAGE_NOT_AT_BASE
    );
    assert_eq!(s.read_memory(p, at(v2, 0x1000), 4).unwrap(), b"code");
    ok(&s);
}

// ---- F136: NtAreMappedFilesTheSame ---------------------------------------------------------

#[test]
fn f136_images_of_one_file_are_the_same_and_data_image_is_asymmetric() {
    let (s, p) = one();
    app(&s, "app.dll");
    app(&s, "other.dll");
    let img1 = s.load_library(p, "app.dll").unwrap();
    let h = image_mapping(&s, p, "app.dll");
    let img2 = map_read(&s, p, h);
    let f = open(&s, p, "app.dll", GENERIC_READ, 7).unwrap();
    let d = s
        .create_file_mapping(p, f, false, PAGE_READONLY, 0, 0, None)
        .unwrap();
    let data = map_read(&s, p, d);
    let other = s.load_library(p, "other.dll").unwrap();
    let same = |a: Va, b: Va| s.nt_are_mapped_files_the_same(p, a, b);
    assert_eq!(same(img1, img2), NtStatus::STATUS_SUCCESS);
    assert_eq!(same(img2, img1), NtStatus::STATUS_SUCCESS);
    assert_eq!(same(img1, at(img1, 0x1000)), NtStatus::STATUS_SUCCESS);
    assert_eq!(
        same(data, img1),
        NtStatus::STATUS_NOT_SAME_DEVICE,
        "data first"
    );
    assert_eq!(same(img1, data), NtStatus::STATUS_SUCCESS, "image first");
    assert_eq!(same(img1, other), NtStatus::STATUS_NOT_SAME_DEVICE);
    assert_eq!(same(img1, Va::new(0)), NtStatus::STATUS_INVALID_ADDRESS);
    ok(&s);
}

// ---- LoadLibrary / FreeLibrary --------------------------------------------------------------

#[test]
fn load_library_counts_loads_and_free_library_unmaps_the_last() {
    let (s, p) = one();
    app(&s, "app.dll");
    let b1 = s.load_library(p, "app.dll").unwrap();
    let b2 = s.load_library(p, "APP.DLL").unwrap();
    assert_eq!((b1, b1.raw()), (b2, BASE));
    s.free_library(p, b1).unwrap();
    assert_eq!(vq(&s, p, b1).kind, MEM_IMAGE, "one load left");
    s.free_library(p, b1).unwrap();
    assert_eq!(vq(&s, p, b1).state, MEM_FREE);
    assert_eq!(err(&s, p, s.free_library(p, b1)), ERROR_MOD_NOT_FOUND);
    assert_eq!(
        err(&s, p, s.load_library(p, "missing.dll")),
        ERROR_MOD_NOT_FOUND
    );
    s.create_volume_file("text.dll", b"plain text").unwrap();
    assert_eq!(
        err(&s, p, s.load_library(p, "text.dll")),
        ERROR_BAD_EXE_FORMAT
    );
    ok(&s);
    assert!(
        s.executive().control_areas().iter().all(|c| !c.image),
        "the image control area died with its last view"
    );
}

#[test]
fn a_process_executable_is_pinned() {
    let (s, p) = one();
    app(&s, "app.exe");
    let b = s.map_process_image(p, "app.exe").unwrap();
    s.free_library(p, b).unwrap();
    assert_eq!(vq(&s, p, b).kind, MEM_IMAGE);
    s.exit_process(p).unwrap();
    ok(&s);
}

// ---- The contract's statements, exactly as written ------------------------------------------

/// The code block of docs/SCENARIO.md's "Image sections (images)", run as written, then the
/// calls its prose names, each checked.
#[test]
fn the_contract_image_statements_run_as_written() {
    let doc =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/docs/SCENARIO.md")).unwrap();
    let block = doc
        .split("### Image sections (images)")
        .nth(1)
        .and_then(|rest| rest.split("```").nth(1))
        .expect("the contract's image block");
    assert!(block.contains("image \"app.dll\" base 0x180000000"));
    let source = format!(
        r#"{block}
image "app.exe" base 0x140000000 section ".text" rx "main"
process A image "app.exe"
VirtualQuery(0x140001000, &m)
expect m.Type == MEM_IMAGE
hf = CreateFile("app.dll", GENERIC_READ, FILE_SHARE_READ, NULL, OPEN_EXISTING, 0, NULL)
h = CreateFileMapping(hf, NULL, PAGE_READONLY | SEC_IMAGE, 0, 0, NULL)
expect h != NULL
v = MapViewOfFile(h, FILE_MAP_READ, 0, 0, 0)
expect v == 0x180000000
VirtualQuery(v + 0x2000, &mbi)
expect mbi.Protect == PAGE_WRITECOPY
VirtualQuery(v + 0x4000, &mbi)
expect mbi.Protect == PAGE_READWRITE
expect read(v + 0x4000, 24) == "shared between processes"
expect UnmapViewOfFile(v) == TRUE
base = LoadLibrary("app.dll")
expect base == 0x180000000
expect read(base + 0x1000, 10) == "code bytes"
expect FreeLibrary(base) == TRUE
VirtualQuery(base, &gone)
expect gone.State == MEM_FREE
"#
    );
    let script = ntmm::scenario::parse(&source).unwrap();
    let mut r = ntmm::scenario::Runner::new("contract", &ntmm::scenario::Options::default());
    r.run_script(&script);
    r.finish();
    let report = r.report();
    assert_eq!(report.failed, 0, "{}", report.output);
    assert!(report.passed >= 10, "{}", report.output);
}

/// F110, F131 (ROS-api `Test_ImageSection`): writes through a data view, flushed, do not show
/// in an image view already mapped (its page is the image control area's own, §1.7); creating
/// an image section sees unflushed data-view changes (the data section is flushed first).
#[test]
fn f110_f131_image_views_are_not_coherent_with_data_views() {
    let (s, p) = one();
    app(&s, "app.dll");
    let f = open(&s, p, "app.dll", GENERIC_READ | GENERIC_WRITE, 7).unwrap();
    let d = s
        .create_file_mapping(p, f, false, PAGE_READWRITE, 0, 0, None)
        .unwrap();
    let data = s.map_view_of_file(p, d, FILE_MAP_WRITE, 0, 0, 0).unwrap();
    let image =
        |s: &System| s.create_file_mapping(p, f, false, PAGE_READONLY | SEC_IMAGE, 0, 0, None);
    let hi = image(&s).unwrap();
    let img = map_read(&s, p, hi);
    assert_eq!(s.read_memory(p, img, 2).unwrap(), b"MZ");
    s.write_memory(p, data, b"ZM").unwrap();
    s.flush_view_of_file(p, data, 0).unwrap();
    assert_eq!(s.read_disk("app.dll").unwrap()[..2], *b"ZM");
    assert_eq!(
        s.read_memory(p, img, 2).unwrap(),
        b"MZ",
        "F131: not refreshed"
    );
    s.unmap_view_of_file(p, img).unwrap();
    s.close_handle(p, hi).unwrap();
    // The header is now "ZM" on disk: a new image section fails (F110, F30) ...
    assert_eq!(err(&s, p, image(&s)), ERROR_BAD_EXE_FORMAT);
    // ... and once it is restored through the data view, unflushed, it succeeds.
    s.write_memory(p, data, b"MZ").unwrap();
    let hi = image(&s).unwrap();
    assert_eq!(map_read(&s, p, hi), img);
    ok(&s);
}

/// F91 (kernel32 `test_mapping`, `map_prot_no_write`): on an image view a write protection
/// becomes copy-on-write, so every single protection passes the EXECUTE_WRITECOPY ceiling.
#[test]
fn f91_virtual_protect_on_an_image_turns_writes_into_copy_on_write() {
    let (s, p) = one();
    app(&s, "app.dll");
    let b = s.load_library(p, "app.dll").unwrap();
    let text = at(b, 0x1000);
    for (asked, got) in [
        (PAGE_READWRITE, PAGE_WRITECOPY),
        (PAGE_EXECUTE_READWRITE, PAGE_EXECUTE_WRITECOPY),
        (PAGE_READONLY, PAGE_READONLY),
        (PAGE_EXECUTE, PAGE_EXECUTE),
        (PAGE_NOACCESS, PAGE_NOACCESS),
        (PAGE_EXECUTE_READ, PAGE_EXECUTE_READ),
    ] {
        s.virtual_protect(p, text, 0x1000, asked).unwrap();
        assert_eq!(vq(&s, p, text).protect, got, "{asked:#x}");
    }
    // A store into the now copy-on-write code page makes a private copy (§3.7).
    s.virtual_protect(p, text, 0x1000, PAGE_READWRITE).unwrap();
    s.write_memory(p, text, b"patched").unwrap();
    assert_eq!(vq(&s, p, text).protect, PAGE_READWRITE);
    let q = s.create_process(None, false).unwrap();
    let bq = s.load_library(q, "app.dll").unwrap();
    assert_eq!(s.read_memory(q, at(bq, 0x1000), 10).unwrap(), b"code bytes");
    ok(&s);
}

/// §3.4, §4.6, §4.7: under memory pressure a code page is dropped without a write and read
/// again from the executable; a shared section's modified page goes to the pagefile and comes
/// back from it; the executable is never written.
#[test]
fn s4_6_code_pages_come_back_from_the_file_shared_data_from_the_pagefile() {
    let s = machine(8, 256, 4);
    app(&s, "app.dll");
    let before = s.read_disk("app.dll").unwrap();
    let p = s.create_process(None, false).unwrap();
    let b = s.load_library(p, "app.dll").unwrap();
    assert_eq!(s.read_memory(p, at(b, 0x1000), 10).unwrap(), b"code bytes");
    s.write_memory(p, at(b, 0x4000), b"kept").unwrap();
    let io0 = s.ntmm_io_counters();
    // Fill memory with private pages until the image's frames are reused.
    let big = s
        .virtual_alloc(p, None, 0x20000, MEM_COMMIT | MEM_RESERVE, PAGE_READWRITE)
        .unwrap();
    for k in 0..32 {
        s.write_memory(p, at(big, k * 0x1000), b"x").unwrap();
    }
    let io1 = s.ntmm_io_counters();
    assert!(
        io1.pagefile_writes > io0.pagefile_writes,
        "pressure wrote to the pagefile"
    );
    assert_eq!(
        io1.file_writes, io0.file_writes,
        "nothing is written to a file"
    );
    assert_eq!(s.read_memory(p, at(b, 0x1000), 10).unwrap(), b"code bytes");
    assert_eq!(s.read_memory(p, at(b, 0x4000), 4).unwrap(), b"kept");
    let io2 = s.ntmm_io_counters();
    assert!(
        io2.file_reads > io1.file_reads,
        "the code page was read from the file again"
    );
    assert!(
        io2.pagefile_reads > io1.pagefile_reads,
        "the shared page from the pagefile"
    );
    assert_eq!(s.read_disk("app.dll").unwrap(), before);
    ok(&s);
}

//! Every failure explained (issue "4/7 — Explain everything", item 1): a failed call's
//! `--trace` line and its `--json` fields name the NTSTATUS, the Win32 error it became and
//! the rule, with its reference. One test per question class; the two causes of
//! `ERROR_ACCESS_DENIED` must give different explanations.
#![allow(clippy::tests_outside_test_module)]

use ntmm_scenario::runner::{run_source, Options};

/// The `why:` lines of a scenario run with `--trace`.
fn why_lines(source: &str) -> Vec<String> {
    let report = run_source(
        "why.ntm",
        source,
        &Options {
            trace: true,
            ..Options::default()
        },
    );
    assert_eq!(report.failed, 0, "{}", report.output);
    report
        .output
        .lines()
        .filter_map(|l| l.trim().strip_prefix("why: ").map(str::to_string))
        .collect()
}

/// The JSON statement objects of a scenario run with `--json`.
fn json_objects(source: &str) -> Vec<serde_json::Value> {
    let report = run_source(
        "why.ntm",
        source,
        &Options {
            json: true,
            ..Options::default()
        },
    );
    report
        .output
        .lines()
        .filter_map(|l| serde_json::from_str(l).ok())
        .collect()
}

/// F48 against F22/F24: a FILE_MAP_READ section handle mapping a write view, and a read-only
/// file mapped PAGE_READWRITE. Both are ERROR_ACCESS_DENIED from STATUS_ACCESS_DENIED; the
/// rules differ and name the rights involved.
#[test]
fn test_the_two_access_denied_causes_are_explained_differently_f48_f22() {
    let source = r#"
file "ro.bin" = "read only"
process A
h = CreateFileMapping(INVALID_HANDLE_VALUE, NULL, PAGE_READWRITE, 0, 0x1000, "Local\\S")
r = OpenFileMapping(FILE_MAP_READ, FALSE, "Local\\S")
expect MapViewOfFile(r, FILE_MAP_WRITE, 0, 0, 0) == NULL, ERROR_ACCESS_DENIED
f = CreateFile("ro.bin", GENERIC_READ, FILE_SHARE_READ, NULL, OPEN_EXISTING, FILE_ATTRIBUTE_NORMAL, NULL)
expect CreateFileMapping(f, NULL, PAGE_READWRITE, 0, 0, NULL) == NULL, ERROR_ACCESS_DENIED
"#;
    let why = why_lines(source);
    assert_eq!(
        why,
        [
            "STATUS_ACCESS_DENIED → ERROR_ACCESS_DENIED: the section handle grants \
             SECTION_MAP_READ only; a PAGE_READWRITE view needs SECTION_MAP_WRITE (F48)",
            "STATUS_ACCESS_DENIED → ERROR_ACCESS_DENIED: the file handle grants FILE_READ_DATA \
             only; a PAGE_READWRITE section needs FILE_READ_DATA|FILE_WRITE_DATA (F22, F24)",
        ]
    );
    // The same in --json, as fields of the failing statements.
    let objs = json_objects(source);
    let failed: Vec<_> = objs.iter().filter(|o| !o["why"].is_null()).collect();
    assert_eq!(failed.len(), 2);
    for (o, w) in failed.iter().zip(&why) {
        assert_eq!(o["status"]["name"], "STATUS_ACCESS_DENIED");
        assert_eq!(o["status"]["value"], 0xC000_0022_u32);
        assert_eq!(o["last_error_name"], "ERROR_ACCESS_DENIED");
        assert_eq!(o["why"].as_str().unwrap(), w);
    }
}

/// A third ERROR_ACCESS_DENIED: a process handle without the right the call needs.
#[test]
fn test_a_process_handle_without_its_right_names_the_right() {
    let why = why_lines(
        r#"
process T
process D
p = OpenProcess(PROCESS_VM_READ, FALSE, T)
expect VirtualAllocEx(p, NULL, 0x1000, MEM_COMMIT | MEM_RESERVE, PAGE_READWRITE) == NULL, ERROR_ACCESS_DENIED
"#,
    );
    assert_eq!(
        why,
        ["STATUS_ACCESS_DENIED → ERROR_ACCESS_DENIED: the process handle grants PROCESS_VM_READ; \
          this call needs PROCESS_VM_OPERATION (Wine kernel32 test_OpenProcess)"]
    );
}

/// ERROR_ACCESS_DENIED that is not an access check at all: the view is larger than the
/// section (F5), with both sizes.
#[test]
fn test_invalid_view_size_gives_both_sizes_f5() {
    let why = why_lines(
        r#"
process A
h = CreateFileMapping(INVALID_HANDLE_VALUE, NULL, PAGE_READWRITE, 0, 0x1000, NULL)
expect MapViewOfFile(h, FILE_MAP_WRITE, 0, 0, 0x2000) == NULL, ERROR_ACCESS_DENIED
"#,
    );
    assert_eq!(
        why,
        ["STATUS_INVALID_VIEW_SIZE → ERROR_ACCESS_DENIED: the view (0x2000 bytes at offset 0x0) \
          extends past the end of the section (0x1000 bytes) (F5)"]
    );
}

/// Not found (a name, a file), sharing, user-mapped file, alignment, not a view, a parameter
/// the Win32 layer checks alone: each names its status (or says there is none) and its rule.
#[test]
fn test_every_question_class_names_status_and_rule() {
    let why = why_lines(
        r#"
file "d.bin" = "data"
process A
expect OpenFileMapping(FILE_MAP_READ, FALSE, "Local\\Nope") == NULL, ERROR_FILE_NOT_FOUND
expect CreateFile("none.bin", GENERIC_READ, 0, NULL, OPEN_EXISTING, FILE_ATTRIBUTE_NORMAL, NULL) == INVALID_HANDLE_VALUE, ERROR_FILE_NOT_FOUND
f = CreateFile("d.bin", GENERIC_READ | GENERIC_WRITE, 0, NULL, OPEN_EXISTING, FILE_ATTRIBUTE_NORMAL, NULL)
expect CreateFile("d.bin", GENERIC_READ, FILE_SHARE_READ, NULL, OPEN_EXISTING, FILE_ATTRIBUTE_NORMAL, NULL) == INVALID_HANDLE_VALUE, ERROR_SHARING_VIOLATION
m = CreateFileMapping(f, NULL, PAGE_READWRITE, 0, 0, NULL)
expect SetFilePointer(f, 1, NULL, FILE_BEGIN) == 1
expect SetEndOfFile(f) == FALSE, ERROR_USER_MAPPED_FILE
expect MapViewOfFile(m, FILE_MAP_WRITE, 0, 0x1000, 0) == NULL, ERROR_MAPPED_ALIGNMENT
expect UnmapViewOfFile(0x20000) == FALSE, ERROR_INVALID_ADDRESS
expect CreateFileMapping(INVALID_HANDLE_VALUE, NULL, PAGE_READWRITE, 0, 0, NULL) == NULL, ERROR_INVALID_PARAMETER
"#,
    );
    let expect_prefix = [
        "STATUS_OBJECT_NAME_NOT_FOUND → ERROR_FILE_NOT_FOUND: no object is named ",
        "STATUS_OBJECT_NAME_NOT_FOUND → ERROR_FILE_NOT_FOUND: no file named none.bin",
        "STATUS_SHARING_VIOLATION → ERROR_SHARING_VIOLATION: the file is open with ",
        "STATUS_USER_MAPPED_FILE → ERROR_USER_MAPPED_FILE: a section object or a mapped view",
        "STATUS_MAPPED_ALIGNMENT → ERROR_MAPPED_ALIGNMENT: 0x1000 is not a multiple of the 64 KiB",
        "STATUS_NOT_MAPPED_VIEW → ERROR_INVALID_ADDRESS: no mapped view contains 0x20000",
        "ERROR_INVALID_PARAMETER (decided by the Win32 layer, no NTSTATUS): a pagefile-backed \
         mapping needs a nonzero maximum size (F9)",
    ];
    assert_eq!(why.len(), expect_prefix.len(), "{why:#?}");
    for (w, p) in why.iter().zip(expect_prefix) {
        assert!(w.starts_with(p), "{w}\n  does not start with\n{p}");
    }
}

/// A failed native call is explained too: its NTSTATUS (no last error is set) and its rule —
/// F41's missing SECTION_QUERY, F34's collision without OBJ_OPENIF, F90's NULL probe and F136.
/// Each line fails on a build where native failures carried no `why`.
#[test]
fn test_failed_native_calls_are_explained_f41_f34_f90_f136() {
    let source = r#"
process A
h = CreateFileMapping(INVALID_HANDLE_VALUE, NULL, PAGE_READWRITE, 0, 0x1000, "Local\\N")
r = OpenFileMapping(FILE_MAP_READ, FALSE, "Local\\N")
sz = 0x1000
expect NtQuerySection(r, SectionBasicInformation, &sbi) == STATUS_ACCESS_DENIED
expect NtCreateSection(&h3, SECTION_ALL_ACCESS, "\\Sessions\\1\\BaseNamedObjects\\N", &sz, PAGE_READWRITE, SEC_COMMIT, NULL) == STATUS_OBJECT_NAME_COLLISION
p = VirtualAlloc(NULL, 0x1000, MEM_COMMIT, PAGE_READWRITE)
expect NtProtectVirtualMemory(A, &p, &size, PAGE_READONLY, NULL) == STATUS_ACCESS_VIOLATION
expect NtAreMappedFilesTheSame(0, 0) == STATUS_INVALID_ADDRESS
"#;
    let why = why_lines(source);
    assert_eq!(why.len(), 4, "{why:#?}");
    let native = " (returned; a native call sets no last error): ";
    assert_eq!(
        why[0],
        format!("STATUS_ACCESS_DENIED{native}the section handle grants SECTION_MAP_READ only; NtQuerySection needs SECTION_QUERY (F41)")
    );
    assert_eq!(
        why[1],
        format!("STATUS_OBJECT_NAME_COLLISION{native}the name \\Sessions\\1\\BaseNamedObjects\\N already names an object, and a native create without OBJ_OPENIF does not open it (F34; ntdll om.c test_name_collisions)")
    );
    assert!(
        why[2].starts_with("STATUS_ACCESS_VIOLATION") && why[2].ends_with("(F90)"),
        "{}",
        why[2]
    );
    assert!(
        why[3].starts_with("STATUS_INVALID_ADDRESS") && why[3].ends_with("(F136)"),
        "{}",
        why[3]
    );
    // The JSON objects carry the same sentence.
    let objs = json_objects(source);
    let query = objs
        .iter()
        .find(|o| {
            o["statement"]
                .as_str()
                .is_some_and(|s| s.contains("NtQuerySection"))
        })
        .unwrap();
    assert_eq!(query["status"]["name"], "STATUS_ACCESS_DENIED");
    assert!(query["why"].as_str().unwrap().ends_with("(F41)"));
}

/// F34: a native create without OBJ_OPENIF on an existing name makes no handle — the new
/// section object is built and deleted, and the trace tells no handle opened or closed.
#[test]
fn test_a_colliding_native_create_opens_no_handle_f34() {
    let report = run_source(
        "collide.ntm",
        r#"
process A
h = CreateFileMapping(INVALID_HANDLE_VALUE, NULL, PAGE_READWRITE, 0, 0x1000, "Local\\C")
sz = 0x1000
expect NtCreateSection(&h3, SECTION_ALL_ACCESS, "\\Sessions\\1\\BaseNamedObjects\\C", &sz, PAGE_READWRITE, SEC_COMMIT, NULL) == STATUS_OBJECT_NAME_COLLISION
"#,
        &Options {
            trace: true,
            ..Options::default()
        },
    );
    assert_eq!(report.failed, 0, "{}", report.output);
    let after: Vec<&str> = report
        .output
        .lines()
        .skip_while(|l| !l.contains("NtCreateSection"))
        .collect();
    assert!(after.iter().any(|l| l.contains("deleted")), "{after:#?}");
    assert!(!after.iter().any(|l| l.contains("handle 0x")), "{after:#?}");
}

/// A Win32 call built on a native one reports one failure, the Win32 one: its native call is
/// made on the program's behalf and reports nothing of its own.
#[test]
fn test_a_win32_failure_is_reported_once() {
    let why = why_lines(
        r#"
process A
expect VirtualAlloc(0x1234, 0x1000, 0x1234, PAGE_READWRITE) == NULL, ERROR_INVALID_PARAMETER
"#,
    );
    assert_eq!(why.len(), 1, "{why:#?}");
    assert!(why[0].contains("→ ERROR_INVALID_PARAMETER"), "{why:#?}");
}

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
          this call needs PROCESS_VM_OPERATION (its documented right; Wine kernel32 \
          test_OpenProcess)"]
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
        "STATUS_NOT_MAPPED_VIEW → ERROR_INVALID_ADDRESS: 0x20000 is not the base of a mapped view",
        "ERROR_INVALID_PARAMETER (decided by the Win32 layer, no NTSTATUS): a pagefile-backed \
         mapping needs a nonzero maximum size (F9)",
    ];
    assert_eq!(why.len(), expect_prefix.len(), "{why:#?}");
    for (w, p) in why.iter().zip(expect_prefix) {
        assert!(w.starts_with(p), "{w}\n  does not start with\n{p}");
    }
}

//! The additions of 2026-11-30 that the language reaches (docs/SCENARIO.md "Expressions
//! (reach)", "Out-parameters, NULL and in-out parameters (reach)", "Native calls (reach)"),
//! run as scenarios: each example of the contract, and each documented failure.
#![allow(clippy::tests_outside_test_module)]

use ntmm_scenario::*;

fn run(src: &str) -> FileReport {
    run_source("t.ntm", src, &Options::default())
}

/// Runs `src` and asserts every expectation holds and nothing failed.
fn passes(src: &str) -> u64 {
    let r = run(src);
    assert_eq!(r.failed, 0, "{}", r.output);
    assert!(r.passed > 0, "{}", r.output);
    r.passed
}

#[test]
fn test_operators_precedence_wrapping_and_unsigned_division() {
    passes(
        r#"
process A
# loosest first: | ^ & << >> + - * / %
expect 1 | 2 ^ 3 & 4 << 1 + 2 * 3 == 1 | (2 ^ (3 & (4 << (1 + (2 * 3)))))
expect 7 * 6 == 42
expect 100 / 7 == 14
expect 100 % 7 == 2
expect -1 / 2 == 0x7FFFFFFFFFFFFFFF
expect -1 % 10 == 5
expect 0xFFFFFFFFFFFFFFFF * 2 == 0xFFFFFFFFFFFFFFFE
expect 1 << 63 == 0x8000000000000000
expect 0x8000000000000000 >> 63 == 1
expect 1 << 64 == 1
expect 0xF0 ^ 0xFF == 0x0F
expect ~0 == 0xFFFFFFFFFFFFFFFF
expect ~PAGE_READONLY & 0xFF == 0xFD
expect -~1 == 2
expect 0x12345 & ~0xFFF == 0x12000
expect 10 - 2 - 3 == 5
expect 64 / 4 / 2 == 8
"#,
    );
}

#[test]
fn test_ordered_comparisons_are_unsigned() {
    passes(
        "process A\nexpect 1 < 2\nexpect 2 <= 2\nexpect 3 > 2\nexpect 3 >= 3\nexpect -1 > 0\nexpect 0 < -1\n",
    );
    let r = run("process A\nexpect 3 < 2\nexpect 2 >= 3\nexpect \"a\" < 1\n");
    assert_eq!((r.passed, r.failed), (0, 3), "{}", r.output);
    assert!(r.output.contains("expected: < 2"), "{}", r.output);
    assert!(r.output.contains("`<` compares integers"), "{}", r.output);
}

#[test]
fn test_division_by_zero_is_a_statement_error() {
    let r = run("process A\nx = 1 / 0\ny = 5 % (2 - 2)\nexpect 1 == 1\n");
    assert_eq!((r.passed, r.failed), (1, 2), "{}", r.output);
    assert!(r.output.contains("division by zero"), "{}", r.output);
}

/// The nesting limit holds for the new operators too: a parse error, never a stack overflow.
#[test]
fn test_new_operators_respect_the_nesting_limit() {
    let max = ntmm_scenario::parser::MAX_EXPR_DEPTH;
    passes(&format!(
        "process A\nexpect {} == 1\nexpect {}0 == 0\n",
        vec!["1"; max].join("*"),
        "~".repeat(max - 2) // an even count of complements
    ));
    let n = 100_000;
    for deep in [
        vec!["1"; n].join("*"),
        vec!["1"; n].join("<<"),
        vec!["1"; max + 1].join("^"),
        format!("{}1", "~".repeat(n)),
        format!("{}1", "-~".repeat(n / 2)),
    ] {
        let r = run(&format!("process A\nx = {deep}\n"));
        assert_eq!((r.passed, r.failed), (0, 1));
        assert!(
            r.output.contains("nested too deeply"),
            "{}",
            &r.output[..200]
        );
    }
}

#[test]
fn test_reach_constants_are_names() {
    passes(
        r#"
process A
expect FILE_ALL_ACCESS == 0x1F01FF
expect PROCESS_ALL_ACCESS == 0x1FFFFF
expect PROCESS_VM_READ | PROCESS_VM_WRITE | PROCESS_VM_OPERATION | PROCESS_QUERY_INFORMATION == 0x438
expect ViewShare == 1
expect ViewUnmap == 2
expect SectionBasicInformation == 0
expect MemoryBasicInformation == 0
expect FILE_FLAG_WRITE_THROUGH == 0x80000000
expect FILE_FLAG_NO_BUFFERING == 0x20000000
expect MEM_RESERVE_PLACEHOLDER == 0x40000
expect MEM_REPLACE_PLACEHOLDER == 0x4000
expect MEM_PRESERVE_PLACEHOLDER == 2
expect MEM_COALESCE_PLACEHOLDERS == 1
expect MEM_IMAGE == 0x1000000
expect MEM_MAPPED == 0x40000
expect MEM_PRIVATE == 0x20000
"#,
    );
}

/// F90: VirtualProtect with a NULL lpflOldProtect fails with ERROR_NOACCESS and changes nothing.
#[test]
fn test_null_out_parameters_do_what_windows_does() {
    passes(
        r#"
process A
p = VirtualAlloc(NULL, 0x1000, MEM_RESERVE | MEM_COMMIT, PAGE_READWRITE)
expect VirtualProtect(p, 0x1000, PAGE_READONLY, NULL) == FALSE, ERROR_NOACCESS
VirtualQuery(p, &mbi)
expect mbi.Protect == PAGE_READWRITE
expect VirtualQuery(p, NULL) == 0, ERROR_NOACCESS
expect GetSystemInfo(NULL) raises STATUS_ACCESS_VIOLATION
file "f.bin" = "0123456789"
hf = CreateFile("f.bin", GENERIC_READ | GENERIC_WRITE, 0, NULL, OPEN_EXISTING, FILE_ATTRIBUTE_NORMAL, NULL)
# kernel32 test_read_write: a NULL buffer with a length fails; with length 0 succeeds.
n = 99
expect ReadFile(hf, NULL, 10, &n, NULL) == FALSE, ERROR_NOACCESS
expect n == 0
SetLastError(77)
expect ReadFile(hf, NULL, 0, &n, NULL) == TRUE, 77
expect WriteFile(hf, NULL, 10, &n, NULL) == FALSE, ERROR_INVALID_USER_BUFFER
SetLastError(77)
expect WriteFile(hf, NULL, 0, &n, NULL) == TRUE, 77
expect SetFilePointer(hf, 0, NULL, FILE_CURRENT) == 0
# lpNumberOfBytesRead may be NULL only with an OVERLAPPED: the read happens, then the write
# through NULL faults.
expect ReadFile(hf, &data, 4, NULL, NULL) raises STATUS_ACCESS_VIOLATION
expect data == "0123"
expect SetFilePointer(hf, 0, NULL, FILE_CURRENT) == 4
expect WriteFile(hf, "ab", 2, NULL, NULL) raises STATUS_ACCESS_VIOLATION
expect FlushFileBuffers(hf) == TRUE
expect disk "f.bin" == "0123ab6789"
# A NULL lpTargetHandle duplicates without returning the value.
expect DuplicateHandle(A, hf, A, NULL, 0, FALSE, DUPLICATE_SAME_ACCESS) == TRUE
"#,
    );
    // A value that is neither &name nor NULL is a statement error, not a pointer.
    let r = run("process A\nVirtualProtect(0x10000, 0x1000, PAGE_READONLY, 5)\n");
    assert!(r.output.contains("must be &name or NULL"), "{}", r.output);
}

/// `&name` in-out: the value goes in (0 when unset), the output is stored back.
#[test]
fn test_in_out_parameters() {
    passes(
        r#"
process A
size = 0x1801
expect NtAllocateVirtualMemory(A, &base, 0, &size, MEM_RESERVE | MEM_COMMIT, PAGE_READWRITE) == STATUS_SUCCESS
expect base & 0xFFFF == 0
expect size == 0x2000
b = base + 0x1010
s = 0x10
expect NtProtectVirtualMemory(A, &b, &s, PAGE_READONLY, &old) == STATUS_SUCCESS
expect b == base + 0x1000
expect s == 0x1000
expect old == PAGE_READWRITE
fs = 0
expect NtFreeVirtualMemory(A, &base, &fs, MEM_RELEASE) == STATUS_SUCCESS
expect fs == 0x2000
# unset: 0 goes in (size 0 is refused)
expect NtAllocateVirtualMemory(A, &b2, 0, &unset, MEM_COMMIT, PAGE_READWRITE) != STATUS_SUCCESS
"#,
    );
    let r = run("process A\ns = \"text\"\nNtAllocateVirtualMemory(A, &b, 0, &s, MEM_COMMIT, PAGE_READWRITE)\n");
    assert!(r.output.contains("must hold an integer"), "{}", r.output);
}

/// The contract's native examples, in order, with their results; native calls return the
/// NTSTATUS and leave the last error alone (1234 stays).
#[test]
fn test_native_calls_of_the_contract() {
    passes(
        r#"
process A
process B
use A
file "data.bin" = "native data"
hf = CreateFile("data.bin", GENERIC_READ | GENERIC_WRITE, 0, NULL, OPEN_EXISTING, FILE_ATTRIBUTE_NORMAL, NULL)
SetLastError(1234)
expect NtCreateSection(&h, SECTION_ALL_ACCESS, NULL, NULL, PAGE_READWRITE, SEC_COMMIT, hf) == STATUS_SUCCESS, 1234
size = 0x10000
expect NtCreateSection(&hp, SECTION_ALL_ACCESS, "\\BaseNamedObjects\\Foo", &size, PAGE_READWRITE, SEC_COMMIT, NULL) == STATUS_SUCCESS, 1234
expect size == 0x10000
expect NtOpenSection(&ho, SECTION_MAP_READ, "\\BaseNamedObjects\\Foo") == STATUS_SUCCESS, 1234
expect NtMapViewOfSection(h, INVALID_HANDLE_VALUE, &base, 0, 0, &offset, &vsize, ViewShare, 0, PAGE_READWRITE) == STATUS_SUCCESS, 1234
expect read(base, 11) == "native data"
expect offset == 0
expect vsize == 0x1000
expect NtMapViewOfSection(hp, B, &bb, 0, 0, NULL, &bs, ViewShare, 0, PAGE_READWRITE) == STATUS_SUCCESS, 1234
B> write(bb, "in B")
expect NtUnmapViewOfSection(B, bb) == STATUS_SUCCESS, 1234
expect NtQuerySection(h, SectionBasicInformation, &sbi) == STATUS_SUCCESS, 1234
expect sbi.BaseAddress == 0
expect sbi.Attributes == SEC_FILE
expect sbi.Size == 11
ext = 0x3000
expect NtExtendSection(h, &ext) == STATUS_SUCCESS, 1234
expect ext == 0x3000
expect GetFileSize(hf, NULL) == 0x3000
SetLastError(1234)
expect NtQueryVirtualMemory(A, base, MemoryBasicInformation, &mbi) == STATUS_SUCCESS, 1234
expect mbi.Type == MEM_MAPPED
expect mbi.RegionSize == 0x1000
write(base, "NATIVE")
fb = base + 2
fsz = 1
expect NtFlushVirtualMemory(A, &fb, &fsz, &iosb) == STATUS_SUCCESS, 1234
expect fb == base
expect fsz == 0x1000
expect iosb.Status == STATUS_SUCCESS
expect disk "data.bin" offset 0 len 6 == "NATIVE"
expect NtAreMappedFilesTheSame(base, base + 30) == STATUS_SUCCESS, 1234
expect NtClose(h) == STATUS_SUCCESS, 1234
expect NtClose(h) == STATUS_INVALID_HANDLE, 1234
"#,
    );
}

/// Each native call's documented failures at the scenario level: NULL pointers
/// (STATUS_ACCESS_VIOLATION, F90), bad handles (F65), missing rights (F41, F48), misaligned
/// arguments (F54, F56), an unknown information class.
#[test]
fn test_native_call_failures() {
    passes(
        r#"
process A
SetLastError(1234)
size = 0x10000
expect NtCreateSection(NULL, SECTION_ALL_ACCESS, NULL, &size, PAGE_READWRITE, SEC_COMMIT, NULL) == STATUS_ACCESS_VIOLATION, 1234
expect NtCreateSection(&h, SECTION_ALL_ACCESS, NULL, &size, PAGE_READWRITE, SEC_COMMIT, 0x4444) == STATUS_INVALID_HANDLE
expect NtCreateSection(&h, SECTION_ALL_ACCESS, "Foo", &size, PAGE_READWRITE, SEC_COMMIT, NULL) == STATUS_OBJECT_PATH_SYNTAX_BAD
expect NtCreateSection(&h, SECTION_ALL_ACCESS, "\\BaseNamedObjects\\F", &size, PAGE_READWRITE, SEC_COMMIT, NULL) == STATUS_SUCCESS
expect NtCreateSection(&h2, SECTION_ALL_ACCESS, "\\BaseNamedObjects\\F", &size, PAGE_READWRITE, SEC_COMMIT, NULL) == STATUS_OBJECT_NAME_COLLISION
expect NtOpenSection(NULL, SECTION_MAP_READ, "\\BaseNamedObjects\\F") == STATUS_ACCESS_VIOLATION
expect NtOpenSection(&r, SECTION_MAP_READ, NULL) == STATUS_INVALID_PARAMETER
expect NtOpenSection(&r, SECTION_MAP_READ, "\\BaseNamedObjects\\Nope") == STATUS_OBJECT_NAME_NOT_FOUND
expect NtOpenSection(&r, SECTION_MAP_READ, "\\BaseNamedObjects\\F") == STATUS_SUCCESS
expect NtMapViewOfSection(h, A, NULL, 0, 0, NULL, &vs, ViewShare, 0, PAGE_READWRITE) == STATUS_ACCESS_VIOLATION
expect NtMapViewOfSection(h, A, &v, 0, 0, NULL, NULL, ViewShare, 0, PAGE_READWRITE) == STATUS_ACCESS_VIOLATION
expect NtMapViewOfSection(h, NULL, &v, 0, 0, NULL, &vs, ViewShare, 0, PAGE_READWRITE) == STATUS_INVALID_HANDLE
expect NtMapViewOfSection(INVALID_HANDLE_VALUE, A, &v, 0, 0, NULL, &vs, ViewShare, 0, PAGE_READWRITE) == STATUS_OBJECT_TYPE_MISMATCH
expect NtMapViewOfSection(r, A, &v, 0, 0, NULL, &vs, ViewShare, 0, PAGE_READWRITE) == STATUS_ACCESS_DENIED
o = 0x1000
expect NtMapViewOfSection(h, A, &v, 0, 0, &o, &vs, ViewShare, 0, PAGE_READWRITE) == STATUS_MAPPED_ALIGNMENT
v = 0x30001000
expect NtMapViewOfSection(h, A, &v, 0, 0, NULL, &vs, ViewShare, 0, PAGE_READWRITE) == STATUS_MAPPED_ALIGNMENT
expect v == 0x30001000
v = 0
expect NtMapViewOfSection(h, A, &v, 0, 0, NULL, &vs, ViewShare, 0, PAGE_READWRITE) == STATUS_SUCCESS
expect NtUnmapViewOfSection(A, v + 0x20000) == STATUS_NOT_MAPPED_VIEW
expect NtQuerySection(r, SectionBasicInformation, &sbi) == STATUS_ACCESS_DENIED
expect NtQuerySection(0x4444, SectionBasicInformation, &sbi) == STATUS_INVALID_HANDLE
expect NtQuerySection(h, 9, &sbi) == STATUS_INVALID_INFO_CLASS
expect NtQuerySection(h, SectionImageInformation, &sbi) == STATUS_SECTION_NOT_IMAGE
expect NtQuerySection(h, SectionBasicInformation, NULL) == STATUS_ACCESS_VIOLATION
expect NtExtendSection(h, NULL) == STATUS_ACCESS_VIOLATION
n = 0x20000
expect NtExtendSection(r, &n) == STATUS_ACCESS_DENIED
expect NtAllocateVirtualMemory(A, NULL, 0, &n, MEM_COMMIT, PAGE_READWRITE) == STATUS_ACCESS_VIOLATION
expect NtAllocateVirtualMemory(NULL, &p, 0, &n, MEM_COMMIT, PAGE_READWRITE) == STATUS_INVALID_HANDLE
expect NtFreeVirtualMemory(A, &v, NULL, MEM_RELEASE) == STATUS_ACCESS_VIOLATION
z = 0
expect NtFreeVirtualMemory(A, &v, &z, MEM_RELEASE) == STATUS_UNABLE_TO_DELETE_SECTION
expect NtProtectVirtualMemory(A, &v, &n, PAGE_READONLY, NULL) == STATUS_ACCESS_VIOLATION
expect NtProtectVirtualMemory(A, &v, &n, 0, &old) == STATUS_INVALID_PAGE_PROTECTION
expect NtQueryVirtualMemory(A, v, MemoryBasicInformation, NULL) == STATUS_ACCESS_VIOLATION
expect NtQueryVirtualMemory(A, v, 99, &mbi) == STATUS_INVALID_INFO_CLASS
expect NtFlushVirtualMemory(A, &v, &z, NULL) == STATUS_ACCESS_VIOLATION
expect NtFlushVirtualMemory(A, &v, &z, &iosb) == STATUS_NOT_MAPPED_DATA
expect NtAreMappedFilesTheSame(v, NULL) == STATUS_INVALID_ADDRESS
expect NtClose(0x4444) == STATUS_INVALID_HANDLE, 1234
"#,
    );
    let r = run("process A\nNtQueryVirtualMemory(A, 0x10000, MemoryRegionInformation, &m)\n");
    assert!(r.output.contains("is not modelled"), "{}", r.output);
}

/// Native names follow the caller's session (SCENARIO.md "Sessions and privileges (reach)",
/// "Native calls (reach)"): `\Sessions\N\BaseNamedObjects\X` is the `Local\X` of a process of
/// session N, and `GetCurrentProcess()` works as the process argument of a native call.
#[test]
fn test_native_names_resolve_in_the_callers_session() {
    passes(
        r#"
process A
h = CreateFileMapping(INVALID_HANDLE_VALUE, NULL, PAGE_READWRITE, 0, 0x10000, "Local\\Foo")
expect NtMapViewOfSection(h, GetCurrentProcess(), &base, 0, 0, &offset, &size, ViewShare, 0, PAGE_READWRITE) == STATUS_SUCCESS
expect size == 0x10000
process B
B> expect NtOpenSection(&hb, SECTION_MAP_READ, "\\Sessions\\1\\BaseNamedObjects\\Foo") == STATUS_SUCCESS
process S session 2
S> expect NtOpenSection(&hs, SECTION_MAP_READ, "\\Sessions\\2\\BaseNamedObjects\\Foo") == STATUS_OBJECT_NAME_NOT_FOUND
S> hs2 = CreateFileMapping(INVALID_HANDLE_VALUE, NULL, PAGE_READWRITE, 0, 0x1000, "Local\\Foo")
S> expect NtOpenSection(&hs, SECTION_MAP_READ, "\\Sessions\\2\\BaseNamedObjects\\Foo") == STATUS_SUCCESS
# The new section is built before the name is found: a size of 0 fails first.
S> expect NtCreateSection(&hc, SECTION_ALL_ACCESS, "\\Sessions\\2\\BaseNamedObjects\\Foo", &sz, PAGE_READWRITE, SEC_COMMIT, NULL) == STATUS_INVALID_PARAMETER_4
sz = 0x1000
S> expect NtCreateSection(&hc, SECTION_ALL_ACCESS, "\\Sessions\\2\\BaseNamedObjects\\Foo", &sz, PAGE_READWRITE, SEC_COMMIT, NULL) == STATUS_OBJECT_NAME_COLLISION
"#,
    );
}

/// A native call's result is shown as its NTSTATUS name with the last error it left unchanged,
/// and in `--json` as a typed `status` object (docs/JSON.md).
#[test]
fn test_native_results_name_their_status_in_text_and_json() {
    let src = "process A\nSetLastError(1234)\nNtClose(0x44)\n";
    let text = run(src).output;
    assert!(
        text.contains("NtClose(0x44) => STATUS_INVALID_HANDLE (last error unchanged: 1234)"),
        "{text}"
    );
    let json = run_source(
        "t.ntm",
        src,
        &Options {
            json: true,
            ..Options::default()
        },
    )
    .output;
    let last: serde_json::Value = serde_json::from_str(json.lines().nth(2).unwrap()).unwrap();
    assert_eq!(last["status"]["name"], "STATUS_INVALID_HANDLE");
    assert_eq!(last["status"]["value"], 0xC000_0008u32);
    assert_eq!(last["last_error"], 1234);
    let win32: serde_json::Value = serde_json::from_str(json.lines().nth(1).unwrap()).unwrap();
    assert!(
        win32["status"].is_null(),
        "a Win32 call has no status: {win32}"
    );
}

//! The scenario language: every construct of SCENARIO.md, parser robustness, determinism.
#![allow(clippy::tests_outside_test_module)]

use ntmm_scenario::*;
use proptest::prelude::*;

fn run(src: &str) -> FileReport {
    run_source("t.ntm", src, &Options::default())
}

#[test]
fn test_every_construct_of_the_spec_runs() {
    let src = r#"
machine frames=64 pagefile=256 workingset=32 writer=eager
file "data.bin" = "initial contents"
file "big.bin" size 0x3456
process A
h = CreateFileMapping(INVALID_HANDLE_VALUE, NULL, PAGE_READWRITE, 0, 0x10000, "Local\\Foo")
expect GetLastError() == ERROR_SUCCESS
p = MapViewOfFileA(h, FILE_MAP_WRITE, 0, 0x0, 0)
write(p + 0x10, "hello")
write32(p, 0x1a2b3c4d)
x = read(p + 0x10, 5)
y = read32(p)
expect x == "hello"
expect y == 0x1a2b3c4d
expect read8(p) == 0x4d
expect read16(p) == 0x3c4d
expect read64(p) == 0x1a2b3c4d
write8(p + 1, 0xFF)
write16(p + 2, 0xBEEF)
write64(p + 8, 0x0102030405060708)
expect read(p, 4) == hex"4d ff ef be"
VirtualProtect(p, 0x1000, PAGE_READONLY, &old)
expect old == PAGE_READWRITE
expect write8(p, 1) raises STATUS_ACCESS_VIOLATION
VirtualQuery(p, &mbi)
expect mbi.Protect == PAGE_READONLY
expect mbi.State == MEM_COMMIT
expect mbi.Type == MEM_MAPPED
GetSystemInfo(&si)
expect si.dwPageSize == 0x1000
expect si.dwAllocationGranularity == 0x10000
process B from A inherit
process C from A
use A
hf = CreateFileW("data.bin", GENERIC_READ | GENERIC_WRITE, FILE_SHARE_READ, NULL, OPEN_EXISTING, FILE_ATTRIBUTE_NORMAL, NULL)
ReadFile(hf, &data, 7, &n, NULL)
expect data == "initial"
expect n == 7
WriteFile(hf, "X", 1, &n, NULL)
expect SetFilePointer(hf, 0, NULL, FILE_BEGIN) == 0
expect GetFileSize(hf, &hi) == 16
expect hi == 0
expect FlushFileBuffers(hf) == TRUE
expect disk "data.bin" == "initialXcontents"
expect disk "data.bin" offset 7 len 1 == "X"
DuplicateHandle(A, h, B, &hb, FILE_MAP_READ, FALSE, 0)
B> q = MapViewOfFile(hb, FILE_MAP_READ, 0, 0, 0)
B> expect read(q + 0x10, 5) == "hello"
expect CreateFileMapping(hf, NULL, PAGE_READWRITE, 0, 0, NULL) != NULL
e = CreateEventA(NULL, TRUE, FALSE, "ev")
expect OpenEvent(EVENT_MODIFY_STATE, FALSE, "ev") != NULL
SetLastError(1234)
expect GetLastError() == 1234
expect 1 | 2 & 3 + 4 == 3
expect (1 | 2) & 3 == 3
expect -1 == 0xFFFFFFFFFFFFFFFF
expect 0x1_0000 == 65536
expect "abc" == hex"61 62 63"
expect 97 != "a"
expect "a\x41\t" == hex"61 41 09"
x = VirtualAlloc(NULL, 0x1000, MEM_COMMIT | MEM_RESERVE, \
                 PAGE_READWRITE)   # a continued line
expect x != NULL
expect VirtualFree(x, 0, MEM_RELEASE) == TRUE
trim A
trim all
flush-modified
show pte p
show pfn 0
show vad A
show section h
show memory
expect UnmapViewOfFile(p) == TRUE
expect CloseHandle(h) == TRUE
expect DeleteFile("big.bin") == TRUE
exit B
"#;
    let r = run(src);
    assert_eq!((r.passed, r.failed), (38, 0), "{}", r.output);
}

#[test]
fn test_failures_are_reported_with_expected_and_actual() {
    let r = run("process A\nexpect 1 == 2\nexpect GetLastError() == 5, ERROR_ACCESS_DENIED\n");
    assert_eq!((r.passed, r.failed), (0, 2));
    assert!(
        r.output.contains("FAIL t.ntm:2: expect 1 == 2"),
        "{}",
        r.output
    );
    assert!(r.output.contains("expected: 2"));
    assert!(r.output.contains("actual:   1"));
}

#[test]
fn test_unanticipated_exception_counts_as_a_failure_and_the_run_goes_on() {
    let r = run("process A\nwrite8(0x10000, 1)\nexpect 1 == 1\n");
    assert_eq!((r.passed, r.failed), (1, 1), "{}", r.output);
    assert!(r.output.contains("STATUS_ACCESS_VIOLATION"));
}

#[test]
fn test_a_call_before_any_process_is_an_error() {
    let r = run("h = GetLastError()\n");
    assert_eq!(r.failed, 1);
    assert!(r.output.contains("before any `process`"));
}

/// Sizes: a `file ... size` above 1 GiB is a statement error that says so; `read(ADDR, N)`
/// raises at the first inaccessible page however large `N` is, and a read that finds more than
/// 64 MiB of data is a statement error that says so.
#[test]
fn test_size_limits_are_stated_and_long_reads_raise_where_memory_ends() {
    let r = run(concat!(
        "file \"big.bin\" size 0x40000001\n",
        "process A\n",
        "h = CreateFileMapping(INVALID_HANDLE_VALUE, NULL, PAGE_READWRITE, 0, 0x10000, NULL)\n",
        "p = MapViewOfFile(h, FILE_MAP_WRITE, 0, 0, 0)\n",
        "expect read(p, 0x7fffffffffffffff) raises STATUS_ACCESS_VIOLATION\n",
        "expect read(p, 0x10000000000) raises STATUS_ACCESS_VIOLATION\n",
    ));
    assert_eq!((r.passed, r.failed), (2, 1), "{}", r.output);
    assert!(r.output.contains("larger than the 1 GiB"), "{}", r.output);
    assert!(
        r.output.contains("STATUS_ACCESS_VIOLATION at 0x20000"),
        "{}",
        r.output
    );
    // ReadFile's count is a DWORD (the high bits of a larger value are dropped, as in C). A
    // read — ReadFile or read(ADDR, N) — that finds more than 64 MiB of data is a statement
    // error saying so; up to that it returns everything.
    let r = run(concat!(
        "file \"big.bin\" size 0x4000010\n",
        "process A\n",
        "hf = CreateFile(\"big.bin\", GENERIC_READ, 0, NULL, OPEN_EXISTING, FILE_ATTRIBUTE_NORMAL, NULL)\n",
        "expect ReadFile(hf, &d, 0x100000003, &n, NULL) == TRUE\n",
        "expect n == 3\n",
        "expect ReadFile(hf, &d, 0x4000000, &n, NULL) == TRUE\n",
        "expect n == 0x4000000\n",
        "expect SetFilePointer(hf, 0, NULL, FILE_BEGIN) == 0\n",
        "ReadFile(hf, &d, 0xffffffff, &n, NULL)\n",
        "h = CreateFileMapping(INVALID_HANDLE_VALUE, NULL, PAGE_READWRITE, 0, 0x4010000, NULL)\n",
        "p = MapViewOfFile(h, FILE_MAP_READ, 0, 0, 0)\n",
        "x = read(p, 0x4010000)\n",
        "expect disk \"big.bin\" offset 0x4000008 len 0x100 == hex\"00 00 00 00 00 00 00 00\"\n",
        "expect disk \"big.bin\" == \"\"\n",
    ));
    assert_eq!((r.passed, r.failed), (6, 3), "{}", r.output);
    assert!(
        r.output
            .contains("more than the 64 MiB a scenario reads at once; check a part"),
        "{}",
        r.output
    );
    assert!(
        r.output
            .contains("ReadFile of 0xffffffff bytes found more than the 64 MiB"),
        "{}",
        r.output
    );
    assert!(
        r.output
            .contains("read of 0x4010000 bytes found more than the 64 MiB"),
        "{}",
        r.output
    );
}

/// Expressions nest up to `MAX_EXPR_DEPTH` levels and evaluate right; deeper ones — by
/// parentheses, operator chains or unary minus, here 100,000 deep — are a parse error, never a
/// stack overflow.
#[test]
fn test_expression_depth_is_bounded_by_a_parse_error() {
    let max = ntmm_scenario::parser::MAX_EXPR_DEPTH;
    let ok = format!(
        "process A\nx = {}1{}\nexpect x == 1\ny = {}\nexpect y == {max}\nexpect -(-{}) == 7\n",
        "(".repeat(max - 1),
        ")".repeat(max - 1),
        vec!["1"; max].join("+"),
        "7",
    );
    let r = run(&ok);
    assert_eq!((r.passed, r.failed), (3, 0), "{}", r.output);
    let n = 100_000;
    for deep in [
        format!("{}1{}", "(".repeat(n), ")".repeat(n)),
        vec!["1"; n].join("+"),
        format!("{}1", "-".repeat(n)),
        format!("{}1", "ReadFile(".repeat(n)),
        vec!["1"; max + 1].join("|"),
    ] {
        let r = run(&format!("process A\nx = {deep}\n"));
        assert_eq!((r.passed, r.failed), (0, 1));
        assert!(
            r.output.contains("nested too deeply"),
            "{}",
            &r.output[..200.min(r.output.len())]
        );
    }
}

#[test]
fn test_a_file_that_does_not_parse_runs_nothing() {
    let r = run("process A\nexpect 1 == 1\nh = NoSuchFunction(1)\n");
    assert_eq!((r.passed, r.failed), (0, 1));
    assert!(r.output.contains("t.ntm:3:5: parse error"), "{}", r.output);
}

#[test]
fn test_last_error_is_per_process_and_untouched_by_the_runner() {
    let r = run("process A\nSetLastError(7)\nprocess B\nSetLastError(9)\nA> expect GetLastError() == 7\nexpect GetLastError() == 9\n");
    assert_eq!((r.passed, r.failed), (2, 0), "{}", r.output);
}

#[test]
fn test_same_scenario_same_output_byte_for_byte() {
    let src = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../examples/00_demo_tour.ntm"
    ))
    .unwrap();
    let opts = Options {
        trace: true,
        ..Options::default()
    };
    let a = run_source("demo", &src, &opts);
    let b = run_source("demo", &src, &opts);
    assert_eq!(a, b);
    assert_eq!(a.failed, 0, "{}", a.output);
}

#[test]
fn test_json_lines_are_valid_and_carry_the_protocol_fields() {
    let opts = Options {
        json: true,
        ..Options::default()
    };
    let r = run_source("j.ntm", "process A\nh = OpenFileMapping(FILE_MAP_READ, FALSE, \"nope\")\nexpect read8(0x10000) raises STATUS_ACCESS_VIOLATION\n", &opts);
    let lines: Vec<serde_json::Value> = r
        .output
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(lines.len(), 3);
    assert_eq!(lines[1]["last_error"], 2);
    assert_eq!(lines[1]["last_error_name"], "ERROR_FILE_NOT_FOUND");
    assert_eq!(lines[1]["process"], "A");
    assert_eq!(lines[2]["pass"], true);
    assert_eq!(lines[2]["exception"]["name"], "STATUS_ACCESS_VIOLATION");
    assert_eq!(lines[2]["exception"]["address"], 0x10000);
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2000))]

    /// Random text never panics the parser; errors carry a line and column inside the input.
    #[test]
    fn prop_parser_never_panics(src in "\\PC{0,200}") {
        if let Err(e) = parse(&src) {
            prop_assert!(e.line >= 1 && e.col >= 1);
        }
    }

    /// Token soup built from the language's own pieces never panics the parser or the runner.
    #[test]
    fn prop_token_soup_never_panics(parts in prop::collection::vec(prop_oneof![
        Just("process A\n"), Just("x = "), Just("read("), Just("write8("), Just(")"), Just(","),
        Just("0x10000"), Just("\"s\""), Just("hex\"00\""), Just("expect "), Just(" == "), Just(" raises "),
        Just("STATUS_ACCESS_VIOLATION"), Just("CreateFileMapping("), Just("INVALID_HANDLE_VALUE"), Just("&o"),
        Just("\n"), Just("show memory\n"), Just("trim all\n"), Just("-"), Just("|"), Just("("), Just("\\\n"),
    ], 0..40)) {
        let src: String = parts.concat();
        let _ = run_source("fuzz.ntm", &src, &Options::default());
    }
}

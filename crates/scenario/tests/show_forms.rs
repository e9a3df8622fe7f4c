//! `show` forms read as WinDbg's `!pte`, `!pfn`, `!ca`, `!vad` and `!memusage` lay them out:
//! named fields, hexadecimal as WinDbg prints it, the x64 PTE flag string, and ntmm's object
//! identities (`ca#N`, `seg#N[0xI]`, `A!0x10000`) where WinDbg prints a kernel address. The
//! expected lines are written by hand from the scenario (nt_internals §2.2–§2.5, §4.1, §4.2).

use ntmm_scenario::*;

fn run(src: &str) -> String {
    let r = run_source("t.ntm", src, &Options::default());
    assert_eq!(r.failed, 0, "{}", r.output);
    r.output
}

fn has(out: &str, line: &str) {
    assert!(
        out.lines().any(|l| l.trim() == line),
        "no line {line:?} in:\n{out}"
    );
}

const SRC: &str = r#"machine frames=64 pagefile=256 workingset=32
file "data.bin" = "some file data"
process A
hf = CreateFile("data.bin", GENERIC_READ | GENERIC_WRITE, 0, NULL, OPEN_EXISTING, FILE_ATTRIBUTE_NORMAL, NULL)
h = CreateFileMapping(hf, NULL, PAGE_READWRITE, 0, 0, NULL)
p = MapViewOfFile(h, FILE_MAP_WRITE, 0, 0, 0)
write(p, "x")
x = VirtualAlloc(NULL, 0x3000, MEM_COMMIT | MEM_RESERVE, PAGE_READWRITE)
show pte x
write(x, "y")
show pte x
show section h
show vad A
trim A
show pte x
show pte p
flush-modified
show pfn 1
show memory
"#;

/// `!pte`: the PTE named by process and address, its bits in 16 hex digits, `pfn N` and the
/// flag string for a valid PTE, the decoded software fields for an invalid one.
#[test]
fn test_show_pte_reads_as_windbg_pte() {
    let out = run(SRC);
    has(&out, "VA 0000000000020000");
    has(&out, "PTE at A!0x20000");
    // Committed, never touched: the PTE is still zero, the VAD decides (§2.3, §2.6).
    has(&out, "contains 0000000000000000");
    has(&out, "not valid (zero: never touched, the VAD decides)");
    // Valid, written: user, writable, accessed, dirty, no-execute (§2.2).
    has(&out, "pfn 1         ---DA--UW-V");
    has(&out, "Protect: 4 - ReadWrite");
    // Trimmed private page: transition to its frame (§2.3).
    has(&out, "Transition: 1");
    // The view page after the trim: the process PTE needs the VAD; the prototype PTE is in
    // transition (§2.4).
    has(&out, "Proto: VAD");
    has(&out, "Prototype PTE at seg#1[0x0]");
    has(&out, "Transition: 0");
    assert!(!out.contains("HardwarePte {"), "no Rust dumps: {out}");
}

/// `!pfn`: `PFN 0000000N`, flink/blink on its list, pteaddress as an identity, reftotal, the
/// list's name and the restore (original) PTE decoded (§2.5, §4.1).
#[test]
fn test_show_pfn_reads_as_windbg_pfn() {
    let out = run(SRC);
    has(&out, "PFN 00000001 at frame 0x1");
    has(&out, "reftotal    00000000  Cached");
    has(&out, "Standby");
    has(
        &out,
        "restore pte 0000000100000080 (PageFile: 0 Offset: 1, Protect: 4 - ReadWrite)",
    );
    assert!(out.contains("pteaddress A!0x20000"), "{out}");
}

/// `!ca`: the control area's counts and flags, its segment's PTE count and size, its
/// subsection (§1.3–§1.5).
#[test]
fn test_show_section_reads_as_windbg_ca() {
    let out = run(SRC);
    has(&out, "ControlArea  @ ca#2");
    has(&out, "Segment      seg#1");
    has(
        &out,
        "Section Ref        1  Pfn Ref        1  Mapped Views    1",
    );
    has(&out, "User Ref           2");
    has(&out, "Flags        File");
    has(&out, "File Object  file#1");
    has(&out, "Segment @ seg#1");
    has(&out, "Total Ptes               1");
    has(&out, "Segment Size          1000");
    has(&out, "Base Pte     seg#1[0x0]  Ptes In Subsect        1");
}

/// `!vad`: start and end as page numbers, commit, type, protection, and the view's control
/// area, segment and file (§7.1).
#[test]
fn test_show_vad_reads_as_windbg_vad() {
    let out = run(SRC);
    has(
        &out,
        "VAD                      Start         End  Commit Type    Protection         Name",
    );
    has(&out, "A!0x10000                   10          10       0 Mapped  READWRITE          ca#2 seg#1 File section file#1 from seg#1[0x0]");
    has(
        &out,
        "A!0x20000                   20          22       3 Private READWRITE",
    );
    has(&out, "0000000000020000  0000000000023000  0000000000003000  MEM_PRIVATE MEM_COMMIT  4         0000000000020000");
}

/// `!memusage`: one line per page list in pages and kilobytes, the total equal to the
/// machine's frames (§4.2).
#[test]
fn test_show_memory_reads_as_windbg_memusage() {
    let out = run(SRC);
    has(&out, "Zeroed:     62 (   248 kb)");
    has(&out, "Standby:      2 (     8 kb)");
    has(&out, "Modified:      0 (     0 kb)");
    has(&out, "Active/Valid:      0 (     0 kb)");
    has(&out, "TOTAL:     64 (   256 kb)");
    has(&out, "Pagefile in use:      1 (     4 kb)");
}

//! Scenario fuzzing: the parser and the runner fed random text and mutations of the shipped
//! examples (bytes deleted, duplicated and inserted, lines swapped, dropped and repeated, tokens
//! spliced in, text truncated). Nothing panics; a parse error points inside the text; after every
//! run that started a machine, its invariants hold.
#![allow(clippy::tests_outside_test_module)]

use ntmm::scenario::{parse, Options, Runner};
use ntmm::vmm::{VmmConfig, WriterPolicy};
use proptest::prelude::*;
use std::path::Path;

fn examples() -> Vec<String> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("examples");
    let mut texts: Vec<(String, String)> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|x| x == "ntm"))
        .map(|p| {
            (
                p.display().to_string(),
                std::fs::read_to_string(&p).unwrap(),
            )
        })
        .collect();
    texts.sort();
    assert!(texts.len() >= 10, "the examples are missing");
    texts.into_iter().map(|(_, t)| t).collect()
}

#[derive(Clone, Debug)]
enum Mutation {
    DeleteBytes(usize, usize),
    DuplicateBytes(usize, usize),
    InsertToken(usize, &'static str),
    SwapLines(usize, usize),
    DropLine(usize),
    RepeatLine(usize),
    Truncate(usize),
    ReplaceNumber(usize, u64),
}

const TOKENS: &[&str] = &[
    "(",
    ")",
    ",",
    "\"",
    "\n",
    "\\\n",
    " = ",
    "expect ",
    " raises ",
    "process B\n",
    "0xFFFFFFFFFFFFFFFF",
    "-1",
    "INVALID_HANDLE_VALUE",
    "NULL",
    "hex\"zz\"",
    "#",
    "show memory\n",
    "trim all\n",
    "UnmapViewOfFile(",
    "CloseHandle(",
    "MapViewOfFile(",
    "\u{00e9}",
    "\t",
    // The reach syntax: operators, ordered comparisons, NULL and in-out parameters, native
    // calls.
    " * ",
    " / ",
    " % ",
    " << ",
    " >> ",
    " ^ ",
    "~",
    " < ",
    " >= ",
    "&x",
    "&base",
    "NtMapViewOfSection(",
    "NtClose(",
    "NtAreMappedFilesTheSame(",
    "NtProtectVirtualMemory(",
    // I/O faults, sessions and temporary files (additions of 2026-11-30).
    "fail read \"log.bin\" page 2\n",
    "fail write \"log.bin\" page 0 always\n",
    "fail read pagefile\n",
    "fail write pagefile always\n",
    "heal\n",
    " page ",
    " always",
    " session 0",
    " session 2 user",
    " user",
    "process V from A session 2 user\n",
    "GetTempFileName(",
    "GetTempPath(260, &t)\n",
    "GetCurrentProcess()",
    "OpenProcess(PROCESS_VM_READ, FALSE, ",
    "ReadProcessMemory(",
    "WriteProcessMemory(",
    "VirtualAllocEx(",
    "VirtualProtectEx(",
    "VirtualQueryEx(",
    "MapViewOfFile2(",
    "UnmapViewOfFile2(",
    "UnmapViewOfFileEx(",
    "ReadProcessMemory(B, 0x10000, &d, 0x10000, &n)\n",
    "WriteProcessMemory(GetCurrentProcess(), 0x10000, \"x\", 1, NULL)\n",
    "exit B\n",
    // Resource counters (explain).
    "GetProcessMemoryInfo(A, &pmc)\n",
    "QueryWorkingSetEx(A, p, &ws)\n",
    "GetPerformanceInfo(&perf)\n",
    "EmptyWorkingSet(",
    "SetProcessWorkingSetSize(A, -1, -1)\n",
    "SetProcessWorkingSetSize(",
    "NtmmFaultCounters(B, &f)\n",
    "NtmmPageLists(&l)\n",
    "NtmmIoCounters(&io)\n",
    "pmc.WorkingSetSize",
    "ws.ShareCount",
    // Placeholders (F68-F72).
    "VirtualAlloc2(NULL, NULL, 0x20000, MEM_RESERVE | MEM_RESERVE_PLACEHOLDER, PAGE_NOACCESS, NULL, 0)\n",
    "VirtualAlloc2(",
    "VirtualFree(0x10000, 0x1000, MEM_RELEASE | MEM_PRESERVE_PLACEHOLDER)\n",
    "VirtualFree(0x10000, 0x20000, MEM_RELEASE | MEM_COALESCE_PLACEHOLDERS)\n",
    "MapViewOfFile3(h, NULL, 0x10000, 0, 0x1000, MEM_REPLACE_PLACEHOLDER, PAGE_READWRITE, NULL, 0)\n",
    "MapViewOfFile3(",
    "MapViewOfFileFromApp(",
    "UnmapViewOfFile2(GetCurrentProcess(), 0x10000, MEM_PRESERVE_PLACEHOLDER)\n",
    "NtUnmapViewOfSectionEx(",
    "NtMapViewOfSectionEx(",
    "NtAllocateVirtualMemoryEx(",
    " | MEM_REPLACE_PLACEHOLDER",
    // Images.
    "image \"app.dll\" base 0x180000000 section \".t\" rx \"c\"\n",
    " section \".s\" rws size 0x1000",
    " section ",
    " base ",
    " image \"app.exe\"",
    "LoadLibrary(\"counter.dll\")",
    "FreeLibrary(",
    "SEC_IMAGE",
    "PAGE_READONLY | SEC_IMAGE",
];

fn mutation() -> impl Strategy<Value = Mutation> {
    prop_oneof![
        (any::<usize>(), 1..40usize).prop_map(|(a, n)| Mutation::DeleteBytes(a, n)),
        (any::<usize>(), 1..80usize).prop_map(|(a, n)| Mutation::DuplicateBytes(a, n)),
        (any::<usize>(), prop::sample::select(TOKENS))
            .prop_map(|(a, t)| Mutation::InsertToken(a, t)),
        (any::<usize>(), any::<usize>()).prop_map(|(a, b)| Mutation::SwapLines(a, b)),
        any::<usize>().prop_map(Mutation::DropLine),
        any::<usize>().prop_map(Mutation::RepeatLine),
        any::<usize>().prop_map(Mutation::Truncate),
        (
            any::<usize>(),
            prop_oneof![Just(0u64), Just(u64::MAX), Just(0x10000), any::<u64>()]
        )
            .prop_map(|(a, v)| Mutation::ReplaceNumber(a, v)),
    ]
}

/// The nearest char boundary at or below `i % (len + 1)`.
fn boundary(s: &str, i: usize) -> usize {
    let mut i = i % (s.len() + 1);
    while !s.is_char_boundary(i) {
        i -= 1;
    }
    i
}

fn apply(text: &mut String, m: &Mutation) {
    match *m {
        Mutation::DeleteBytes(a, n) => {
            let a = boundary(text, a);
            let b = boundary(text, (a + n).min(text.len()));
            text.replace_range(a..b.max(a), "");
        }
        Mutation::DuplicateBytes(a, n) => {
            let a = boundary(text, a);
            let b = boundary(text, (a + n).min(text.len())).max(a);
            let piece = text[a..b].to_string();
            text.insert_str(b, &piece);
        }
        Mutation::InsertToken(a, t) => {
            let a = boundary(text, a);
            text.insert_str(a, t);
        }
        Mutation::SwapLines(..) | Mutation::DropLine(_) | Mutation::RepeatLine(_) => {
            let mut lines: Vec<String> = text.lines().map(str::to_string).collect();
            if lines.is_empty() {
                return;
            }
            let n = lines.len();
            match *m {
                Mutation::SwapLines(a, b) => lines.swap(a % n, b % n),
                Mutation::DropLine(a) => {
                    lines.remove(a % n);
                }
                Mutation::RepeatLine(a) => {
                    let l = lines[a % n].clone();
                    lines.insert(a % n, l);
                }
                _ => unreachable!("only line mutations reach here"),
            }
            *text = lines.join("\n");
        }
        Mutation::Truncate(a) => {
            let a = boundary(text, a);
            text.truncate(a);
        }
        Mutation::ReplaceNumber(a, v) => {
            // Replace the first number at or after a point with another.
            let a = boundary(text, a);
            if let Some(start) = text[a..].find(|c: char| c.is_ascii_digit()).map(|i| a + i) {
                let end = text[start..]
                    .find(|c: char| !c.is_ascii_alphanumeric())
                    .map_or(text.len(), |i| start + i);
                text.replace_range(start..end, &format!("{v:#x}"));
            }
        }
    }
}

/// Parses and runs a text on a small machine; checks what must hold whatever the text.
fn check(src: &str) -> Result<(), TestCaseError> {
    let lines = src.lines().count().max(1);
    match parse(src) {
        Err(e) => {
            prop_assert!(
                e.line >= 1 && e.line <= lines + 1,
                "line {} of {}",
                e.line,
                lines
            );
            prop_assert!(e.col >= 1);
        }
        Ok(script) => {
            let opts = Options {
                machine: VmmConfig {
                    frames: 16,
                    pagefile_pages: 512,
                    working_set_max: 12,
                    writer: WriterPolicy::Lazy,
                },
                ..Options::default()
            };
            let mut r = Runner::new("fuzz.ntm", &opts);
            // The invariants hold after every statement, not only at the end.
            let mut broken = None;
            r.run_script_observed(&script, |r, stmt| {
                if broken.is_none() {
                    if let Some(Err(v)) = r.system_if_started().map(|s| s.check_invariants()) {
                        broken = Some(format!("after line {} ({}): {v}", stmt.line, stmt.text));
                    }
                }
            });
            if let Some(b) = broken {
                return Err(TestCaseError::fail(b));
            }
            if let Some(s) = r.system_if_started() {
                s.check_invariants().map_err(TestCaseError::fail)?;
            }
            let (passed, failed) = r.counts();
            let report = r.report();
            prop_assert_eq!((report.passed, report.failed), (passed, failed));
        }
    }
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(1000))]

    /// Mutated examples: one to eight mutations of one shipped lesson.
    #[test]
    fn fuzz_mutated_examples(
        which in any::<prop::sample::Index>(),
        ms in prop::collection::vec(mutation(), 1..8),
    ) {
        let texts = examples();
        let mut text = texts[which.index(texts.len())].clone();
        for m in &ms {
            apply(&mut text, m);
        }
        check(&text)?;
    }

    /// Random text, printable and not.
    #[test]
    fn fuzz_random_text(src in "(\\PC|\n|\\\\|\"|\\(|\\)){0,300}") {
        check(&src)?;
    }
}

/// An integer operand: a literal, a variable, a constant, or a nested expression.
fn operand() -> impl Strategy<Value = String> {
    let leaf = prop_oneof![
        any::<u64>().prop_map(|v| format!("{v:#x}")),
        (0u64..70).prop_map(|v| v.to_string()),
        prop::sample::select(vec![
            "x",
            "base",
            "size",
            "h",
            "A",
            "NULL",
            "PAGE_READWRITE",
            "ViewShare"
        ])
        .prop_map(str::to_string),
    ];
    leaf.prop_recursive(4, 24, 2, |inner| {
        let ops = prop::sample::select(vec!["|", "^", "&", "<<", ">>", "+", "-", "*", "/", "%"]);
        prop_oneof![
            (inner.clone(), ops, inner.clone()).prop_map(|(a, o, b)| format!("({a} {o} {b})")),
            inner.clone().prop_map(|a| format!("~{a}")),
            inner.prop_map(|a| format!("-{a}")),
        ]
    })
}

/// An argument: a value, NULL, or an in-out `&name`.
fn argument() -> impl Strategy<Value = String> {
    prop_oneof![
        3 => operand(),
        1 => Just("NULL".to_string()),
        2 => prop::sample::select(vec!["&x", "&base", "&size", "&h", "&old", "&mbi", "&sbi", "&iosb"])
            .prop_map(str::to_string),
        1 => Just("\"\\\\BaseNamedObjects\\\\F\"".to_string()),
    ]
}

/// A statement of the reach syntax: a native call (any arity, any argument), an assignment of
/// an operator expression, or an ordered expectation.
fn reach_statement() -> impl Strategy<Value = String> {
    let native = (
        prop::sample::select(ntmm::scenario::native::NATIVE_FUNCTIONS.to_vec()),
        prop::collection::vec(argument(), 10),
    )
        .prop_map(|((f, arity), mut args)| {
            args.truncate(arity);
            format!("expect {f}({}) == STATUS_SUCCESS", args.join(", "))
        });
    let cmp = prop::sample::select(vec!["==", "!=", "<", "<=", ">", ">="]);
    prop_oneof![
        3 => native,
        1 => operand().prop_map(|e| format!("x = {e}")),
        1 => (operand(), cmp, operand()).prop_map(|(a, c, b)| format!("expect {a} {c} {b}")),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(300))]

    /// Scenarios of the reach syntax: native calls with NULL, in-out and wild arguments, and
    /// operator expressions (division by zero included) after a set-up that gives the names
    /// live values.
    #[test]
    fn fuzz_reach_syntax(lines in prop::collection::vec(reach_statement(), 1..25)) {
        let src = format!(
            "process A\nsize = 0x10000\nNtCreateSection(&h, SECTION_ALL_ACCESS, NULL, &size, PAGE_READWRITE, SEC_COMMIT, NULL)\n\
             NtMapViewOfSection(h, A, &base, 0, 0, NULL, &size, ViewShare, 0, PAGE_READWRITE)\n{}\n",
            lines.join("\n")
        );
        // Every generated line is valid syntax: the whole scenario runs.
        prop_assert!(parse(&src).is_ok(), "{:?}", parse(&src).err());
        check(&src)?;
    }
}

/// One `section` of an `image` line: random flags (valid or not), data and sizes.
fn image_section() -> impl Strategy<Value = String> {
    (
        prop::sample::select(vec![
            "r", "rw", "rx", "rws", "rwxs", "x", "s", "w", "rr", "q", "",
        ]),
        prop::option::of("[a-z ]{0,40}"),
        prop::option::of(prop_oneof![0u64..0x4000, Just(0x400_0000u64), any::<u64>()]),
    )
        .prop_map(|(flags, data, size)| {
            let mut s = format!("section \".{flags}\" {flags}");
            if let Some(d) = data {
                s += &format!(" \"{d}\"");
            }
            if let Some(n) = size {
                s += &format!(" size {n:#x}");
            }
            s
        })
}

/// A statement on images: the directive, a process running the image, loads and frees,
/// accesses at the image base.
fn image_statement() -> impl Strategy<Value = String> {
    let base = prop_oneof![
        Just(0x1_8000_0000u64),
        Just(0x10000),
        any::<u64>(),
        (1u64..0x800).prop_map(|k| k << 16)
    ];
    prop_oneof![
        2 => (base, prop::collection::vec(image_section(), 0..4))
            .prop_map(|(b, ss)| format!("image \"i.dll\" base {b:#x} {}", ss.join(" "))),
        1 => Just("process P image \"i.dll\"".to_string()),
        3 => Just("b = LoadLibrary(\"i.dll\")".to_string()),
        2 => Just("FreeLibrary(b)".to_string()),
        2 => (0u64..0x6000, any::<u8>()).prop_map(|(o, v)| format!("write8(b + {o:#x}, {v})")),
        2 => (0u64..0x6000).prop_map(|o| format!("x = read8(b + {o:#x})")),
        1 => Just("hf = CreateFile(\"i.dll\", GENERIC_READ | GENERIC_WRITE, 7, NULL, OPEN_EXISTING, 0, NULL)".to_string()),
        1 => Just("h = CreateFileMapping(hf, NULL, PAGE_READONLY | SEC_IMAGE, 0, 0, NULL)".to_string()),
        1 => Just("v = MapViewOfFile(h, FILE_MAP_READ, 0, 0, 0)".to_string()),
        1 => Just("WriteFile(hf, \"MZ garbage\", 10, NULL, NULL)".to_string()),
        1 => Just("SetEndOfFile(hf)".to_string()),
        1 => Just("expect NtAreMappedFilesTheSame(b, v) == STATUS_SUCCESS".to_string()),
        1 => Just("trim all".to_string()),
        1 => Just("flush-modified".to_string()),
        1 => Just("exit A\nprocess A".to_string()),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(300))]

    /// Scenarios of image statements: valid and invalid `image` lines, processes running the
    /// image, loads, frees, stores into code, data and shared sections, a file rewritten or
    /// truncated under its image. Nothing panics; the invariants hold after the run.
    #[test]
    fn fuzz_image_statements(lines in prop::collection::vec(image_statement(), 1..25)) {
        let src = format!(
            "image \"i.dll\" base 0x180000000 section \".t\" rx \"code\" section \".d\" rw size 0x2000 section \".s\" rws \"s\"\nprocess A\n{}\n",
            lines.join("\n")
        );
        check(&src)?;
    }
}

/// Every shipped example, unmutated, parses and runs with no failed expectation: the mutations
/// above start from valid text.
#[test]
fn fuzz_seeds_are_valid() {
    for text in examples() {
        let script = parse(&text).expect("an example failed to parse");
        let mut r = Runner::new("seed.ntm", &Options::default());
        r.run_script(&script);
        let (passed, failed) = r.counts();
        assert!(
            passed > 0 && failed == 0,
            "{passed} passed, {failed} failed"
        );
    }
}

//! The JSON protocol's schema (docs/JSON.md "Schema", JSON Schema draft 2020-12) holds for
//! every line ntmm prints in `--json` mode: every example's `ntmm run --json --trace` output,
//! and a `ntmm repl --json --trace` session that gives every kind of answer (statements,
//! traces, a parse error, a continued line, `help`, `draw`). The schema is read from the
//! document itself, so the document cannot drift from the output. Validation by the
//! `jsonschema` crate.
#![allow(clippy::tests_outside_test_module)]

use std::io::Write as _;
use std::path::Path;
use std::process::{Command, Stdio};

fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

/// The schema: the first ```json block after the "## Schema" heading of docs/JSON.md.
fn schema() -> jsonschema::Validator {
    let doc = std::fs::read_to_string(root().join("docs/JSON.md")).unwrap();
    let after = &doc[doc.find("\n## Schema\n").expect("a Schema section")..];
    let start = after.find("```json\n").expect("a json block") + "```json\n".len();
    let end = start + after[start..].find("\n```").unwrap();
    let schema: serde_json::Value = serde_json::from_str(&after[start..end]).unwrap();
    jsonschema::draft202012::new(&schema).expect("the schema is valid draft 2020-12")
}

/// Checks every JSON line of `output` against the schema (the closing `N passed, M failed`
/// line is plain text); returns how many lines were checked.
fn check(validator: &jsonschema::Validator, what: &str, output: &str) -> usize {
    let mut n = 0;
    for line in output.lines() {
        if line.ends_with(" failed") && !line.starts_with('{') {
            continue;
        }
        let value: serde_json::Value =
            serde_json::from_str(line).unwrap_or_else(|e| panic!("{what}: not JSON ({e}): {line}"));
        let errors: Vec<String> = validator
            .iter_errors(&value)
            .map(|e| format!("{e} at {}", e.instance_path))
            .collect();
        assert!(errors.is_empty(), "{what}: {line}\n{errors:#?}");
        n += 1;
    }
    n
}

#[test]
fn every_example_json_trace_output_is_valid_against_the_schema() {
    let validator = schema();
    // The schema rejects what the protocol does not print.
    assert!(!validator.is_valid(&serde_json::json!({"trace": "a sentence without its event"})));
    assert!(!validator.is_valid(&serde_json::json!({"ready": 1, "extra": 2})));
    let mut examples: Vec<_> = std::fs::read_dir(root().join("examples"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "ntm"))
        .collect();
    examples.sort();
    assert!(!examples.is_empty());
    let mut kinds = std::collections::BTreeSet::new();
    // `--trace` and `--trace-all` (every event of every layer).
    for (ex, flag) in examples
        .iter()
        .flat_map(|ex| ["--trace", "--trace-all"].map(|f| (ex, f)))
    {
        let out = Command::new(env!("CARGO_BIN_EXE_ntmm"))
            .args(["run", "--json", flag])
            .arg(ex)
            .current_dir(root())
            .output()
            .unwrap();
        let text = String::from_utf8(out.stdout).unwrap();
        let n = check(&validator, &format!("{} {flag}", ex.display()), &text);
        assert!(n > 0, "{}: no output", ex.display());
        for line in text.lines().filter(|l| l.starts_with('{')) {
            let v: serde_json::Value = serde_json::from_str(line).unwrap();
            if let Some(k) = v["event"]["kind"].as_str() {
                kinds.insert(k.to_string());
            }
        }
    }
    // The typed events are there, not only sentences.
    for k in [
        "FaultResolved",
        "HandleOpened",
        "CallFailed",
        "NativeCallFailed",
        "ViewMapped",
        "ControlAreaCounts",
        "SegmentCreated",
        "StoreIo",
    ] {
        assert!(kinds.contains(k), "no {k} event in any example: {kinds:?}");
    }
}

#[test]
fn a_repl_json_session_is_valid_against_the_schema() {
    let validator = schema();
    let mut child = Command::new(env!("CARGO_BIN_EXE_ntmm"))
        .args(["repl", "--json", "--trace"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let input = concat!(
        "draw\n",
        "process A\n",
        "h = CreateFileMapping(INVALID_HANDLE_VALUE, NULL, PAGE_READWRITE, 0, 0x1000, \"Local\\\\S\")\n",
        "r = OpenFileMapping(FILE_MAP_READ, FALSE, \"Local\\\\S\")\n",
        "MapViewOfFile(r, FILE_MAP_WRITE, 0, 0, 0)\n",
        "p = MapViewOfFile(h, FILE_MAP_WRITE, 0, 0, 0)\n",
        "write(p, \"hi\")\n",
        "read(p, 2)\n",
        "x = 0xFFFFFFFFFFFFFFFF\n",
        "expect write8(r + 1, 0) raises STATUS_ACCESS_VIOLATION\n",
        "expect 1 == \\\n",
        "  1\n",
        "Frobnicate(\n",
        "help\n",
        "draw\n",
        "quit # done\n",
    );
    child
        .stdin
        .take()
        .unwrap()
        .write_all(input.as_bytes())
        .unwrap();
    let out = child.wait_with_output().unwrap();
    let text = String::from_utf8(out.stdout).unwrap();
    let n = check(&validator, "repl", &text);
    assert!(n >= 20, "{text}");
    // The typed fields a harness reads: a big integer as a string, bytes as hex, the why.
    let objs: Vec<serde_json::Value> = text
        .lines()
        .filter(|l| l.starts_with('{'))
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let stmt = |s: &str| {
        objs.iter()
            .find(|o| o["statement"].as_str() == Some(s))
            .unwrap_or_else(|| panic!("no statement {s}: {text}"))
    };
    assert_eq!(
        stmt("x = 0xFFFFFFFFFFFFFFFF")["value"],
        "0xffffffffffffffff"
    );
    assert_eq!(stmt("read(p, 2)")["bytes"], "6869");
    let failed = stmt("MapViewOfFile(r, FILE_MAP_WRITE, 0, 0, 0)");
    assert_eq!(failed["value"], 0);
    assert_eq!(failed["status"]["name"], "STATUS_ACCESS_DENIED");
    assert!(
        failed["why"].as_str().unwrap().ends_with("(F48)"),
        "{failed}"
    );
    for key in ["help", "draw", "parse_error"] {
        assert!(
            objs.iter().any(|o| o.get(key).is_some()),
            "no {key}: {text}"
        );
    }
}

//! Golden transcripts of `ntmm run --trace` and `--trace-all` over every example and the
//! scenarios of `tests/golden/scenarios` (`tests/golden/NN_name.trace.txt`,
//! `NN_name.trace-all.txt`).
//!
//! The files were generated once, from the binary as it was before `--trace` read the typed
//! event stream (when it still matched log messages), checked byte for byte against the new
//! renderer, and reviewed by hand (every example read whole on 2026-11-30; the wrong or missing
//! sentences found then were fixed and re-blessed deliberately: "1 page", "frame N written:
//! modified list → …" instead of "left every working set" after a write, frames going to the
//! free list, section objects deleted, and "last error unchanged"; then every failure's
//! `why:` line, and handles, names and processes opened, closed, inserted, removed, created
//! and exited); they are fixed since. A
//! change to a trace sentence, or an
//! event that stops being rendered, fails here. To change them deliberately, run
//! `NTMM_BLESS=1 cargo test --test golden_trace`, which rewrites them, and review the diff.
#![allow(clippy::tests_outside_test_module)]

use std::path::{Path, PathBuf};
use std::process::Command;

/// The sources of the golden transcripts: every example, and the small scenarios of
/// `tests/golden/scenarios` that show events no example produces.
fn sources(root: &Path) -> Vec<PathBuf> {
    let mut v = Vec::new();
    for dir in ["examples", "tests/golden/scenarios"] {
        v.extend(
            std::fs::read_dir(root.join(dir))
                .unwrap()
                .map(|e| e.unwrap().path())
                .filter(|p| p.extension().is_some_and(|e| e == "ntm")),
        );
    }
    v.sort();
    v
}

/// The two transcripts of each source: `--trace` (`NAME.trace.txt`) and `--trace-all`
/// (`NAME.trace-all.txt`, every event of every layer: together they show every event kind,
/// tests/event_coverage.rs).
const MODES: [(&str, &str); 2] = [("--trace", "trace"), ("--trace-all", "trace-all")];

#[test]
fn trace_of_every_example_matches_its_golden_transcript() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let bless = std::env::var_os("NTMM_BLESS").is_some_and(|v| v == "1");
    let sources = sources(root);
    assert!(!sources.is_empty());
    let mut differ = Vec::new();
    for path in &sources {
        let name = path.file_stem().unwrap().to_str().unwrap();
        // The path as the transcripts name it: relative to the repository.
        let rel = path.strip_prefix(root).unwrap();
        for (flag, suffix) in MODES {
            let out = Command::new(env!("CARGO_BIN_EXE_ntmm"))
                .current_dir(root)
                .args(["run", flag])
                .arg(rel)
                .output()
                .unwrap();
            assert!(out.status.success(), "{name}: ntmm run {flag} failed");
            assert!(out.stderr.is_empty(), "{name}: wrote to standard error");
            let golden = root
                .join("tests/golden")
                .join(format!("{name}.{suffix}.txt"));
            if bless {
                std::fs::write(&golden, &out.stdout).unwrap();
                continue;
            }
            let want = std::fs::read(&golden)
                .unwrap_or_else(|e| panic!("{}: {e} (NTMM_BLESS=1 writes it)", golden.display()));
            if want != out.stdout {
                differ.push(format!("{name} ({flag})"));
            }
        }
    }
    // Every golden file belongs to a source (none is left behind by a rename).
    for entry in std::fs::read_dir(root.join("tests/golden")).unwrap() {
        let entry = entry.unwrap();
        if entry.file_type().unwrap().is_dir() {
            continue;
        }
        let file = entry.file_name().into_string().unwrap();
        let stem = MODES
            .iter()
            .find_map(|(_, suffix)| file.strip_suffix(&format!(".{suffix}.txt")))
            .unwrap_or(&file);
        assert!(
            sources.iter().any(|p| p.file_stem().unwrap() == stem),
            "tests/golden/{file} has no example or scenario"
        );
    }
    assert!(
        differ.is_empty(),
        "transcripts differ from tests/golden for {differ:?} \
         (compare with `ntmm run --trace examples/NAME.ntm`, or --trace-all)"
    );
}

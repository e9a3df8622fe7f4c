//! Golden transcripts of `ntmm run --trace` over every example (`tests/golden/NN_name.trace.txt`).
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

fn examples(root: &Path) -> Vec<PathBuf> {
    let mut v: Vec<PathBuf> = std::fs::read_dir(root.join("examples"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "ntm"))
        .collect();
    v.sort();
    v
}

#[test]
fn trace_of_every_example_matches_its_golden_transcript() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let bless = std::env::var_os("NTMM_BLESS").is_some_and(|v| v == "1");
    let examples = examples(root);
    assert!(!examples.is_empty());
    let mut differ = Vec::new();
    for path in &examples {
        let name = path.file_stem().unwrap().to_str().unwrap();
        // The path as the transcripts name it: relative to the repository.
        let rel = Path::new("examples").join(path.file_name().unwrap());
        let out = Command::new(env!("CARGO_BIN_EXE_ntmm"))
            .current_dir(root)
            .args(["run", "--trace"])
            .arg(&rel)
            .output()
            .unwrap();
        assert!(out.status.success(), "{name}: ntmm run --trace failed");
        assert!(out.stderr.is_empty(), "{name}: wrote to standard error");
        let golden = root.join("tests/golden").join(format!("{name}.trace.txt"));
        if bless {
            std::fs::write(&golden, &out.stdout).unwrap();
            continue;
        }
        let want = std::fs::read(&golden)
            .unwrap_or_else(|e| panic!("{}: {e} (NTMM_BLESS=1 writes it)", golden.display()));
        if want != out.stdout {
            differ.push(name.to_string());
        }
    }
    // Every golden file belongs to an example (none is left behind by a rename).
    for entry in std::fs::read_dir(root.join("tests/golden")).unwrap() {
        let file = entry.unwrap().file_name().into_string().unwrap();
        let stem = file.strip_suffix(".trace.txt").unwrap_or(&file);
        assert!(
            examples.iter().any(|p| p.file_stem().unwrap() == stem),
            "tests/golden/{file} has no example"
        );
    }
    assert!(
        differ.is_empty(),
        "--trace transcripts differ from tests/golden for {differ:?} \
         (compare with `ntmm run --trace examples/NAME.ntm`)"
    );
}

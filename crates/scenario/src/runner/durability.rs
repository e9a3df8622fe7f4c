//! How a run ends and how it survives a power loss: `Runner::finish` (shutdown) and the
//! `crash` directive (SCENARIO.md, additions of 2026-11-30, "Durability").

use super::{Runner, StmtError};
use ntmm_api::System;
use std::fmt::Write as _;

/// Shuts `sys` down; each thing that could not be written is a failure line (a JSON object
/// with `--json`) naming the file, the page and the NTSTATUS.
pub(super) fn finish(r: &mut Runner, sys: System) {
    let Err(e) = sys.shutdown() else {
        return;
    };
    for failure in &e.failures {
        r.failed += 1;
        let msg = format!("shutdown: {failure}");
        if r.options.json {
            let obj = serde_json::json!({
                "file": r.file,
                "line": 0,
                "statement": "(shutdown)",
                "process": null,
                "result": format!("error: {msg}"),
                "last_error": null,
                "last_error_name": null,
                "exception": null,
                "pass": false,
                "expected": null,
                "actual": null,
            });
            let _ = writeln!(r.out, "{obj}");
        } else {
            let _ = writeln!(r.out, "FAIL {}: {msg}", r.file);
        }
    }
}

/// A power loss: the machine restarts, empty, on what was durable. Returns the statement's
/// result.
pub(super) fn crash(r: &mut Runner) -> Result<String, StmtError> {
    let Some(sys) = r.sys.take() else {
        return Ok("power lost; no machine was running".into());
    };
    let (sys, report) = sys
        .crash()
        .map_err(|e| StmtError(format!("power lost, and the machine cannot restart: {e}")))?;
    r.sys = Some(sys);
    if !report.failures.is_empty() {
        let list: Vec<String> = report.failures.iter().map(ToString::to_string).collect();
        return Err(StmtError(format!(
            "power lost; durable contents could not be put back: {}",
            list.join("; ")
        )));
    }
    let n = report.files_kept;
    Ok(format!(
        "power lost; {n} file{} kept {} durable contents; every process is gone",
        if n == 1 { "" } else { "s" },
        if n == 1 { "its" } else { "their" },
    ))
}

#[cfg(test)]
mod tests {
    use crate::runner::{Options, Runner};
    use ntmm_vmm::{FaultyStore, MemoryStore};

    /// A shutdown that cannot write a page says so: a FAIL line (or a JSON object) naming the
    /// file, the page and the NTSTATUS, counted as a failure.
    #[test]
    fn test_a_failed_shutdown_write_is_a_failure_in_the_output() {
        for json in [false, true] {
            let opts = Options {
                json,
                ..Options::default()
            };
            let mut r = Runner::new("t.ntm", &opts);
            let (store, plan) = FaultyStore::new(MemoryStore::with_contents(&[0u8; 0x2000]));
            r.system()
                .unwrap()
                .attach_volume_file("f.bin", Box::new(store))
                .unwrap();
            let src = "process A\n\
                hf = CreateFile(\"f.bin\", GENERIC_READ | GENERIC_WRITE, 7, NULL, OPEN_EXISTING, 0, NULL)\n\
                hm = CreateFileMapping(hf, NULL, PAGE_READWRITE, 0, 0, NULL)\n\
                p = MapViewOfFile(hm, FILE_MAP_WRITE, 0, 0, 0)\n\
                write(p + 0x1000, \"lost?\")\n";
            r.run_script(&crate::parse(src).unwrap());
            r.take_output();
            plan.fail_nth_write(1);
            r.finish();
            let out = r.take_output();
            assert_eq!(r.counts().1, 1, "{out}");
            let want =
                "shutdown: file \"f.bin\" page 1 could not be written: STATUS_DEVICE_DATA_ERROR";
            if json {
                let v: serde_json::Value = serde_json::from_str(out.trim()).unwrap();
                assert_eq!(v["pass"], false);
                assert_eq!(v["result"], format!("error: {want}"));
            } else {
                assert_eq!(out, format!("FAIL t.ntm: {want}\n"));
            }
        }
    }
}

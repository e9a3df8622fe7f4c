//! The `ntmm` binary: commands, exit codes, examples, demo, pictures, JSON, repl.
#![allow(clippy::tests_outside_test_module)]

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

fn ntmm() -> Command {
    Command::new(env!("CARGO_BIN_EXE_ntmm"))
}

fn examples() -> Vec<PathBuf> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("examples");
    let mut v: Vec<PathBuf> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "ntm"))
        .collect();
    v.sort();
    v
}

#[test]
fn help_documents_every_command() {
    let out = ntmm().arg("--help").output().unwrap();
    assert!(out.status.success());
    let text = String::from_utf8(out.stdout).unwrap();
    for cmd in [
        "run",
        "repl",
        "demo",
        "draw",
        "machine",
        "bench",
        "--frames",
        "--pagefile",
        "--workingset",
        "--writer",
        "--volume",
    ] {
        assert!(text.contains(cmd), "--help lacks {cmd}:\n{text}");
    }
    let run_help =
        String::from_utf8(ntmm().args(["run", "--help"]).output().unwrap().stdout).unwrap();
    assert!(run_help.contains("--json") && run_help.contains("--trace"));
}

#[test]
fn every_example_passes_under_ntmm_run() {
    let ex = examples();
    assert!(ex.len() >= 10, "at least 10 lessons");
    let out = ntmm().arg("run").args(&ex).output().unwrap();
    let text = String::from_utf8(out.stdout).unwrap();
    let last = text.lines().last().unwrap();
    assert!(last.ends_with(" passed, 0 failed"), "{last}\n{text}");
    assert!(out.status.success());
}

#[test]
fn a_failing_scenario_exits_non_zero_with_the_summary_line() {
    let dir = std::env::temp_dir().join(format!("ntmm-cli-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let bad = dir.join("bad.ntm");
    std::fs::write(&bad, "process A\nexpect 1 == 2\nexpect 2 == 2\n").unwrap();
    let unparsable = dir.join("unparsable.ntm");
    std::fs::write(&unparsable, "process A\nfrobnicate now\n").unwrap();
    let out = ntmm()
        .arg("run")
        .arg(&bad)
        .arg(&unparsable)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let text = String::from_utf8(out.stdout).unwrap();
    assert_eq!(text.lines().last(), Some("1 passed, 2 failed"), "{text}");
    assert!(text.contains("unparsable.ntm:2:1: parse error"), "{text}");
}

#[test]
fn demo_explains_faults_and_draws_a_picture() {
    let dir = std::env::temp_dir().join(format!("ntmm-demo-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let svg = dir.join("demo.svg");
    let out = ntmm().args(["demo", "--svg"]).arg(&svg).output().unwrap();
    assert!(out.status.success());
    let text = String::from_utf8(out.stdout).unwrap();
    for needle in [
        "demand-zero fault",
        "share fault",
        "hard fault at 0x",
        "copy-on-write fault",
        "soft fault",
        "The machine at the end",
        "process Writer",
        "0 failed",
    ] {
        assert!(text.contains(needle), "demo lacks {needle:?}");
    }
    assert!(std::fs::read_to_string(&svg).unwrap().starts_with("<?xml"));
    // Byte-identical on every run.
    let again = ntmm().args(["demo"]).output().unwrap();
    let without_svg_line: String = text
        .lines()
        .filter(|l| !l.starts_with("picture written"))
        .map(|l| format!("{l}\n"))
        .collect();
    assert_eq!(String::from_utf8(again.stdout).unwrap(), without_svg_line);
}

#[test]
fn demo_tells_its_lesson_and_fits_an_80_column_terminal() {
    let out = ntmm().arg("demo").output().unwrap();
    assert!(out.status.success());
    let text = String::from_utf8(out.stdout).unwrap();
    // Headings underlined, prose before the statements it explains.
    assert!(
        text.starts_with("ntmm — the guided tour\n======================\n"),
        "{text}"
    );
    let heading = text.find("\n1. Shared memory from the pagefile\n").unwrap();
    let prose = text
        .find("\nWriter creates a named section of two pages")
        .unwrap();
    let statement = text.find("process Writer\n").unwrap();
    assert!(heading < prose && prose < statement, "{text}");
    for line in text.lines() {
        assert!(
            line.chars().count() <= 80,
            "wider than 80 columns: {line:?}"
        );
        assert_eq!(line, line.trim_end(), "trailing blanks: {line:?}");
    }
}

#[test]
fn run_narrate_tells_own_line_comments_only_in_text_mode() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("story.ntm");
    let long = "0 + ".repeat(30);
    std::fs::write(
        &file,
        format!(
            "## Part one\n# The story so far.\nprocess A   # a note for the file's reader\n\
             # Then x.\nx = 1 + \\\n  2   # inside the statement\nexpect x == 3\n\
             y = {long}2\n"
        ),
    )
    .unwrap();
    let narrated = ntmm()
        .args(["run", "--narrate"])
        .arg(&file)
        .output()
        .unwrap();
    let text = String::from_utf8(narrated.stdout).unwrap();
    assert!(
        text.starts_with(
            "Part one\n========\nThe story so far.\n\n   3 process A\n\nThen x.\n\n   5 "
        ),
        "{text}"
    );
    assert!(
        !text.contains("a note") && !text.contains("inside the statement"),
        "{text}"
    );
    // A long line folds under its text.
    assert!(text.lines().all(|l| l.chars().count() <= 80), "{text}");
    assert!(
        text.lines()
            .any(|l| l.starts_with("         ") && !l.starts_with("          ")),
        "{text}"
    );
    // Without --narrate, and in JSON mode, the transcript is as it was.
    let plain = ntmm().arg("run").arg(&file).output().unwrap();
    let plain = String::from_utf8(plain.stdout).unwrap();
    assert!(plain.starts_with("   3 process A\n"), "{plain}");
    let json = |extra: &[&str]| {
        let out = ntmm()
            .args(["run", "--json"])
            .args(extra)
            .arg(&file)
            .output()
            .unwrap();
        String::from_utf8(out.stdout).unwrap()
    };
    assert_eq!(json(&["--narrate"]), json(&[]));
}

/// A minimal well-formedness check: every tag closes in order, attributes are quoted.
fn well_formed(xml: &str) -> Result<(), String> {
    let mut stack: Vec<String> = Vec::new();
    let mut rest = xml;
    while let Some(i) = rest.find('<') {
        let text = &rest[..i];
        if text.contains('>')
            || (text.contains('&')
                && !["&amp;", "&lt;", "&gt;", "&quot;"]
                    .iter()
                    .any(|e| text.contains(e)))
        {
            return Err(format!("stray markup in text {text:?}"));
        }
        rest = &rest[i..];
        let end = rest.find('>').ok_or("unterminated tag")?;
        let tag = &rest[1..end];
        rest = &rest[end + 1..];
        if tag.starts_with('?') || tag.starts_with('!') {
            continue;
        }
        if let Some(name) = tag.strip_prefix('/') {
            let open = stack
                .pop()
                .ok_or(format!("</{name}> without an opening tag"))?;
            if open != name {
                return Err(format!("<{open}> closed by </{name}>"));
            }
        } else {
            let name = tag
                .split_whitespace()
                .next()
                .unwrap_or("")
                .trim_end_matches('/')
                .to_string();
            if tag.matches('"').count() % 2 != 0 {
                return Err(format!("unbalanced quotes in <{tag}>"));
            }
            if !tag.ends_with('/') {
                stack.push(name);
            }
        }
    }
    if stack.is_empty() {
        Ok(())
    } else {
        Err(format!("unclosed {stack:?}"))
    }
}

#[test]
fn draw_writes_well_formed_svg_and_dot_naming_every_object() {
    let dir = std::env::temp_dir().join(format!("ntmm-draw-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let (svg, dot) = (dir.join("p.svg"), dir.join("p.dot"));
    let scenario = Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/00_demo_tour.ntm");
    let out = ntmm()
        .arg("draw")
        .arg(&scenario)
        .arg("--svg")
        .arg(&svg)
        .arg("--dot")
        .arg(&dot)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );
    let svg = std::fs::read_to_string(&svg).unwrap();
    well_formed(&svg).unwrap();
    let dot = std::fs::read_to_string(&dot).unwrap();
    assert!(dot.starts_with("digraph ntmm {") && dot.trim_end().ends_with('}'));
    // Every object of the machine: the processes, every segment, every frame in use, the
    // regions and the pagefile slots.
    for name in [
        "process Writer",
        "process Reader",
        "seg#1",
        "seg#2",
        "seg#3",
        "seg#4",
        "pagefile slot",
        "view of seg#",
        "private",
    ] {
        assert!(svg.contains(name), "the SVG lacks {name}");
    }
    let text = String::from_utf8(out.stdout).unwrap();
    for line in text
        .lines()
        .filter(|l| l.trim_start().starts_with("frame "))
    {
        let frame = line.split_whitespace().nth(1).unwrap();
        assert!(
            svg.contains(&format!("frame {frame} ")),
            "the SVG lacks frame {frame}"
        );
    }
    assert!(
        well_formed("<a><b></a></b>").is_err(),
        "the checker can fail"
    );
}

#[test]
fn json_protocol_one_object_per_statement() {
    let ex = Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/04_porttool_pattern.ntm");
    let out = ntmm().args(["run", "--json"]).arg(&ex).output().unwrap();
    assert!(out.status.success());
    let text = String::from_utf8(out.stdout).unwrap();
    let mut lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines.pop(), Some("6 passed, 0 failed"));
    for l in lines {
        let v: serde_json::Value = serde_json::from_str(l).unwrap_or_else(|e| panic!("{e}: {l}"));
        for key in [
            "file",
            "line",
            "statement",
            "process",
            "result",
            "last_error",
            "exception",
            "pass",
        ] {
            assert!(v.get(key).is_some(), "{key} missing in {l}");
        }
    }
}

#[test]
fn machine_options_reach_the_machine() {
    let dir = std::env::temp_dir().join(format!("ntmm-opt-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let f = dir.join("m.ntm");
    std::fs::write(&f, "process A\nshow memory\n").unwrap();
    let out = ntmm()
        .args(["--frames", "20", "run"])
        .arg(&f)
        .output()
        .unwrap();
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(text.contains("Zeroed:     20 ("), "{text}");
    let vol = dir.join("vol");
    std::fs::write(
        &f,
        "file \"x.bin\" = \"on the host\"\nprocess A\nexpect disk \"x.bin\" == \"on the host\"\n",
    )
    .unwrap();
    let out = ntmm()
        .arg("--volume")
        .arg(&vol)
        .arg("run")
        .arg(&f)
        .output()
        .unwrap();
    assert!(out.status.success());
    assert_eq!(std::fs::read(vol.join("x.bin")).unwrap(), b"on the host");
}

/// `ntmm repl ARGS` fed `input` on standard input, run to its end.
fn repl(args: &[&str], input: &[u8]) -> std::process::Output {
    let mut child = ntmm()
        .arg("repl")
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    child.stdin.take().unwrap().write_all(input).unwrap();
    child.wait_with_output().unwrap()
}

#[test]
fn repl_runs_statements_and_prints_help() {
    let out = repl(&[], b"help\nprocess A\nh = CreateFileMapping(INVALID_HANDLE_VALUE, NULL, PAGE_READWRITE, 0, 0x1000, NULL)\nexpect h != NULL\nbogus!\ndraw\nquit\n");
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(text.contains("show pte p"), "help text");
    assert!(text.contains("expect h != NULL => ok"), "{text}");
    assert!(text.contains("parse error"), "{text}");
    assert!(text.contains("process A"), "draw");
    // The line that does not parse counts as a failure, as in `run`.
    assert!(text.contains("1 passed, 1 failed"), "{text}");
    assert_eq!(out.status.code(), Some(1));
}

/// A bare expression or variable is answered with its value, as the transcript shows values;
/// `help`, `draw` and `quit` may carry a comment. (Piped input: the plain reader, no editor.)
#[test]
fn repl_prints_bare_expressions_and_takes_commands_with_comments() {
    let out = repl(
        &[],
        b"process A\nx = 1 + 2\nx\nx + 0x10   # a sum\n\
          p = VirtualAlloc(NULL, 0x1000, MEM_COMMIT | MEM_RESERVE, PAGE_READWRITE)\n\
          write32(p, 7)\nread32(p)\nexpect VirtualQuery(p, &mbi) != 0\nmbi.State\n\
          help   # what now\ndraw # the tree\nx +\nquit # that is all\nx\n",
    );
    let text = String::from_utf8(out.stdout).unwrap();
    for line in [
        "   3 A> x => 3\n",
        "   4 A> x + 0x10 => 0x13\n",
        "   7 A> read32(p) => 7\n",
        "   9 A> mbi.State => 0x1000\n",
    ] {
        assert!(text.contains(line), "lacks {line:?}:\n{text}");
    }
    assert!(text.contains("show pte p"), "help # …: {text}");
    assert!(text.contains("process A\n  0x10000"), "draw # …: {text}");
    // `x +` is no statement and no expression: a parse error, a failure.
    assert_eq!(text.matches("parse error").count(), 1, "{text}");
    // `quit # …` ends the session: the `x` after it is not run.
    assert!(!text.contains("  14 "), "{text}");
    assert!(text.ends_with("1 passed, 1 failed\n"), "{text}");
    // The JSON protocol answers a bare expression with a statement object.
    let json = repl(&["--json"], b"process A\nx = 5\nx # five\nquit # done\n");
    let json = String::from_utf8(json.stdout).unwrap();
    let x: serde_json::Value = serde_json::from_str(json.lines().nth(5).unwrap()).unwrap();
    assert_eq!(
        (x["statement"].as_str(), x["result"].as_str()),
        (Some("x"), Some("5"))
    );
    assert!(
        json.ends_with("{\"ready\":4}\n0 passed, 0 failed\n"),
        "{json}"
    );
}

/// `ntmm repl --json` answers every input line with JSON objects and ends each answer with a
/// `ready` object naming the next line (the prompt), so a program can drive it one statement
/// at a time; traces, help, pictures and parse errors are objects too; the closing summary is
/// the plain last line, as with `run --json`.
#[test]
fn repl_json_answers_each_line_up_to_a_ready_object() {
    let out = repl(&["--json", "--trace"], b"process A\nh = CreateFileMapping(INVALID_HANDLE_VALUE, NULL, PAGE_READWRITE, 0, 0x1000, NULL)\np = MapViewOfFile(h, FILE_MAP_WRITE, 0, 0, \\\n0)\nexpect read8(p + 0x1000) raises STATUS_ACCESS_VIOLATION\nbogus!\nhelp\ndraw\nquit\n");
    // `bogus!` does not parse: a failure, as in `run`.
    assert_eq!(out.status.code(), Some(1));
    let text = String::from_utf8(out.stdout).unwrap();
    let mut lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines.pop(), Some("1 passed, 1 failed"), "{text}");
    let objects: Vec<serde_json::Value> = lines
        .iter()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("{l}: {e}")))
        .collect();
    // Split the stream into answers at the ready objects.
    let mut answers: Vec<Vec<&serde_json::Value>> = vec![Vec::new()];
    let mut readies = Vec::new();
    for o in &objects {
        if o.get("ready").is_some() {
            readies.push(o.clone());
            answers.push(Vec::new());
        } else {
            answers.last_mut().unwrap().push(o);
        }
    }
    assert!(answers[0].is_empty(), "nothing before the first prompt");
    let expect_ready = |i: usize, line: u64, continuing: bool| {
        assert_eq!(readies[i]["ready"], line, "{:?}", readies[i]);
        assert_eq!(readies[i].get("continuing").is_some(), continuing);
    };
    expect_ready(0, 1, false);
    assert_eq!(answers[1][0]["statement"], "process A");
    expect_ready(1, 2, false);
    assert_eq!(answers[2][0]["result"], "4 (ERROR_SUCCESS)");
    // Its trace objects follow it: the control area first, then the section object.
    assert!(answers[2][1]["trace"].as_str().unwrap().contains("ca#1"));
    assert!(answers[2][1..]
        .iter()
        .any(|o| o["trace"].as_str().unwrap().contains("section object")));
    expect_ready(2, 3, false);
    assert!(
        answers[3].is_empty(),
        "a continued line answers only with the prompt"
    );
    expect_ready(3, 4, true);
    // MapViewOfFile's success leaves the last error as CreateFileMapping set it.
    assert_eq!(
        answers[4][0]["result"],
        "0x10000 (last error unchanged: ERROR_SUCCESS)"
    );
    assert_eq!(answers[4][0]["last_error_set"], false);
    assert_eq!(answers[2][0]["last_error_set"], true);
    assert_eq!(answers[4][0]["line"], 4);
    expect_ready(4, 5, false);
    assert_eq!(answers[5][0]["pass"], true);
    assert_eq!(
        answers[5][0]["exception"]["name"],
        "STATUS_ACCESS_VIOLATION"
    );
    expect_ready(5, 6, false);
    assert_eq!(answers[6][0]["line"], 6);
    assert!(answers[6][0]["parse_error"].is_string());
    expect_ready(6, 7, false);
    assert!(answers[7][0]["help"]
        .as_str()
        .unwrap()
        .contains("show pte p"));
    expect_ready(7, 8, false);
    assert!(answers[8][0]["draw"]
        .as_str()
        .unwrap()
        .contains("process A"));
    expect_ready(8, 9, false);
    assert_eq!(answers.len(), 10, "quit ends the session: {text}");
}

/// `ntmm bench --quick --json` prints one valid JSON line per workload of the fixed table, each
/// with the protocol fields; host figures exist exactly for the workloads that have a host
/// equivalent (on unix). Numbers are not asserted: benchmarks, not tests, carry them.
#[test]
fn bench_json_prints_every_workload() {
    let rows = bench_json(&[]);
    let with_host = [
        "demand_zero_fault",
        "share_fault",
        "resident_read8",
        "resident_write8",
        "random_read8_64mib",
        "bulk_read_1mib",
        "map_unmap_64k",
        "flush_dirty_page",
        "flush_dirty_page@cache",
        "cow_fault",
        "hard_fault_file",
        "readfile_64k",
    ];
    let without = [
        "demand_zero_fault@prezeroed",
        "flush_clean_16mib",
        "flush_clean_64k",
        "machine_start@16mib",
        "threads_read8@1",
        "soft_fault_transition",
        "hard_fault_pagefile",
        "create_reserve_1tib",
    ];
    for name in with_host.iter().chain(&without) {
        let r = rows
            .iter()
            .find(|r| r["name"] == *name)
            .unwrap_or_else(|| panic!("{name} missing"));
        assert!(r["ntmm"].as_f64().unwrap() > 0.0, "{r}");
        assert!(r["unit"].as_str().unwrap().starts_with("ns/"), "{r}");
        let has_host = cfg!(unix) && with_host.contains(name);
        assert_eq!(r["host"].is_number(), has_host, "{r}");
        assert_eq!(r["ratio"].is_number(), has_host, "{r}");
        // The spread of each side: p10 <= median <= p90.
        let side = |s: &str| {
            let (lo, m, hi) = (&r[format!("{s}_p10")], &r[s], &r[format!("{s}_p90")]);
            assert_eq!(lo.is_number(), m.is_number(), "{r}");
            if let (Some(lo), Some(m), Some(hi)) = (lo.as_f64(), m.as_f64(), hi.as_f64()) {
                assert!(lo <= m && m <= hi, "{r}");
            }
        };
        side("ntmm");
        side("host");
    }
    // The rows whose ratio is against another row: it names that row.
    for (name, of) in [
        ("machine_start@1gib", "machine_start@16mib"),
        ("machine_start@4gib", "machine_start@16mib"),
        ("threads_read8@2", "throughput / threads_read8@1"),
    ] {
        let r = rows
            .iter()
            .find(|r| r["name"] == name)
            .unwrap_or_else(|| panic!("{name} missing"));
        assert!(r["host"].is_null() && r["ratio"].is_number(), "{r}");
        assert_eq!(r["ratio_of"], of, "{r}");
    }
    for name in [
        "scenario_throughput@plain",
        "scenario_throughput@json",
        "scenario_throughput@trace",
    ] {
        let r = rows
            .iter()
            .find(|r| r["name"] == name)
            .unwrap_or_else(|| panic!("{name} missing"));
        assert_eq!(r["unit"], "stmt/s", "{r}");
        assert!(r["ntmm"].as_f64().unwrap() > 0.0, "{r}");
    }
    // The per-fault row: the host's figure needs its minor-fault count (Linux).
    let r = rows
        .iter()
        .find(|r| r["name"] == "share_fault@per_fault")
        .expect("share_fault@per_fault missing");
    assert_eq!(r["unit"], "ns/fault", "{r}");
    assert!(r["ntmm"].as_f64().unwrap() > 0.0, "{r}");
    assert_eq!(r["host"].is_number(), cfg!(target_os = "linux"), "{r}");
}

/// `ntmm bench --only PREFIX` runs just the workloads whose row names start with the prefix,
/// scaling rows included.
#[test]
fn bench_only_runs_the_workloads_named_by_the_prefix() {
    let names: Vec<String> = bench_json(&["--only", "map_unmap"])
        .iter()
        .map(|v| v["name"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(names[0], "map_unmap_64k", "{names:?}");
    assert_eq!(
        names.len(),
        4,
        "the workload and its three scaling rows: {names:?}"
    );
    assert!(
        names[1..].iter().all(|n| n.starts_with("map_unmap_64k@")),
        "{names:?}"
    );
}

/// A prefix that names no workload is an error that lists the names, not an empty table.
#[test]
fn bench_only_with_an_unknown_prefix_fails_and_names_the_workloads() {
    let out = ntmm()
        .args(["bench", "--quick", "--only", "nosuch"])
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert!(out.stdout.is_empty());
    let err = String::from_utf8(out.stderr).unwrap();
    assert!(
        err.contains("nosuch")
            && err.contains("demand_zero_fault")
            && err.contains("map_unmap_64k"),
        "{err}"
    );
}

/// The rows of `ntmm bench --quick --json` with `extra` arguments, each line parsed.
fn bench_json(extra: &[&str]) -> Vec<serde_json::Value> {
    let out = ntmm()
        .args(["bench", "--quick", "--json"])
        .args(extra)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

/// `ntmm replay` writes the page of a scenario; a scenario that does not parse is refused with
/// its line and column, and no page is written.
#[test]
fn replay_writes_a_page_and_refuses_a_scenario_that_does_not_parse() {
    let dir = tempfile::tempdir().unwrap();
    let (good, bad) = (dir.path().join("good.ntm"), dir.path().join("bad.ntm"));
    std::fs::write(&good, "process A\np = VirtualAlloc(NULL, 0x1000, MEM_COMMIT | MEM_RESERVE, PAGE_READWRITE)\nwrite8(p, 1)\n").unwrap();
    std::fs::write(&bad, "process A\nx = = 3\n").unwrap();
    let page = dir.path().join("good.html");
    let out = ntmm()
        .arg("replay")
        .arg(&good)
        .arg("-o")
        .arg(&page)
        .output()
        .unwrap();
    assert!(out.status.success());
    assert_eq!(
        String::from_utf8(out.stdout).unwrap(),
        format!("3 steps written to {}\n", page.display())
    );
    let html = std::fs::read_to_string(&page).unwrap();
    assert!(html.starts_with("<!DOCTYPE html>") && html.contains("ntmm replay — good.ntm"));
    let refused = dir.path().join("bad.html");
    let out = ntmm()
        .arg("replay")
        .arg(&bad)
        .arg("-o")
        .arg(&refused)
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert!(String::from_utf8(out.stderr)
        .unwrap()
        .contains("line 2, column 5"));
    assert!(!refused.exists());
}

//! Protocol robustness of the `ntmm` binary (issue 1/7, "nothing lost, nothing escapes"): the
//! repl answers every bad line and keeps going, its exit status follows `run`'s rule, a closed
//! output pipe ends every command quietly, a BOM is skipped, `\xHH` is one byte, and a process
//! name never reaches another process once its handle is closed.
#![allow(clippy::tests_outside_test_module)]

use std::io::{BufRead, BufReader, Write};
use std::path::PathBuf;
use std::process::{Command, Output, Stdio};

fn ntmm() -> Command {
    Command::new(env!("CARGO_BIN_EXE_ntmm"))
}

/// `ntmm repl ARGS` fed `input` on standard input, run to its end.
fn repl(args: &[&str], input: &[u8]) -> Output {
    let mut child = ntmm()
        .arg("repl")
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stdin = child.stdin.take().unwrap();
    let input = input.to_vec();
    // Written from a thread: the repl answers while it reads, so a long input must not wait
    // for the answers to be read.
    let writer = std::thread::spawn(move || {
        let _ = stdin.write_all(&input);
    });
    let out = child.wait_with_output().unwrap();
    writer.join().unwrap();
    out
}

/// The JSON objects of a `repl --json` session (every line but the closing summary, which is
/// returned apart), without the `ready` prompts.
fn answers(out: &Output) -> (Vec<serde_json::Value>, String) {
    let text = String::from_utf8(out.stdout.clone()).unwrap();
    let mut lines: Vec<&str> = text.lines().collect();
    let last = lines.pop().unwrap_or_default().to_string();
    let objects = lines
        .iter()
        .map(|l| {
            serde_json::from_str::<serde_json::Value>(l).unwrap_or_else(|e| panic!("{l}: {e}"))
        })
        .filter(|o| o.get("ready").is_none())
        .collect();
    (objects, last)
}

fn scenario(name: &str, text: &[u8]) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("ntmm-protocol-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join(name);
    std::fs::write(&path, text).unwrap();
    path
}

fn run(file: &PathBuf) -> (String, Option<i32>) {
    let out = ntmm().arg("run").arg(file).output().unwrap();
    (String::from_utf8(out.stdout).unwrap(), out.status.code())
}

#[test]
fn repl_json_answers_an_invalid_utf8_line_and_goes_on() {
    let out = repl(
        &["--json"],
        b"process A\nx = \"\xff\xfe\"\nexpect 1 == 1\nquit\n",
    );
    let (objs, last) = answers(&out);
    assert_eq!(objs.len(), 3, "{objs:?}");
    assert_eq!(objs[0]["statement"], "process A");
    assert_eq!(objs[1]["file"], "repl");
    assert_eq!(objs[1]["line"], 2);
    assert_eq!(objs[1]["column"], 6, "the first byte that is not UTF-8");
    assert_eq!(objs[1]["pass"], false);
    assert!(
        objs[1]["parse_error"].as_str().unwrap().contains("UTF-8"),
        "{:?}",
        objs[1]
    );
    assert_eq!(objs[2]["line"], 3);
    assert_eq!(objs[2]["pass"], true);
    assert_eq!(last, "1 passed, 1 failed");
    assert_eq!(out.status.code(), Some(1), "the bad line is a failure");
}

#[test]
fn repl_text_reports_an_invalid_utf8_line_and_goes_on() {
    let out = repl(&[], b"process A\n\xc3\nexpect 1 == 1\n");
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(text.contains("parse error"), "{text}");
    assert!(text.contains("not valid UTF-8"), "{text}");
    assert!(text.contains("expect 1 == 1 => ok"), "{text}");
    assert_eq!(text.lines().last(), Some("1 passed, 1 failed"), "{text}");
    assert_eq!(out.status.code(), Some(1));
}

#[test]
fn repl_end_of_input_inside_a_continuation_is_a_reported_failure() {
    let out = repl(&["--json"], b"process A\nexpect 1 == \\\n");
    let (objs, last) = answers(&out);
    assert_eq!(objs.len(), 2, "{objs:?}");
    assert_eq!(objs[1]["pass"], false);
    assert!(
        objs[1]["parse_error"]
            .as_str()
            .unwrap()
            .contains("end of input"),
        "{:?}",
        objs[1]
    );
    assert_eq!(last, "0 passed, 1 failed");
    assert_eq!(out.status.code(), Some(1));

    let out = repl(&[], b"process A\nexpect 1 == \\\n");
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(text.contains("end of input"), "{text}");
    assert_eq!(text.lines().last(), Some("0 passed, 1 failed"), "{text}");
    assert_eq!(out.status.code(), Some(1));
}

#[test]
fn repl_exit_status_follows_runs_rule() {
    let ok = repl(&[], b"process A\nexpect 1 == 1\nquit\n");
    assert_eq!(ok.status.code(), Some(0));
    let failed = repl(&["--json"], b"process A\nexpect 1 == 2\n");
    assert_eq!(failed.status.code(), Some(1));
    assert_eq!(answers(&failed).1, "0 passed, 1 failed");
    let unparsable = repl(&["--json"], b"bogus!\nquit\n");
    assert_eq!(unparsable.status.code(), Some(1));
    assert_eq!(answers(&unparsable).1, "0 passed, 1 failed");
    let statement_error = repl(&[], b"x = CloseHandle(4)\n");
    assert_eq!(
        statement_error.status.code(),
        Some(1),
        "a call before any process"
    );
}

#[test]
fn repl_answers_a_line_longer_than_the_limit_and_goes_on() {
    let mut input = b"process A\n".to_vec();
    input.extend(std::iter::repeat_n(b'x', (1 << 20) + 10));
    input.extend(b"\nexpect 2 == 2\n");
    let out = repl(&["--json"], &input);
    let (objs, last) = answers(&out);
    assert_eq!(objs.len(), 3, "{objs:?}");
    assert_eq!(objs[1]["line"], 2);
    assert!(
        objs[1]["parse_error"].as_str().unwrap().contains("1 MiB"),
        "{:?}",
        objs[1]
    );
    assert_eq!(objs[2]["line"], 3);
    assert_eq!(objs[2]["pass"], true);
    assert_eq!(last, "1 passed, 1 failed");
}

#[test]
fn a_bom_at_the_start_is_skipped() {
    let f = scenario("bom.ntm", b"\xef\xbb\xbfprocess A\nexpect 1 == 1\n");
    let (text, code) = run(&f);
    assert_eq!(text.lines().last(), Some("1 passed, 0 failed"), "{text}");
    assert_eq!(code, Some(0));
    let out = repl(&["--json"], b"\xef\xbb\xbfprocess A\nexpect 1 == 1\n");
    assert_eq!(answers(&out).1, "1 passed, 0 failed");
    assert_eq!(out.status.code(), Some(0));
}

#[test]
fn a_string_escape_xhh_is_one_byte() {
    let f = scenario(
        "bytes.ntm",
        "process A\n\
         h = CreateFileMapping(INVALID_HANDLE_VALUE, NULL, PAGE_READWRITE, 0, 0x1000, NULL)\n\
         p = MapViewOfFile(h, FILE_MAP_WRITE, 0, 0, 0)\n\
         write(p, \"\\xff\")\n\
         expect read(p, 1) == hex\"ff\"\n\
         expect read(p, 2) == hex\"ff 00\"\n\
         file \"a.bin\" = \"\\xe9\"\n\
         file \"b.bin\" = \"é\"\n\
         expect disk \"a.bin\" == hex\"e9\"\n\
         expect disk \"b.bin\" == hex\"c3 a9\"\n\
         expect \"\\xe9\" != \"é\"\n\
         expect \"\\xc3\\xa9\" == \"é\"\n\
         x = \"\\xff\"\n"
            .as_bytes(),
    );
    let (text, code) = run(&f);
    assert_eq!(text.lines().last(), Some("6 passed, 0 failed"), "{text}");
    assert_eq!(code, Some(0));
    assert!(text.contains("x = \"\\xff\" => hex\"ff\""), "{text}");
}

#[test]
fn a_name_that_is_not_utf8_is_a_statement_error() {
    let f = scenario(
        "badname.ntm",
        b"process A\nh = CreateFile(\"\\xff.bin\", GENERIC_READ, 0, NULL, CREATE_ALWAYS, 0, NULL)\n",
    );
    let (text, code) = run(&f);
    assert!(text.contains("must be valid UTF-8 text"), "{text}");
    assert_eq!(code, Some(1));
}

/// Closing the handle a process name stands for and reusing its value must not make the name
/// reach another process: `DuplicateHandle(A, h, B, …)` lands in B.
#[test]
fn a_process_name_never_reaches_another_process_after_its_handle_closes() {
    let f = scenario(
        "names.ntm",
        b"process A\n\
          process B\n\
          process C\n\
          use A\n\
          b = B\n\
          expect CloseHandle(B) == TRUE\n\
          c = C\n\
          expect c == b\n\
          h = CreateEvent(NULL, TRUE, FALSE, NULL)\n\
          expect DuplicateHandle(A, h, B, &d, 0, FALSE, DUPLICATE_SAME_ACCESS) == TRUE\n\
          C> expect CloseHandle(d) == FALSE, ERROR_INVALID_HANDLE\n\
          B> expect CloseHandle(d) == TRUE\n\
          expect B != c\n\
          b2 = B\n\
          expect DuplicateHandle(A, B, A, &x, 0, FALSE, DUPLICATE_SAME_ACCESS | DUPLICATE_CLOSE_SOURCE) == TRUE\n\
          e = CreateEvent(NULL, TRUE, FALSE, NULL)\n\
          expect e == b2\n\
          expect B != e\n\
          expect DuplicateHandle(A, h, B, &d2, 0, FALSE, DUPLICATE_SAME_ACCESS) == TRUE\n\
          B> expect CloseHandle(d2) == TRUE\n",
    );
    let (text, code) = run(&f);
    assert_eq!(text.lines().last(), Some("11 passed, 0 failed"), "{text}");
    assert_eq!(code, Some(0));
}

/// A child whose standard output is a pipe whose reader has closed: it must end quietly, with
/// no panic and no "Broken pipe" text, and the exit status of the run.
fn closed_pipe(cmd: &mut Command, input: Option<&[u8]>, read_first: bool) -> Output {
    let mut child = cmd
        .stdin(if input.is_some() {
            Stdio::piped()
        } else {
            Stdio::null()
        })
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let stdout = child.stdout.take().unwrap();
    if read_first {
        // `| head -1`: read one line, then close.
        let mut r = BufReader::new(stdout);
        let mut line = String::new();
        r.read_line(&mut line).unwrap();
        assert!(!line.is_empty());
    } else {
        drop(stdout);
    }
    if let Some(input) = input {
        let mut stdin = child.stdin.take().unwrap();
        let _ = stdin.write_all(input);
    }
    child.wait_with_output().unwrap()
}

fn assert_quiet(out: &Output, what: &str) {
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(!err.contains("panicked"), "{what}: {err}");
    assert!(!err.to_lowercase().contains("broken pipe"), "{what}: {err}");
    assert_eq!(out.status.code(), Some(0), "{what}: {err}");
}

#[test]
fn a_closed_output_pipe_ends_demo_quietly() {
    let out = closed_pipe(ntmm().arg("demo"), None, false);
    assert_quiet(&out, "demo");
}

#[test]
fn a_closed_output_pipe_ends_run_quietly() {
    // More output than a pipe holds, so the run writes after the reader has gone.
    let mut src = String::from("process A\n");
    for _ in 0..20_000 {
        src.push_str("x = 0x123456789abcdef\n");
    }
    src.push_str("expect x == 0x123456789abcdef\n");
    let f = scenario("long.ntm", src.as_bytes());
    let out = closed_pipe(ntmm().arg("run").arg(&f), None, true);
    assert_quiet(&out, "run");
    // The run's own status is kept: a failing run still exits 1.
    let bad = scenario("long_bad.ntm", format!("{src}expect 1 == 2\n").as_bytes());
    let out = closed_pipe(ntmm().arg("run").arg(&bad), None, true);
    assert_eq!(out.status.code(), Some(1));
    assert!(!String::from_utf8_lossy(&out.stderr).contains("panicked"));
}

#[test]
fn a_closed_output_pipe_ends_machine_and_bench_quietly() {
    let out = closed_pipe(ntmm().arg("machine"), None, false);
    assert_quiet(&out, "machine");
    let out = closed_pipe(
        ntmm().args(["bench", "--quick", "--only", "map_unmap_64k"]),
        None,
        false,
    );
    assert_quiet(&out, "bench");
}

#[test]
fn a_closed_output_pipe_ends_repl_quietly() {
    for args in [&[][..], &["--json"][..]] {
        let out = closed_pipe(
            ntmm().arg("repl").args(args),
            Some(b"process A\nexpect 1 == 1\nhelp\ndraw\nquit\n"),
            false,
        );
        assert_quiet(&out, "repl");
    }
}

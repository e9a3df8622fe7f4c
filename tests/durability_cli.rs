//! Nothing a scenario writes is lost when a run ends, run as a new user would: the built
//! `ntmm` binary on a `--volume` directory, with both writer policies, after `run`, after
//! `repl` with `quit`, and after the end of the repl's input.
#![allow(clippy::tests_outside_test_module)]

use std::io::Write;
use std::path::Path;
use std::process::{Command, Stdio};

fn ntmm() -> Command {
    Command::new(env!("CARGO_BIN_EXE_ntmm"))
}

/// `WriteFile` of "hello world", then "VIEW" written through a view at offset 0x10 of the same
/// file; with `unmap`, the view is unmapped, the handles closed and the process exits.
fn scenario(unmap: bool) -> String {
    let mut s = String::from(
        "process A\n\
         hf = CreateFile(\"data.bin\", GENERIC_READ | GENERIC_WRITE, 0, NULL, CREATE_ALWAYS, FILE_ATTRIBUTE_NORMAL, NULL)\n\
         expect WriteFile(hf, \"hello world\", 11, &n, NULL) == TRUE\n\
         hm = CreateFileMapping(hf, NULL, PAGE_READWRITE, 0, 0x20, NULL)\n\
         p = MapViewOfFile(hm, FILE_MAP_WRITE, 0, 0, 0)\n\
         write(p + 0x10, \"VIEW\")\n",
    );
    if unmap {
        s.push_str(
            "expect UnmapViewOfFile(p) == TRUE\n\
             expect CloseHandle(hm) == TRUE\n\
             expect CloseHandle(hf) == TRUE\n\
             exit A\n",
        );
    }
    s
}

fn expected() -> Vec<u8> {
    let mut v = b"hello world".to_vec();
    v.resize(0x20, 0);
    v[0x10..0x14].copy_from_slice(b"VIEW");
    v
}

fn check(dir: &Path, how: &str, out: &std::process::Output) {
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        stdout.contains(" passed, 0 failed"),
        "{how}: the run failed:\n{stdout}"
    );
    let got = std::fs::read(dir.join("data.bin")).unwrap();
    assert_eq!(
        got,
        expected(),
        "{how}: the host file lost data\n{}",
        String::from_utf8_lossy(&got)
    );
}

fn repl(dir: &Path, writer: &str, input: &str) -> std::process::Output {
    let mut child = ntmm()
        .args(["--writer", writer, "--volume"])
        .arg(dir)
        .arg("repl")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(input.as_bytes())
        .unwrap();
    child.wait_with_output().unwrap()
}

fn cases() -> Vec<(&'static str, bool)> {
    // The lazy writer with the view unmapped (the finding), and the eager writer both with
    // the view unmapped and with it still mapped at the end.
    vec![
        ("lazy", true),
        ("lazy", false),
        ("eager", true),
        ("eager", false),
    ]
}

#[test]
fn run_leaves_every_written_byte_in_the_host_file() {
    for (writer, unmap) in cases() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("s.ntm");
        std::fs::write(&file, scenario(unmap)).unwrap();
        let vol = dir.path().join("vol");
        let out = ntmm()
            .args(["--writer", writer, "--volume"])
            .arg(&vol)
            .arg("run")
            .arg(&file)
            .output()
            .unwrap();
        check(&vol, &format!("run, {writer}, unmap {unmap}"), &out);
        assert!(out.status.success());
    }
}

#[test]
fn repl_quit_leaves_every_written_byte_in_the_host_file() {
    for (writer, unmap) in cases() {
        let dir = tempfile::tempdir().unwrap();
        let out = repl(dir.path(), writer, &format!("{}quit\n", scenario(unmap)));
        check(
            dir.path(),
            &format!("repl quit, {writer}, unmap {unmap}"),
            &out,
        );
    }
}

#[test]
fn repl_end_of_input_leaves_every_written_byte_in_the_host_file() {
    for (writer, unmap) in cases() {
        let dir = tempfile::tempdir().unwrap();
        let out = repl(dir.path(), writer, &scenario(unmap));
        check(
            dir.path(),
            &format!("repl eof, {writer}, unmap {unmap}"),
            &out,
        );
    }
}

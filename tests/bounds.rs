//! Bounded resources (issue 1/7, "Bounded resources"): no accepted input aborts or exhausts the
//! host. Each test runs the built binary (or the library) on input that used to abort or grow
//! without bound, and checks that it either runs or is refused with one clear message.
#![allow(clippy::tests_outside_test_module)]

use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

fn ntmm() -> Command {
    Command::new(env!("CARGO_BIN_EXE_ntmm"))
}

/// The binary under a host address-space limit of `kib` KiB (`ulimit -v`), so that a run that
/// would take gigabytes fails fast instead of exhausting the machine running the tests.
fn ntmm_limited(kib: u64) -> Command {
    let mut c = Command::new("sh");
    c.arg("-c")
        .arg(format!("ulimit -v {kib} && exec \"$0\" \"$@\""))
        .arg(env!("CARGO_BIN_EXE_ntmm"));
    c
}

fn dir(tag: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("ntmm-bounds-{tag}-{}", std::process::id()));
    std::fs::create_dir_all(&d).unwrap();
    d
}

fn scenario(tag: &str, text: &str) -> PathBuf {
    let p = dir(tag).join("s.ntm");
    std::fs::write(&p, text).unwrap();
    p
}

/// Waits for `child` at most `limit`; kills it (and fails) if it runs longer.
fn finish_within(mut child: Child, limit: Duration, what: &str) -> Output {
    let start = Instant::now();
    loop {
        if child.try_wait().unwrap().is_some() {
            return child.wait_with_output().unwrap();
        }
        if start.elapsed() > limit {
            let _ = child.kill();
            let _ = child.wait();
            panic!("{what} still running after {limit:?}");
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

/// Exited on its own (no signal such as SIGABRT or SIGKILL), without a Rust panic.
fn assert_no_abort(out: &Output, what: &str) {
    assert!(
        out.status.code().is_some(),
        "{what}: killed by a signal ({:?})\nstderr: {}",
        out.status,
        text(&out.stderr)
    );
    assert_ne!(out.status.code(), Some(101), "{what}: panicked");
    assert!(
        !text(&out.stderr).contains("panicked"),
        "{what}: {}",
        text(&out.stderr)
    );
}

const TINY: &str = "process A\np = VirtualAlloc(NULL, 0x1000, MEM_COMMIT, PAGE_READWRITE)\nwrite(p, \"hi\")\nexpect read(p, 2) == \"hi\"\n";

#[test]
fn frames_sweep_runs_or_is_refused_with_one_clear_message() {
    let s = scenario("frames", TINY);
    let runs = ["4", "4096", "1048576"];
    let refused = [
        "0",
        "3",
        "1048577",
        "16777216",
        "4294967295",
        "4294967296",
        "-1",
        "abc",
        "",
    ];
    for v in runs.iter().chain(&refused) {
        // 8 GiB of address space: a 4 GiB machine fits, a 64 GiB one does not.
        let out = ntmm_limited(8 << 20)
            .arg("run")
            .arg(format!("--frames={v}"))
            .arg(&s)
            .output()
            .unwrap();
        assert_no_abort(&out, &format!("--frames {v}"));
        let stdout = text(&out.stdout);
        let stderr = text(&out.stderr);
        if runs.contains(v) {
            assert!(
                out.status.success(),
                "--frames {v} should run\n{stdout}{stderr}"
            );
            assert!(stdout.ends_with("1 passed, 0 failed\n"), "{stdout}");
        } else {
            assert_eq!(out.status.code(), Some(2), "--frames {v}\n{stdout}{stderr}");
            assert!(stdout.is_empty(), "nothing runs: {stdout}");
            assert!(stderr.contains("--frames"), "names the option: {stderr}");
            if v.parse::<u64>().is_ok() {
                assert!(
                    stderr.contains(&format!(
                        "frames={v} is out of range: frames must be 4..=1048576"
                    )),
                    "names the range: {stderr}"
                );
            }
        }
    }
}

#[test]
fn every_limit_ntmm_machine_prints_is_enforced() {
    let out = ntmm().arg("machine").output().unwrap();
    assert!(out.status.success());
    let listing = text(&out.stdout);
    let s = scenario("machine-limits", TINY);
    // (flag, largest accepted value as printed): one past it is refused with the printed range.
    for (flag, key) in [
        ("--frames", "frames"),
        ("--pagefile", "pagefile"),
        ("--workingset", "workingset"),
        ("--budget", "budget"),
    ] {
        let line = listing
            .lines()
            .find(|l| l.trim_start().starts_with(&format!("{key}=")))
            .unwrap_or_else(|| panic!("`ntmm machine` lists {key}:\n{listing}"));
        let range = line
            .split(['(', ')'])
            .nth(1)
            .unwrap_or_else(|| panic!("a range in {line:?}"));
        let (lo, hi) = range.split_once("..=").unwrap();
        let lo: u64 = lo.trim().parse().unwrap();
        let hi: u64 = hi.trim().parse().unwrap();
        for (v, ok) in [(lo - 1, false), (hi + 1, false), (lo, true)] {
            let out = ntmm_limited(8 << 20)
                .arg("run")
                .arg(format!("{flag}={v}"))
                .arg(&s)
                .output()
                .unwrap();
            assert_no_abort(&out, &format!("{flag} {v}"));
            let stderr = text(&out.stderr);
            if ok {
                // The smallest budget is too small for nothing here; the rest runs.
                assert!(out.status.success(), "{flag}={v}: {stderr}");
            } else {
                assert_eq!(out.status.code(), Some(2), "{flag}={v}");
                assert!(
                    stderr.contains(&format!("{key} must be {lo}..={hi}")),
                    "{flag}={v}: {stderr}"
                );
            }
        }
    }
}

#[test]
fn an_out_of_range_machine_line_is_one_error_up_front() {
    for line in [
        "machine frames=16777216",
        "machine frames=3",
        "machine pagefile=0",
        "machine frames=64 pagefile=99999999999",
    ] {
        let s = scenario("machine-line", &format!("{line}\n{TINY}"));
        let out = ntmm_limited(8 << 20).arg("run").arg(&s).output().unwrap();
        assert_no_abort(&out, line);
        let stdout = text(&out.stdout);
        assert_eq!(out.status.code(), Some(1), "{line}\n{stdout}");
        assert_eq!(
            stdout.matches("error:").count(),
            1,
            "one error, not one per statement:\n{stdout}"
        );
        assert!(stdout.contains("is out of range"), "{stdout}");
        assert!(stdout.ends_with("0 passed, 1 failed\n"), "{stdout}");
    }
}

#[test]
fn system_new_with_an_out_of_range_machine_returns_an_error() {
    use ntmm::api::{System, SystemConfig, Volume};
    use ntmm::vmm::VmmConfig;
    for (frames, pagefile_pages, working_set_max) in [
        (1u32 << 24, 16u32, 8u64),
        ((1 << 20) + 1, 16, 8),
        (u32::MAX, 16, 8),
        (16, u32::MAX, 8),
        (16, 16, u64::MAX),
    ] {
        let vmm = VmmConfig {
            frames,
            pagefile_pages,
            working_set_max,
            ..VmmConfig::default()
        };
        assert!(vmm.validate().is_err());
        let r = System::new(SystemConfig {
            vmm,
            volume: Volume::Memory,
        });
        assert_eq!(
            r.err().map(|e| e.code()),
            Some(87),
            "ERROR_INVALID_PARAMETER for {vmm:?}"
        );
    }
}

#[test]
fn three_gigabyte_files_keep_host_memory_small() {
    let s = scenario(
        "bigfiles",
        "file \"a\" size 0x40000000\nfile \"b\" size 0x40000000\nfile \"c\" size 0x40000000\n\
         process A\nh = CreateFile(\"b\", GENERIC_READ, 0, NULL, OPEN_EXISTING, 0, NULL)\n\
         expect GetFileSize(h, NULL) == 0x40000000\n",
    );
    // 512 MiB of address space for the whole run: three stored gigabytes cannot fit.
    let out = ntmm_limited(512 << 10).arg("run").arg(&s).output().unwrap();
    assert_no_abort(&out, "three 1 GiB files");
    assert!(out.status.success(), "{}", text(&out.stdout));

    // In the library: what the stores hold on the host.
    let script = ntmm::scenario::parse(&std::fs::read_to_string(&s).unwrap()).unwrap();
    let mut r = ntmm::scenario::Runner::new("bigfiles", &Default::default());
    r.run_script(&script);
    let held = r
        .system_if_started()
        .unwrap()
        .executive()
        .vmm()
        .host_bytes();
    assert!(held < 1 << 20, "{held} bytes held for three zero files");
}

#[test]
fn three_big_reads_give_a_small_transcript() {
    let s = scenario(
        "bigreads",
        "process A\np = VirtualAlloc(NULL, 0x4000000, MEM_COMMIT, PAGE_READWRITE)\n\
         write(p + 0x10, \"abc\")\n\
         x = read(p, 0x4000000)\ny = read(p, 0x4000000)\nz = read(p, 0x4000000)\n\
         expect x == y\n",
    );
    for json in [false, true] {
        let mut c = ntmm();
        c.arg("run").arg(&s);
        if json {
            c.arg("--json");
        }
        let out = c.output().unwrap();
        let stdout = text(&out.stdout);
        assert!(
            out.status.success(),
            "{}",
            &stdout[..stdout.len().min(4000)]
        );
        assert!(
            stdout.len() < 16 << 10,
            "a transcript of {} bytes for three 64 MiB reads",
            stdout.len()
        );
        assert!(
            stdout.contains("<0x4000000 bytes: 00 00 00"),
            "length and prefix shown: {stdout}"
        );
    }
}

#[test]
fn full_values_keeps_byte_values_whole_on_request() {
    let s = scenario(
        "fullvalues",
        "process A\np = VirtualAlloc(NULL, 0x1000, MEM_COMMIT, PAGE_READWRITE)\nx = read(p, 0x1000)\n",
    );
    let out = ntmm()
        .args(["run", "--json", "--full-values"])
        .arg(&s)
        .output()
        .unwrap();
    assert!(out.status.success());
    let last: serde_json::Value = text(&out.stdout)
        .lines()
        .filter(|l| l.contains("read(p"))
        .map(|l| serde_json::from_str(l).unwrap())
        .next()
        .unwrap();
    let result = last["result"].as_str().unwrap();
    assert_eq!(result.matches("00").count(), 0x1000, "{result}");
}

#[test]
fn a_long_input_line_is_refused_promptly() {
    let mut src = String::from("process A\nx = \"");
    src.push_str(&"a".repeat(2 << 20));
    src.push_str("\"\n");
    let s = scenario("longline", &src);
    let child = ntmm_limited(1 << 20)
        .arg("run")
        .arg(&s)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let out = finish_within(child, Duration::from_secs(20), "a 2 MiB line");
    assert_no_abort(&out, "a 2 MiB line");
    let stdout = text(&out.stdout);
    assert_eq!(
        out.status.code(),
        Some(1),
        "{}",
        &stdout[..stdout.len().min(500)]
    );
    assert!(
        stdout
            .contains(":2:1: parse error: the line is longer than the 1 MiB a statement may have"),
        "{}",
        &stdout[..stdout.len().min(500)]
    );
    assert!(stdout.len() < 4096);
}

#[test]
fn dev_zero_is_refused_promptly() {
    if !Path::new("/dev/zero").exists() {
        return;
    }
    for cmd in ["run", "draw"] {
        let child = ntmm_limited(1 << 20)
            .arg(cmd)
            .arg("/dev/zero")
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let out = finish_within(child, Duration::from_secs(20), "ntmm run /dev/zero");
        assert_no_abort(&out, "/dev/zero");
        assert_ne!(out.status.code(), Some(0));
        let all = text(&out.stdout) + &text(&out.stderr);
        assert!(
            all.contains("/dev/zero")
                && all.contains("larger than the 16 MiB a scenario file may have"),
            "{all}"
        );
    }
}

#[test]
fn exceeding_the_budget_is_a_statement_error_that_names_it() {
    let body = "process A\np = VirtualAlloc(NULL, 0x400000, MEM_COMMIT, PAGE_READWRITE)\n\
                x = read(p, 0x200000)\ny = read(p, 0x200000)\nexpect 1 == 1\n";
    // A machine line and the flag set the same budget.
    for (flag, src) in [
        (None, format!("machine budget=0x300000\n{body}")),
        (Some("--budget=3145728"), body.to_string()),
    ] {
        let s = scenario("budget", &src);
        let mut c = ntmm();
        c.arg("run").arg(&s);
        if let Some(f) = flag {
            c.arg(f);
        }
        let out = c.output().unwrap();
        let stdout = text(&out.stdout);
        assert_eq!(out.status.code(), Some(1), "{stdout}");
        let err = stdout
            .lines()
            .find(|l| l.contains("error:"))
            .unwrap_or_else(|| panic!("a budget error: {stdout}"));
        assert!(
            err.contains("y = read(p, 0x200000)"),
            "the second read: {err}"
        );
        for needle in ["host-memory budget", "0x300000", "budget="] {
            assert!(err.contains(needle), "{needle} in {err}");
        }
        // The run stops there: the later expectation does not run.
        assert!(stdout.ends_with("0 passed, 1 failed\n"), "{stdout}");
    }
    // The default budget lets the same scenario through.
    let s = scenario("budget-default", body);
    let out = ntmm().arg("run").arg(&s).output().unwrap();
    assert!(out.status.success(), "{}", text(&out.stdout));
}

#[test]
fn big_files_from_stdin_like_sources_are_read_with_a_bound() {
    // A file exactly at the limit is read (and parsed); one byte more is refused.
    let limit = 16 << 20;
    let d = dir("exact");
    let at = d.join("at.ntm");
    let mut src = "process A\n".to_string();
    let filler = format!("# {}\n", "x".repeat(1000));
    while src.len() + filler.len() <= limit {
        src.push_str(&filler);
    }
    src.push_str(&"\n".repeat(limit - src.len()));
    assert_eq!(src.len(), limit);
    std::fs::write(&at, &src).unwrap();
    let out = ntmm().arg("run").arg(&at).output().unwrap();
    assert!(out.status.success(), "{}", text(&out.stdout));
    let over = d.join("over.ntm");
    std::fs::write(&over, format!("{src}\n")).unwrap();
    let mut child = ntmm()
        .arg("run")
        .arg(&over)
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stdout = String::new();
    child
        .stdout
        .take()
        .unwrap()
        .read_to_string(&mut stdout)
        .unwrap();
    assert_eq!(child.wait().unwrap().code(), Some(1));
    assert!(stdout.contains("larger than the 16 MiB"), "{stdout}");
}

#[test]
fn reassigning_a_variable_counts_only_its_current_value() {
    let mut src = String::from(
        "machine budget=0x300000\nfile \"f\" = \"abc\"\nprocess A\n\
         p = VirtualAlloc(NULL, 0x200000, MEM_COMMIT, PAGE_READWRITE)\n\
         h = CreateFile(\"f\", GENERIC_READ, 0, NULL, OPEN_EXISTING, 0, NULL)\n",
    );
    for _ in 0..10 {
        src.push_str("x = read(p, 0x200000)\n");
        // An out-parameter replaces the value too.
        src.push_str("ReadFile(h, &x, 3, &n, NULL)\n");
    }
    src.push_str("expect 1 == 1\n");
    let s = scenario("reassign", &src);
    let out = ntmm().arg("run").arg(&s).output().unwrap();
    let stdout = text(&out.stdout);
    assert!(!stdout.contains("exceeds"), "{stdout}");
    assert!(stdout.ends_with("1 passed, 0 failed\n"), "{stdout}");
}

//! The replay page in a real browser: Debian's headless Chromium opens the page of every
//! example and steps through every statement with the page's own controls (buttons, arrow
//! keys, slider; the page's `#selftest`), with no script or console error; for examples 12 and
//! the tour, each step must show the statement of `ntmm run --json --trace`, highlighted, its
//! trace lines, and the PTE and frame states the trace's faults leave. Screenshots are saved
//! (to `$NTMM_SCREENSHOTS`, else the test's temporary directory).
//!
//! No browser, no pass: the test installs `chromium` with apt-get when it is missing and it
//! runs as root (as `.ci/run` does), and otherwise fails saying so.

use serde_json::Value;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

fn ntmm() -> Command {
    Command::new(env!("CARGO_BIN_EXE_ntmm"))
}

fn on_path(name: &str) -> Option<PathBuf> {
    std::env::split_paths(&std::env::var_os("PATH")?)
        .map(|d| d.join(name))
        .find(|p| p.is_file())
}

fn find_browser() -> Option<PathBuf> {
    ["chromium", "chromium-browser", "google-chrome", "chrome"]
        .iter()
        .find_map(|n| on_path(n))
}

/// The browser, installed with apt-get if missing and root; else the test fails, saying why.
fn browser() -> &'static Path {
    static BROWSER: OnceLock<Result<PathBuf, String>> = OnceLock::new();
    let found = BROWSER.get_or_init(|| {
        if let Some(b) = find_browser() {
            return Ok(b);
        }
        let root = Command::new("id")
            .arg("-u")
            .output()
            .is_ok_and(|o| String::from_utf8_lossy(&o.stdout).trim() == "0");
        if !root {
            return Err("no browser can be had: Chromium is not installed and this test does not run as root to install it; install Debian's `chromium` package (apt-get install -y chromium) and run again".into());
        }
        let apt = |args: &[&str]| {
            Command::new("apt-get")
                .args(args)
                .env("DEBIAN_FRONTEND", "noninteractive")
                .stdout(Stdio::null())
                .status()
                .is_ok_and(|s| s.success())
        };
        if !apt(&["install", "-y", "chromium"]) {
            apt(&["update"]);
            apt(&["install", "-y", "chromium"]);
        }
        find_browser().ok_or_else(|| "no browser can be had: `apt-get install -y chromium` did not install Chromium (no network or no package); this test needs Debian's `chromium`".to_string())
    });
    match found {
        Ok(p) => p,
        Err(e) => panic!("{e}"),
    }
}

/// Runs the browser headless on `url` with `extra` arguments; its stdout and stderr.
fn chromium(url: &str, extra: &[&str]) -> (String, String) {
    let profile = tempfile::tempdir().unwrap();
    let mut child = Command::new(browser())
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--no-first-run",
            "--disable-extensions",
            "--disable-dev-shm-usage",
            "--enable-logging=stderr",
            "--v=0",
        ])
        .arg(format!("--user-data-dir={}", profile.path().display()))
        .args(extra)
        .arg(url)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    // Read both pipes while the browser runs (a full pipe would stall it).
    let mut out = child.stdout.take().unwrap();
    let mut err = child.stderr.take().unwrap();
    let t_out = std::thread::spawn(move || {
        let mut s = String::new();
        std::io::Read::read_to_string(&mut out, &mut s).ok();
        s
    });
    let t_err = std::thread::spawn(move || {
        let mut s = String::new();
        std::io::Read::read_to_string(&mut err, &mut s).ok();
        s
    });
    let start = Instant::now();
    loop {
        if child.try_wait().unwrap().is_some() {
            break;
        }
        if start.elapsed() > Duration::from_secs(90) {
            let _ = child.kill();
            let _ = child.wait();
            panic!("the browser did not finish with {url} in 90 s");
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    (t_out.join().unwrap(), t_err.join().unwrap())
}

fn unescape(s: &str) -> String {
    s.replace("&quot;", "\"")
        .replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&amp;", "&")
}

/// Console messages that are errors, from the browser's log.
fn console_errors(stderr: &str) -> Vec<&str> {
    stderr
        .lines()
        .filter(|l| l.contains("CONSOLE") && (l.contains("Uncaught") || l.contains("Error")))
        .collect()
}

/// What the page showed at each step when it stepped through itself.
fn selftest(page: &Path) -> Value {
    let (dom, stderr) = chromium(
        &format!("file://{}#selftest", page.display()),
        &["--virtual-time-budget=20000", "--dump-dom"],
    );
    let errors = console_errors(&stderr);
    assert!(
        errors.is_empty(),
        "{}: console errors {errors:?}",
        page.display()
    );
    let start = dom
        .find("<pre id=\"selftest\">")
        .unwrap_or_else(|| panic!("{}: no page:\n{dom:.2000}\n{stderr:.2000}", page.display()))
        + 19;
    let end = start + dom[start..].find("</pre>").unwrap();
    serde_json::from_str(&unescape(&dom[start..end])).unwrap_or_else(|e| {
        panic!(
            "{}: the page did not step through itself ({e}): {:.500}",
            page.display(),
            &dom[start..end]
        )
    })
}

/// The statements of `ntmm run --json --trace FILE`: (line, statement, trace, events).
fn run_steps(file: &Path) -> Vec<(u64, String, Vec<String>, Vec<Value>)> {
    let out = ntmm()
        .args(["run", "--json", "--trace"])
        .arg(file)
        .output()
        .unwrap();
    let mut steps: Vec<(u64, String, Vec<String>, Vec<Value>)> = Vec::new();
    for l in String::from_utf8(out.stdout).unwrap().lines() {
        let Ok(v) = serde_json::from_str::<Value>(l) else {
            continue;
        };
        if let Some(t) = v.get("trace") {
            if let Some(last) = steps.last_mut() {
                last.2.push(t.as_str().unwrap().to_string());
                last.3.push(v["event"].clone());
            }
        } else if v.get("statement").is_some() {
            steps.push((
                v["line"].as_u64().unwrap(),
                v["statement"].as_str().unwrap().to_string(),
                vec![],
                vec![],
            ));
        }
    }
    steps
}

/// Faults of a step that no later event of the step undoes: (process, page, frame).
fn settled_faults(events: &[Value]) -> Vec<(String, String, String)> {
    let mut out = Vec::new();
    for (i, e) in events.iter().enumerate() {
        if e["kind"] != "FaultResolved" {
            continue;
        }
        let (va, pfn) = (e["va"].as_str().unwrap(), e["pfn"].as_str().unwrap());
        let later = events[i + 1..].iter().any(|x| {
            x.get("va").and_then(Value::as_str) == Some(va)
                || x.get("pfn").and_then(Value::as_str) == Some(pfn)
                || x["kind"] == "ProcessExited"
        });
        if !later {
            let page = u64::from_str_radix(va.trim_start_matches("0x"), 16).unwrap() & !0xFFF;
            out.push((
                e["process"].as_str().unwrap().to_string(),
                format!("{page:#x}"),
                pfn.to_string(),
            ));
        }
    }
    out
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

fn write_page(example: &Path, dir: &Path) -> PathBuf {
    let page = dir.join(example.with_extension("html").file_name().unwrap());
    let out = ntmm()
        .arg("replay")
        .arg(example)
        .arg("-o")
        .arg(&page)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    page
}

#[test]
fn every_step_of_two_examples_shows_its_statement_and_the_states_the_trace_tells() {
    let dir = tempfile::tempdir().unwrap();
    for name in ["12_memory_pressure.ntm", "00_demo_tour.ntm"] {
        let example = Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("examples")
            .join(name);
        let page = write_page(&example, dir.path());
        let shown = selftest(&page);
        let expected = run_steps(&example);
        let steps = shown["steps"].as_array().unwrap();
        assert_eq!(steps.len(), expected.len(), "{name}: every statement");
        assert_eq!(
            shown["errors"],
            serde_json::json!([]),
            "{name}: script errors"
        );
        let n = expected.len().to_string();
        let back = (expected.len() - 1).to_string();
        assert_eq!(
            shown["controls"],
            serde_json::json!(["1", n, back, "1"]),
            "{name}: first, last, ←, slider"
        );
        let mut lines: Vec<u64> = expected.iter().map(|e| e.0).collect();
        lines.dedup();
        assert_eq!(shown["links"], lines.len(), "{name}: a link per statement");
        let mut faults = 0;
        for (i, (s, (line, stmt, trace, events))) in steps.iter().zip(&expected).enumerate() {
            let at = format!("{name} step {}", i + 1);
            assert_eq!(s["step"], i + 1, "{at}");
            assert_eq!(
                s["highlighted"],
                format!("L{line}"),
                "{at}: the line highlighted"
            );
            assert!(
                s["statement"].as_str().unwrap().contains(stmt.as_str()),
                "{at}: shows {:?}, not {stmt:?}",
                s["statement"]
            );
            assert_eq!(s["trace"], serde_json::json!(trace), "{at}: the trace");
            let nodes = s["nodes"].as_array().unwrap();
            let state_of = |head: &str| -> Option<String> {
                nodes
                    .iter()
                    .find(|n| n[1] == head)
                    .map(|n| n[2].as_str().unwrap().to_string())
            };
            for (process, page, pfn) in settled_faults(events) {
                let pte = state_of(&format!("{process}!{page}"))
                    .unwrap_or_else(|| panic!("{at}: no PTE {process}!{page} shown"));
                assert!(
                    pte.starts_with("valid"),
                    "{at}: {process}!{page} shown {pte}"
                );
                let frame = state_of(&format!("frame {pfn}"))
                    .unwrap_or_else(|| panic!("{at}: no frame {pfn} shown"));
                assert!(
                    frame.starts_with("active"),
                    "{at}: frame {pfn} shown {frame}"
                );
                faults += 1;
            }
        }
        assert!(faults > 5, "{name}: {faults} faults checked");
    }
}

#[test]
fn every_example_page_opens_without_error_and_steps_to_the_end() {
    let dir = tempfile::tempdir().unwrap();
    for example in examples() {
        let page = write_page(&example, dir.path());
        let html = std::fs::read_to_string(&page).unwrap();
        for bad in ["http://", "https://", " src="] {
            assert!(!html.contains(bad), "{}: {bad}", page.display());
        }
        let shown = selftest(&page);
        let steps = shown["steps"].as_array().unwrap();
        let expected = run_steps(&example).len();
        assert_eq!(steps.len(), expected, "{}", example.display());
        assert_eq!(steps.last().unwrap()["step"], expected);
        assert_eq!(
            shown["errors"],
            serde_json::json!([]),
            "{}",
            example.display()
        );
    }
}

#[test]
fn a_step_link_opens_that_step_and_screenshots_are_taken() {
    let dir = tempfile::tempdir().unwrap();
    let shots = std::env::var_os("NTMM_SCREENSHOTS")
        .map(PathBuf::from)
        .unwrap_or_else(|| Path::new(env!("CARGO_TARGET_TMPDIR")).join("replay-screenshots"));
    std::fs::create_dir_all(&shots).unwrap();
    let ex = |n: &str| {
        Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("examples")
            .join(n)
    };
    let tour = dir.path().join("tour.html");
    let out = ntmm()
        .arg("demo")
        .arg("--html")
        .arg(&tour)
        .output()
        .unwrap();
    assert!(out.status.success());
    let p12 = write_page(&ex("12_memory_pressure.ntm"), dir.path());
    // The line of the first statement of `file` that starts with `text` (1-based), so an edit of
    // the lesson's comments does not move the screenshots.
    let line_of = |file: &str, text: &str| -> u64 {
        let source = std::fs::read_to_string(ex(file)).unwrap();
        let i = source
            .lines()
            .position(|l| l.starts_with(text))
            .unwrap_or_else(|| panic!("{file} has no statement {text:?}"));
        i as u64 + 1
    };
    // (page, the statement's line, the screenshot)
    for (page, line, png) in [
        (
            &p12,
            line_of("12_memory_pressure.ntm", "flush-modified"),
            "replay-12-flush-modified.png",
        ),
        (
            &p12,
            line_of("12_memory_pressure.ntm", "expect read64(buf) == 0x1111"),
            "replay-12-hard-fault.png",
        ),
        (
            &tour,
            line_of("00_demo_tour.ntm", "write(pc, \"PRIVATE\")"),
            "replay-tour-copy-on-write.png",
        ),
    ] {
        let steps = if page == &tour {
            run_steps(&ex("00_demo_tour.ntm"))
        } else {
            run_steps(&ex("12_memory_pressure.ntm"))
        };
        let step = steps
            .iter()
            .position(|s| s.0 == line)
            .expect("a statement there")
            + 1;
        let url = format!("file://{}#step-{step}", page.display());
        let (dom, _) = chromium(&url, &["--virtual-time-budget=5000", "--dump-dom"]);
        assert!(
            dom.contains(&format!("data-step=\"{step}\""))
                && dom.contains(&format!("data-line=\"{line}\"")),
            "{url} does not open step {step} (line {line})"
        );
        let path = shots.join(png);
        let _ = std::fs::remove_file(&path);
        chromium(
            &url,
            &[
                "--virtual-time-budget=5000",
                "--hide-scrollbars",
                "--window-size=1600,1000",
                &format!("--screenshot={}", path.display()),
            ],
        );
        let bytes =
            std::fs::read(&path).unwrap_or_else(|_| panic!("no screenshot {}", path.display()));
        assert!(
            bytes.starts_with(b"\x89PNG") && bytes.len() > 20_000,
            "{png}"
        );
    }
}

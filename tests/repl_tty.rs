//! The repl on a terminal: `ntmm repl` run on a pseudo-terminal gets the line editor (history,
//! editing keys), prints values of bare expressions, and leaves at `quit # comment`. (Piped
//! input, the plain reader, is tested in tests/cli.rs and tests/protocol.rs.)
#![cfg(unix)]
#![allow(clippy::tests_outside_test_module)]

use rustix::pty::{grantpt, openpt, ptsname, unlockpt, OpenptFlags};
use std::fs::File;
use std::io::{Read, Write};
use std::process::{Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// What the terminal has shown so far, read from the pseudo-terminal's master side.
struct Screen {
    seen: Arc<Mutex<Vec<u8>>>,
}

impl Screen {
    fn text(&self) -> String {
        String::from_utf8_lossy(&self.seen.lock().unwrap()).into_owned()
    }
    /// Waits until `needle` is shown past byte `from` of the screen (10 s at most); where it
    /// ends.
    fn wait_for(&self, from: usize, needle: &str) -> usize {
        let start = Instant::now();
        loop {
            let text = self.text();
            if let Some(i) = text.get(from..).and_then(|t| t.find(needle)) {
                return from + i + needle.len();
            }
            assert!(
                start.elapsed() < Duration::from_secs(10),
                "the terminal never showed {needle:?} past byte {from}:\n{text}"
            );
            std::thread::sleep(Duration::from_millis(20));
        }
    }
}

#[test]
fn on_a_terminal_the_repl_edits_lines_recalls_history_and_prints_values() {
    let master = openpt(OpenptFlags::RDWR | OpenptFlags::NOCTTY).unwrap();
    grantpt(&master).unwrap();
    unlockpt(&master).unwrap();
    let slave_path = ptsname(&master, Vec::new()).unwrap();
    let slave = File::options()
        .read(true)
        .write(true)
        .open(slave_path.to_str().unwrap())
        .unwrap();
    let mut child = Command::new(env!("CARGO_BIN_EXE_ntmm"))
        .arg("repl")
        .env("TERM", "xterm")
        .stdin(Stdio::from(slave.try_clone().unwrap()))
        .stdout(Stdio::from(slave.try_clone().unwrap()))
        .stderr(Stdio::from(slave))
        .spawn()
        .unwrap();
    let mut keys = File::from(master);
    let mut reader = keys.try_clone().unwrap();
    let screen = Screen {
        seen: Arc::new(Mutex::new(Vec::new())),
    };
    let seen = Arc::clone(&screen.seen);
    // The master reads EIO once the repl has exited and closed the terminal.
    std::thread::spawn(move || {
        let mut buf = [0u8; 4096];
        while let Ok(n @ 1..) = reader.read(&mut buf) {
            seen.lock().unwrap().extend_from_slice(&buf[..n]);
        }
    });
    let mut send = |s: &str| keys.write_all(s.as_bytes()).unwrap();

    // Each line is typed once the prompt for it is shown (the editor may drop keys typed
    // ahead while it switches the terminal's mode).
    let mut at = screen.wait_for(0, "ntmm> ");
    send("process A\r");
    at = screen.wait_for(at, "1 process A");
    at = screen.wait_for(at, "ntmm> ");
    send("x = 1 + 2\r");
    at = screen.wait_for(at, "A> x = 1 + 2 => 3");
    at = screen.wait_for(at, "ntmm> ");
    // Up arrow recalls the last line; backspace and a new digit edit it.
    send("\x1b[A");
    at = screen.wait_for(at, "x = 1 + 2");
    send("\x7f5\r");
    at = screen.wait_for(at, "A> x = 1 + 5 => 6");
    at = screen.wait_for(at, "ntmm> ");
    // A bare variable prints its value.
    send("x\r");
    at = screen.wait_for(at, "A> x => 6");
    at = screen.wait_for(at, "ntmm> ");
    // Ctrl-C drops the line being typed; the session goes on.
    send("frobnicate");
    at = screen.wait_for(at, "frobnicate");
    send("\x03");
    at = screen.wait_for(at, "ntmm> ");
    send("quit # that is all\r");
    screen.wait_for(at, "0 passed, 0 failed");
    let start = Instant::now();
    let status = loop {
        if let Some(s) = child.try_wait().unwrap() {
            break s;
        }
        assert!(
            start.elapsed() < Duration::from_secs(10),
            "the repl did not exit"
        );
        std::thread::sleep(Duration::from_millis(20));
    };
    assert!(status.success(), "{}", screen.text());
    assert!(!screen.text().contains("parse error"), "{}", screen.text());
}

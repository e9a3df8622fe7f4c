//! The binary's standard output and error. A reader that goes away (`ntmm demo | head -1`)
//! stops the printing quietly, never the run: every command finishes its work (and its
//! end-of-run shutdown) and exits with the run's status. `println!` would panic instead
//! ("failed printing to stdout: Broken pipe", exit 101); restoring the default `SIGPIPE` would
//! kill the process (exit 141) before the run ends.

use std::fmt;
use std::io::{self, ErrorKind, Write};
use std::sync::atomic::{AtomicU8, Ordering};

/// Standard output takes what is printed.
const OPEN: u8 = 0;
/// Its reader went away (`EPIPE`): nothing more is printed, quietly.
const CLOSED: u8 = 1;
/// Writing failed otherwise (a full disk, …): nothing more is printed and the command fails.
const FAILED: u8 = 2;

static STATE: AtomicU8 = AtomicU8::new(OPEN);

/// Writes to standard output unless printing has stopped.
pub fn write(args: fmt::Arguments<'_>) {
    if STATE.load(Ordering::Relaxed) != OPEN {
        return;
    }
    let r = io::stdout().lock().write_fmt(args);
    if let Err(e) = r {
        stop(&e);
    }
}

/// Flushes standard output (a prompt without a newline, the end of a command).
pub fn flush() {
    if STATE.load(Ordering::Relaxed) != OPEN {
        return;
    }
    if let Err(e) = io::stdout().lock().flush() {
        stop(&e);
    }
}

fn stop(e: &io::Error) {
    if e.kind() == ErrorKind::BrokenPipe {
        STATE.store(CLOSED, Ordering::Relaxed);
    } else if STATE.swap(FAILED, Ordering::Relaxed) != FAILED {
        error(format_args!("ntmm: cannot write the output: {e}\n"));
    }
}

/// Whether writing the output failed for a reason other than a reader that went away: the
/// command then exits non-zero (its output is incomplete).
pub fn failed() -> bool {
    STATE.load(Ordering::Relaxed) == FAILED
}

/// Writes to standard error; an error there has nowhere to be reported and is ignored.
pub fn error(args: fmt::Arguments<'_>) {
    let _ = io::stderr().lock().write_fmt(args);
}

/// `print!` through [`write`].
macro_rules! out {
    ($($t:tt)*) => {
        $crate::output::write(format_args!($($t)*))
    };
}

/// `println!` through [`write`].
macro_rules! outln {
    () => {
        $crate::output::write(format_args!("\n"))
    };
    ($($t:tt)*) => {
        $crate::output::write(format_args!("{}\n", format_args!($($t)*)))
    };
}

/// `eprintln!` through [`error`].
macro_rules! errln {
    ($($t:tt)*) => {
        $crate::output::error(format_args!("{}\n", format_args!($($t)*)))
    };
}

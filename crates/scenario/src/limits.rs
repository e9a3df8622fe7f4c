//! What a scenario may make the host hold: the size of its input, the per-run host-memory
//! budget, and how large values are echoed (docs/SCENARIO.md "Limits and the host-memory
//! budget", DESIGN.md "Limits and the host-memory budget").
//!
//! * **Input.** A scenario file is at most [`MAX_SOURCE_BYTES`] (16 MiB) and a logical statement
//!   line (continuations joined) at most [`MAX_LINE_BYTES`] (1 MiB). Files are read through
//!   [`read_source`], which never reads more than the limit plus one byte (so `ntmm run
//!   /dev/zero` ends at once); the repl reads its lines bounded by the same
//!   [`MAX_LINE_BYTES`]; the parser refuses longer lines ([`check_line`]).
//! * **Budget.** Beyond the fixed machine (RAM, PFN database, pagefile bitmap: bounded by
//!   `ntmm_vmm::limits`), a run holds on the host what its in-memory stores keep (files and
//!   the pagefile: `Vmm::host_bytes`), its variables' values, and the transcript not yet handed
//!   out. Their sum is checked against the budget ([`BUDGET`], default [`DEFAULT_BUDGET`] =
//!   1 GiB) after every statement; the statement that takes the run past it fails with a
//!   [`Usage::exceeds`] message, and the run stops there.
//! * **Values.** Byte strings and strings longer than [`WHOLE_VALUE_BYTES`] are echoed as their
//!   length and a prefix of [`PREFIX_BYTES`] bytes (`<0x4000000 bytes: 00 00 … …>`), unless the
//!   run asks for whole values (`--full-values`).

use crate::error::ParseError;
use crate::value::Value;
use ntmm_vmm::limits::Limit;
use ntmm_vmm::{VmmConfig, WriterPolicy};
use std::fmt::Write as _;
use std::io::Read;
use std::path::Path;

/// The most bytes one `read(ADDR, N)` or `ReadFile` of a scenario returns (64 MiB): a longer
/// read that finds that much data is a statement error rather than a host-sized buffer.
pub const READ_LIMIT: usize = 64 << 20;

/// The longest scenario file, in bytes (16 MiB).
pub const MAX_SOURCE_BYTES: usize = 16 << 20;

/// The longest logical statement line (continuation lines joined), in bytes (1 MiB).
pub const MAX_LINE_BYTES: usize = 1 << 20;

/// The default per-run host-memory budget, in bytes (1 GiB).
pub const DEFAULT_BUDGET: u64 = 1 << 30;

/// The host-memory budget, in bytes: the `machine budget=N` key and the `--budget` option,
/// 1 MiB..=16 GiB (a 24 GiB host holds a 4 GiB machine and a run at the largest budget).
pub const BUDGET: Limit = Limit {
    key: "budget",
    min: 1 << 20,
    max: 16 << 30,
    unit: "host-memory budget in bytes: stores, values, transcript",
};

/// Byte strings and strings up to this length are echoed whole.
pub const WHOLE_VALUE_BYTES: usize = 64;

/// How many leading bytes an abbreviated value shows.
pub const PREFIX_BYTES: usize = 16;

/// A scenario file that could not be read.
#[derive(Debug, thiserror::Error)]
pub enum SourceError {
    /// The file is longer than [`MAX_SOURCE_BYTES`].
    #[error("larger than the {} MiB a scenario file may have", MAX_SOURCE_BYTES >> 20)]
    TooLarge,
    /// The file is not UTF-8.
    #[error("not UTF-8 text: {0}")]
    NotUtf8(#[from] std::string::FromUtf8Error),
    /// The host could not read it.
    #[error("cannot read: {0}")]
    Io(#[from] std::io::Error),
}

/// Reads a scenario from `reader`: at most [`MAX_SOURCE_BYTES`] plus one byte are read, so an
/// endless input is refused as soon as it passes the limit.
pub fn read_source_from(reader: impl Read) -> Result<String, SourceError> {
    let mut buf = Vec::new();
    reader
        .take(MAX_SOURCE_BYTES as u64 + 1)
        .read_to_end(&mut buf)?;
    if buf.len() > MAX_SOURCE_BYTES {
        return Err(SourceError::TooLarge);
    }
    Ok(String::from_utf8(buf)?)
}

/// Reads the scenario file at `path` with the bound of [`read_source_from`].
pub fn read_source(path: &Path) -> Result<String, SourceError> {
    read_source_from(std::fs::File::open(path)?)
}

/// The parse error of a logical line longer than [`MAX_LINE_BYTES`] (`line` is where it starts).
pub fn check_line(text: &str, line: usize) -> Result<(), ParseError> {
    if text.len() > MAX_LINE_BYTES {
        return Err(ParseError {
            line,
            col: 1,
            message: format!(
                "the line is longer than the {} MiB a statement may have",
                MAX_LINE_BYTES >> 20
            ),
        });
    }
    Ok(())
}

/// Applies a `machine` line's `(key, value)` pairs to `machine` and `budget`, every value
/// checked against its limit (`ntmm_vmm::limits`, [`BUDGET`]) before anything is applied: the
/// first value out of range is the error, naming the key and its range.
pub fn machine_line(
    mut machine: VmmConfig,
    mut budget: u64,
    pairs: &[(String, String)],
) -> ntmm_vmm::Result<(VmmConfig, u64)> {
    use ntmm_vmm::limits::{FRAMES, PAGEFILE, WORKING_SET};
    for (k, v) in pairs {
        match k.as_str() {
            // The limits lie within u32 for both.
            "frames" => machine.frames = FRAMES.parse(v)? as u32,
            "pagefile" => machine.pagefile_pages = PAGEFILE.parse(v)? as u32,
            "workingset" => machine.working_set_max = WORKING_SET.parse(v)?,
            "budget" => budget = BUDGET.parse(v)?,
            // The parser admits only `eager` and `lazy`.
            _ => {
                machine.writer = if v == "eager" {
                    WriterPolicy::Eager
                } else {
                    WriterPolicy::Lazy
                }
            }
        }
    }
    machine.validate()?;
    Ok((machine, budget))
}

/// Bytes of host memory a value holds.
pub fn value_bytes(v: &Value) -> u64 {
    let heap = match v {
        Value::Str(s) => s.len(),
        Value::Bytes(b) => b.len(),
        Value::Record(f) => f.len() * std::mem::size_of::<(&str, u64)>(),
        Value::Int(_) | Value::Inheritable | Value::Unit => 0,
    };
    heap as u64 + std::mem::size_of::<Value>() as u64
}

/// What a run holds on the host beyond its fixed machine, by kind.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Usage {
    /// In-memory store contents: files and the pagefile.
    pub stores: u64,
    /// Variables' values.
    pub values: u64,
    /// Transcript produced and not yet handed out.
    pub transcript: u64,
}

impl Usage {
    /// The sum.
    pub fn total(&self) -> u64 {
        self.stores + self.values + self.transcript
    }

    /// The statement error if the usage exceeds `budget`: which budget, how much, how to raise
    /// it.
    pub fn exceeds(&self, budget: u64) -> Option<String> {
        (self.total() > budget).then(|| {
            format!(
                "the run exceeds its host-memory budget of {budget:#x} bytes: it holds {:#x} \
                 (stores {:#x}, values {:#x}, transcript {:#x}); raise it with `machine budget=N` \
                 or `--budget N` (at most {:#x}); the run stops here",
                self.total(),
                self.stores,
                self.values,
                self.transcript,
                BUDGET.max
            )
        })
    }
}

/// The bytes of a value that is data, if it is long enough to abbreviate.
fn long_bytes(v: &Value) -> Option<&[u8]> {
    match v {
        Value::Str(_) | Value::Bytes(_) => v.as_bytes().filter(|b| b.len() > WHOLE_VALUE_BYTES),
        _ => None,
    }
}

/// `<LEN bytes: PREFIX …>`, the prefix starting at byte `from` (`, from OFF` noted when not 0).
fn abbreviated(b: &[u8], from: usize) -> String {
    let mut s = format!("<{:#x} bytes", b.len());
    if from > 0 {
        let _ = write!(s, ", from {from:#x}");
    }
    s.push(':');
    let end = (from + PREFIX_BYTES).min(b.len());
    for x in &b[from.min(end)..end] {
        let _ = write!(s, " {x:02x}");
    }
    if end < b.len() {
        s.push_str(" …");
    }
    s.push('>');
    s
}

/// A value as the transcript shows it: whole if `full` or short, else abbreviated.
pub fn show(v: &Value, full: bool) -> String {
    match long_bytes(v) {
        Some(b) if !full => abbreviated(b, 0),
        _ => crate::value::Whole(v).to_string(),
    }
}

/// Two values that should compare equal, shown for a failed expectation: whole if `full` or
/// short; else abbreviated, both from the first byte where they differ, so the difference is
/// visible.
pub fn show_pair(expected: &Value, actual: &Value, full: bool) -> (String, String) {
    let (Some(e), Some(a)) = (expected.as_bytes(), actual.as_bytes()) else {
        return (show(expected, full), show(actual, full));
    };
    if full || (e.len() <= WHOLE_VALUE_BYTES && a.len() <= WHOLE_VALUE_BYTES) {
        return (show(expected, full), show(actual, full));
    }
    let first = e.iter().zip(a).take_while(|(x, y)| x == y).count();
    let from = first.min(e.len().max(a.len()));
    let one = |b: &[u8], v: &Value| {
        if b.len() > WHOLE_VALUE_BYTES {
            abbreviated(b, from.min(b.len()))
        } else {
            show(v, false)
        }
    };
    (one(e, expected), one(a, actual))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn test_long_values_are_abbreviated_to_length_and_prefix() {
        let v = Value::Bytes(vec![0; 0x400_0000]);
        let s = show(&v, false);
        assert_eq!(
            s,
            "<0x4000000 bytes: 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 …>"
        );
        assert_eq!(show(&Value::Bytes(vec![1, 2]), false), "hex\"01 02\"");
        assert_eq!(show(&v, true).len(), 0x400_0000 * 3 + 4);
        let text = Value::Str("a".repeat(65).into_bytes());
        assert!(show(&text, false).starts_with("<0x41 bytes: 61 61"));
    }

    #[test]
    fn test_a_pair_is_shown_from_the_first_difference() {
        let a = Value::Bytes(vec![0; 200]);
        let mut b = vec![0; 200];
        b[0x90] = 7;
        let (e, x) = show_pair(&a, &Value::Bytes(b), false);
        assert!(e.starts_with("<0xc8 bytes, from 0x90: 00"), "{e}");
        assert!(x.starts_with("<0xc8 bytes, from 0x90: 07"), "{x}");
    }

    #[test]
    fn test_read_source_stops_after_the_limit() {
        let endless = std::io::repeat(b'\n');
        assert!(matches!(
            read_source_from(endless),
            Err(SourceError::TooLarge)
        ));
        let exact = vec![b'\n'; MAX_SOURCE_BYTES];
        assert_eq!(
            read_source_from(&exact[..]).unwrap().len(),
            MAX_SOURCE_BYTES
        );
        assert!(matches!(
            read_source_from(&[0xff, b'\n'][..]),
            Err(SourceError::NotUtf8(_))
        ));
    }

    #[test]
    fn test_the_budget_message_names_budget_amount_and_remedy() {
        let u = Usage {
            stores: 1,
            values: 0x300000,
            transcript: 2,
        };
        assert_eq!(u.exceeds(0x400000), None);
        let m = u.exceeds(0x300000).unwrap();
        for needle in [
            "host-memory budget of 0x300000",
            "0x300003",
            "budget=N",
            "--budget",
        ] {
            assert!(m.contains(needle), "{needle}: {m}");
        }
    }
}

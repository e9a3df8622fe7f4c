//! The machine's size limits: one table, used by everything that sizes a machine.
//!
//! [`crate::VmmConfig::validate`] checks a configuration against it before anything is
//! allocated; the command line parses `--frames`/`--pagefile`/`--workingset` with
//! [`Limit::parse`](crate::limits::Limit::parse), the scenario `machine` line checks its keys
//! with [`Limit::check`](crate::limits::Limit::check), and `ntmm machine` prints the ranges
//! from [`MACHINE_LIMITS`](crate::limits::MACHINE_LIMITS). So every limit printed is the
//! limit enforced. (The links are written as paths: with the one-line summary in `lib.rs`
//! they resolve from the crate root.)
//!
//! The bounds are chosen for what a host can honour and what the model can represent:
//! * **frames** 4..=2^20: the emulated RAM is one host allocation of `frames × 4 KiB`, reserved
//!   at boot and mapped by the host on first use, plus a PFN entry per frame (reserved at boot,
//!   written on the frame's first use). 2^20 frames are 4 GiB of RAM,
//!   which a 24 GiB host holds; fewer than 4 frames cannot resolve a fault that needs a page
//!   table, a prototype page and a data page at once.
//! * **pagefile** 1..=2^24 slots (64 GiB): a pagefile slot is packed in 25 bits of a PFN entry's
//!   original PTE (`pfn.rs`), and the slot bitmap is allocated at boot (2 MiB at the maximum).
//!   The pagefile's *contents* are held only for pages actually written, and count against the
//!   scenario runner's host-memory budget.
//! * **workingset** 2..=2^20: a working set holds at least the two pages one instruction may
//!   touch, and never more than the largest physical memory.

use std::fmt;

/// One bounded machine option: its key (as the scenario `machine` line and `ntmm machine` spell
/// it) and its inclusive range.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Limit {
    /// The key (`frames`, `pagefile`, ...).
    pub key: &'static str,
    /// The smallest value accepted.
    pub min: u64,
    /// The largest value accepted.
    pub max: u64,
    /// What the value counts, for `ntmm machine`.
    pub unit: &'static str,
}

/// A value outside its [`Limit`], or not a number at all.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum LimitError {
    /// The value is a number outside the range.
    #[error("{key}={value} is out of range: {key} must be {min}..={max}")]
    OutOfRange {
        /// The option.
        key: &'static str,
        /// The value given.
        value: u128,
        /// The smallest value accepted.
        min: u64,
        /// The largest value accepted.
        max: u64,
    },
    /// The value is not a number.
    #[error("{key}={text:?} is not a number: {key} must be {min}..={max}")]
    NotANumber {
        /// The option.
        key: &'static str,
        /// The text given.
        text: String,
        /// The smallest value accepted.
        min: u64,
        /// The largest value accepted.
        max: u64,
    },
}

impl Limit {
    /// `value` if it lies in the range, else the error naming the option and the range.
    pub fn check(&self, value: u64) -> Result<u64, LimitError> {
        self.check_wide(u128::from(value))
    }

    /// As [`Limit::check`], for a value that may not even fit in 64 bits.
    pub fn check_wide(&self, value: u128) -> Result<u64, LimitError> {
        if (u128::from(self.min)..=u128::from(self.max)).contains(&value) {
            Ok(value as u64)
        } else {
            Err(LimitError::OutOfRange {
                key: self.key,
                value,
                min: self.min,
                max: self.max,
            })
        }
    }

    /// Parses a decimal or `0x` hexadecimal value and checks it.
    pub fn parse(&self, text: &str) -> Result<u64, LimitError> {
        let t = text.trim();
        let parsed = match t.strip_prefix("0x").or_else(|| t.strip_prefix("0X")) {
            Some(hex) => u128::from_str_radix(hex, 16),
            None => t.parse::<u128>(),
        };
        match parsed {
            Ok(v) => self.check_wide(v),
            // Digits beyond even 128 bits: out of range all the same.
            Err(e) if *e.kind() == std::num::IntErrorKind::PosOverflow => {
                self.check_wide(u128::MAX)
            }
            Err(_) => Err(LimitError::NotANumber {
                key: self.key,
                text: text.to_string(),
                min: self.min,
                max: self.max,
            }),
        }
    }
}

impl fmt::Display for Limit {
    /// `frames (4..=1048576)`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} ({}..={})", self.key, self.min, self.max)
    }
}

/// Physical frames (4 KiB each).
pub const FRAMES: Limit = Limit {
    key: "frames",
    min: 4,
    max: 1 << 20,
    unit: "physical 4 KiB frames",
};

/// Pagefile size in pages, slot 0 included (it is never used).
pub const PAGEFILE: Limit = Limit {
    key: "pagefile",
    min: 1,
    max: 1 << 24,
    unit: "pagefile pages, slot 0 reserved",
};

/// Default working-set maximum of a new address space, in pages.
pub const WORKING_SET: Limit = Limit {
    key: "workingset",
    min: 2,
    max: 1 << 20,
    unit: "default working-set maximum in pages",
};

/// Every bounded machine option, in the order `ntmm machine` lists them.
pub const MACHINE_LIMITS: [Limit; 3] = [FRAMES, PAGEFILE, WORKING_SET];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn test_check_accepts_the_range_and_names_it_otherwise() {
        assert_eq!(FRAMES.check(4), Ok(4));
        assert_eq!(FRAMES.check(1 << 20), Ok(1 << 20));
        assert_eq!(
            FRAMES.check(3).unwrap_err().to_string(),
            "frames=3 is out of range: frames must be 4..=1048576"
        );
        assert!(FRAMES.check((1 << 20) + 1).is_err());
    }

    #[test]
    fn test_parse_takes_decimal_and_hex_and_refuses_the_rest() {
        assert_eq!(PAGEFILE.parse("0x10"), Ok(16));
        assert_eq!(PAGEFILE.parse("16"), Ok(16));
        assert!(matches!(
            PAGEFILE.parse("99999999999999999999999999999999999999999999"),
            Err(LimitError::OutOfRange { .. })
        ));
        assert!(matches!(
            PAGEFILE.parse("-1"),
            Err(LimitError::NotANumber { .. })
        ));
        assert!(matches!(
            PAGEFILE.parse(""),
            Err(LimitError::NotANumber { .. })
        ));
    }
}

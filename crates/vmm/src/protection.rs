//! Page protections: the kernel's 5-bit protection codes (nt_internals §2.1) and their mapping
//! to and from the Win32 `PAGE_*` values.
//!
//! The low three bits are the operation: read-only, execute, execute-read, read-write,
//! write-copy, execute-read-write, execute-write-copy. Bit 3 is the no-cache modifier and bit 4
//! the guard modifier; a guard modifier over operation 0 is `MM_DECOMMIT`, and both modifiers
//! over operation 0 is `MM_NOACCESS`.

use std::fmt;

/// Win32 `PAGE_NOACCESS`.
pub const PAGE_NOACCESS: u32 = 0x01;
/// Win32 `PAGE_READONLY`.
pub const PAGE_READONLY: u32 = 0x02;
/// Win32 `PAGE_READWRITE`.
pub const PAGE_READWRITE: u32 = 0x04;
/// Win32 `PAGE_WRITECOPY`.
pub const PAGE_WRITECOPY: u32 = 0x08;
/// Win32 `PAGE_EXECUTE`.
pub const PAGE_EXECUTE: u32 = 0x10;
/// Win32 `PAGE_EXECUTE_READ`.
pub const PAGE_EXECUTE_READ: u32 = 0x20;
/// Win32 `PAGE_EXECUTE_READWRITE`.
pub const PAGE_EXECUTE_READWRITE: u32 = 0x40;
/// Win32 `PAGE_EXECUTE_WRITECOPY`.
pub const PAGE_EXECUTE_WRITECOPY: u32 = 0x80;
/// Win32 `PAGE_GUARD` modifier.
pub const PAGE_GUARD: u32 = 0x100;
/// Win32 `PAGE_NOCACHE` modifier.
pub const PAGE_NOCACHE: u32 = 0x200;
/// Win32 `PAGE_WRITECOMBINE` modifier.
pub const PAGE_WRITECOMBINE: u32 = 0x400;

/// A kernel protection code (`MM_*`), 5 bits.
///
/// # Invariants
/// The value is below 0x20. Constructors enforce it.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
#[repr(transparent)]
pub struct Protection(u8);

/// The kind of memory access the emulated CPU performs.
#[derive(Clone, Copy, PartialEq, Eq, Debug, Hash)]
pub enum Access {
    /// A load.
    Read,
    /// A store.
    Write,
}

impl Protection {
    /// `MM_ZERO_ACCESS`: no protection recorded.
    pub const ZERO: Protection = Protection(0);
    /// `MM_READONLY`.
    pub const READONLY: Protection = Protection(1);
    /// `MM_EXECUTE`.
    pub const EXECUTE: Protection = Protection(2);
    /// `MM_EXECUTE_READ`.
    pub const EXECUTE_READ: Protection = Protection(3);
    /// `MM_READWRITE`.
    pub const READWRITE: Protection = Protection(4);
    /// `MM_WRITECOPY`.
    pub const WRITECOPY: Protection = Protection(5);
    /// `MM_EXECUTE_READWRITE`.
    pub const EXECUTE_READWRITE: Protection = Protection(6);
    /// `MM_EXECUTE_WRITECOPY`.
    pub const EXECUTE_WRITECOPY: Protection = Protection(7);
    /// `MM_NOCACHE` modifier bit.
    pub const NOCACHE_BIT: u8 = 0x08;
    /// `MM_GUARD_PAGE` modifier bit.
    pub const GUARD_BIT: u8 = 0x10;
    /// `MM_DECOMMIT`: guard over no access; a decommitted private page.
    pub const DECOMMIT: Protection = Protection(0x10);
    /// `MM_NOACCESS`.
    pub const NOACCESS: Protection = Protection(0x18);

    /// From a raw 5-bit code; `None` if it does not fit in 5 bits.
    pub const fn from_bits(bits: u8) -> Option<Self> {
        if bits < 0x20 {
            Some(Protection(bits))
        } else {
            None
        }
    }
    /// The raw 5-bit code.
    pub const fn bits(self) -> u8 {
        self.0
    }
    /// The operation part (low three bits).
    pub const fn operation(self) -> u8 {
        self.0 & 7
    }
    /// Whether this is a usable protection (an operation is set); `NOACCESS`, `DECOMMIT` and
    /// `ZERO` are not.
    pub const fn is_accessible(self) -> bool {
        self.operation() != 0
    }
    /// Whether the guard modifier is set over an accessible operation.
    pub const fn is_guard(self) -> bool {
        self.operation() != 0 && self.0 & Self::GUARD_BIT != 0 && self.0 & Self::NOCACHE_BIT == 0
    }
    /// The same protection without the guard modifier.
    pub const fn without_guard(self) -> Protection {
        if self.is_guard() {
            Protection(self.0 & !Self::GUARD_BIT)
        } else {
            self
        }
    }
    /// Whether a store is permitted, directly or by copy-on-write (operations 4–7).
    pub const fn can_write(self) -> bool {
        self.operation() & 4 != 0
    }
    /// Whether a load is permitted (operations 1–7).
    pub const fn can_read(self) -> bool {
        self.operation() != 0
    }
    /// Whether the protection is copy-on-write (`WRITECOPY` or `EXECUTE_WRITECOPY`).
    pub const fn is_copy_on_write(self) -> bool {
        self.operation() & 5 == 5
    }
    /// Whether a store goes straight to the page (`READWRITE` or `EXECUTE_READWRITE`).
    pub const fn is_writable(self) -> bool {
        self.operation() == 4 || self.operation() == 6
    }
    /// Whether execution is permitted.
    pub const fn is_executable(self) -> bool {
        matches!(self.operation(), 2 | 3 | 6 | 7)
    }
    /// Copy-on-write turned into the protection of the private copy ("protection minus copy":
    /// write-copy → read-write, execute-write-copy → execute-read-write, nt_internals §2.5).
    pub const fn without_copy(self) -> Protection {
        if self.is_copy_on_write() {
            // 5 → 4 and 7 → 6: clear the "copy" bit (bit 0).
            Protection(self.0 & !1)
        } else {
            self
        }
    }
    /// The software access check (`MiAccessCheck`, nt_internals §3.8): may `access` proceed?
    /// Guard pages are checked separately, before this.
    pub const fn allows(self, access: Access) -> bool {
        match access {
            Access::Read => self.can_read(),
            Access::Write => self.can_write(),
        }
    }

    /// Converts a Win32 `PAGE_*` value (one base protection plus at most one of `PAGE_GUARD`,
    /// `PAGE_NOCACHE`, `PAGE_WRITECOMBINE`) to a kernel code (`MmUserProtectionToMask`).
    /// Returns `None` for invalid combinations (no base, several bases, several modifiers, or a
    /// modifier on `PAGE_NOACCESS`).
    pub fn from_win32(value: u32) -> Option<Protection> {
        let base = value & 0xFF;
        let modifiers = value & !0xFF;
        let op = match base {
            PAGE_NOACCESS => 0,
            PAGE_READONLY => 1,
            PAGE_EXECUTE => 2,
            PAGE_EXECUTE_READ => 3,
            PAGE_READWRITE => 4,
            PAGE_WRITECOPY => 5,
            PAGE_EXECUTE_READWRITE => 6,
            PAGE_EXECUTE_WRITECOPY => 7,
            _ => return None,
        };
        let modifier = match modifiers {
            0 => 0,
            PAGE_GUARD => Self::GUARD_BIT,
            PAGE_NOCACHE => Self::NOCACHE_BIT,
            PAGE_WRITECOMBINE => Self::GUARD_BIT | Self::NOCACHE_BIT,
            _ => return None,
        };
        if op == 0 {
            return (modifier == 0).then_some(Protection::NOACCESS);
        }
        Some(Protection(op | modifier))
    }

    /// Converts back to the Win32 `PAGE_*` value. `ZERO` gives 0 and `DECOMMIT` gives 0 (neither
    /// names a committed page).
    pub const fn to_win32(self) -> u32 {
        const BASE: [u32; 8] = [
            0,
            PAGE_READONLY,
            PAGE_EXECUTE,
            PAGE_EXECUTE_READ,
            PAGE_READWRITE,
            PAGE_WRITECOPY,
            PAGE_EXECUTE_READWRITE,
            PAGE_EXECUTE_WRITECOPY,
        ];
        if self.0 == Self::NOACCESS.0 {
            return PAGE_NOACCESS;
        }
        let op = self.operation();
        if op == 0 {
            return 0;
        }
        let modifier = match self.0 & 0x18 {
            0 => 0,
            Self::GUARD_BIT => PAGE_GUARD,
            Self::NOCACHE_BIT => PAGE_NOCACHE,
            _ => PAGE_WRITECOMBINE,
        };
        BASE[op as usize] | modifier
    }
}

impl fmt::Debug for Protection {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        const NAMES: [&str; 8] = [
            "MM_ZERO_ACCESS",
            "MM_READONLY",
            "MM_EXECUTE",
            "MM_EXECUTE_READ",
            "MM_READWRITE",
            "MM_WRITECOPY",
            "MM_EXECUTE_READWRITE",
            "MM_EXECUTE_WRITECOPY",
        ];
        match self.0 {
            0x10 => write!(f, "MM_DECOMMIT"),
            0x18 => write!(f, "MM_NOACCESS"),
            b => {
                write!(f, "{}", NAMES[(b & 7) as usize])?;
                if b & 0x18 == 0x18 {
                    write!(f, "|MM_WRITECOMBINE")?;
                } else if b & Self::GUARD_BIT != 0 {
                    write!(f, "|MM_GUARD_PAGE")?;
                } else if b & Self::NOCACHE_BIT != 0 {
                    write!(f, "|MM_NOCACHE")?;
                }
                Ok(())
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn test_win32_table_round_trips() {
        for (win, mm) in [
            (PAGE_NOACCESS, Protection::NOACCESS),
            (PAGE_READONLY, Protection::READONLY),
            (PAGE_READWRITE, Protection::READWRITE),
            (PAGE_WRITECOPY, Protection::WRITECOPY),
            (PAGE_EXECUTE, Protection::EXECUTE),
            (PAGE_EXECUTE_READ, Protection::EXECUTE_READ),
            (PAGE_EXECUTE_READWRITE, Protection::EXECUTE_READWRITE),
            (PAGE_EXECUTE_WRITECOPY, Protection::EXECUTE_WRITECOPY),
        ] {
            assert_eq!(Protection::from_win32(win), Some(mm), "{win:#x}");
            assert_eq!(mm.to_win32(), win);
        }
    }

    #[test]
    fn test_invalid_win32_combinations_rejected() {
        assert_eq!(Protection::from_win32(0), None);
        assert_eq!(Protection::from_win32(PAGE_READONLY | PAGE_READWRITE), None);
        assert_eq!(Protection::from_win32(PAGE_NOACCESS | PAGE_GUARD), None);
        assert_eq!(
            Protection::from_win32(PAGE_READWRITE | PAGE_GUARD | PAGE_NOCACHE),
            None
        );
        assert_eq!(Protection::from_win32(0x800 | PAGE_READWRITE), None);
    }

    #[test]
    fn test_access_check_table() {
        // nt_internals §3.8: reads allowed for 1–7, writes only for 4–7.
        for op in 0..8u8 {
            let p = Protection::from_bits(op).unwrap();
            assert_eq!(p.allows(Access::Read), op != 0);
            assert_eq!(p.allows(Access::Write), op >= 4);
        }
        assert!(!Protection::NOACCESS.allows(Access::Read));
        assert!(!Protection::DECOMMIT.allows(Access::Read));
    }

    #[test]
    fn test_copy_on_write_minus_copy() {
        // nt_internals §2.5: write-copy → read-write, execute-write-copy → execute-read-write.
        assert_eq!(Protection::WRITECOPY.without_copy(), Protection::READWRITE);
        assert_eq!(
            Protection::EXECUTE_WRITECOPY.without_copy(),
            Protection::EXECUTE_READWRITE
        );
        assert_eq!(Protection::READONLY.without_copy(), Protection::READONLY);
        assert!(Protection::WRITECOPY.is_copy_on_write());
        assert!(!Protection::READWRITE.is_copy_on_write());
        assert!(!Protection::EXECUTE_READ.is_copy_on_write());
    }

    #[test]
    fn test_guard_modifier() {
        let g = Protection::from_win32(PAGE_READWRITE | PAGE_GUARD).unwrap();
        assert!(g.is_guard());
        assert_eq!(g.without_guard(), Protection::READWRITE);
        assert!(!Protection::DECOMMIT.is_guard());
        assert!(!Protection::NOACCESS.is_guard());
        assert_eq!(g.to_win32(), PAGE_READWRITE | PAGE_GUARD);
    }

    proptest! {
        #[test]
        fn prop_from_win32_to_win32_round_trip(v in any::<u32>()) {
            if let Some(p) = Protection::from_win32(v) {
                prop_assert_eq!(p.to_win32(), v);
                prop_assert!(p.bits() < 0x20);
            }
        }
    }
}

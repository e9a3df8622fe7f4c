//! Identifiers of the machine's objects: address spaces, segments and backing stores.
//!
//! Identifiers are handed out in increasing order and never reused, so a stale identifier can
//! only ever name nothing (never a newer object), and runs are deterministic.

use std::fmt;

macro_rules! id_type {
    ($(#[$doc:meta])* $name:ident, $prefix:literal) => {
        $(#[$doc])*
        #[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
        #[repr(transparent)]
        pub struct $name(u32);

        impl $name {
            /// Wraps a raw identifier. Whether it names a live object is checked by the machine.
            pub const fn new(raw: u32) -> Self {
                $name(raw)
            }
            /// The raw identifier.
            pub const fn raw(self) -> u32 {
                self.0
            }
        }

        impl fmt::Debug for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                write!(f, concat!($prefix, "{}"), self.0)
            }
        }
        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                fmt::Debug::fmt(self, f)
            }
        }
    };
}

id_type!(
    /// An address space (one per emulated process).
    AsId,
    "as#"
);
id_type!(
    /// A segment: the prototype PTE table of one backing object (nt_internals §1.4).
    SegmentId,
    "seg#"
);
id_type!(
    /// A backing store registered with the machine (a file's data, nt_internals §1.8).
    StoreId,
    "store#"
);

//! Identifiers of the executive objects. Never reused.

use std::fmt;

macro_rules! id_type {
    ($(#[$doc:meta])* $name:ident, $prefix:literal) => {
        $(#[$doc])*
        #[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
        pub struct $name(pub(crate) u32);

        impl $name {
            /// The raw identifier.
            pub const fn raw(self) -> u32 {
                self.0
            }
            /// Wraps a raw identifier (whether it names a live object is checked on use).
            pub const fn new(raw: u32) -> Self {
                $name(raw)
            }
        }
        impl fmt::Debug for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                write!(f, concat!($prefix, "{}"), self.0)
            }
        }
    };
}

id_type!(
    /// A section object.
    SectionId,
    "section#"
);
id_type!(
    /// A control area.
    ControlAreaId,
    "ca#"
);
id_type!(
    /// A file stream (the file system's per-stream state that holds `DataSectionObject`).
    StreamId,
    "file#"
);

//! One naming scheme for object identities, shared by `--trace`, `show` and the pictures
//! (`draw`), so a student can follow one object from a trace line to a `show` form to a node of
//! the picture.
//!
//! | object | name | example |
//! |---|---|---|
//! | process (address space) | its scenario name, else `as#N` | `A`, `as#3` |
//! | section object | `section#N` | `section#2` |
//! | control area | `ca#N` | `ca#1` |
//! | segment (the prototype PTE table) | `seg#N` | `seg#1` |
//! | prototype PTE | `seg#N[0xI]` (segment and index) | `seg#1[0x3]` |
//! | physical page | `frame 0xN` in sentences; `PFN 0000000N` in `show pfn` as WinDbg prints it | `frame 0x1f` |
//! | file stream (its `SECTION_OBJECT_POINTERS`) | `file#N` | `file#3` |
//! | backing store of the machine | `store#N` | `store#2` |
//! | pagefile slot | `pagefile slot 0xN` | `pagefile slot 0x4` |
//! | process PTE | process and address, `A!0x10000` | `A!0x10000` |
//!
//! The executive and machine identifiers print themselves this way (`Debug`); this module adds
//! the composite names and is the only place that spells them.

use ntmm_vmm::{AsId, Pfn, ProtoRef, Slot, Va};
use std::collections::BTreeMap;

/// A process by its scenario name, else by its address-space id (`as#N`).
pub fn process(names: &BTreeMap<AsId, String>, id: AsId) -> String {
    names.get(&id).cloned().unwrap_or_else(|| id.to_string())
}

/// [`process`] for a name table keyed by raw address-space ids (the trace's).
pub fn process_raw(names: &BTreeMap<u32, String>, id: AsId) -> String {
    names
        .get(&id.raw())
        .cloned()
        .unwrap_or_else(|| id.to_string())
}

/// A physical page in a sentence: `frame 0x1f`.
pub fn frame(pfn: Pfn) -> String {
    format!("frame {:#x}", pfn.raw())
}

/// A prototype PTE: `seg#1[0x3]`.
pub fn proto(r: ProtoRef) -> String {
    format!("{}[{:#x}]", r.segment, r.index)
}

/// A process PTE, named by its process and the page's address: `A!0x10000`.
pub fn process_pte(process: &str, va: Va) -> String {
    format!("{process}!{:#x}", va.raw() & !0xFFF)
}

/// A pagefile slot: `pagefile slot 0x4`.
pub fn slot(s: Slot) -> String {
    format!("pagefile slot {:#x}", s.raw())
}

#[cfg(test)]
mod tests {
    use super::*;
    use ntmm_vmm::SegmentId;

    #[test]
    fn test_names_follow_the_one_scheme() {
        let names = BTreeMap::from([(AsId::new(1), "A".to_string())]);
        assert_eq!(process(&names, AsId::new(1)), "A");
        assert_eq!(process(&names, AsId::new(7)), "as#7");
        assert_eq!(
            process_raw(&BTreeMap::from([(1, "B".to_string())]), AsId::new(2)),
            "as#2"
        );
        assert_eq!(frame(Pfn::new(31)), "frame 0x1f");
        assert_eq!(
            proto(ProtoRef {
                segment: SegmentId::new(1),
                index: ntmm_vmm::ProtoIndex::new(3)
            }),
            "seg#1[0x3]"
        );
        assert_eq!(process_pte("A", Va::new(0x10abc)), "A!0x10000");
        assert_eq!(slot(Slot::new(4)), "pagefile slot 0x4");
    }
}

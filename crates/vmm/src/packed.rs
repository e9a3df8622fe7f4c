//! The page table's storage form of a process PTE: one 64-bit word, as in NT.
//!
//! This is the emulator's own layout, chosen so that every field of the model fits without
//! loss (the amd64 layout of [`crate::codec`] is for teaching and has narrower fields). A PTE
//! whose fields exceed this layout — a prototype pointer into a segment numbered 2^24 or more,
//! or an index of 2^36 or more — does not pack, and the page table keeps it in a side map.
//!
//! | form | bits |
//! |---|---|
//! | zero | all 0 |
//! | valid (tag 1) | 3 Write, 4 Dirty, 5 Accessed, 6 CopyOnWrite, 7 Prototype, 8 NoExecute, 32–63 PFN |
//! | prototype (tag 2) | 3 ReadOnly, 4–27 segment, 28–63 index |
//! | prototype lookup (tag 3) | 8–15 protection |
//! | transition (tag 4) | 8–15 protection, 32–63 PFN |
//! | pagefile (tag 5) | 8–15 protection, 32–63 slot |
//! | demand-zero (tag 6) | 8–15 protection |

use crate::addr::{Pfn, ProtoIndex, Slot};
use crate::id::SegmentId;
use crate::protection::Protection;
use crate::pte::{HardwarePte, ProtoRef, Pte};

const TAG: u64 = 0b111;
const VALID: u64 = 1;
const PROTOTYPE: u64 = 2;
const LOOKUP: u64 = 3;
const TRANSITION: u64 = 4;
const PAGEFILE: u64 = 5;
const DEMAND_ZERO: u64 = 6;

const SEGMENT_BITS: u32 = 24;
const INDEX_BITS: u32 = 36;

fn bit(on: bool, n: u32) -> u64 {
    u64::from(on) << n
}
fn has(w: u64, n: u32) -> bool {
    w >> n & 1 == 1
}
fn prot(p: Protection) -> u64 {
    u64::from(p.bits()) << 8
}
fn prot_of(w: u64) -> Protection {
    // Only `pack` writes these bits, from a valid protection.
    Protection::from_bits((w >> 8 & 0xFF) as u8).unwrap_or(Protection::ZERO)
}
fn high(w: u64) -> u32 {
    (w >> 32) as u32
}

/// The word of `pte`, or `None` if its fields do not fit (kept aside by the page table).
pub(crate) fn pack(pte: Pte) -> Option<u64> {
    Some(match pte {
        Pte::Zero => 0,
        Pte::Valid(h) => {
            VALID
                | bit(h.write, 3)
                | bit(h.dirty, 4)
                | bit(h.accessed, 5)
                | bit(h.copy_on_write, 6)
                | bit(h.prototype, 7)
                | bit(h.no_execute, 8)
                | u64::from(h.pfn.raw()) << 32
        }
        Pte::Prototype { proto, read_only } => {
            let s = u64::from(proto.segment.raw());
            if s >> SEGMENT_BITS != 0 || proto.index.raw() >> INDEX_BITS != 0 {
                return None;
            }
            PROTOTYPE | bit(read_only, 3) | s << 4 | proto.index.raw() << (4 + SEGMENT_BITS)
        }
        Pte::PrototypeLookup { protection } => LOOKUP | prot(protection),
        Pte::Transition { pfn, protection } => {
            TRANSITION | prot(protection) | u64::from(pfn.raw()) << 32
        }
        Pte::Pagefile { slot, protection } => {
            PAGEFILE | prot(protection) | u64::from(slot.raw()) << 32
        }
        Pte::DemandZero { protection } => DEMAND_ZERO | prot(protection),
    })
}

/// The PTE of a word written by [`pack`] (`None` for the tag of a PTE kept aside).
pub(crate) fn unpack(w: u64) -> Option<Pte> {
    Some(match w & TAG {
        0 => Pte::Zero,
        VALID => Pte::Valid(HardwarePte {
            pfn: Pfn::new(high(w)),
            write: has(w, 3),
            dirty: has(w, 4),
            accessed: has(w, 5),
            copy_on_write: has(w, 6),
            prototype: has(w, 7),
            no_execute: has(w, 8),
        }),
        PROTOTYPE => Pte::Prototype {
            proto: ProtoRef {
                segment: SegmentId::new((w >> 4 & ((1 << SEGMENT_BITS) - 1)) as u32),
                index: ProtoIndex::new(w >> (4 + SEGMENT_BITS)),
            },
            read_only: has(w, 3),
        },
        LOOKUP => Pte::PrototypeLookup {
            protection: prot_of(w),
        },
        TRANSITION => Pte::Transition {
            pfn: Pfn::new(high(w)),
            protection: prot_of(w),
        },
        PAGEFILE => Pte::Pagefile {
            slot: Slot::new(high(w)),
            protection: prot_of(w),
        },
        DEMAND_ZERO => Pte::DemandZero {
            protection: prot_of(w),
        },
        _ => return None,
    })
}

/// The tag of a PTE kept aside (never produced by [`pack`]).
pub(crate) const ASIDE: u64 = 7;

/// Whether the word is a valid PTE.
#[inline]
pub(crate) fn is_valid(w: u64) -> bool {
    w & TAG == VALID
}

/// Whether the word is a valid PTE with its dirty bit set.
pub(crate) fn is_dirty_valid(w: u64) -> bool {
    w & TAG == VALID && has(w, 4)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn protection() -> impl Strategy<Value = Protection> {
        (0u8..0x20).prop_map(|b| Protection::from_bits(b).unwrap())
    }

    fn pte() -> impl Strategy<Value = Pte> {
        prop_oneof![
            Just(Pte::Zero),
            (any::<u32>(), any::<[bool; 6]>()).prop_map(|(p, b)| Pte::Valid(HardwarePte {
                pfn: Pfn::new(p),
                write: b[0],
                dirty: b[1],
                accessed: b[2],
                copy_on_write: b[3],
                prototype: b[4],
                no_execute: b[5],
            })),
            (any::<u32>(), any::<u64>(), any::<bool>()).prop_map(|(s, i, r)| Pte::Prototype {
                proto: ProtoRef {
                    segment: SegmentId::new(s),
                    index: ProtoIndex::new(i),
                },
                read_only: r
            }),
            // In-range prototype pointers too, which random values rarely are.
            (0u32..1 << 24, 0u64..1 << 36, any::<bool>()).prop_map(|(s, i, r)| Pte::Prototype {
                proto: ProtoRef {
                    segment: SegmentId::new(s),
                    index: ProtoIndex::new(i),
                },
                read_only: r
            }),
            protection().prop_map(|protection| Pte::PrototypeLookup { protection }),
            (any::<u32>(), protection()).prop_map(|(p, protection)| Pte::Transition {
                pfn: Pfn::new(p),
                protection
            }),
            (any::<u32>(), protection()).prop_map(|(s, protection)| Pte::Pagefile {
                slot: Slot::new(s),
                protection
            }),
            protection().prop_map(|protection| Pte::DemandZero { protection }),
        ]
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(4096))]
        /// Every PTE either packs and unpacks to itself, or is a prototype pointer out of the
        /// packed range; a packed word is never the aside tag, and only zero packs to 0.
        #[test]
        fn prop_pack_round_trips(p in pte()) {
            match pack(p) {
                Some(w) => {
                    prop_assert_eq!(unpack(w), Some(p));
                    prop_assert_ne!(w & TAG, ASIDE);
                    prop_assert_eq!(w == 0, p == Pte::Zero);
                    prop_assert_eq!(is_dirty_valid(w), matches!(p, Pte::Valid(h) if h.dirty));
                }
                None => {
                    let Pte::Prototype { proto, .. } = p else {
                        return Err(TestCaseError::fail(format!("{p:?} did not pack")));
                    };
                    prop_assert!(proto.segment.raw() >= 1 << 24 || proto.index.raw() >= 1 << 36);
                }
            }
        }
    }
}

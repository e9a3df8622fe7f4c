//! The amd64 bit layout of PTEs (nt_internals §2.2–§2.4), for teaching and golden tests.
//!
//! The model works with decoded [`Pte`] and [`ProtoPte`] values (page tables store process
//! PTEs in the emulator's own lossless 64-bit form); this module shows what NT would store. Kernel addresses of prototype PTEs and subsections do not exist in the emulator, so
//! the codec invents them deterministically:
//!
//! * prototype PTE of segment `s`, index `i`: `0xFFFF_8000_0000_0000 | s << 35 | i << 3`
//!   (encodable for `s < 0xFFF` and `i < 2^32`);
//! * the subsection of segment `s`: `0xFFFF_C000_0000_0000 | s << 8` (for `s < 2^38`).
//!
//! | form | bits |
//! |---|---|
//! | valid | 0 Valid, 1 Write, 2 Owner, 5 Accessed, 6 Dirty, 9 CopyOnWrite, 10 Prototype, 12–39 PFN, 63 NoExecute |
//! | prototype, encoded | 8 ReadOnly, 10 Prototype, 16–63 prototype PTE address |
//! | prototype, lookup | 5–9 Protection, 10 Prototype, 32–63 = `0xFFFF_FFFF` (`MI_PTE_LOOKUP_NEEDED`) |
//! | transition | 5–9 Protection, 11 Transition, 12–39 PFN |
//! | pagefile | 1–4 PageFileLow (0), 5–9 Protection, 32–63 PageFileHigh (slot ≠ 0) |
//! | demand-zero | 5–9 Protection (≠ 0) |
//! | subsection (prototype PTEs) | 5–9 Protection, 10 Prototype, 16–63 subsection address |

use crate::addr::{Pfn, ProtoIndex, Slot};
use crate::id::SegmentId;
use crate::protection::Protection;
use crate::pte::{HardwarePte, ProtoPte, ProtoRef, Pte};

const VALID: u64 = 1 << 0;
const WRITE: u64 = 1 << 1;
const OWNER: u64 = 1 << 2;
const ACCESSED: u64 = 1 << 5;
const DIRTY: u64 = 1 << 6;
const READ_ONLY: u64 = 1 << 8;
const COPY_ON_WRITE: u64 = 1 << 9;
const PROTOTYPE: u64 = 1 << 10;
const TRANSITION: u64 = 1 << 11;
const NO_EXECUTE: u64 = 1 << 63;
const PFN_SHIFT: u32 = 12;
const PFN_MASK: u64 = (1 << 28) - 1;
const PROT_SHIFT: u32 = 5;
const HIGH_SHIFT: u32 = 32;
const LOOKUP_NEEDED: u64 = 0xFFFF_FFFF;
const ADDR_SHIFT: u32 = 16;
const ADDR_MASK: u64 = (1 << 48) - 1;
const PROTO_POOL: u64 = 0xFFFF_8000_0000_0000;
const SUBSECTION_POOL: u64 = 0xFFFF_C000_0000_0000;

/// Why a value cannot be encoded or decoded.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CodecError {
    /// The frame number does not fit the 28-bit PFN field.
    #[error("frame {0:?} does not fit the PFN field")]
    PfnTooLarge(Pfn),
    /// The prototype PTE address cannot be formed for this segment and index.
    #[error("prototype PTE {0:?} is outside the encodable range")]
    ProtoOutOfRange(ProtoRef),
    /// The segment id cannot be placed in a subsection address.
    #[error("segment {0:?} is outside the encodable range")]
    SegmentOutOfRange(SegmentId),
    /// Demand-zero with protection 0 would encode as the zero PTE.
    #[error("a demand-zero PTE needs a non-zero protection")]
    ZeroProtection,
    /// Slot 0 is never allocated; a pagefile PTE with slot 0 would decode as demand-zero.
    #[error("pagefile slot 0 is reserved")]
    SlotZero,
    /// The bits are not a form this model produces.
    #[error("{0:#018x} is not a PTE form of this model")]
    Malformed(u64),
}

fn pfn_bits(pfn: Pfn) -> Result<u64, CodecError> {
    let raw = u64::from(pfn.raw());
    if raw > PFN_MASK {
        return Err(CodecError::PfnTooLarge(pfn));
    }
    Ok(raw << PFN_SHIFT)
}

fn prot_bits(p: Protection) -> u64 {
    u64::from(p.bits()) << PROT_SHIFT
}

fn prot_of(bits: u64) -> Protection {
    // Five bits always fit.
    Protection::from_bits(((bits >> PROT_SHIFT) & 0x1F) as u8).unwrap_or_default()
}

fn pfn_of(bits: u64) -> Pfn {
    Pfn::new(((bits >> PFN_SHIFT) & PFN_MASK) as u32)
}

fn software_bits(slot: Option<Slot>, protection: Protection) -> Result<u64, CodecError> {
    match slot {
        Some(s) if s.raw() == 0 => Err(CodecError::SlotZero),
        Some(s) => Ok(prot_bits(protection) | u64::from(s.raw()) << HIGH_SHIFT),
        None if protection.bits() == 0 => Err(CodecError::ZeroProtection),
        None => Ok(prot_bits(protection)),
    }
}

fn transition_bits(pfn: Pfn, protection: Protection) -> Result<u64, CodecError> {
    Ok(TRANSITION | prot_bits(protection) | pfn_bits(pfn)?)
}

/// The synthetic kernel address of a prototype PTE.
pub fn proto_address(proto: ProtoRef) -> Result<u64, CodecError> {
    if proto.segment.raw() >= 0xFFF || proto.index.raw() >= 1 << 32 {
        return Err(CodecError::ProtoOutOfRange(proto));
    }
    Ok(PROTO_POOL | u64::from(proto.segment.raw()) << 35 | proto.index.raw() << 3)
}

fn proto_from_address(addr: u64) -> Option<ProtoRef> {
    let full = if addr & (1 << 47) != 0 {
        addr | !ADDR_MASK
    } else {
        addr
    };
    if full & PROTO_POOL != PROTO_POOL || full & 7 != 0 {
        return None;
    }
    let segment = ((full >> 35) & 0xFFF) as u32;
    if segment == 0xFFF {
        // Reserved so that no encoded address collides with MI_PTE_LOOKUP_NEEDED.
        return None;
    }
    let index = ProtoIndex::new((full >> 3) & 0xFFFF_FFFF);
    Some(ProtoRef {
        segment: SegmentId::new(segment),
        index,
    })
}

/// Encodes a process PTE in the amd64 layout.
pub fn encode(pte: &Pte) -> Result<u64, CodecError> {
    Ok(match *pte {
        Pte::Zero => 0,
        Pte::Valid(h) => {
            let mut v = VALID | OWNER | pfn_bits(h.pfn)?;
            for (flag, bit) in [
                (h.write, WRITE),
                (h.accessed, ACCESSED),
                (h.dirty, DIRTY),
                (h.copy_on_write, COPY_ON_WRITE),
                (h.prototype, PROTOTYPE),
                (h.no_execute, NO_EXECUTE),
            ] {
                if flag {
                    v |= bit;
                }
            }
            v
        }
        Pte::Prototype { proto, read_only } => {
            let addr = proto_address(proto)? & ADDR_MASK;
            PROTOTYPE | if read_only { READ_ONLY } else { 0 } | addr << ADDR_SHIFT
        }
        Pte::PrototypeLookup { protection } => {
            PROTOTYPE | prot_bits(protection) | LOOKUP_NEEDED << HIGH_SHIFT
        }
        Pte::Transition { pfn, protection } => transition_bits(pfn, protection)?,
        Pte::Pagefile { slot, protection } => software_bits(Some(slot), protection)?,
        Pte::DemandZero { protection } => software_bits(None, protection)?,
    })
}

/// Decodes a process PTE from the amd64 layout, in the fault handler's order (§2.6).
pub fn decode(bits: u64) -> Result<Pte, CodecError> {
    if bits == 0 {
        return Ok(Pte::Zero);
    }
    if bits & VALID != 0 {
        let known = VALID
            | WRITE
            | OWNER
            | ACCESSED
            | DIRTY
            | COPY_ON_WRITE
            | PROTOTYPE
            | NO_EXECUTE
            | PFN_MASK << PFN_SHIFT;
        if bits & !known != 0 || bits & OWNER == 0 {
            return Err(CodecError::Malformed(bits));
        }
        return Ok(Pte::Valid(HardwarePte {
            pfn: pfn_of(bits),
            write: bits & WRITE != 0,
            dirty: bits & DIRTY != 0,
            accessed: bits & ACCESSED != 0,
            copy_on_write: bits & COPY_ON_WRITE != 0,
            prototype: bits & PROTOTYPE != 0,
            no_execute: bits & NO_EXECUTE != 0,
        }));
    }
    if bits & PROTOTYPE != 0 {
        if bits >> HIGH_SHIFT == LOOKUP_NEEDED {
            if bits & !(PROTOTYPE | 0x1F << PROT_SHIFT | LOOKUP_NEEDED << HIGH_SHIFT) != 0 {
                return Err(CodecError::Malformed(bits));
            }
            return Ok(Pte::PrototypeLookup {
                protection: prot_of(bits),
            });
        }
        if bits & 0xFFFF & !(PROTOTYPE | READ_ONLY) != 0 {
            return Err(CodecError::Malformed(bits));
        }
        let proto = proto_from_address(bits >> ADDR_SHIFT).ok_or(CodecError::Malformed(bits))?;
        return Ok(Pte::Prototype {
            proto,
            read_only: bits & READ_ONLY != 0,
        });
    }
    if bits & TRANSITION != 0 {
        if bits & !(TRANSITION | 0x1F << PROT_SHIFT | PFN_MASK << PFN_SHIFT) != 0 {
            return Err(CodecError::Malformed(bits));
        }
        return Ok(Pte::Transition {
            pfn: pfn_of(bits),
            protection: prot_of(bits),
        });
    }
    if bits & !(0x1F << PROT_SHIFT | LOOKUP_NEEDED << HIGH_SHIFT) != 0 {
        return Err(CodecError::Malformed(bits));
    }
    let high = (bits >> HIGH_SHIFT) as u32;
    if high != 0 {
        return Ok(Pte::Pagefile {
            slot: Slot::new(high),
            protection: prot_of(bits),
        });
    }
    Ok(Pte::DemandZero {
        protection: prot_of(bits),
    })
}

/// Encodes a prototype PTE of `segment` in the amd64 layout.
pub fn encode_proto(pte: &ProtoPte, segment: SegmentId) -> Result<u64, CodecError> {
    Ok(match *pte {
        ProtoPte::Zero => 0,
        ProtoPte::Valid { pfn } => VALID | OWNER | pfn_bits(pfn)?,
        ProtoPte::Transition { pfn, protection } => transition_bits(pfn, protection)?,
        ProtoPte::Pagefile { slot, protection } => software_bits(Some(slot), protection)?,
        ProtoPte::DemandZero { protection } => software_bits(None, protection)?,
        ProtoPte::Subsection { protection } => {
            if u64::from(segment.raw()) >= 1 << 38 {
                return Err(CodecError::SegmentOutOfRange(segment));
            }
            let addr = (SUBSECTION_POOL | u64::from(segment.raw()) << 8) & ADDR_MASK;
            PROTOTYPE | prot_bits(protection) | addr << ADDR_SHIFT
        }
    })
}

/// Decodes a prototype PTE from the amd64 layout.
pub fn decode_proto(bits: u64) -> Result<ProtoPte, CodecError> {
    if bits & PROTOTYPE != 0 && bits & VALID == 0 {
        if bits & 0xFFFF & !(PROTOTYPE | 0x1F << PROT_SHIFT) != 0 {
            return Err(CodecError::Malformed(bits));
        }
        return Ok(ProtoPte::Subsection {
            protection: prot_of(bits),
        });
    }
    match decode(bits)? {
        Pte::Zero => Ok(ProtoPte::Zero),
        Pte::Valid(h) if !h.write && !h.dirty && !h.accessed && !h.copy_on_write => {
            Ok(ProtoPte::Valid { pfn: h.pfn })
        }
        Pte::Transition { pfn, protection } => Ok(ProtoPte::Transition { pfn, protection }),
        Pte::Pagefile { slot, protection } => Ok(ProtoPte::Pagefile { slot, protection }),
        Pte::DemandZero { protection } => Ok(ProtoPte::DemandZero { protection }),
        _ => Err(CodecError::Malformed(bits)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn protection() -> impl Strategy<Value = Protection> {
        (1u8..0x20).prop_map(|b| Protection::from_bits(b).unwrap())
    }

    fn pte() -> impl Strategy<Value = Pte> {
        prop_oneof![
            Just(Pte::Zero),
            (0u32..1 << 28, any::<[bool; 6]>()).prop_map(|(p, f)| Pte::Valid(HardwarePte {
                pfn: Pfn::new(p),
                write: f[0],
                dirty: f[1],
                accessed: f[2],
                copy_on_write: f[3],
                prototype: f[4],
                no_execute: f[5],
            })),
            (0u32..0xFFF, 0u64..1 << 32, any::<bool>()).prop_map(|(s, i, ro)| Pte::Prototype {
                proto: ProtoRef {
                    segment: SegmentId::new(s),
                    index: ProtoIndex::new(i)
                },
                read_only: ro,
            }),
            (0u8..0x20).prop_map(|b| Pte::PrototypeLookup {
                protection: Protection::from_bits(b).unwrap()
            }),
            (0u32..1 << 28, protection()).prop_map(|(p, protection)| Pte::Transition {
                pfn: Pfn::new(p),
                protection
            }),
            (1u32.., protection()).prop_map(|(s, protection)| Pte::Pagefile {
                slot: Slot::new(s),
                protection
            }),
            protection().prop_map(|protection| Pte::DemandZero { protection }),
        ]
    }

    fn proto_pte() -> impl Strategy<Value = ProtoPte> {
        prop_oneof![
            Just(ProtoPte::Zero),
            (0u32..1 << 28).prop_map(|p| ProtoPte::Valid { pfn: Pfn::new(p) }),
            (0u32..1 << 28, protection()).prop_map(|(p, protection)| ProtoPte::Transition {
                pfn: Pfn::new(p),
                protection
            }),
            (1u32.., protection()).prop_map(|(s, protection)| ProtoPte::Pagefile {
                slot: Slot::new(s),
                protection
            }),
            protection().prop_map(|protection| ProtoPte::DemandZero { protection }),
            (0u8..0x20).prop_map(|b| ProtoPte::Subsection {
                protection: Protection::from_bits(b).unwrap()
            }),
        ]
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(2048))]

        #[test]
        fn prop_process_pte_round_trip(p in pte()) {
            let bits = encode(&p).unwrap();
            prop_assert_eq!(decode(bits).unwrap(), p);
        }

        #[test]
        fn prop_proto_pte_round_trip(p in proto_pte(), seg in 0u32..1 << 20) {
            let bits = encode_proto(&p, SegmentId::new(seg)).unwrap();
            prop_assert_eq!(decode_proto(bits).unwrap(), p);
        }

        /// Decoding never panics, whatever the bits; what decodes re-encodes to the same bits.
        #[test]
        fn prop_decode_is_total(bits in any::<u64>()) {
            if let Ok(p) = decode(bits) {
                prop_assert_eq!(encode(&p).unwrap(), bits);
            }
        }
    }

    #[test]
    fn test_lookup_form_uses_lookup_needed_marker() {
        let bits = encode(&Pte::PrototypeLookup {
            protection: Protection::READWRITE,
        })
        .unwrap();
        assert_eq!(bits >> 32, 0xFFFF_FFFF);
        assert_eq!(bits & PROTOTYPE, PROTOTYPE);
        assert_eq!((bits >> 5) & 0x1F, 4);
    }

    #[test]
    fn test_writecopy_valid_pte_is_read_only_with_cow_bit() {
        // nt_internals §2.1: WRITECOPY gives a read-only PTE with the software bit 0x200 set.
        let bits = encode(&Pte::Valid(HardwarePte {
            pfn: Pfn::new(0x1234),
            write: false,
            dirty: false,
            accessed: true,
            copy_on_write: true,
            prototype: true,
            no_execute: false,
        }))
        .unwrap();
        assert_eq!(bits, 0x0123_4000 | 0x200 | 0x400 | 0x20 | 0x4 | 0x1);
    }

    #[test]
    fn test_unencodable_values_are_errors() {
        assert_eq!(
            encode(&Pte::DemandZero {
                protection: Protection::ZERO
            }),
            Err(CodecError::ZeroProtection)
        );
        assert_eq!(
            encode(&Pte::Pagefile {
                slot: Slot::new(0),
                protection: Protection::READWRITE
            }),
            Err(CodecError::SlotZero)
        );
        let big = ProtoRef {
            segment: SegmentId::new(0xFFF),
            index: ProtoIndex::ZERO,
        };
        assert_eq!(
            encode(&Pte::Prototype {
                proto: big,
                read_only: false
            }),
            Err(CodecError::ProtoOutOfRange(big))
        );
        assert!(matches!(
            encode(&Pte::Transition {
                pfn: Pfn::new(1 << 28),
                protection: Protection::READONLY
            }),
            Err(CodecError::PfnTooLarge(_))
        ));
    }
}

//! Page table entries: the decoded states of a process (hardware) PTE and of a prototype PTE.
//!
//! These enums are the model's storage format. Every NT state of nt_internals §2.3 and §2.4 has
//! a variant; [`crate::codec`] converts them to and from the amd64 bit layout for teaching.
//!
//! ```text
//!  process PTE                                  prototype PTE
//!  Zero ──first touch──► PrototypeLookup ──┐     Subsection/DemandZero/Pagefile/Zero
//!    │                                     ▼          │ fault (hard, demand-zero)
//!    │ (private VAD)              Valid ◄── fault ──── Valid ◄─ soft fault ─ Transition
//!    ▼                             │ trim (shared)         │ share count → 0     ▲
//!  DemandZero ─fault─► Valid       └──► Prototype/Lookup   └─────────────────────┘
//!                        │ trim (private)                    frame reused: OriginalPte
//!                        ▼                                   restored (Subsection/Pagefile/
//!                   Transition ─frame reused─► Pagefile       DemandZero)
//! ```

use crate::addr::{Pfn, ProtoIndex, Slot, Vpn};
use crate::id::{AsId, SegmentId};
use crate::protection::Protection;

/// The address of a prototype PTE: a segment and an index into its table.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Debug)]
pub struct ProtoRef {
    /// The segment that owns the prototype PTE.
    pub segment: SegmentId,
    /// Index of the prototype PTE (the page number within the segment).
    pub index: ProtoIndex,
}

/// The PTE that maps a frame (`MMPFN.PteAddress`): a process PTE or a prototype PTE.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Debug)]
pub enum PteRef {
    /// A process PTE: private pages and copy-on-write copies.
    Process {
        /// The address space.
        space: AsId,
        /// The virtual page.
        vpn: Vpn,
    },
    /// A prototype PTE: pages of sections.
    Proto(ProtoRef),
}

/// The hardware bits of a valid PTE (x86/amd64 `MMPTE_HARDWARE`, nt_internals §2.2).
///
/// The emulated CPU sets `accessed` on every access and `dirty` on every store, as a
/// uniprocessor x86 does; the multiprocessor dirty-bit emulation of NT is equivalent for
/// correctness and is not modelled (nt_internals §2.2).
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug)]
pub struct HardwarePte {
    /// The frame.
    pub pfn: Pfn,
    /// Hardware write permission.
    pub write: bool,
    /// Set by the CPU on a store.
    pub dirty: bool,
    /// Set by the CPU on any access.
    pub accessed: bool,
    /// Software copy-on-write bit (bit 9): a store takes a private copy.
    pub copy_on_write: bool,
    /// Software prototype bit (bit 10): informational in a valid PTE; set for section pages.
    pub prototype: bool,
    /// No-execute (bit 63).
    pub no_execute: bool,
}

/// A process PTE (nt_internals §2.3). The order of the variants is the decode order of the
/// fault handler (§2.6).
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug, Default)]
pub enum Pte {
    /// Never touched (or just mapped): consult the VAD.
    #[default]
    Zero,
    /// Valid: the frame is mapped.
    Valid(HardwarePte),
    /// Prototype-pointing, encoded form: the address of the prototype PTE. The effective
    /// protection is the prototype PTE's, or read-only if `read_only`.
    Prototype {
        /// The prototype PTE.
        proto: ProtoRef,
        /// Forces read-only access.
        read_only: bool,
    },
    /// Prototype-pointing, "lookup needed" form: the prototype PTE is found through the VAD and
    /// the view's protection is carried here.
    PrototypeLookup {
        /// The per-view protection.
        protection: Protection,
    },
    /// A private page whose frame is on the standby or modified list.
    Transition {
        /// The frame, still holding the data.
        pfn: Pfn,
        /// The page protection.
        protection: Protection,
    },
    /// A private page whose contents are in the pagefile.
    Pagefile {
        /// The pagefile slot.
        slot: Slot,
        /// The page protection.
        protection: Protection,
    },
    /// A committed private page never touched; with `Protection::DECOMMIT`, a decommitted one.
    DemandZero {
        /// The page protection.
        protection: Protection,
    },
}

impl Pte {
    /// The frame a valid or transition PTE names.
    pub fn pfn(&self) -> Option<Pfn> {
        match self {
            Pte::Valid(h) => Some(h.pfn),
            Pte::Transition { pfn, .. } => Some(*pfn),
            _ => None,
        }
    }
    /// Whether the PTE is valid.
    pub fn is_valid(&self) -> bool {
        matches!(self, Pte::Valid(_))
    }
}

/// A prototype PTE (nt_internals §2.4).
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug, Default)]
pub enum ProtoPte {
    /// Not committed (pagefile-backed `SEC_RESERVE`): access violation.
    #[default]
    Zero,
    /// Committed, never touched.
    DemandZero {
        /// The section protection.
        protection: Protection,
    },
    /// Resident and mapped by at least one valid process PTE. The page protection is in the
    /// frame's original PTE (nt_internals §2.5).
    Valid {
        /// The frame.
        pfn: Pfn,
    },
    /// Resident on the standby or modified list (or under I/O), mapped by no valid PTE.
    Transition {
        /// The frame.
        pfn: Pfn,
        /// The protection.
        protection: Protection,
    },
    /// The contents are in the pagefile (pagefile-backed sections).
    Pagefile {
        /// The pagefile slot.
        slot: Slot,
        /// The protection.
        protection: Protection,
    },
    /// Not resident; the data is in the segment's file at `index × 4096` (file-backed
    /// sections; one subsection per segment, nt_internals §9.2).
    Subsection {
        /// The protection (`MM_EXECUTE_READWRITE` for data files; the view governs access).
        protection: Protection,
    },
}

impl ProtoPte {
    /// The frame a valid or transition prototype PTE names.
    pub fn pfn(&self) -> Option<Pfn> {
        match self {
            ProtoPte::Valid { pfn } | ProtoPte::Transition { pfn, .. } => Some(*pfn),
            _ => None,
        }
    }
}

/// The invalid form a PTE returns to when its frame is reused (`MMPFN.OriginalPte`,
/// nt_internals §2.5). It is a prototype-PTE form for section pages and a process-PTE form for
/// private pages; only these three shapes ever occur.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug)]
pub enum OriginalPte {
    /// Demand-zero: the page has no copy anywhere but its frame.
    DemandZero {
        /// The protection.
        protection: Protection,
    },
    /// A pagefile slot holds a clean copy of the frame.
    Pagefile {
        /// The slot.
        slot: Slot,
        /// The protection.
        protection: Protection,
    },
    /// The page belongs to a file; its offset follows from the prototype PTE index.
    Subsection {
        /// The protection.
        protection: Protection,
    },
}

impl OriginalPte {
    /// The protection recorded in the original PTE.
    pub fn protection(&self) -> Protection {
        match *self {
            OriginalPte::DemandZero { protection }
            | OriginalPte::Pagefile { protection, .. }
            | OriginalPte::Subsection { protection } => protection,
        }
    }
    /// Whether the page is written to the pagefile (by the modified page writer) rather than to
    /// a file (by the mapped page writer): `OriginalPte.Prototype == 0` in NT.
    pub fn is_pagefile_destined(&self) -> bool {
        !matches!(self, OriginalPte::Subsection { .. })
    }
    /// The pagefile slot, if any.
    pub fn slot(&self) -> Option<Slot> {
        match *self {
            OriginalPte::Pagefile { slot, .. } => Some(slot),
            _ => None,
        }
    }
    /// The prototype PTE this original restores to.
    pub fn to_proto(self) -> ProtoPte {
        match self {
            OriginalPte::DemandZero { protection } => ProtoPte::DemandZero { protection },
            OriginalPte::Pagefile { slot, protection } => ProtoPte::Pagefile { slot, protection },
            OriginalPte::Subsection { protection } => ProtoPte::Subsection { protection },
        }
    }
    /// The process PTE this original restores to (private pages only ever have the first two
    /// forms; a subsection original cannot belong to a private page).
    pub fn to_process(self) -> Pte {
        match self {
            OriginalPte::DemandZero { protection } | OriginalPte::Subsection { protection } => {
                Pte::DemandZero { protection }
            }
            OriginalPte::Pagefile { slot, protection } => Pte::Pagefile { slot, protection },
        }
    }
}

//! `check_invariants`: every rule of nt_internals §9.3 that applies to the machine layer,
//! checked in one place.
//!
//! 1. The page lists are well formed (links, counts, locations).
//! 2. A frame on a list has share 0 and reference 0; standby frames are clean, modified and
//!    modified-no-write frames are modified; zeroed frames are zero; free/zeroed frames have no
//!    PTE.
//! 3. An active frame has share ≥ 1 and reference ≥ 1; no I/O is in flight between operations.
//! 4. share(F) = the number of valid process PTEs that map F.
//! 5. A prototype PTE valid with F ⇔ F is active, share ≥ 1 and F's PTE is that prototype PTE;
//!    transition with F ⇔ F is on the standby/modified lists and its PTE is that prototype PTE.
//! 6. A private frame's PTE is the process PTE that maps it (valid or transition); a process
//!    PTE in transition or pagefile form belongs to a private page.
//! 7. Every non-zero process PTE lies in a region; the working set holds exactly the valid PTEs,
//!    and no more than its maximum; private valid pages agree with their frame on protection;
//!    the region tree's free-gap index agrees with its regions; neither the page table's
//!    software TLB nor the calling thread's TLB of the current epoch holds a stale translation; the page table's dirty index names every dirty PTE.
//! 8. A segment's PFN references = its resident prototype PTEs; its mapped count = the regions
//!    that map it; its dirty index names every resident prototype PTE whose frame is modified;
//!    its chunk table is well formed.
//! 9. Pagefile slots in use = the slots named by frames' original PTEs and by pagefile-form PTEs
//!    and prototype PTEs, each exactly once; a modified frame holds no slot.
//! 10. Commit charged = Σ segment commit + Σ region commit, and never above the limit; each
//!     address space's own charge is the sum of its regions' and never above its peak.
//! 11. A placeholder (F68–F72) holds nothing: it carries the placeholder flag, protection
//!     `PAGE_NOACCESS`, no commit charge and no non-zero PTE; only placeholder regions (and
//!     regions that replaced one) may start inside a 64 KiB block (checked with rule 7).

use crate::addr::{Pfn, ProtoIndex};
use crate::machine::Machine;
use crate::pfn::PageLocation;
use crate::pte::{ProtoPte, ProtoRef, Pte, PteRef};
use crate::vad::VadKind;
use std::collections::BTreeMap;

/// A violated invariant, with the rule's number (see the module docs) and what was found.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("invariant {rule} violated: {detail}")]
pub struct InvariantViolation {
    /// The rule's number.
    pub rule: u8,
    /// What was found.
    pub detail: String,
}

fn fail<T>(rule: u8, detail: impl Into<String>) -> Result<T, InvariantViolation> {
    Err(InvariantViolation {
        rule,
        detail: detail.into(),
    })
}

impl Machine {
    /// Checks every invariant; returns the first violation.
    pub(crate) fn check_invariants(&self) -> Result<(), InvariantViolation> {
        self.pfn.check_lists().or_else(|d| fail(1, d))?;
        let frames = self.pfn.len();

        // Valid PTEs per frame, and the set of process PTEs naming each frame.
        let mut valid_maps = vec![0u32; frames];
        let mut slots: BTreeMap<u32, String> = BTreeMap::new();
        let mut claim = |slot: u32, who: String| -> Result<(), InvariantViolation> {
            if let Some(prev) = slots.insert(slot, who.clone()) {
                return fail(9, format!("slot {slot} claimed by {prev} and {who}"));
            }
            Ok(())
        };

        // The calling thread's TLB: a live entry names a valid, accessed PTE of its frame.
        if let Some(epoch) = self.memory.epoch().stable() {
            for (asid, vpn, pfn) in crate::tlb::live(epoch) {
                let pte = self.spaces.get(&asid).map(|s| s.page_table.get(vpn));
                if !matches!(pte, Some(Pte::Valid(h)) if h.pfn == pfn && h.accessed) {
                    return fail(
                        7,
                        format!("thread TLB: {asid:?} {vpn:?} -> {pfn:?} but the PTE is {pte:?}"),
                    );
                }
            }
        }

        for space in self.spaces.values() {
            space.page_table.check().or_else(|d| fail(7, d))?;
            space.ws.check().or_else(|d| fail(7, d))?;
            let mut valid = 0u64;
            for (vpn, pte) in space.page_table.all() {
                let Some(vad) = space.vads.find(vpn) else {
                    return fail(
                        7,
                        format!("{:?} {vpn:?} has {pte:?} outside any region", space.id),
                    );
                };
                match pte {
                    Pte::Valid(h) => {
                        valid += 1;
                        let Some(e) = self.pfn.get(h.pfn) else {
                            return fail(4, format!("{vpn:?} maps missing frame {:?}", h.pfn));
                        };
                        valid_maps[h.pfn.index()] += 1;
                        if e.location() != PageLocation::Active {
                            return fail(
                                3,
                                format!("{vpn:?} maps {:?} which is {:?}", h.pfn, e.location()),
                            );
                        }
                        let Some(ws) = space.ws.get(vpn) else {
                            return fail(7, format!("valid {vpn:?} is not in the working set"));
                        };
                        match e.pte() {
                            Some(PteRef::Proto(r)) => {
                                let VadKind::Mapped { .. } = vad.kind else {
                                    return fail(
                                        6,
                                        format!("shared frame in private region at {vpn:?}"),
                                    );
                                };
                                let _ = r;
                            }
                            Some(PteRef::Process { space: s, vpn: v }) => {
                                if s != space.id || v != vpn {
                                    return fail(
                                        6,
                                        format!(
                                            "{:?} back-points to {s:?}/{v:?}, not {vpn:?}",
                                            h.pfn
                                        ),
                                    );
                                }
                                if e.original().protection() != ws.protection {
                                    return fail(
                                        7,
                                        format!(
                                            "{vpn:?}: frame protection {:?} vs working set {:?}",
                                            e.original().protection(),
                                            ws.protection
                                        ),
                                    );
                                }
                            }
                            None => return fail(6, format!("active {:?} has no PTE", h.pfn)),
                        }
                    }
                    Pte::Transition { pfn, protection } => {
                        let Some(e) = self.pfn.get(pfn) else {
                            return fail(6, format!("{vpn:?} in transition on missing {pfn:?}"));
                        };
                        if e.pte()
                            != Some(PteRef::Process {
                                space: space.id,
                                vpn,
                            })
                        {
                            return fail(
                                6,
                                format!(
                                    "transition {vpn:?} names {pfn:?} whose PTE is {:?}",
                                    e.pte()
                                ),
                            );
                        }
                        if !matches!(
                            e.location(),
                            PageLocation::Standby
                                | PageLocation::Modified
                                | PageLocation::ModifiedNoWrite
                        ) {
                            return fail(
                                6,
                                format!("transition {vpn:?}: {pfn:?} is {:?}", e.location()),
                            );
                        }
                        if e.original().protection() != protection {
                            return fail(
                                6,
                                format!(
                                    "transition {vpn:?}: protection {protection:?} vs frame {:?}",
                                    e.original().protection()
                                ),
                            );
                        }
                    }
                    Pte::Pagefile { slot, .. } => {
                        claim(slot.raw(), format!("{:?} {vpn:?}", space.id))?
                    }
                    _ => {}
                }
            }
            if valid != space.ws.len() {
                return fail(
                    7,
                    format!(
                        "{:?}: {valid} valid PTEs, working set {}",
                        space.id,
                        space.ws.len()
                    ),
                );
            }
            if space.ws.len() > space.ws.max() {
                return fail(
                    7,
                    format!(
                        "{:?}: working set {} over its maximum {}",
                        space.id,
                        space.ws.len(),
                        space.ws.max()
                    ),
                );
            }
        }

        for (i, &maps) in valid_maps.iter().enumerate() {
            let pfn = Pfn::new(i as u32);
            let e = self.pfn.entry(pfn);
            if e.read_in_progress() || e.write_in_progress() {
                return fail(3, format!("{pfn:?} has I/O in flight between operations"));
            }
            match e.location() {
                PageLocation::Zeroed | PageLocation::Free => {
                    if e.share_count() != 0 || e.reference_count() != 0 || e.pte().is_some() {
                        return fail(2, format!("free {pfn:?} is still in use: {e:?}"));
                    }
                    // Zero-filled contents: every zeroed frame on small machines; on large ones a
                    // deterministic sample (every 16th frame), to keep the check cheap enough to
                    // run after every call.
                    if e.location() == PageLocation::Zeroed
                        && (frames <= 1024 || i % 16 == 0)
                        && !self.memory.is_zero(pfn)
                    {
                        return fail(2, format!("zeroed {pfn:?} is not zero"));
                    }
                }
                PageLocation::Standby | PageLocation::Modified | PageLocation::ModifiedNoWrite => {
                    if e.share_count() != 0 || e.reference_count() != 0 {
                        return fail(2, format!("{pfn:?} on {:?} has counts {e:?}", e.location()));
                    }
                    if (e.location() == PageLocation::Standby) == e.modified() {
                        return fail(
                            2,
                            format!(
                                "{pfn:?} on {:?} has modified={}",
                                e.location(),
                                e.modified()
                            ),
                        );
                    }
                    if e.pte().is_none() {
                        return fail(2, format!("{pfn:?} on {:?} has no PTE", e.location()));
                    }
                }
                PageLocation::Active => {
                    if e.share_count() == 0 || e.reference_count() == 0 {
                        return fail(3, format!("active {pfn:?} has counts {e:?}"));
                    }
                }
                PageLocation::Transition => {
                    return fail(3, format!("{pfn:?} left in transition between operations"));
                }
            }
            if e.share_count() != maps {
                return fail(
                    4,
                    format!("{pfn:?} share {} but {maps} valid PTEs", e.share_count()),
                );
            }
            if e.modified() && e.original().slot().is_some() {
                return fail(
                    9,
                    format!("modified {pfn:?} still holds {:?}", e.original().slot()),
                );
            }
            if let (Some(slot), Some(_)) = (e.original().slot(), e.pte()) {
                claim(slot.raw(), format!("{pfn:?}"))?;
            }
            match e.pte() {
                Some(PteRef::Proto(r)) => {
                    let Some(seg) = self.segments.get(&r.segment) else {
                        return fail(5, format!("{pfn:?} names missing {:?}", r.segment));
                    };
                    let want = if e.location() == PageLocation::Active {
                        ProtoPte::Valid { pfn }
                    } else {
                        ProtoPte::Transition {
                            pfn,
                            protection: e.original().protection(),
                        }
                    };
                    if !seg.holds(r.index) || seg.get(r.index) != want {
                        return fail(
                            5,
                            format!("{pfn:?} at {r:?}: prototype PTE is not {want:?}"),
                        );
                    }
                }
                Some(PteRef::Process { space, vpn }) => {
                    let Some(s) = self.spaces.get(&space) else {
                        return fail(6, format!("{pfn:?} names missing {space:?}"));
                    };
                    if s.page_table.get(vpn).pfn() != Some(pfn) {
                        return fail(
                            6,
                            format!("{pfn:?} names {space:?}/{vpn:?} which does not map it"),
                        );
                    }
                }
                None => {}
            }
        }

        let mut mapped: BTreeMap<crate::id::SegmentId, u64> = BTreeMap::new();
        let mut region_commit = 0u64;
        for space in self.spaces.values() {
            if let Err(detail) = space.vads.check() {
                return fail(7, detail);
            }
            let own: u64 = space.vads.iter().map(|v| v.commit_charge.raw()).sum();
            if own != space.commit.charged().raw() || space.commit.peak() < space.commit.charged() {
                return fail(
                    10,
                    format!(
                        "{:?} is charged {:?} (peak {:?}) but its regions hold {own}",
                        space.id,
                        space.commit.charged(),
                        space.commit.peak()
                    ),
                );
            }
            for vad in space.vads.iter() {
                region_commit += vad.commit_charge.raw();
                if vad.kind == VadKind::Placeholder
                    && (!vad.placeholder
                        || vad.protection != crate::protection::Protection::NOACCESS
                        || !vad.commit_charge.is_zero()
                        || !space.page_table.non_zero(vad.range()).is_empty())
                {
                    return fail(
                        11,
                        format!(
                            "{:?}: placeholder at {} holds something",
                            space.id,
                            vad.start.base()
                        ),
                    );
                }
                if let VadKind::Mapped {
                    segment,
                    first_index,
                } = vad.kind
                {
                    *mapped.entry(segment).or_default() += 1;
                    let Some(seg) = self.segments.get(&segment) else {
                        return fail(8, format!("region maps missing {segment:?}"));
                    };
                    if !seg.holds_range(first_index, vad.range().len()) {
                        return fail(8, format!("region maps past the end of {segment:?}"));
                    }
                }
            }
        }
        let mut segment_commit = 0u64;
        for (id, seg) in &self.segments {
            segment_commit += seg.committed;
            if mapped.get(id).copied().unwrap_or(0) != seg.mapped {
                return fail(
                    8,
                    format!(
                        "{id:?} mapped {} but {} regions",
                        seg.mapped,
                        mapped.get(id).copied().unwrap_or(0)
                    ),
                );
            }
            if let Err(detail) = seg.check_chunks() {
                return fail(8, format!("{id:?}: {detail}"));
            }
            let mut resident = 0;
            for (index, pte) in seg.non_template(ProtoIndex::ZERO, seg.page_count()) {
                let r = ProtoRef {
                    segment: *id,
                    index,
                };
                match pte {
                    ProtoPte::Valid { pfn } | ProtoPte::Transition { pfn, .. } => {
                        resident += 1;
                        let Some(e) = self.pfn.get(pfn) else {
                            return fail(5, format!("{r:?} names missing {pfn:?}"));
                        };
                        if e.pte() != Some(PteRef::Proto(r)) {
                            return fail(
                                5,
                                format!("{r:?} names {pfn:?} whose PTE is {:?}", e.pte()),
                            );
                        }
                        if e.modified() && !seg.maybe_modified(index) {
                            return fail(
                                8,
                                format!("{r:?} is modified but not in the dirty index"),
                            );
                        }
                        let active = e.location() == PageLocation::Active;
                        if matches!(pte, ProtoPte::Valid { .. }) != active {
                            return fail(
                                5,
                                format!("{r:?} is {pte:?} but {pfn:?} is {:?}", e.location()),
                            );
                        }
                    }
                    ProtoPte::Pagefile { slot, .. } => claim(slot.raw(), format!("{r:?}"))?,
                    _ => {}
                }
            }
            if resident != seg.pfn_references {
                return fail(
                    8,
                    format!(
                        "{id:?} has {resident} resident pages but {} PFN references",
                        seg.pfn_references
                    ),
                );
            }
        }

        let allocated: Vec<u32> = self.pagefile.allocated().iter().map(|s| s.raw()).collect();
        let claimed: Vec<u32> = slots.keys().copied().collect();
        if allocated != claimed {
            return fail(
                9,
                format!("pagefile slots allocated {allocated:?} but claimed {claimed:?}"),
            );
        }

        let total = segment_commit + region_commit;
        if total != self.commit.charged().raw() {
            return fail(
                10,
                format!(
                    "commit charged {:?} but objects hold {total}",
                    self.commit.charged()
                ),
            );
        }
        if self.commit.charged() > self.commit.limit() {
            return fail(10, "commit over the limit");
        }
        Ok(())
    }
}

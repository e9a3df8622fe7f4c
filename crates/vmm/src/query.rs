//! `NtQueryVirtualMemory(MemoryBasicInformation)` over the model (nt_internals §7.4).

use crate::addr::{ByteCount, Va, Vpn, PAGE_SHIFT, USER_END};
use crate::error::{Result, VmmError};
use crate::id::AsId;
use crate::machine::Machine;
use crate::protection::Protection;
use crate::pte::Pte;
use crate::vad::{Vad, VadKind};
use std::collections::BTreeSet;

/// The state of a page (`MEM_FREE`, `MEM_RESERVE`, `MEM_COMMIT`).
#[derive(Clone, Copy, PartialEq, Eq, Debug, Hash)]
pub enum MemState {
    /// Not in any region.
    Free,
    /// In a region, not committed.
    Reserve,
    /// Committed.
    Commit,
}

/// The type of a region (`MEM_PRIVATE`, `MEM_MAPPED`).
#[derive(Clone, Copy, PartialEq, Eq, Debug, Hash)]
pub enum RegionType {
    /// Private memory.
    Private,
    /// A view of a section.
    Mapped,
}

/// One `MEMORY_BASIC_INFORMATION` record, in kernel protection codes.
#[derive(Clone, Copy, PartialEq, Eq, Debug, Hash)]
pub struct RegionInfo {
    /// The queried address rounded down to its page.
    pub base: Va,
    /// The start of the region (VAD), if in one.
    pub allocation_base: Option<Va>,
    /// The protection the region was created with.
    pub allocation_protect: Protection,
    /// Bytes from `base` while state and protection stay the same, never past the region.
    pub size: ByteCount,
    /// State of the pages.
    pub state: MemState,
    /// Protection of the pages (`ZERO` unless committed; `NOACCESS` for free memory).
    pub protect: Protection,
    /// The region's type, if in one.
    pub kind: Option<RegionType>,
}

impl Machine {
    /// State and protection of one page of a region.
    fn state_in(&self, asid: AsId, vad: &Vad, vpn: Vpn, pte: Pte) -> (MemState, Protection) {
        if !self.is_committed(vad, pte, vpn) {
            return (MemState::Reserve, Protection::ZERO);
        }
        let Some(space) = self.spaces.get(&asid) else {
            // The caller found the region in this address space, so it exists.
            return (MemState::Reserve, Protection::ZERO);
        };
        let p = match pte {
            Pte::Zero => vad.protection,
            Pte::Valid(_) => space.ws.get(vpn).map_or(vad.protection, |e| e.protection),
            Pte::Prototype { proto, read_only } => {
                if read_only {
                    Protection::READONLY
                } else {
                    self.proto_protection(proto)
                }
            }
            Pte::PrototypeLookup { protection }
            | Pte::Transition { protection, .. }
            | Pte::Pagefile { protection, .. }
            | Pte::DemandZero { protection } => protection,
        };
        (MemState::Commit, p)
    }

    /// State and current protection of the page at `vpn`.
    pub(crate) fn page_state(&self, asid: AsId, vpn: Vpn) -> Result<(MemState, Protection)> {
        let space = self.space(asid)?;
        match space.vads.find(vpn) {
            None => Ok((MemState::Free, Protection::NOACCESS)),
            Some(vad) => Ok(self.state_in(asid, &vad, vpn, space.page_table.get(vpn))),
        }
    }

    /// The region record for `va`.
    pub(crate) fn query(&self, asid: AsId, va: Va) -> Result<RegionInfo> {
        let space = self.space(asid)?;
        if va.raw() >= USER_END {
            return Err(VmmError::AddressOutOfRange(va));
        }
        let vpn = va.vpn();
        let Some(vad) = space.vads.find(vpn) else {
            let next = space
                .vads
                .next_at_or_after(vpn)
                .map_or(USER_END >> PAGE_SHIFT, |v| v.start.raw());
            return Ok(RegionInfo {
                base: vpn.base(),
                allocation_base: None,
                allocation_protect: Protection::ZERO,
                size: ByteCount::new((next - vpn.raw()) << PAGE_SHIFT),
                state: MemState::Free,
                protect: Protection::NOACCESS,
                kind: None,
            });
        };
        let first = self.state_in(asid, &vad, vpn, space.page_table.get(vpn));
        // Pages whose state may differ from the untouched default: those with a PTE, and
        // (views) those whose prototype PTE differs from the segment's template. Every other
        // page has the state of a zero PTE over the template, so runs of them are skipped
        // without visiting each page: a fresh 1 TiB view is queried in one step.
        let range = crate::addr::PageRange::new(vpn, vad.end).ok_or(VmmError::RangeOverflow)?;
        let mut special: BTreeSet<u64> = space
            .page_table
            .non_zero(range)
            .into_iter()
            .map(|(v, _)| v.raw())
            .collect();
        if let Some(proto) = vad.proto_at(vpn) {
            if let Some(seg) = self.segments.get(&proto.segment) {
                for (i, _) in seg.non_template(proto.index, range.len()) {
                    special.extend(vad.vpn_of(i).map(Vpn::raw));
                }
            }
        }
        let default_vpn = (vpn.raw() + 1..vad.end.raw()).find(|v| !special.contains(v));
        let default_state = default_vpn.map(|v| self.state_in(asid, &vad, Vpn::new(v), Pte::Zero));
        let mut end = vpn.raw() + 1;
        while end < vad.end.raw() {
            let s = if special.contains(&end) {
                self.state_in(
                    asid,
                    &vad,
                    Vpn::new(end),
                    space.page_table.get(Vpn::new(end)),
                )
            } else {
                match default_state {
                    Some(d) if d == first => {
                        // Jump to the next special page.
                        end = special
                            .range(end..)
                            .next()
                            .copied()
                            .unwrap_or(vad.end.raw());
                        continue;
                    }
                    _ => break,
                }
            };
            if s != first {
                break;
            }
            end += 1;
        }
        Ok(RegionInfo {
            base: vpn.base(),
            allocation_base: Some(vad.start.base()),
            allocation_protect: vad.protection,
            size: ByteCount::new((end - vpn.raw()) << PAGE_SHIFT),
            state: first.0,
            protect: first.1,
            kind: Some(match vad.kind {
                // F72: a placeholder is MEM_PRIVATE (and MEM_RESERVE).
                VadKind::Private { .. } | VadKind::Placeholder => RegionType::Private,
                VadKind::Mapped { .. } => RegionType::Mapped,
            }),
        })
    }
}

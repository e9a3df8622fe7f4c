//! A process page table: leaves of 512 PTEs allocated on first use (a sparse two-level table).
//!
//! NT's four-level tables, page-table-page share counts and paging of page tables are a stated
//! simplification (nt_internals §9.2): they change kernel bookkeeping, not what user mode sees.

use crate::addr::{PageRange, Vpn};
use crate::pte::Pte;
use crate::tlb::TranslationEpoch;
use std::collections::BTreeMap;

const LEAF: u64 = 512;

#[derive(Debug)]
struct Leaf {
    ptes: [Pte; LEAF as usize],
    /// Non-zero entries (`UsedPageTableEntries`); the leaf is freed when it reaches 0.
    used: u32,
}

/// Entries of the software TLB (direct-mapped by VPN).
const TLB_ENTRIES: usize = 64;

/// A cached translation: valid while `generation` equals the table's.
#[derive(Clone, Copy, Debug)]
struct TlbEntry {
    vpn: u64,
    pfn: crate::addr::Pfn,
    /// The PTE was writable and already dirty when cached: a store may hit too.
    store: bool,
    generation: u64,
}

/// The page table of one address space, with a software TLB in front of it.
///
/// The TLB caches translations of valid PTEs whose accessed bit (and, for stores, dirty bit) is
/// already set, so a hit changes no state and skips the table walk. Every way to change a PTE
/// (`set`, `get_mut`) bumps `generation`, which invalidates every entry at once — the
/// emulator's equivalent of a TLB flush on any PTE change.
///
/// # Invariants
/// Each leaf's `used` equals its number of non-`Zero` entries, and is never 0. A TLB entry of
/// the current generation names a valid, accessed PTE of that frame, writable and dirty if it
/// allows stores (checked by `check`).
#[derive(Debug)]
pub struct PageTable {
    leaves: BTreeMap<u64, Box<Leaf>>,
    tlb: [TlbEntry; TLB_ENTRIES],
    generation: u64,
    /// Dirty index: a superset of the VPNs whose PTE is valid and dirty, so that harvesting
    /// dirty bits over a range visits only those (`check` verifies it).
    maybe_dirty: std::collections::BTreeSet<u64>,
    /// The machine's translation epoch: every PTE change marks it changing first, which
    /// flushes the per-thread TLBs of [`crate::tlb`] at the end of the operation.
    epoch: std::sync::Arc<TranslationEpoch>,
}

impl Default for PageTable {
    /// A table with an epoch of its own (a table outside any machine).
    fn default() -> Self {
        PageTable::new(std::sync::Arc::new(TranslationEpoch::new()))
    }
}

impl Drop for PageTable {
    /// Deleting an address space ends every translation it had.
    fn drop(&mut self) {
        self.epoch.begin_change();
    }
}

impl PageTable {
    /// An empty table announcing its changes to `epoch`.
    pub(crate) fn new(epoch: std::sync::Arc<TranslationEpoch>) -> Self {
        PageTable {
            leaves: BTreeMap::new(),
            // Generation 0 entries are never live: the table starts at 1.
            tlb: [TlbEntry {
                vpn: 0,
                pfn: crate::addr::Pfn::new(0),
                store: false,
                generation: 0,
            }; TLB_ENTRIES],
            generation: 1,
            maybe_dirty: std::collections::BTreeSet::new(),
            epoch,
        }
    }

    /// The PTE of `vpn`.
    pub fn get(&self, vpn: Vpn) -> Pte {
        match self.leaves.get(&(vpn.raw() / LEAF)) {
            Some(l) => l.ptes[(vpn.raw() % LEAF) as usize],
            None => Pte::Zero,
        }
    }

    /// A cached translation of `vpn` for a load (`store == false`) or a store, if any.
    #[inline]
    pub(crate) fn tlb_lookup(&self, vpn: Vpn, store: bool) -> Option<crate::addr::Pfn> {
        let e = &self.tlb[(vpn.raw() as usize) % TLB_ENTRIES];
        (e.generation == self.generation && e.vpn == vpn.raw() && (!store || e.store))
            .then_some(e.pfn)
    }

    /// Caches the translation of a valid PTE just used (its accessed bit set, its dirty bit set
    /// if `store`).
    #[inline]
    pub(crate) fn tlb_fill(&mut self, vpn: Vpn, pfn: crate::addr::Pfn, store: bool) {
        self.tlb[(vpn.raw() as usize) % TLB_ENTRIES] = TlbEntry {
            vpn: vpn.raw(),
            pfn,
            store,
            generation: self.generation,
        };
    }

    /// Records that the valid PTE of `vpn` just became dirty (a store through the table).
    pub(crate) fn note_dirty(&mut self, vpn: Vpn) {
        self.maybe_dirty.insert(vpn.raw());
    }

    /// The VPNs in `range` that may hold a dirty PTE, taken out of the dirty index: the caller
    /// clears every dirty bit among them.
    pub(crate) fn take_dirty(&mut self, range: PageRange) -> Vec<Vpn> {
        let (s, e) = (range.start().raw(), range.end().raw());
        if s >= e {
            return Vec::new();
        }
        let vpns: Vec<u64> = self.maybe_dirty.range(s..e).copied().collect();
        for v in &vpns {
            self.maybe_dirty.remove(v);
        }
        vpns.into_iter().map(Vpn::new).collect()
    }

    /// Sets the PTE of `vpn`.
    pub(crate) fn set(&mut self, vpn: Vpn, pte: Pte) {
        self.epoch.begin_change();
        self.generation += 1;
        if matches!(pte, Pte::Valid(h) if h.dirty) {
            self.maybe_dirty.insert(vpn.raw());
        } else {
            self.maybe_dirty.remove(&vpn.raw());
        }
        let key = vpn.raw() / LEAF;
        let slot = (vpn.raw() % LEAF) as usize;
        if pte == Pte::Zero {
            if let Some(l) = self.leaves.get_mut(&key) {
                if l.ptes[slot] != Pte::Zero {
                    l.ptes[slot] = Pte::Zero;
                    l.used -= 1;
                    if l.used == 0 {
                        self.leaves.remove(&key);
                    }
                }
            }
            return;
        }
        let l = self.leaves.entry(key).or_insert_with(|| {
            Box::new(Leaf {
                ptes: [Pte::Zero; LEAF as usize],
                used: 0,
            })
        });
        if l.ptes[slot] == Pte::Zero {
            l.used += 1;
        }
        l.ptes[slot] = pte;
    }

    /// A mutable reference to a valid or other non-zero PTE, if present.
    pub(crate) fn get_mut(&mut self, vpn: Vpn) -> Option<&mut Pte> {
        self.epoch.begin_change();
        self.generation += 1;
        let l = self.leaves.get_mut(&(vpn.raw() / LEAF))?;
        let p = &mut l.ptes[(vpn.raw() % LEAF) as usize];
        (*p != Pte::Zero).then_some(p)
    }

    /// The non-zero PTEs in `range`, in address order.
    pub fn non_zero(&self, range: PageRange) -> Vec<(Vpn, Pte)> {
        let (s, e) = (range.start().raw(), range.end().raw());
        if s >= e {
            return Vec::new();
        }
        let mut out = Vec::new();
        for (&k, leaf) in self.leaves.range(s / LEAF..=(e - 1) / LEAF) {
            for (j, pte) in leaf.ptes.iter().enumerate() {
                let v = k * LEAF + j as u64;
                if v >= s && v < e && *pte != Pte::Zero {
                    out.push((Vpn::new(v), *pte));
                }
            }
        }
        out
    }

    /// Every non-zero PTE, in address order.
    pub fn all(&self) -> Vec<(Vpn, Pte)> {
        let mut out = Vec::new();
        for (&k, leaf) in &self.leaves {
            for (j, pte) in leaf.ptes.iter().enumerate() {
                if *pte != Pte::Zero {
                    out.push((Vpn::new(k * LEAF + j as u64), *pte));
                }
            }
        }
        out
    }

    /// Checks the type's invariants: the `used` counts, the dirty index covering every dirty
    /// PTE, and every live TLB entry agreeing with its PTE.
    pub(crate) fn check(&self) -> Result<(), String> {
        for (&k, leaf) in &self.leaves {
            let n = leaf.ptes.iter().filter(|p| **p != Pte::Zero).count() as u32;
            if n != leaf.used || n == 0 {
                return Err(format!(
                    "page table leaf {k}: used {} but {n} entries",
                    leaf.used
                ));
            }
            for (i, pte) in leaf.ptes.iter().enumerate() {
                let vpn = k * LEAF + i as u64;
                if matches!(pte, Pte::Valid(h) if h.dirty) && !self.maybe_dirty.contains(&vpn) {
                    return Err(format!(
                        "dirty PTE of VPN {vpn:#x} missing from the dirty index"
                    ));
                }
            }
        }
        for e in self.tlb.iter().filter(|e| e.generation == self.generation) {
            let ok = match self.get(Vpn::new(e.vpn)) {
                Pte::Valid(h) => h.pfn == e.pfn && h.accessed && (!e.store || (h.write && h.dirty)),
                _ => false,
            };
            if !ok {
                return Err(format!("stale TLB entry for VPN {:#x}", e.vpn));
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::protection::Protection;

    #[test]
    fn test_leaves_appear_and_vanish_with_entries() {
        let mut t = PageTable::default();
        let p = Pte::DemandZero {
            protection: Protection::READWRITE,
        };
        t.set(Vpn::new(0x7_0000_0001), p);
        assert_eq!(t.get(Vpn::new(0x7_0000_0001)), p);
        assert_eq!(t.get(Vpn::new(0x7_0000_0002)), Pte::Zero);
        assert_eq!(t.leaves.len(), 1);
        t.check().unwrap();
        t.set(Vpn::new(0x7_0000_0001), Pte::Zero);
        assert!(t.leaves.is_empty());
        let r = PageRange::new(Vpn::new(0), Vpn::new(1 << 40)).unwrap();
        assert!(t.non_zero(r).is_empty());
    }
}

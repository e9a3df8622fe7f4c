//! A process page table: leaves of 512 PTEs allocated on first use (a sparse two-level table).
//!
//! NT's four-level tables, page-table-page share counts and paging of page tables are a stated
//! simplification (nt_internals §9.2): they change kernel bookkeeping, not what user mode sees.

use crate::addr::{PageRange, Vpn};
use crate::dirty_bits::DirtyBits;
use crate::leaf_table::LeafTable;
use crate::packed;
use crate::pte::Pte;
use crate::tlb::TranslationEpoch;
use std::collections::BTreeMap;

const LEAF: u64 = 512;

/// 512 PTEs in their 64-bit storage form ([`crate::packed`]).
#[derive(Debug)]
struct Leaf {
    ptes: [u64; LEAF as usize],
    /// Non-zero entries (`UsedPageTableEntries`); the leaf is freed when it reaches 0.
    used: u32,
    /// Dirty index: entry `i` is set if PTE `i` may be valid and dirty.
    dirty: DirtyBits,
}

impl Leaf {
    fn new() -> Box<Leaf> {
        Box::new(Leaf {
            ptes: [0; LEAF as usize],
            used: 0,
            dirty: DirtyBits::default(),
        })
    }
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

/// The page table of one address space, with a software TLB in front of it: leaves of 512
/// PTEs in a 64-bit storage form (the `packed` module), each with a dirty index (one bit per PTE,
/// a superset of the valid dirty PTEs, so that harvesting dirty bits over a range visits only
/// those).
///
/// The TLB caches translations of valid PTEs whose accessed bit (and, for stores, dirty bit) is
/// already set, so a hit changes no state and skips the table walk. The one way to change a
/// PTE, `set`, bumps `generation`, which invalidates every entry at once — the emulator's
/// equivalent of a TLB flush on any PTE change. (`take_dirty` changes only the dirty index,
/// never a PTE.)
///
/// # Invariants
/// Each leaf's `used` equals its number of non-`Zero` entries, and is never 0. A TLB entry of
/// the current generation names a valid, accessed PTE of that frame, writable and dirty if it
/// allows stores (checked by `check`).
#[derive(Debug)]
pub struct PageTable {
    leaves: LeafTable<Leaf>,
    tlb: [TlbEntry; TLB_ENTRIES],
    generation: u64,
    /// PTEs whose fields do not fit the 64-bit storage form (tagged `packed::ASIDE` in their
    /// leaf); in practice never (segment numbers below 2^24 and indexes below 2^36 pack).
    aside: BTreeMap<u64, Pte>,
    /// The machine's translation epoch: every PTE change marks it changing first, which
    /// flushes the per-thread TLBs of [`crate::tlb`] at the end of the operation.
    epoch: std::sync::Arc<TranslationEpoch>,
}

/// Whether replacing `old` by `new` removes or narrows a translation a TLB may cache: a valid
/// PTE becomes invalid, or stays valid with another frame, less access (write, or execute),
/// a cleared accessed or dirty bit (a cached entry promises both are set), or another
/// copy-on-write bit. Anything else (an invalid PTE changing, a valid one gaining bits) leaves
/// every cached translation true.
fn narrows(old: Pte, new: Pte) -> bool {
    match (old, new) {
        (Pte::Valid(o), Pte::Valid(n)) => {
            n.pfn != o.pfn
                || (o.write && !n.write)
                || (o.dirty && !n.dirty)
                || (o.accessed && !n.accessed)
                || (n.no_execute && !o.no_execute)
                || n.copy_on_write != o.copy_on_write
        }
        (Pte::Valid(_), _) => true,
        _ => false,
    }
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
            leaves: LeafTable::default(),
            // Generation 0 entries are never live: the table starts at 1.
            tlb: [TlbEntry {
                vpn: 0,
                pfn: crate::addr::Pfn::new(0),
                store: false,
                generation: 0,
            }; TLB_ENTRIES],
            generation: 1,
            aside: BTreeMap::new(),
            epoch,
        }
    }

    /// The PTE of `vpn`.
    pub fn get(&self, vpn: Vpn) -> Pte {
        match self.leaves.get(vpn.raw() / LEAF) {
            Some(l) => self.unpack(vpn.raw(), l.ptes[(vpn.raw() % LEAF) as usize]),
            None => Pte::Zero,
        }
    }

    fn unpack(&self, vpn: u64, w: u64) -> Pte {
        packed::unpack(w)
            .or_else(|| self.aside.get(&vpn).copied())
            .unwrap_or(Pte::Zero)
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

    /// The VPNs in `range` that may hold a dirty PTE, taken out of the dirty index: the caller
    /// clears every dirty bit among them.
    pub(crate) fn take_dirty(&mut self, range: PageRange) -> Vec<Vpn> {
        let (s, e) = (range.start().raw(), range.end().raw());
        let mut vpns = Vec::new();
        if s < e {
            self.leaves
                .for_each_in_mut(s / LEAF..=(e - 1) / LEAF, |k, leaf| {
                    leaf.dirty.take(k * LEAF, s, e, &mut vpns)
                });
        }
        vpns.into_iter().map(Vpn::new).collect()
    }

    /// Sets the PTE of `vpn`. Cached translations (this table's TLB and every thread's, through
    /// the epoch) are flushed only when the change removes or narrows a valid translation
    /// ([`narrows`]): installing a valid PTE over an invalid one, or setting its accessed or
    /// dirty bit, leaves every cached entry true, as a CPU's TLB needs no flush for them
    /// (`KeFlushSingleTb` follows only a change of a valid PTE that takes something away,
    /// nt_internals §3).
    pub(crate) fn set(&mut self, vpn: Vpn, pte: Pte) {
        let key = vpn.raw() / LEAF;
        let slot = (vpn.raw() % LEAF) as usize;
        let word = match packed::pack(pte) {
            Some(w) => {
                // The side map is empty in practice: skip its lookup on the fault path.
                if !self.aside.is_empty() {
                    self.aside.remove(&vpn.raw());
                }
                w
            }
            None => {
                self.aside.insert(vpn.raw(), pte);
                packed::ASIDE
            }
        };
        // The old word is read in the same leaf lookup as the store (valid PTEs are always
        // packed, never kept aside).
        let (epoch, generation) = (&self.epoch, &mut self.generation);
        let mut flush = |old: u64| {
            if packed::is_valid(old) && packed::unpack(old).is_some_and(|o| narrows(o, pte)) {
                epoch.begin_change();
                *generation += 1;
            }
        };
        if word == 0 {
            if let Some(l) = self.leaves.get_mut(key) {
                if l.ptes[slot] != 0 {
                    flush(l.ptes[slot]);
                    l.ptes[slot] = 0;
                    l.dirty.set(slot, false);
                    l.used -= 1;
                    if l.used == 0 {
                        self.leaves.remove(key);
                    }
                }
            }
            return;
        }
        let l = self.leaves.get_or_insert_with(key, Leaf::new);
        if l.ptes[slot] == 0 {
            l.used += 1;
        } else {
            flush(l.ptes[slot]);
        }
        l.ptes[slot] = word;
        l.dirty.set(slot, packed::is_dirty_valid(word));
    }

    /// The non-zero PTEs in `range`, in address order.
    pub fn non_zero(&self, range: PageRange) -> Vec<(Vpn, Pte)> {
        let (s, e) = (range.start().raw(), range.end().raw());
        if s >= e {
            return Vec::new();
        }
        let mut out = Vec::new();
        for (k, leaf) in self.leaves.range(s / LEAF..=(e - 1) / LEAF) {
            // Only the part of the leaf inside the range.
            let base = k * LEAF;
            let lo = s.saturating_sub(base) as usize;
            let hi = (e - base).min(LEAF) as usize;
            for (j, &w) in leaf.ptes[lo..hi].iter().enumerate() {
                if w != 0 {
                    let v = base + (lo + j) as u64;
                    out.push((Vpn::new(v), self.unpack(v, w)));
                }
            }
        }
        out
    }

    /// Every non-zero PTE, in address order.
    pub fn all(&self) -> Vec<(Vpn, Pte)> {
        let mut out = Vec::new();
        for (k, leaf) in self.leaves.iter() {
            for (j, &w) in leaf.ptes.iter().enumerate() {
                if w != 0 {
                    let v = k * LEAF + j as u64;
                    out.push((Vpn::new(v), self.unpack(v, w)));
                }
            }
        }
        out
    }

    /// Checks the type's invariants: the `used` counts, the dirty index covering every dirty
    /// PTE, and every live TLB entry agreeing with its PTE.
    pub(crate) fn check(&self) -> Result<(), String> {
        self.leaves.check()?;
        let mut aside = 0;
        for (k, leaf) in self.leaves.iter() {
            let n = leaf.ptes.iter().filter(|&&w| w != 0).count() as u32;
            if n != leaf.used || n == 0 {
                return Err(format!(
                    "page table leaf {k}: used {} but {n} entries",
                    leaf.used
                ));
            }
            for (i, &w) in leaf.ptes.iter().enumerate() {
                let vpn = k * LEAF + i as u64;
                if w == packed::ASIDE {
                    aside += 1;
                    match self.aside.get(&vpn) {
                        Some(&p) if packed::pack(p).is_none() => {}
                        other => return Err(format!("VPN {vpn:#x} set aside as {other:?}")),
                    }
                }
                if matches!(self.unpack(vpn, w), Pte::Valid(h) if h.dirty) && !leaf.dirty.get(i) {
                    return Err(format!(
                        "dirty PTE of VPN {vpn:#x} missing from the dirty index"
                    ));
                }
                if w == 0 && leaf.dirty.get(i) {
                    return Err(format!("zero PTE of VPN {vpn:#x} in the dirty index"));
                }
            }
        }
        if aside != self.aside.len() {
            return Err("PTEs set aside disagree with their leaves".into());
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

    /// The TLB flush follows only changes that remove or narrow a valid translation:
    /// installing a valid PTE, or setting its accessed or dirty bit, keeps the cached entries
    /// (the epoch stays even, this table's generation unchanged); taking away the write
    /// permission, the dirty or accessed bit, the frame, or the validity flushes them.
    #[test]
    fn test_only_removing_or_narrowing_a_translation_flushes() {
        let mut t = PageTable::default();
        let vpn = Vpn::new(0x7_0000_0001);
        let valid = |write, dirty, accessed, pfn| {
            Pte::Valid(crate::pte::HardwarePte {
                pfn: crate::addr::Pfn::new(pfn),
                write,
                dirty,
                accessed,
                copy_on_write: false,
                prototype: false,
                no_execute: false,
            })
        };
        let flushes = |t: &mut PageTable, pte: Pte| {
            let (g, e) = (t.generation, t.epoch.stable());
            t.set(vpn, pte);
            let flushed = t.generation != g || t.epoch.stable() != e;
            t.epoch.end_change();
            flushed
        };
        let dz = Pte::DemandZero {
            protection: Protection::READWRITE,
        };
        assert!(!flushes(&mut t, dz), "invalid to invalid");
        assert!(!flushes(&mut t, valid(true, false, false, 5)), "install");
        assert!(
            !flushes(&mut t, valid(true, false, true, 5)),
            "accessed set"
        );
        assert!(!flushes(&mut t, valid(true, true, true, 5)), "dirty set");
        assert!(
            flushes(&mut t, valid(true, false, true, 5)),
            "dirty cleared"
        );
        assert!(
            flushes(&mut t, valid(true, false, false, 5)),
            "accessed cleared"
        );
        assert!(
            flushes(&mut t, valid(false, false, false, 5)),
            "write removed"
        );
        assert!(
            flushes(&mut t, valid(false, false, false, 6)),
            "another frame"
        );
        assert!(flushes(&mut t, dz), "valid to invalid");
    }

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
        assert!(t.leaves.len() == 0);
        let r = PageRange::new(Vpn::new(0), Vpn::new(1 << 40)).unwrap();
        assert!(t.non_zero(r).is_empty());
    }

    #[test]
    fn test_non_zero_returns_exactly_the_range_across_leaf_edges() {
        let mut t = PageTable::default();
        let p = Pte::DemandZero {
            protection: Protection::READWRITE,
        };
        let set = [0u64, 1, 15, 16, 17, 510, 511, 512, 513, 1023, 1024, 5000];
        for v in set {
            t.set(Vpn::new(v), p);
        }
        for (a, b) in [
            (0, 1),
            (1, 16),
            (16, 17),
            (2, 511),
            (511, 513),
            (17, 1024),
            (0, 6000),
        ] {
            let r = PageRange::new(Vpn::new(a), Vpn::new(b)).unwrap();
            let want: Vec<(Vpn, Pte)> = set
                .iter()
                .filter(|&&v| v >= a && v < b)
                .map(|&v| (Vpn::new(v), p))
                .collect();
            assert_eq!(t.non_zero(r), want, "range {a:#x}..{b:#x}");
        }
    }

    #[test]
    fn test_ptes_beyond_the_packed_range_are_kept_aside_losslessly() {
        let mut t = PageTable::default();
        let far = Pte::Prototype {
            proto: crate::pte::ProtoRef {
                segment: crate::id::SegmentId::new(1 << 30),
                index: crate::addr::ProtoIndex::new(1 << 40),
            },
            read_only: true,
        };
        let v = Vpn::new(0x10);
        t.set(v, far);
        assert_eq!(t.get(v), far);
        assert_eq!(t.all(), vec![(v, far)]);
        t.check().unwrap();
        // Replaced by a packable PTE, then removed: nothing stays aside.
        let near = Pte::DemandZero {
            protection: Protection::READONLY,
        };
        t.set(v, near);
        assert_eq!(t.get(v), near);
        assert!(t.aside.is_empty());
        t.set(v, far);
        t.set(v, Pte::Zero);
        assert!(t.aside.is_empty() && t.leaves.len() == 0);
        t.check().unwrap();
    }

    #[test]
    fn test_dirty_index_names_dirty_valid_ptes_and_is_taken_by_range() {
        let mut t = PageTable::default();
        let valid = |dirty| {
            Pte::Valid(crate::pte::HardwarePte {
                pfn: crate::addr::Pfn::new(1),
                write: true,
                dirty,
                accessed: true,
                copy_on_write: false,
                prototype: false,
                no_execute: false,
            })
        };
        for v in [3u64, 64, 511, 512, 2000] {
            t.set(Vpn::new(v), valid(true));
        }
        t.set(Vpn::new(4), valid(false));
        t.check().unwrap();
        let r = |a, b| PageRange::new(Vpn::new(a), Vpn::new(b)).unwrap();
        assert_eq!(
            t.take_dirty(r(4, 600)),
            [64, 511, 512].map(Vpn::new).to_vec()
        );
        assert!(t.take_dirty(r(4, 600)).is_empty());
        assert_eq!(
            t.take_dirty(r(0, 1 << 20)),
            [3, 2000].map(Vpn::new).to_vec()
        );
    }
}

//! Working sets: the resident pages of an address space, oldest first (nt_internals §4.5).
//!
//! Each entry records the protection of the page as this address space sees it (the working-set
//! list entry's protection in NT), which trimming needs to rebuild the prototype-pointing PTE.
//! Ageing by accessed-bit sampling is simplified to first-in first-out (nt_internals §9.2).

use crate::addr::Vpn;
use crate::leaf_table::LeafTable;
use crate::protection::Protection;
use std::collections::VecDeque;

/// One working-set entry.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub struct WsEntry {
    age: u64,
    /// The page's protection in this address space.
    pub protection: Protection,
}

/// A ring slot: `vpn << 8 | protection`, or a hole where a page left from the middle.
const HOLE: u64 = u64::MAX;
/// Pages per index leaf.
const LEAF: u64 = 512;

fn slot(vpn: Vpn, protection: Protection) -> u64 {
    (vpn.raw() << 8) | u64::from(protection.bits())
}
fn slot_vpn(s: u64) -> Vpn {
    Vpn::new(s >> 8)
}
fn slot_protection(s: u64) -> Protection {
    Protection::from_bits((s & 0xFF) as u8).unwrap_or(Protection::ZERO)
}

/// Ages of the pages of one 512-page stretch: `age + 1`, or 0 where the page is absent.
#[derive(Debug)]
struct IndexLeaf {
    ages: [u32; LEAF as usize],
    used: u32,
}

/// A working set: a FIFO ring of pages by age (holes where a page left from the middle) and a
/// sparse index from page to age. Insertion, removal and lookup are O(1) (the index is a
/// two-level table like the page table's), and a resident page costs 12 bytes: 8 in the ring,
/// 4 in the index. The ring is compacted (ages renumbered from 0) when holes outnumber pages
/// or ages would overflow 32 bits.
///
/// # Invariants
/// `ring[i]` names page `v` exactly when the index holds age `base + i` for `v`; `ring` starts
/// with a page (no leading hole); `len` is the number of pages; every index leaf's `used`
/// counts its pages and is never 0; every entry's page has a valid PTE (checked by the
/// machine).
#[derive(Debug)]
pub struct WorkingSet {
    max: u64,
    /// The most pages it has held (`PeakWorkingSetSize` in pages).
    peak: u64,
    base: u64,
    ring: VecDeque<u64>,
    index: LeafTable<IndexLeaf>,
    len: u64,
}

impl WorkingSet {
    pub(crate) fn new(max: u64) -> Self {
        WorkingSet {
            max,
            peak: 0,
            base: 0,
            ring: VecDeque::new(),
            index: LeafTable::default(),
            len: 0,
        }
    }
    /// The maximum size in pages.
    pub fn max(&self) -> u64 {
        self.max
    }
    pub(crate) fn set_max(&mut self, max: u64) {
        self.max = max;
    }
    /// The most pages it has held at once (`PeakWorkingSetSize`, in pages): raised where a page
    /// enters, the one place the size grows.
    pub fn peak(&self) -> u64 {
        self.peak
    }
    /// Pages in the working set.
    pub fn len(&self) -> u64 {
        self.len
    }
    /// Whether it is empty.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }
    /// Whether it is at its maximum.
    pub fn is_full(&self) -> bool {
        self.len() >= self.max
    }

    fn age_of(&self, vpn: Vpn) -> Option<u64> {
        let leaf = self.index.get(vpn.raw() / LEAF)?;
        match leaf.ages[(vpn.raw() % LEAF) as usize] {
            0 => None,
            a => Some(u64::from(a - 1)),
        }
    }
    /// Records `age` for `vpn`; returns the age it had.
    fn set_age(&mut self, vpn: Vpn, age: u64) -> Option<u64> {
        let stored = u32::try_from(age + 1).expect("ages are renumbered before 32 bits");
        let leaf = self.index.get_or_insert_with(vpn.raw() / LEAF, || {
            Box::new(IndexLeaf {
                ages: [0; LEAF as usize],
                used: 0,
            })
        });
        let a = &mut leaf.ages[(vpn.raw() % LEAF) as usize];
        let old = std::mem::replace(a, stored);
        if old == 0 {
            leaf.used += 1;
            None
        } else {
            Some(u64::from(old - 1))
        }
    }
    /// Forgets the age of `vpn`; returns it.
    fn clear_age(&mut self, vpn: Vpn) -> Option<u64> {
        let key = vpn.raw() / LEAF;
        let leaf = self.index.get_mut(key)?;
        let a = std::mem::take(&mut leaf.ages[(vpn.raw() % LEAF) as usize]);
        if a == 0 {
            return None;
        }
        leaf.used -= 1;
        if leaf.used == 0 {
            self.index.remove(key);
        }
        Some(u64::from(a - 1))
    }

    pub(crate) fn insert(&mut self, vpn: Vpn, protection: Protection) {
        if self.base + self.ring.len() as u64 >= u64::from(u32::MAX - 1) {
            self.compact();
        }
        let age = self.base + self.ring.len() as u64;
        self.ring.push_back(slot(vpn, protection));
        // A page already present moves to the back: its old slot becomes a hole.
        match self.set_age(vpn, age) {
            Some(old) => self.hole(old),
            None => {
                self.len += 1;
                self.peak = self.peak.max(self.len);
            }
        }
        self.compact_if_sparse();
    }
    pub(crate) fn remove(&mut self, vpn: Vpn) -> Option<WsEntry> {
        let age = self.clear_age(vpn)?;
        let protection = slot_protection(self.ring[(age - self.base) as usize]);
        self.hole(age);
        self.len -= 1;
        Some(WsEntry { age, protection })
    }
    /// Turns the slot of `age` into a hole and drops the holes at the front.
    fn hole(&mut self, age: u64) {
        self.ring[(age - self.base) as usize] = HOLE;
        while self.ring.front() == Some(&HOLE) {
            self.ring.pop_front();
            self.base += 1;
        }
        if self.ring.is_empty() {
            self.base = 0;
        }
    }
    /// Renumbers the pages when holes outnumber them, keeping their order.
    fn compact_if_sparse(&mut self) {
        if self.ring.len() as u64 > 2 * self.len + 64 {
            self.compact();
        }
    }
    fn compact(&mut self) {
        self.ring.retain(|&s| s != HOLE);
        self.ring.shrink_to_fit();
        self.base = 0;
        let slots: Vec<u64> = self.ring.iter().copied().collect();
        for (age, s) in slots.into_iter().enumerate() {
            self.set_age(slot_vpn(s), age as u64);
        }
    }
    /// The entry of `vpn`.
    pub fn get(&self, vpn: Vpn) -> Option<WsEntry> {
        let age = self.age_of(vpn)?;
        Some(WsEntry {
            age,
            protection: slot_protection(self.ring[(age - self.base) as usize]),
        })
    }
    pub(crate) fn set_protection(&mut self, vpn: Vpn, protection: Protection) {
        if let Some(age) = self.age_of(vpn) {
            self.ring[(age - self.base) as usize] = slot(vpn, protection);
        }
    }
    /// The oldest page.
    pub fn oldest(&self) -> Option<Vpn> {
        self.ring.front().map(|&s| slot_vpn(s))
    }
    /// The pages, oldest first.
    pub fn pages(&self) -> Vec<Vpn> {
        self.ring
            .iter()
            .filter(|&&s| s != HOLE)
            .map(|&s| slot_vpn(s))
            .collect()
    }
    pub(crate) fn check(&self) -> Result<(), String> {
        if self.ring.front() == Some(&HOLE) {
            return Err("working set ring starts with a hole".into());
        }
        let mut n = 0;
        for (i, &s) in self.ring.iter().enumerate() {
            if s != HOLE {
                n += 1;
                let vpn = slot_vpn(s);
                if self.age_of(vpn) != Some(self.base + i as u64) {
                    return Err(format!("working set entry {vpn:?} has a stale age"));
                }
            }
        }
        self.index.check()?;
        let mut indexed = 0u64;
        for (k, leaf) in self.index.iter() {
            let used = leaf.ages.iter().filter(|&&a| a != 0).count() as u32;
            if used != leaf.used || used == 0 {
                return Err(format!("working set index leaf {k}: used {}", leaf.used));
            }
            indexed += u64::from(used);
        }
        if n != self.len || indexed != self.len {
            return Err("working set indexes disagree".into());
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn test_fifo_order_and_reinsert_moves_to_back() {
        let mut ws = WorkingSet::new(3);
        for v in [1, 2, 3] {
            ws.insert(Vpn::new(v), Protection::READWRITE);
        }
        assert!(ws.is_full());
        assert_eq!(ws.oldest(), Some(Vpn::new(1)));
        ws.insert(Vpn::new(1), Protection::READONLY);
        assert_eq!(ws.pages(), vec![Vpn::new(2), Vpn::new(3), Vpn::new(1)]);
        assert_eq!(
            ws.get(Vpn::new(1)).unwrap().protection,
            Protection::READONLY
        );
        assert!(ws.remove(Vpn::new(3)).is_some());
        assert_eq!(ws.len(), 2);
        ws.check().unwrap();
    }

    #[test]
    fn test_peak_is_the_most_pages_held_at_once() {
        let mut ws = WorkingSet::new(10);
        for v in [1, 2, 3] {
            ws.insert(Vpn::new(v), Protection::READWRITE);
        }
        // A page entering again is no new page.
        ws.insert(Vpn::new(2), Protection::READWRITE);
        assert_eq!(ws.peak(), 3);
        ws.remove(Vpn::new(1));
        ws.remove(Vpn::new(2));
        ws.insert(Vpn::new(4), Protection::READWRITE);
        assert_eq!((ws.len(), ws.peak()), (2, 3));
    }

    #[test]
    fn test_ages_are_renumbered_before_they_overflow_32_bits() {
        let mut ws = WorkingSet::new(100);
        // As after four billion insertions: the next ages would not fit the index.
        ws.base = u64::from(u32::MAX) - 4;
        ws.insert(Vpn::new(7), Protection::READONLY);
        for v in 0..6 {
            ws.insert(Vpn::new(100 + v), Protection::READWRITE);
            ws.check().unwrap();
        }
        assert_eq!(ws.oldest(), Some(Vpn::new(7)));
        assert_eq!(
            ws.get(Vpn::new(7)).unwrap().protection,
            Protection::READONLY
        );
        assert_eq!(ws.len(), 7);
        assert!(ws.base + (ws.ring.len() as u64) < u64::from(u32::MAX));
    }

    use proptest::prelude::*;

    proptest! {
        /// Against a plain list in FIFO order: inserts (re-inserts move to the back), removals
        /// from anywhere, with the invariants checked after every step (holes and compaction
        /// included).
        #[test]
        fn prop_working_set_is_a_fifo(ops in prop::collection::vec((any::<bool>(), 0u64..40), 1..400)) {
            let mut ws = WorkingSet::new(1000);
            let mut model: Vec<Vpn> = Vec::new();
            for (insert, v) in ops {
                let vpn = Vpn::new(v);
                model.retain(|&x| x != vpn);
                if insert {
                    ws.insert(vpn, Protection::READWRITE);
                    model.push(vpn);
                } else {
                    ws.remove(vpn);
                }
                prop_assert_eq!(ws.pages(), model.clone());
                prop_assert_eq!(ws.oldest(), model.first().copied());
                prop_assert_eq!(ws.check(), Ok(()));
            }
        }
    }
}

//! Working sets: the resident pages of an address space, oldest first (nt_internals §4.5).
//!
//! Each entry records the protection of the page as this address space sees it (the working-set
//! list entry's protection in NT), which trimming needs to rebuild the prototype-pointing PTE.
//! Ageing by accessed-bit sampling is simplified to first-in first-out (nt_internals §9.2).

use crate::addr::Vpn;
use crate::protection::Protection;
use std::collections::hash_map::DefaultHasher;
use std::collections::{HashMap, VecDeque};
use std::hash::BuildHasherDefault;

/// One working-set entry.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub struct WsEntry {
    age: u64,
    /// The page's protection in this address space.
    pub protection: Protection,
}

/// A fixed-key hasher: lookups only, never iterated, so the order cannot leak into results.
type Index = HashMap<Vpn, WsEntry, BuildHasherDefault<DefaultHasher>>;

/// A working set: a FIFO ring of pages by age (holes where a page left from the middle) and an
/// index from page to entry. Insertion, removal and lookup are O(1); the ring is compacted when
/// holes outnumber pages.
///
/// # Invariants
/// `ring[i]` is `Some(vpn)` exactly when `entries[vpn].age == base + i`; `ring` starts with a
/// page (no leading hole); every entry's page has a valid PTE (checked by the machine).
#[derive(Debug)]
pub struct WorkingSet {
    max: u64,
    base: u64,
    ring: VecDeque<Option<Vpn>>,
    entries: Index,
}

impl WorkingSet {
    pub(crate) fn new(max: u64) -> Self {
        WorkingSet {
            max,
            base: 0,
            ring: VecDeque::new(),
            entries: Index::default(),
        }
    }
    /// The maximum size in pages.
    pub fn max(&self) -> u64 {
        self.max
    }
    pub(crate) fn set_max(&mut self, max: u64) {
        self.max = max;
    }
    /// Pages in the working set.
    pub fn len(&self) -> u64 {
        self.entries.len() as u64
    }
    /// Whether it is empty.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }
    /// Whether it is at its maximum.
    pub fn is_full(&self) -> bool {
        self.len() >= self.max
    }
    pub(crate) fn insert(&mut self, vpn: Vpn, protection: Protection) {
        self.remove(vpn);
        let age = self.base + self.ring.len() as u64;
        self.ring.push_back(Some(vpn));
        self.entries.insert(vpn, WsEntry { age, protection });
        self.compact_if_sparse();
    }
    pub(crate) fn remove(&mut self, vpn: Vpn) -> Option<WsEntry> {
        let e = self.entries.remove(&vpn)?;
        self.ring[(e.age - self.base) as usize] = None;
        while let Some(None) = self.ring.front() {
            self.ring.pop_front();
            self.base += 1;
        }
        if self.ring.is_empty() {
            self.base = 0;
        }
        Some(e)
    }
    /// Renumbers the pages when holes outnumber them, keeping their order.
    fn compact_if_sparse(&mut self) {
        if self.ring.len() <= 2 * self.entries.len() + 64 {
            return;
        }
        let pages: Vec<Vpn> = self.ring.iter().flatten().copied().collect();
        self.ring = pages.iter().map(|&v| Some(v)).collect();
        self.base = 0;
        for (age, vpn) in pages.iter().enumerate() {
            if let Some(e) = self.entries.get_mut(vpn) {
                e.age = age as u64;
            }
        }
    }
    /// The entry of `vpn`.
    pub fn get(&self, vpn: Vpn) -> Option<WsEntry> {
        self.entries.get(&vpn).copied()
    }
    pub(crate) fn set_protection(&mut self, vpn: Vpn, protection: Protection) {
        if let Some(e) = self.entries.get_mut(&vpn) {
            e.protection = protection;
        }
    }
    /// The oldest page.
    pub fn oldest(&self) -> Option<Vpn> {
        self.ring.iter().flatten().next().copied()
    }
    /// The pages, oldest first.
    pub fn pages(&self) -> Vec<Vpn> {
        self.ring.iter().flatten().copied().collect()
    }
    pub(crate) fn check(&self) -> Result<(), String> {
        if matches!(self.ring.front(), Some(None)) {
            return Err("working set ring starts with a hole".into());
        }
        let mut n = 0;
        for (i, slot) in self.ring.iter().enumerate() {
            if let Some(vpn) = slot {
                n += 1;
                if self.entries.get(vpn).map(|e| e.age) != Some(self.base + i as u64) {
                    return Err(format!("working set entry {vpn:?} has a stale age"));
                }
            }
        }
        if n != self.entries.len() {
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

//! Sparse two-level tables: fixed-size leaves allocated on first use and keyed by
//! `index / leaf size`, with the last leaf looked up remembered.
//!
//! The page table's leaves (nt_internals §9.2: one sparse map per process instead of four
//! levels), a segment's prototype-PTE chunks and a working set's age index are all such tables.
//! Faults touch neighbouring pages, so consecutive lookups mostly name the same leaf: the
//! remembered one is found with one comparison instead of an ordered-map search.

use slab::Slab;
use std::cell::Cell;
use std::collections::BTreeMap;
use std::ops::RangeBounds;

/// No leaf remembered.
const NONE: u64 = u64::MAX;

/// Leaves of type `L`, keyed by `u64`.
///
/// # Invariants
/// `keys[k] == s` exactly when slot `s` of `slots` holds leaf `k` (with its key); `last`, unless
/// its key is `NONE`, is such a pair. [`LeafTable::check`] verifies both.
#[derive(Debug)]
pub(crate) struct LeafTable<L> {
    keys: BTreeMap<u64, usize>,
    slots: Slab<(u64, Box<L>)>,
    last: Cell<(u64, usize)>,
}

impl<L> Default for LeafTable<L> {
    fn default() -> Self {
        LeafTable {
            keys: BTreeMap::new(),
            slots: Slab::new(),
            last: Cell::new((NONE, 0)),
        }
    }
}

impl<L> LeafTable<L> {
    #[inline]
    fn slot_of(&self, key: u64) -> Option<usize> {
        let (k, s) = self.last.get();
        if k == key {
            return Some(s);
        }
        let s = *self.keys.get(&key)?;
        self.last.set((key, s));
        Some(s)
    }

    /// Leaf `key`, if allocated.
    #[inline]
    pub(crate) fn get(&self, key: u64) -> Option<&L> {
        let s = self.slot_of(key)?;
        Some(&self.slots[s].1)
    }

    /// Leaf `key`, if allocated, for changing.
    #[inline]
    pub(crate) fn get_mut(&mut self, key: u64) -> Option<&mut L> {
        let s = self.slot_of(key)?;
        Some(&mut self.slots[s].1)
    }

    /// Leaf `key`, allocated with `new` if absent.
    #[inline]
    pub(crate) fn get_or_insert_with(&mut self, key: u64, new: impl FnOnce() -> Box<L>) -> &mut L {
        let s = match self.slot_of(key) {
            Some(s) => s,
            None => {
                let s = self.slots.insert((key, new()));
                self.keys.insert(key, s);
                self.last.set((key, s));
                s
            }
        };
        &mut self.slots[s].1
    }

    /// Frees leaf `key`.
    pub(crate) fn remove(&mut self, key: u64) -> Option<Box<L>> {
        let s = self.keys.remove(&key)?;
        if self.last.get().0 == key {
            self.last.set((NONE, 0));
        }
        Some(self.slots.remove(s).1)
    }

    /// Frees every leaf from `key` on.
    pub(crate) fn remove_from(&mut self, key: u64) {
        for (_, s) in self.keys.split_off(&key) {
            self.slots.remove(s);
        }
        if self.last.get().0 >= key {
            self.last.set((NONE, 0));
        }
    }

    /// The leaves with keys in `range`, in key order.
    pub(crate) fn range(&self, range: impl RangeBounds<u64>) -> impl Iterator<Item = (u64, &L)> {
        self.keys
            .range(range)
            .map(|(&k, &s)| (k, &*self.slots[s].1))
    }

    /// Calls `f` on each leaf with a key in `range`, in key order.
    pub(crate) fn for_each_in_mut(
        &mut self,
        range: impl RangeBounds<u64>,
        mut f: impl FnMut(u64, &mut L),
    ) {
        for (&k, &s) in self.keys.range(range) {
            f(k, &mut self.slots[s].1);
        }
    }

    /// Every leaf, in key order.
    pub(crate) fn iter(&self) -> impl Iterator<Item = (u64, &L)> {
        self.range(..)
    }

    /// Number of leaves.
    pub(crate) fn len(&self) -> usize {
        self.keys.len()
    }

    /// Checks the type's invariants.
    pub(crate) fn check(&self) -> Result<(), String> {
        if self.keys.len() != self.slots.len() {
            return Err(format!(
                "{} leaf keys but {} leaves",
                self.keys.len(),
                self.slots.len()
            ));
        }
        for (&k, &s) in &self.keys {
            if self.slots.get(s).map(|e| e.0) != Some(k) {
                return Err(format!("leaf key {k:#x} names the wrong slot"));
            }
        }
        let (k, s) = self.last.get();
        if k != NONE && self.keys.get(&k) != Some(&s) {
            return Err(format!("remembered leaf {k:#x} is stale"));
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        /// Random inserts, removals, truncations and lookups against a plain ordered map: the
        /// same leaves, in the same order, and the invariants after every step.
        #[test]
        fn prop_leaf_table_agrees_with_an_ordered_map(
            ops in prop::collection::vec((0u8..5, 0u64..12, any::<u32>()), 1..200)
        ) {
            let mut t: LeafTable<u32> = LeafTable::default();
            let mut model: BTreeMap<u64, u32> = BTreeMap::new();
            for (op, key, v) in ops {
                match op {
                    0 => {
                        *t.get_or_insert_with(key, || Box::new(0)) = v;
                        model.insert(key, v);
                    }
                    1 => {
                        prop_assert_eq!(t.remove(key).map(|b| *b), model.remove(&key));
                    }
                    2 => {
                        t.remove_from(key);
                        model.split_off(&key);
                    }
                    3 => {
                        if let Some(x) = t.get_mut(key) {
                            *x = v;
                        }
                        if let Some(x) = model.get_mut(&key) {
                            *x = v;
                        }
                    }
                    _ => prop_assert_eq!(t.get(key).copied(), model.get(&key).copied()),
                }
                prop_assert_eq!(t.check(), Ok(()));
                prop_assert_eq!(t.len(), model.len());
                let got: Vec<(u64, u32)> = t.iter().map(|(k, v)| (k, *v)).collect();
                let want: Vec<(u64, u32)> = model.iter().map(|(&k, &v)| (k, v)).collect();
                prop_assert_eq!(got, want);
                let mut seen = Vec::new();
                t.for_each_in_mut(3..9, |k, v| seen.push((k, *v)));
                let want: Vec<(u64, u32)> = model.range(3..9).map(|(&k, &v)| (k, v)).collect();
                prop_assert_eq!(seen, want);
            }
        }
    }
}

//! Working sets: the resident pages of an address space, oldest first (nt_internals §4.5).
//!
//! Each entry records the protection of the page as this address space sees it (the working-set
//! list entry's protection in NT), which trimming needs to rebuild the prototype-pointing PTE.
//! Ageing by accessed-bit sampling is simplified to first-in first-out (nt_internals §9.2).

use crate::addr::Vpn;
use crate::protection::Protection;
use std::collections::BTreeMap;

/// One working-set entry.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub struct WsEntry {
    age: u64,
    /// The page's protection in this address space.
    pub protection: Protection,
}

/// A working set.
///
/// # Invariants
/// `by_age` and `entries` hold the same pages; every entry's page has a valid PTE.
#[derive(Debug)]
pub struct WorkingSet {
    max: u64,
    next_age: u64,
    by_age: BTreeMap<u64, Vpn>,
    entries: BTreeMap<Vpn, WsEntry>,
}

impl WorkingSet {
    pub(crate) fn new(max: u64) -> Self {
        WorkingSet {
            max,
            next_age: 0,
            by_age: BTreeMap::new(),
            entries: BTreeMap::new(),
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
        if let Some(old) = self.entries.remove(&vpn) {
            self.by_age.remove(&old.age);
        }
        let age = self.next_age;
        self.next_age += 1;
        self.by_age.insert(age, vpn);
        self.entries.insert(vpn, WsEntry { age, protection });
    }
    pub(crate) fn remove(&mut self, vpn: Vpn) -> Option<WsEntry> {
        let e = self.entries.remove(&vpn)?;
        self.by_age.remove(&e.age);
        Some(e)
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
        self.by_age.values().next().copied()
    }
    /// The pages, oldest first.
    pub fn pages(&self) -> Vec<Vpn> {
        self.by_age.values().copied().collect()
    }
    pub(crate) fn check(&self) -> Result<(), String> {
        if self.by_age.len() != self.entries.len() {
            return Err("working set indexes disagree".into());
        }
        for (age, vpn) in &self.by_age {
            if self.entries.get(vpn).map(|e| e.age) != Some(*age) {
                return Err(format!("working set entry {vpn:?} has a stale age"));
            }
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
}

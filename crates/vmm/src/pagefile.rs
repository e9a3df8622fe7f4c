//! The pagefile: a slot bitmap over a backing store (nt_internals §4.6, §9.2: one pagefile).
//!
//! Slot 0 is reserved so that a zero `PageFileHigh` means demand-zero. Slots are allocated
//! lowest-first (a documented, deterministic policy; NT uses a bitmap with a hint).

use crate::addr::{ByteCount, Slot, PAGE_SIZE};
use crate::store::{BackingStore, PageBuf, StoreError};

/// The pagefile.
///
/// # Invariants
/// `used` equals the number of set bits; bit 0 is never set; `size` slots in all.
#[derive(Debug)]
pub struct Pagefile {
    store: Box<dyn BackingStore>,
    bits: Vec<u64>,
    size: u32,
    used: u32,
    hint: u32,
}

impl Pagefile {
    /// A pagefile of `size` slots (slot 0 included, never used) over `store`, which is resized
    /// to hold them.
    pub(crate) fn new(mut store: Box<dyn BackingStore>, size: u32) -> Result<Self, StoreError> {
        store.set_size(ByteCount::new(u64::from(size) * PAGE_SIZE))?;
        Ok(Pagefile {
            store,
            bits: vec![0; (size as usize).div_ceil(64)],
            size,
            used: 0,
            hint: 1,
        })
    }
    /// Bytes of host memory the pagefile holds: its store's contents and its slot bitmap.
    pub fn host_bytes(&self) -> u64 {
        self.store.host_bytes() + self.bits.len() as u64 * 8
    }
    /// Slots in all (including the reserved slot 0).
    pub fn size(&self) -> u32 {
        self.size
    }
    /// Slots that can ever be used (`size - 1`, or 0).
    pub fn usable(&self) -> u32 {
        self.size.saturating_sub(1)
    }
    /// Slots in use.
    pub fn used(&self) -> u32 {
        self.used
    }
    /// Whether `slot` is allocated.
    pub fn is_allocated(&self, slot: Slot) -> bool {
        let s = slot.raw() as usize;
        s < self.size as usize && self.bits[s / 64] & (1 << (s % 64)) != 0
    }
    /// Allocates the lowest free slot.
    pub(crate) fn allocate(&mut self) -> Option<Slot> {
        if self.used >= self.usable() {
            return None;
        }
        let mut s = self.hint.max(1);
        loop {
            if s >= self.size {
                s = 1;
            }
            let (w, b) = (s as usize / 64, s % 64);
            if self.bits[w] & (1 << b) == 0 {
                self.bits[w] |= 1 << b;
                self.used += 1;
                self.hint = s + 1;
                return Some(Slot::new(s));
            }
            s += 1;
        }
    }
    /// Releases `slot`.
    pub(crate) fn release(&mut self, slot: Slot) {
        let s = slot.raw() as usize;
        debug_assert!(self.is_allocated(slot), "double release of {slot:?}");
        if self.is_allocated(slot) {
            self.bits[s / 64] &= !(1 << (s % 64));
            self.used -= 1;
            self.hint = self.hint.min(slot.raw());
        }
    }
    /// Reads a slot.
    pub(crate) fn read(&mut self, slot: Slot, buf: &mut PageBuf) -> Result<(), StoreError> {
        let r = self.store.read_page(u64::from(slot.raw()), buf);
        tracing::trace!(slot = slot.raw(), ok = r.is_ok(), "pagefile read");
        r
    }
    /// Writes a slot.
    pub(crate) fn write(&mut self, slot: Slot, buf: &PageBuf) -> Result<(), StoreError> {
        let r = self.store.write_page(u64::from(slot.raw()), buf);
        tracing::trace!(slot = slot.raw(), ok = r.is_ok(), "pagefile write");
        r
    }
    /// The allocated slots, in order.
    pub fn allocated(&self) -> Vec<Slot> {
        (1..self.size)
            .map(Slot::new)
            .filter(|s| self.is_allocated(*s))
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::MemoryStore;

    #[test]
    fn test_slot_zero_is_never_allocated_and_lowest_first() {
        let mut pf = Pagefile::new(Box::new(MemoryStore::new()), 4).unwrap();
        assert_eq!(pf.usable(), 3);
        let a = pf.allocate().unwrap();
        let b = pf.allocate().unwrap();
        let c = pf.allocate().unwrap();
        assert_eq!((a.raw(), b.raw(), c.raw()), (1, 2, 3));
        assert_eq!(pf.allocate(), None);
        pf.release(b);
        assert_eq!(pf.allocate(), Some(b));
        assert_eq!(pf.used(), 3);
    }

    #[test]
    fn test_pagefile_write_then_read_returns_the_same_page() {
        let mut pf = Pagefile::new(Box::new(MemoryStore::new()), 8).unwrap();
        let s = pf.allocate().unwrap();
        let page = [0x5Au8; crate::addr::PAGE_BYTES];
        pf.write(s, &page).unwrap();
        let mut back = [0u8; crate::addr::PAGE_BYTES];
        pf.read(s, &mut back).unwrap();
        assert_eq!(back, page);
        assert_eq!(pf.allocated(), vec![s]);
    }
}

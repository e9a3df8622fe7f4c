//! The translation lookaside buffer of each host thread, and the machine's translation epoch:
//! resident loads without the machine lock.
//!
//! A real CPU caches translations in its TLB and loads from a resident page without asking the
//! memory manager; the memory manager flushes TLBs when it changes a valid PTE
//! (`KeFlushSingleTb`, nt_internals §3). ntmm does the same with a software TLB per *host
//! thread* (the emulated CPU a thread runs on) and one [`crate::tlb::TranslationEpoch`] per machine:
//!
//! * A TLB entry records (epoch, address space, VPN) → frame. It is filled by a load that took
//!   the slow path, under the machine lock, from a valid PTE whose accessed bit is set — so a
//!   hit changes no memory-manager state, exactly like a hardware TLB hit.
//! * Every change that could end a translation — any PTE write, an address space deleted, a
//!   frame given new contents — first makes the epoch odd (`TranslationEpoch::begin_change`);
//!   the operation's end, still under the lock, gives it a fresh even value
//!   (`TranslationEpoch::end_change`). Entries of an older epoch are dead: that is the TLB
//!   flush, done for every CPU at once.
//! * A lock-free load is a sequence lock read: an even epoch, a hit, the acquiring load of the
//!   word, and the epoch unchanged afterwards. A change that raced with it shows in the second
//!   epoch read (the frame stores are releasing and come after the epoch went odd), and the
//!   load retries on the slow path under the lock.
//!
//! Epoch values come from one process-wide counter, so an epoch names its machine too: an
//! entry filled for one machine never hits for another. Stores always take the lock (a store
//! into a frame being repurposed could not be undone, whereas a load can be retried).

use crate::addr::{Pfn, Vpn};
use crate::id::AsId;
use std::cell::Cell;
use std::sync::atomic::{fence, AtomicU64, Ordering};

/// Even epoch values, never reused by any machine of the process. 0 marks an empty TLB entry.
static NEXT_EPOCH: AtomicU64 = AtomicU64::new(2);

fn fresh_epoch() -> u64 {
    NEXT_EPOCH.fetch_add(2, Ordering::Relaxed)
}

/// A machine's translation epoch: even while translations are stable, odd while an operation
/// is changing them.
///
/// # Invariants
/// Only code holding the machine lock changes it. Every value it has held is unique in the
/// process. While it is even, every live entry of any thread's TLB carrying it names a valid,
/// accessed PTE of that frame (checked for the calling thread by `Machine::check_invariants`).
#[derive(Debug)]
pub struct TranslationEpoch(AtomicU64);

impl TranslationEpoch {
    /// A fresh, stable epoch.
    pub(crate) fn new() -> Self {
        TranslationEpoch(AtomicU64::new(fresh_epoch()))
    }

    /// Marks translations as changing (odd). Called before a PTE changes or a frame takes new
    /// contents; cheap when already odd.
    #[inline]
    pub(crate) fn begin_change(&self) {
        let e = self.0.load(Ordering::Relaxed);
        if e & 1 == 0 {
            self.0.store(e | 1, Ordering::Relaxed);
            // Every store of the change comes after the odd value.
            fence(Ordering::Release);
        }
    }

    /// Ends a change at the end of an operation: an odd epoch gets a fresh even value, which
    /// kills every TLB entry of the old one.
    #[inline]
    pub(crate) fn end_change(&self) {
        if self.0.load(Ordering::Relaxed) & 1 == 1 {
            self.0.store(fresh_epoch(), Ordering::Release);
        }
    }

    /// The epoch if translations are stable now.
    #[inline]
    pub(crate) fn stable(&self) -> Option<u64> {
        let e = self.0.load(Ordering::Acquire);
        (e & 1 == 0).then_some(e)
    }

    /// Whether the epoch is still `e` (after the loads it guards, which were acquiring).
    #[inline]
    pub(crate) fn still(&self, e: u64) -> bool {
        self.0.load(Ordering::Relaxed) == e
    }
}

/// Entries of each thread's TLB, direct-mapped by VPN: 64 MiB of 4 KiB pages, about what a
/// CPU's STLB reaches through the large pages of a kernel's direct map. It was 512 (2 MiB);
/// loads spread over 64 MiB then missed 97% of the time and took the machine lock
/// (`random_read8_64mib`, issue 7/7). The cost is 24 bytes an entry (384 KiB of thread-local
/// storage per host thread, zero-initialised, touched only where used) and a longer walk in
/// the invariant checker's `live`.
pub const TLB_ENTRIES: usize = 16_384;

/// One cached translation.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Entry {
    epoch: u64,
    space: u32,
    pfn: u32,
    vpn: u64,
}

impl Entry {
    const EMPTY: Entry = Entry {
        epoch: 0,
        space: 0,
        pfn: 0,
        vpn: 0,
    };
}

thread_local! {
    static TLB: [Cell<Entry>; TLB_ENTRIES] =
        const { [const { Cell::new(Entry::EMPTY) }; TLB_ENTRIES] };
}

fn slot(vpn: Vpn) -> usize {
    (vpn.raw() as usize) % TLB_ENTRIES
}

/// The calling thread's cached frame of `(space, vpn)` at `epoch`, if any.
#[inline]
pub(crate) fn lookup(epoch: u64, space: AsId, vpn: Vpn) -> Option<Pfn> {
    TLB.with(|t| {
        let e = t[slot(vpn)].get();
        (e.epoch == epoch && e.vpn == vpn.raw() && e.space == space.raw()).then(|| Pfn::new(e.pfn))
    })
}

/// Caches a translation for the calling thread. Called under the machine lock with the stable
/// epoch, for a valid PTE whose accessed bit is set.
pub(crate) fn fill(epoch: u64, space: AsId, vpn: Vpn, pfn: Pfn) {
    TLB.with(|t| {
        t[slot(vpn)].set(Entry {
            epoch,
            space: space.raw(),
            pfn: pfn.raw(),
            vpn: vpn.raw(),
        })
    });
}

/// The calling thread's entries of `epoch`, as (address space, VPN, frame).
pub(crate) fn live(epoch: u64) -> Vec<(AsId, Vpn, Pfn)> {
    TLB.with(|t| {
        t.iter()
            .map(Cell::get)
            .filter(|e| e.epoch == epoch)
            .map(|e| (AsId::new(e.space), Vpn::new(e.vpn), Pfn::new(e.pfn)))
            .collect()
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn test_epochs_are_unique_and_a_change_kills_the_entries_of_the_old_one() {
        let a = TranslationEpoch::new();
        let b = TranslationEpoch::new();
        let (ea, eb) = (a.stable().unwrap(), b.stable().unwrap());
        assert_ne!(ea, eb);
        let (s, v) = (AsId::new(1), Vpn::new(0x7_0000));
        fill(ea, s, v, Pfn::new(3));
        assert_eq!(lookup(ea, s, v), Some(Pfn::new(3)));
        // Another machine with the same address space and VPN misses.
        assert_eq!(lookup(eb, s, v), None);
        assert_eq!(lookup(ea, AsId::new(2), v), None);
        assert_eq!(live(ea), vec![(s, v, Pfn::new(3))]);
        a.begin_change();
        assert_eq!(a.stable(), None);
        assert!(!a.still(ea));
        a.begin_change();
        a.end_change();
        let ea2 = a.stable().unwrap();
        assert_ne!(ea2, ea);
        assert_eq!(lookup(ea2, s, v), None);
        // No change, no new epoch.
        a.end_change();
        assert!(a.still(ea2));
    }
}

//! The PFN database: one entry per physical frame, and the page lists (nt_internals §4).
//!
//! ```text
//!                 remove_page (zeroed/free first, then standby after restoring its PTE)
//!  Zeroed, Free ─────────────────────────────────────────────────────────► Active
//!  Standby ──(repurposed: OriginalPte written back into its PTE)─────────► Active
//!  Standby, Modified ──(soft fault)──────────────────────────────────────► Active
//!  Active ──share→0──► Transition ──ref→0──► Modified   if the frame is modified
//!                                       └──► Standby    otherwise
//!                                       └──► Free       if the PTE is gone (deleted)
//!  Modified ──(writer: ref+1, Modified:=0)──► Transition ──(write done, ref→0)──► Standby
//! ```
//!
//! The list links are private to this module: other modules move a frame only through the
//! named transitions of [`PfnDatabase`](crate::pfn::PfnDatabase) (`take_zeroed`, `take_any`, `move_to_active`,
//! `move_to_transition`, `unlink_for_write`, `move_to_standby`, `move_to_modified`,
//! `move_to_modified_no_write`, `move_to_free`), each named for the NT routine that makes it.
//! Which list a frame goes to when it leaves the working sets is decided in one place, the
//! reference-count decrement (`decrement_reference_count` in `frames.rs`); fault resolvers
//! never choose a list (§10.3). Each transition emits its move ([`VmmEvent::FrameMoved`], with
//! the reason it names): the one place frame moves are reported.

use crate::addr::{Pfn, ProtoIndex, Slot, Vpn};
use crate::event::{Events, MoveReason, VmmEvent};
use crate::id::{AsId, SegmentId};
use crate::protection::Protection;
use crate::pte::{OriginalPte, ProtoRef, PteRef};

const NIL: u32 = u32::MAX;

/// Where a frame is (`MMLISTS` plus the two in-use states, nt_internals §4.2).
#[derive(Clone, Copy, PartialEq, Eq, Debug, Hash, PartialOrd, Ord)]
pub enum PageLocation {
    /// Free and zero-filled.
    Zeroed,
    /// Free, contents of no value.
    Free,
    /// Clean, reclaimable, still named by a transition PTE.
    Standby,
    /// Dirty, must be written before reuse, named by a transition PTE.
    Modified,
    /// Dirty pages of segments whose modified writing is disabled.
    ModifiedNoWrite,
    /// Mapped by at least one valid PTE.
    Active,
    /// Share count 0 but still referenced (I/O in flight).
    Transition,
}

impl PageLocation {
    /// The lists, in the order of [`ListCounts`].
    pub const LISTS: [PageLocation; 5] = [
        PageLocation::Zeroed,
        PageLocation::Free,
        PageLocation::Standby,
        PageLocation::Modified,
        PageLocation::ModifiedNoWrite,
    ];

    fn list_index(self) -> Option<usize> {
        match self {
            PageLocation::Zeroed => Some(0),
            PageLocation::Free => Some(1),
            PageLocation::Standby => Some(2),
            PageLocation::Modified => Some(3),
            PageLocation::ModifiedNoWrite => Some(4),
            PageLocation::Active | PageLocation::Transition => None,
        }
    }

    /// Whether this location is one of the page lists.
    pub fn is_list(self) -> bool {
        self.list_index().is_some()
    }
}

/// One frame's entry (`MMPFN`, nt_internals §4.1): 32 bytes, like NT's packed MMPFN fields.
///
/// # Invariants
/// `pte` and `original` hold the encodings written by their setters (`PteRef` in 12 bytes,
/// `OriginalPte` in 4: a pagefile slot below 2^25 — the pagefile is at most 2^24 pages).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PfnEntry {
    flink: u32,
    blink: u32,
    pub(crate) share_count: u32,
    pte: [u32; 3],
    original: u32,
    /// 1 while the share count is non-zero, plus one per I/O in flight (16 bits, as NT's).
    pub(crate) reference_count: u16,
    location: PageLocation,
    flags: u8,
}

const MODIFIED: u8 = 1;
const READ_IN_PROGRESS: u8 = 2;
const WRITE_IN_PROGRESS: u8 = 4;
const DELETED: u8 = 8;

/// `pte` of an entry with no PTE.
const NO_PTE: [u32; 3] = [u32::MAX; 3];
/// The high bit of the 64-bit VPN/index half of `pte`: set for a prototype PTE.
const PROTO_BIT: u64 = 1 << 63;

fn pack_pte(pte: Option<PteRef>) -> [u32; 3] {
    let (id, low, proto) = match pte {
        None => return NO_PTE,
        Some(PteRef::Process { space, vpn }) => (space.raw(), vpn.raw(), false),
        Some(PteRef::Proto(r)) => (r.segment.raw(), r.index.raw(), true),
    };
    // VPNs and prototype indexes are below 2^52 (byte offsets over the page size).
    let low = low | if proto { PROTO_BIT } else { 0 };
    [id, low as u32, (low >> 32) as u32]
}

fn unpack_pte(w: [u32; 3]) -> Option<PteRef> {
    if w == NO_PTE {
        return None;
    }
    let low = u64::from(w[1]) | u64::from(w[2]) << 32;
    Some(if low & PROTO_BIT != 0 {
        PteRef::Proto(ProtoRef {
            segment: SegmentId::new(w[0]),
            index: ProtoIndex::new(low & !PROTO_BIT),
        })
    } else {
        PteRef::Process {
            space: AsId::new(w[0]),
            vpn: Vpn::new(low),
        }
    })
}

/// Bits of a packed original PTE: 0–1 kind, 2–6 protection, 7–31 pagefile slot.
fn pack_original(o: OriginalPte) -> u32 {
    let (kind, p, slot) = match o {
        OriginalPte::DemandZero { protection } => (0, protection, 0),
        OriginalPte::Pagefile { slot, protection } => (1, protection, slot.raw()),
        OriginalPte::Subsection { protection } => (2, protection, 0),
    };
    debug_assert!(slot < 1 << 25, "pagefile slots are below 2^25");
    kind | u32::from(p.bits()) << 2 | slot << 7
}

fn unpack_original(w: u32) -> OriginalPte {
    let protection = Protection::from_bits((w >> 2 & 0x1F) as u8).unwrap_or(Protection::ZERO);
    match w & 3 {
        1 => OriginalPte::Pagefile {
            slot: Slot::new(w >> 7),
            protection,
        },
        2 => OriginalPte::Subsection { protection },
        _ => OriginalPte::DemandZero { protection },
    }
}

/// The entry of a frame not materialised yet: on the zeroed list, no PTE, a demand-zero
/// original PTE of no protection (packed: 0), no counts, no flags.
const VIRGIN: PfnEntry = PfnEntry {
    flink: NIL,
    blink: NIL,
    share_count: 0,
    pte: NO_PTE,
    original: 0,
    reference_count: 0,
    location: PageLocation::Zeroed,
    flags: 0,
};

impl PfnEntry {
    fn new() -> Self {
        PfnEntry {
            flink: NIL,
            blink: NIL,
            share_count: 0,
            pte: NO_PTE,
            original: pack_original(OriginalPte::DemandZero {
                protection: Protection::ZERO,
            }),
            reference_count: 0,
            // Not on a list until `PfnDatabase::new` links it.
            location: PageLocation::Active,
            flags: 0,
        }
    }
    fn flag(&self, f: u8) -> bool {
        self.flags & f != 0
    }
    fn set_flag(&mut self, f: u8, on: bool) {
        if on {
            self.flags |= f;
        } else {
            self.flags &= !f;
        }
    }
    pub(crate) fn set_modified(&mut self, on: bool) {
        self.set_flag(MODIFIED, on);
    }
    pub(crate) fn set_read_in_progress(&mut self, on: bool) {
        self.set_flag(READ_IN_PROGRESS, on);
    }
    pub(crate) fn set_write_in_progress(&mut self, on: bool) {
        self.set_flag(WRITE_IN_PROGRESS, on);
    }
    pub(crate) fn set_deleted(&mut self, on: bool) {
        self.set_flag(DELETED, on);
    }
    pub(crate) fn set_pte(&mut self, pte: Option<PteRef>) {
        self.pte = pack_pte(pte);
    }
    pub(crate) fn set_original(&mut self, original: OriginalPte) {
        self.original = pack_original(original);
    }
    /// The frame's location.
    pub fn location(&self) -> PageLocation {
        self.location
    }
    /// Number of valid PTEs that map the frame.
    pub fn share_count(&self) -> u32 {
        self.share_count
    }
    /// 1 while the share count is non-zero, plus one per I/O or lock in flight.
    pub fn reference_count(&self) -> u32 {
        u32::from(self.reference_count)
    }
    /// Whether the frame must be written before it can be reused.
    pub fn modified(&self) -> bool {
        self.flag(MODIFIED)
    }
    /// Whether a page read into the frame is in flight.
    pub fn read_in_progress(&self) -> bool {
        self.flag(READ_IN_PROGRESS)
    }
    /// Whether a write of the frame is in flight.
    pub fn write_in_progress(&self) -> bool {
        self.flag(WRITE_IN_PROGRESS)
    }
    /// Whether no PTE refers back any more (free the frame when the last reference goes).
    pub fn deleted(&self) -> bool {
        self.flag(DELETED)
    }
    /// The PTE that maps this frame (`PteAddress`), if the frame is in use.
    pub fn pte(&self) -> Option<PteRef> {
        unpack_pte(self.pte)
    }
    /// The invalid PTE to restore when the frame is reused (`OriginalPte`).
    pub fn original(&self) -> OriginalPte {
        unpack_original(self.original)
    }
    /// Whether the frame is referenced through a prototype PTE (`PrototypePte`).
    pub fn is_prototype(&self) -> bool {
        matches!(self.pte(), Some(PteRef::Proto(_)))
    }
}

/// How many frames each list holds.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct ListCounts {
    /// Zeroed list.
    pub zeroed: u64,
    /// Free list.
    pub free: u64,
    /// Standby list.
    pub standby: u64,
    /// Modified list.
    pub modified: u64,
    /// Modified-no-write list.
    pub modified_no_write: u64,
    /// Frames in use (active or transition).
    pub in_use: u64,
}

impl ListCounts {
    /// Frames available without I/O: zeroed + free + standby.
    pub fn available(&self) -> u64 {
        self.zeroed + self.free + self.standby
    }
}

#[derive(Clone, Copy, Debug)]
struct ListHead {
    head: u32,
    tail: u32,
    count: u64,
}

/// The PFN database: entries and doubly linked page lists threaded through them (FIFO).
///
/// Built lazily, so that creating a machine costs the same whatever its RAM (issue 7/7,
/// `machine_start`): at boot every frame is on the zeroed list in frame order, and nothing
/// ever inserts into the zeroed list afterwards (no zero page thread is modelled, §9.2). So
/// the frames not yet materialised, `[entries.len(), frames)`, are the zeroed list's tail in
/// frame order, each as the private `VIRGIN` entry describes it; an entry is materialised
/// (appended and linked at the zeroed list's tail, with the ones before it) the first time it
/// is changed.
/// The memory for all entries is reserved at boot but not touched (`ntmm_hostmem::FixedVec`:
/// for a database of 32 MiB or more, 4 GiB of RAM, an anonymous mapping of its own, as
/// malloc's mapping of that size cost ≈ 4 µs of every creation). Observably nothing
/// differs from a database built whole: the same lists, in the same order.
///
/// # Invariants
/// 1. A frame is on list L iff its location is L; each list's count equals its length.
/// 2. A frame on a list has share count 0 and reference count 0.
/// 3. Standby frames are clean; modified frames are modified.
///
/// The machine-wide checker (`check_invariants`) verifies these and the cross-structure rules.
#[derive(Debug)]
pub struct PfnDatabase {
    /// The materialised entries: frames `0..entries.len()`.
    entries: ntmm_hostmem::FixedVec<PfnEntry>,
    /// The number of frames.
    frames: u32,
    /// The lists of the materialised entries (the zeroed list continues with the rest).
    lists: [ListHead; 5],
    /// The machine's subscribers: every transition emits its frame move.
    events: Events,
}

impl PfnDatabase {
    /// `frames` frames, all on the zeroed list in frame order; an error if the host cannot
    /// provide the entries.
    pub(crate) fn new(frames: u32, events: Events) -> crate::error::Result<Self> {
        let entries = ntmm_hostmem::FixedVec::with_capacity(frames as usize).map_err(|_| {
            crate::error::VmmError::HostMemory {
                what: "the PFN database",
                bytes: (frames as u64).saturating_mul(std::mem::size_of::<PfnEntry>() as u64),
            }
        })?;
        Ok(PfnDatabase {
            entries,
            frames,
            lists: [ListHead {
                head: NIL,
                tail: NIL,
                count: 0,
            }; 5],
            events,
        })
    }

    /// Frames not materialised yet: the zeroed list's tail `[entries.len(), frames)`.
    fn virgin(&self) -> u64 {
        u64::from(self.frames) - self.entries.len() as u64
    }

    /// Materialises the entries up to `pfn` (each appended at the zeroed list's tail, in
    /// frame order, which is where they are already).
    #[cold]
    fn materialize(&mut self, pfn: Pfn) {
        while self.entries.len() <= pfn.index() && self.entries.len() < self.frames as usize {
            let next = Pfn::new(self.entries.len() as u32);
            self.entries.push(PfnEntry::new());
            self.link_tail(PageLocation::Zeroed, next);
        }
    }

    /// Number of frames.
    pub fn len(&self) -> usize {
        self.frames as usize
    }
    /// Whether there are no frames.
    pub fn is_empty(&self) -> bool {
        self.frames == 0
    }
    /// The entry of `pfn`, if it exists.
    #[inline]
    pub fn get(&self, pfn: Pfn) -> Option<&PfnEntry> {
        match self.entries.get(pfn.index()) {
            Some(e) => Some(e),
            None => self.virgin_entry(pfn),
        }
    }
    #[cold]
    fn virgin_entry(&self, pfn: Pfn) -> Option<&PfnEntry> {
        (pfn.index() < self.frames as usize).then_some(&VIRGIN)
    }
    #[inline]
    pub(crate) fn entry(&self, pfn: Pfn) -> &PfnEntry {
        match self.get(pfn) {
            Some(e) => e,
            None => panic!("{pfn:?} is not a frame of the machine"),
        }
    }
    #[inline]
    pub(crate) fn entry_mut(&mut self, pfn: Pfn) -> &mut PfnEntry {
        if pfn.index() >= self.entries.len() {
            self.materialize(pfn);
        }
        &mut self.entries[pfn.index()]
    }

    /// Frames per list.
    pub fn counts(&self) -> ListCounts {
        let c = |l: PageLocation| self.lists[l.list_index().unwrap_or(0)].count;
        let zeroed = c(PageLocation::Zeroed) + self.virgin();
        let free = c(PageLocation::Free);
        let standby = c(PageLocation::Standby);
        let modified = c(PageLocation::Modified);
        let modified_no_write = c(PageLocation::ModifiedNoWrite);
        ListCounts {
            zeroed,
            free,
            standby,
            modified,
            modified_no_write,
            in_use: u64::from(self.frames) - zeroed - free - standby - modified - modified_no_write,
        }
    }

    /// Frames available without I/O.
    pub fn available(&self) -> u64 {
        self.lists[0].count + self.virgin() + self.lists[1].count + self.lists[2].count
    }

    /// Number of frames on `list`.
    pub fn list_len(&self, list: PageLocation) -> u64 {
        let virgin = if list == PageLocation::Zeroed {
            self.virgin()
        } else {
            0
        };
        list.list_index()
            .map_or(0, |i| self.lists[i].count + virgin)
    }

    /// The frames of `list`, head first.
    pub fn list(&self, list: PageLocation) -> Vec<Pfn> {
        let Some(i) = list.list_index() else {
            return Vec::new();
        };
        let mut out = Vec::with_capacity(self.lists[i].count as usize);
        let mut cur = self.lists[i].head;
        while cur != NIL {
            out.push(Pfn::new(cur));
            cur = self.entries[cur as usize].flink;
        }
        if list == PageLocation::Zeroed {
            out.extend((self.entries.len() as u32..self.frames).map(Pfn::new));
        }
        out
    }

    // ---- the named transitions: the only way other modules move a frame between lists ----

    /// `MiRemoveZeroPage`'s order: takes the head of the zeroed list, else of the free list,
    /// else of the standby list, and makes it active. Returns the frame and the list it came
    /// off. The caller zeroes a frame that did not come off the zeroed list, and restores a
    /// standby frame's PTE (`MiRestoreTransitionPte`, in `frames.rs`).
    pub(crate) fn take_zeroed(&mut self) -> Option<(Pfn, PageLocation)> {
        self.take_first([
            PageLocation::Zeroed,
            PageLocation::Free,
            PageLocation::Standby,
        ])
    }

    /// `MiRemoveAnyPage`'s order: free, then zeroed, then standby (the frame's contents will
    /// be overwritten). As [`PfnDatabase::take_zeroed`] otherwise.
    pub(crate) fn take_any(&mut self) -> Option<(Pfn, PageLocation)> {
        self.take_first([
            PageLocation::Free,
            PageLocation::Zeroed,
            PageLocation::Standby,
        ])
    }

    fn take_first(&mut self, order: [PageLocation; 3]) -> Option<(Pfn, PageLocation)> {
        let (pfn, from) = order.iter().find_map(|&l| self.head(l).map(|p| (p, l)))?;
        self.unlink(pfn, PageLocation::Active);
        self.moved(pfn, from, MoveReason::Taken);
        Some((pfn, from))
    }

    /// Emits the move of `pfn` from `from` to where it is now.
    fn moved(&self, pfn: Pfn, from: PageLocation, reason: MoveReason) {
        self.events.emit(VmmEvent::FrameMoved {
            pfn,
            from,
            to: self.entry(pfn).location,
            reason,
        });
    }

    /// A transition fault takes its frame back (`MiResolveTransitionFault`, §3.3): off the
    /// standby or modified list, or out of transition (an I/O still in flight), the frame is
    /// active again. Returns the list it came off, if it was on one.
    pub(crate) fn move_to_active(&mut self, pfn: Pfn) -> Option<PageLocation> {
        let was = self.entry(pfn).location;
        let from = self.unlink(pfn, PageLocation::Active);
        if from.is_none() {
            self.set_in_use_location(pfn, PageLocation::Active);
        }
        self.moved(pfn, was, MoveReason::TransitionFault);
        from
    }

    /// The last valid PTE mapping an active frame went (`MiDecrementShareCount`): the frame is
    /// in transition until its last reference goes.
    pub(crate) fn move_to_transition(&mut self, pfn: Pfn) {
        let was = self.entry(pfn).location;
        self.set_in_use_location(pfn, PageLocation::Transition);
        self.moved(pfn, was, MoveReason::LastShare);
    }

    /// A page write starts (`MiGatherPagefilePages`/`MiGatherMappedPages`, or a flush): a frame
    /// on a list (the modified list) comes off it and is in transition while the write is in
    /// flight; an active frame stays active.
    pub(crate) fn unlink_for_write(&mut self, pfn: Pfn) {
        if let Some(from) = self.unlink(pfn, PageLocation::Transition) {
            self.moved(pfn, from, MoveReason::WriteStarted);
        }
    }

    /// A clean frame goes to the tail of the standby list when its last reference goes
    /// (`MiDecrementReferenceCount`): `reason` says which reference it was (the last mapping's,
    /// [`MoveReason::LastReference`], or a finished page write's, [`MoveReason::WriteCompleted`]).
    pub(crate) fn move_to_standby(&mut self, pfn: Pfn, reason: MoveReason) {
        let was = self.entry(pfn).location;
        self.insert_tail(PageLocation::Standby, pfn);
        self.moved(pfn, was, reason);
    }

    /// A modified frame goes to the tail of the modified list: when its last reference goes
    /// (`MiDecrementReferenceCount`; `reason` as for [`Self::move_to_standby`]), or off the
    /// modified-no-write list when its segment's modified writing is enabled again
    /// ([`MoveReason::WritingEnabled`]).
    pub(crate) fn move_to_modified(&mut self, pfn: Pfn, reason: MoveReason) {
        let was = self.entry(pfn).location;
        self.unlink(pfn, PageLocation::Transition);
        self.insert_tail(PageLocation::Modified, pfn);
        self.moved(pfn, was, reason);
    }

    /// The mapped page writer finds a frame of a segment whose modified writing is disabled:
    /// it moves to the modified-no-write list (§4.2).
    pub(crate) fn move_to_modified_no_write(&mut self, pfn: Pfn) {
        let was = self.entry(pfn).location;
        self.unlink(pfn, PageLocation::Transition);
        self.insert_tail(PageLocation::ModifiedNoWrite, pfn);
        self.moved(pfn, was, MoveReason::WritingDisabled);
    }

    /// A frame whose PTE is gone goes to the tail of the free list (`MiInsertPageInFreeList`),
    /// off any list it is on.
    pub(crate) fn move_to_free(&mut self, pfn: Pfn) {
        let was = self.entry(pfn).location;
        self.unlink(pfn, PageLocation::Transition);
        self.insert_tail(PageLocation::Free, pfn);
        self.moved(pfn, was, MoveReason::Freed);
    }

    // ---- list primitives (private: the transitions above are the interface) ----------------

    /// The first frame of `list`.
    pub(crate) fn head(&self, list: PageLocation) -> Option<Pfn> {
        let i = list.list_index()?;
        let h = self.lists[i].head;
        if h != NIL {
            Some(Pfn::new(h))
        } else if list == PageLocation::Zeroed && self.virgin() > 0 {
            Some(Pfn::new(self.entries.len() as u32))
        } else {
            None
        }
    }

    /// Appends `pfn` to `list` and sets its location. The frame must not be on a list.
    fn insert_tail(&mut self, list: PageLocation, pfn: Pfn) {
        // A frame joining the zeroed list goes after every frame on it, the virgin ones too.
        if list == PageLocation::Zeroed {
            self.materialize(Pfn::new(self.frames.saturating_sub(1)));
        }
        if pfn.index() >= self.entries.len() {
            self.materialize(pfn);
        }
        self.link_tail(list, pfn);
    }

    /// [`Self::insert_tail`] of a materialised frame.
    fn link_tail(&mut self, list: PageLocation, pfn: Pfn) {
        let i = list.list_index().expect("insert_tail needs a list");
        debug_assert!(!self.entries[pfn.index()].location.is_list());
        let tail = self.lists[i].tail;
        {
            let e = &mut self.entries[pfn.index()];
            e.location = list;
            e.flink = NIL;
            e.blink = tail;
        }
        if tail == NIL {
            self.lists[i].head = pfn.raw();
        } else {
            self.entries[tail as usize].flink = pfn.raw();
        }
        self.lists[i].tail = pfn.raw();
        self.lists[i].count += 1;
    }

    /// Removes `pfn` from whatever list it is on and gives it the location `to` (`Active` or
    /// `Transition`). Returns the list it was on, or `None` if it was on none (then nothing
    /// changes).
    fn unlink(&mut self, pfn: Pfn, to: PageLocation) -> Option<PageLocation> {
        debug_assert!(!to.is_list());
        if pfn.index() >= self.entries.len() {
            self.materialize(pfn);
        }
        let from = self.entries[pfn.index()].location;
        let i = from.list_index()?;
        let (flink, blink) = {
            let e = &self.entries[pfn.index()];
            (e.flink, e.blink)
        };
        if blink == NIL {
            self.lists[i].head = flink;
        } else {
            self.entries[blink as usize].flink = flink;
        }
        if flink == NIL {
            self.lists[i].tail = blink;
        } else {
            self.entries[flink as usize].blink = blink;
        }
        self.lists[i].count -= 1;
        let e = &mut self.entries[pfn.index()];
        e.flink = NIL;
        e.blink = NIL;
        e.location = to;
        Some(from)
    }

    /// Sets the location of a frame that is on no list.
    fn set_in_use_location(&mut self, pfn: Pfn, to: PageLocation) {
        debug_assert!(!to.is_list() && !self.entry(pfn).location.is_list());
        self.entry_mut(pfn).location = to;
    }

    /// Checks the list structure (invariant 1): links, counts and locations agree.
    pub(crate) fn check_lists(&self) -> Result<(), String> {
        let mut seen = vec![false; self.entries.len()];
        for list in PageLocation::LISTS {
            let i = list.list_index().unwrap_or(0);
            let mut prev = NIL;
            let mut cur = self.lists[i].head;
            let mut n = 0u64;
            while cur != NIL {
                let e = self
                    .entries
                    .get(cur as usize)
                    .ok_or_else(|| format!("{list:?} links to missing frame {cur}"))?;
                if seen[cur as usize] {
                    return Err(format!("frame {cur} linked twice"));
                }
                seen[cur as usize] = true;
                if e.location != list {
                    return Err(format!(
                        "frame {cur} on {list:?} has location {:?}",
                        e.location
                    ));
                }
                if e.blink != prev {
                    return Err(format!("frame {cur} has a wrong back link"));
                }
                prev = cur;
                cur = e.flink;
                n += 1;
            }
            if prev != self.lists[i].tail {
                return Err(format!("{list:?} tail is wrong"));
            }
            if n != self.lists[i].count {
                return Err(format!(
                    "{list:?} count {} but {n} linked",
                    self.lists[i].count
                ));
            }
        }
        for (i, e) in self.entries.iter().enumerate() {
            if e.location.is_list() && !seen[i] {
                return Err(format!("frame {i} says {:?} but is not linked", e.location));
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn test_new_database_has_all_frames_zeroed_in_order() {
        let db = PfnDatabase::new(4, Events::default()).unwrap();
        assert_eq!(
            db.list(PageLocation::Zeroed),
            (0..4).map(Pfn::new).collect::<Vec<_>>()
        );
        assert_eq!(db.counts().available(), 4);
        db.check_lists().unwrap();
    }

    #[test]
    fn test_unlink_middle_and_reinsert_keeps_fifo_order() {
        let mut db = PfnDatabase::new(4, Events::default()).unwrap();
        assert_eq!(
            db.unlink(Pfn::new(1), PageLocation::Active),
            Some(PageLocation::Zeroed)
        );
        assert_eq!(
            db.list(PageLocation::Zeroed),
            vec![Pfn::new(0), Pfn::new(2), Pfn::new(3)]
        );
        db.insert_tail(PageLocation::Standby, Pfn::new(1));
        db.unlink(Pfn::new(3), PageLocation::Active);
        db.insert_tail(PageLocation::Standby, Pfn::new(3));
        assert_eq!(
            db.list(PageLocation::Standby),
            vec![Pfn::new(1), Pfn::new(3)]
        );
        assert_eq!(db.head(PageLocation::Standby), Some(Pfn::new(1)));
        assert_eq!(db.counts().in_use, 0);
        db.check_lists().unwrap();
        assert_eq!(
            db.unlink(Pfn::new(1), PageLocation::Active),
            Some(PageLocation::Standby)
        );
        assert_eq!(db.unlink(Pfn::new(1), PageLocation::Active), None);
        assert_eq!(db.counts().in_use, 1);
        db.check_lists().unwrap();
    }

    /// The lazily built database reads as one built whole: the virgin frames are the zeroed
    /// list's tail in frame order, counted everywhere, and a frame taken from the middle or
    /// the end materialises the ones before it without reordering the list.
    #[test]
    fn test_lazy_database_reads_as_built_whole() {
        let mut db = PfnDatabase::new(6, Events::default()).unwrap();
        assert_eq!(db.entries.len(), 0, "nothing materialised at boot");
        assert_eq!(db.len(), 6);
        assert_eq!(
            db.get(Pfn::new(5)).unwrap().location(),
            PageLocation::Zeroed
        );
        assert!(db.get(Pfn::new(6)).is_none());
        assert_eq!(VIRGIN.original(), PfnEntry::new().original());
        assert_eq!(VIRGIN.pte(), None);
        assert_eq!(db.head(PageLocation::Zeroed), Some(Pfn::new(0)));
        assert_eq!(db.take_zeroed(), Some((Pfn::new(0), PageLocation::Zeroed)));
        assert_eq!(db.entries.len(), 1);
        assert_eq!(db.list_len(PageLocation::Zeroed), 5);
        db.unlink(Pfn::new(3), PageLocation::Active);
        assert_eq!(
            db.list(PageLocation::Zeroed),
            [1, 2, 4, 5].map(Pfn::new).to_vec()
        );
        assert_eq!(db.counts().in_use, 2);
        assert_eq!(db.available(), 4);
        db.check_lists().unwrap();
        // A frame joining the zeroed list goes after the virgin ones.
        db.insert_tail(PageLocation::Zeroed, Pfn::new(0));
        assert_eq!(
            db.list(PageLocation::Zeroed),
            [1, 2, 4, 5, 0].map(Pfn::new).to_vec()
        );
        db.check_lists().unwrap();
    }

    #[test]
    fn test_pfn_entry_is_32_bytes() {
        assert_eq!(std::mem::size_of::<PfnEntry>(), 32);
    }

    use proptest::prelude::*;

    fn protection() -> impl Strategy<Value = Protection> {
        (0u8..0x20).prop_map(|b| Protection::from_bits(b).unwrap())
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(2048))]
        /// The entry's packed fields give back what was stored, over the whole range the
        /// machine produces (any address space, segment, VPN or index below 2^52; slots below
        /// 2^25), and the flags are independent.
        #[test]
        fn prop_packed_fields_round_trip(
            id in any::<u32>(),
            low in 0u64..1 << 52,
            kind in 0u8..3,
            slot in 0u32..1 << 25,
            p in protection(),
            flags in any::<[bool; 4]>(),
        ) {
            let mut e = PfnEntry::new();
            let pte = match kind {
                0 => None,
                1 => Some(PteRef::Process { space: AsId::new(id), vpn: Vpn::new(low) }),
                _ => Some(PteRef::Proto(ProtoRef { segment: SegmentId::new(id), index: ProtoIndex::new(low) })),
            };
            let original = match kind {
                0 => OriginalPte::DemandZero { protection: p },
                1 => OriginalPte::Pagefile { slot: Slot::new(slot), protection: p },
                _ => OriginalPte::Subsection { protection: p },
            };
            e.set_pte(pte);
            e.set_original(original);
            e.set_modified(flags[0]);
            e.set_read_in_progress(flags[1]);
            e.set_write_in_progress(flags[2]);
            e.set_deleted(flags[3]);
            prop_assert_eq!(e.pte(), pte);
            prop_assert_eq!(e.original(), original);
            prop_assert_eq!(
                [e.modified(), e.read_in_progress(), e.write_in_progress(), e.deleted()],
                flags
            );
            prop_assert_eq!(e.is_prototype(), kind == 2);
        }
    }
}

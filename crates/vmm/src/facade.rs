//! [`Vmm`]: the machine's public, thread-safe interface.

use crate::addr::{PageCount, PageRange, Pfn, ProtoIndex, Va, Vpn, PAGE_BYTES};
use crate::address_space::AddressSpace;
use crate::commit::CommitState;
use crate::counters::{FaultCounters, MachineCounters};
use crate::error::{Result, VmmError};
use crate::id::{AsId, SegmentId, StoreId};
use crate::invariants::InvariantViolation;
use crate::machine::{default_pagefile_store, Machine, VmmConfig};
use crate::memory::PhysicalMemory;
use crate::pfn::{ListCounts, PageLocation, PfnEntry};
use crate::protection::{Access, Protection};
use crate::pte::{ProtoPte, Pte};
use crate::query::RegionInfo;
use crate::region::Placement;
use crate::segment::SegmentInfo;
use crate::store::{BackingStore, PageBuf};
use crate::vad::Vad;
use crate::writer::WriterReport;
use parking_lot::{Mutex, MutexGuard};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

/// The simulated machine: physical frames, the PFN database, address spaces, segments, the
/// pagefile and backing stores, behind one lock (see [`crate::machine`] for the lock order).
///
/// Every method validates its arguments and returns an error — never panics — on bad input.
///
/// ```
/// use ntmm_vmm::{Vmm, VmmConfig, PageCount, Protection, Placement, Va};
/// let vmm = Vmm::new(VmmConfig { frames: 16, ..VmmConfig::default() }).unwrap();
/// let a = vmm.create_address_space();
/// let b = vmm.create_address_space();
/// // Anonymous shared memory: one segment mapped by two address spaces.
/// let seg = vmm.create_pagefile_segment(PageCount::new(4), Protection::READWRITE, false).unwrap();
/// let pa = vmm.map_segment(a, seg, 0, PageCount::new(4), Placement::BottomUp, Protection::READWRITE).unwrap();
/// let pb = vmm.map_segment(b, seg, 0, PageCount::new(4), Placement::BottomUp, Protection::READONLY).unwrap();
/// vmm.write(a, pa, b"shared").unwrap();
/// let mut buf = [0u8; 6];
/// vmm.read(b, pb, &mut buf).unwrap();
/// assert_eq!(&buf, b"shared");
/// // B's view is read-only: a store raises an access violation at the address.
/// let err = vmm.write_u8(b, pb, 1).unwrap_err();
/// assert_eq!(err.status(), ntmm_vmm::NtStatus::STATUS_ACCESS_VIOLATION);
/// vmm.check_invariants().unwrap();
/// ```
#[derive(Debug)]
pub struct Vmm {
    machine: Mutex<Machine>,
    /// Set (under the lock) whenever an operation leaves segments on the deletion queue, so
    /// that [`Vmm::take_segments_to_delete`], called after every section-layer operation,
    /// takes the lock only when there is something to take.
    deletions_pending: AtomicBool,
    /// The machine's physical memory and translation epoch, shared for lock-free resident loads
    /// ([`crate::tlb`]).
    memory: Arc<PhysicalMemory>,
    /// The subscribers of the machine's events (the same list the machine emits to).
    events: crate::event::Events,
}

/// The machine lock held: ends the operation's translation change (if any) when released, so
/// the translation epoch is even whenever the lock is free, and raises the deletion flag if
/// segments wait on the deletion queue.
struct Locked<'a>(MutexGuard<'a, Machine>, &'a AtomicBool);

impl std::ops::Deref for Locked<'_> {
    type Target = Machine;
    fn deref(&self) -> &Machine {
        &self.0
    }
}
impl std::ops::DerefMut for Locked<'_> {
    fn deref_mut(&mut self) -> &mut Machine {
        &mut self.0
    }
}
impl Drop for Locked<'_> {
    fn drop(&mut self) {
        self.0.memory.epoch().end_change();
        if !self.0.deletion_queue.is_empty() {
            self.1.store(true, Ordering::Relaxed);
        }
    }
}

fn user_va(va: Va) -> Result<Va> {
    if va.is_user() {
        Ok(va)
    } else {
        Err(VmmError::AddressOutOfRange(va))
    }
}

impl Vmm {
    /// A machine with an in-memory pagefile.
    pub fn new(config: VmmConfig) -> Result<Self> {
        Self::with_pagefile_store(config, default_pagefile_store())
    }

    /// A machine whose pagefile lives in `store` (e.g. a [`crate::store::HostFileStore`]).
    pub fn with_pagefile_store(config: VmmConfig, store: Box<dyn BackingStore>) -> Result<Self> {
        let machine = Machine::new(config, store)?;
        Ok(Vmm {
            memory: Arc::clone(&machine.memory),
            events: machine.events.clone(),
            machine: Mutex::new(machine),
            deletions_pending: AtomicBool::new(false),
        })
    }

    fn lock(&self) -> Locked<'_> {
        Locked(self.machine.lock(), &self.deletions_pending)
    }

    fn op<R>(&self, f: impl FnOnce(&mut Machine) -> R) -> R {
        let mut m = self.lock();
        let r = f(&mut m);
        m.after_op();
        r
    }

    /// Subscribes to the machine's events ([`crate::VmmEvent`]): `subscriber` is called with
    /// each, in order, while the machine lock is held — it must only record the event, never
    /// call back into the machine (see [`crate::event`]).
    pub fn subscribe(&self, subscriber: crate::event::Subscriber<crate::VmmEvent>) {
        self.events.subscribe(subscriber);
    }

    /// Read-only access to the whole machine, for inspection and display.
    pub fn inspect<R>(&self, f: impl FnOnce(&Machine) -> R) -> R {
        f(&self.lock())
    }

    /// The configuration.
    pub fn config(&self) -> VmmConfig {
        self.lock().config
    }

    // ---- address spaces -------------------------------------------------------------------

    /// Creates an address space with the default working-set maximum.
    pub fn create_address_space(&self) -> AsId {
        self.op(|m| {
            let id = m.new_space_id();
            let max = m.config.working_set_max;
            let epoch = Arc::clone(m.memory.epoch());
            m.spaces.insert(id, AddressSpace::new(id, max, epoch));
            m.events
                .emit(crate::event::VmmEvent::AddressSpaceCreated { asid: id });
            id
        })
    }

    /// Deletes an address space as process exit does: every view unmapped, private memory
    /// released (nt_internals §6.4).
    pub fn delete_address_space(&self, asid: AsId) -> Result<()> {
        self.op(|m| m.delete_space(asid))
    }

    /// Changes a working set's maximum (at least 2 pages), trimming it down to the new size.
    pub fn set_working_set_max(&self, asid: AsId, pages: u64) -> Result<()> {
        if pages < 2 {
            return Err(VmmError::InvalidParameter(
                "working set maximum must be at least 2",
            ));
        }
        self.op(|m| {
            m.space_mut(asid)?.ws.set_max(pages);
            let over = m.space(asid)?.ws.len().saturating_sub(pages);
            m.trim_working_set(asid, Some(over))?;
            Ok(())
        })
    }

    /// The live address spaces.
    pub fn address_spaces(&self) -> Vec<AsId> {
        self.lock().spaces.keys().copied().collect()
    }

    // ---- backing stores -------------------------------------------------------------------

    /// Registers a backing store (a file's data).
    pub fn add_store(&self, store: Box<dyn BackingStore>) -> StoreId {
        self.op(|m| m.add_store(store))
    }

    /// A power loss: takes every backing store out of the machine, as it is, nothing written.
    /// The machine must be discarded afterwards (its file segments name stores it no longer
    /// has), so no end-of-operation check runs.
    pub fn take_stores(&self) -> std::collections::BTreeMap<StoreId, Box<dyn BackingStore>> {
        std::mem::take(&mut self.lock().stores)
    }

    /// Bytes of host memory the machine holds beyond its RAM and PFN database: the contents of
    /// every registered store and of the pagefile ([`BackingStore::host_bytes`]). What a
    /// scenario's host-memory budget counts for the machine.
    pub fn host_bytes(&self) -> u64 {
        let m = self.lock();
        m.stores.values().map(|s| s.host_bytes()).sum::<u64>() + m.pagefile.host_bytes()
    }

    /// Unregisters a store no segment uses and hands it back.
    pub fn remove_store(&self, id: StoreId) -> Result<Box<dyn BackingStore>> {
        self.op(|m| m.remove_store(id))
    }

    /// Runs `f` on a store — what is on disk, not what the cache holds.
    pub fn with_store<R>(
        &self,
        id: StoreId,
        f: impl FnOnce(&mut dyn BackingStore) -> R,
    ) -> Result<R> {
        let mut m = self.lock();
        let s = m.stores.get_mut(&id).ok_or(VmmError::UnknownStore(id))?;
        Ok(f(s.as_mut()))
    }

    // ---- segments -------------------------------------------------------------------------

    /// Creates a pagefile-backed segment of `pages` pages; unless `reserve`, every page is
    /// committed and charged now (nt_internals §1.9).
    pub fn create_pagefile_segment(
        &self,
        pages: PageCount,
        protection: Protection,
        reserve: bool,
    ) -> Result<SegmentId> {
        self.op(|m| m.create_pagefile_segment(pages.raw(), protection, reserve))
    }

    /// Creates a file-backed segment of `pages` pages over a store.
    pub fn create_file_segment(&self, store: StoreId, pages: PageCount) -> Result<SegmentId> {
        self.op(|m| m.create_file_segment(store, pages.raw()))
    }

    /// Creates an image segment over `store`: one prototype PTE per entry of `layout`.
    pub fn create_image_segment(
        &self,
        store: StoreId,
        layout: &[crate::segment::ImagePage],
    ) -> Result<SegmentId> {
        self.op(|m| m.create_image_segment(store, layout))
    }

    /// Grows a file-backed segment.
    pub fn extend_segment(&self, id: SegmentId, pages: PageCount) -> Result<()> {
        self.op(|m| m.extend_segment(id, pages.raw()))
    }

    /// Shrinks a file-backed segment (its file was truncated); pages past the end must not be
    /// mapped, and their cached frames are discarded.
    pub fn truncate_segment(&self, id: SegmentId, pages: PageCount) -> Result<()> {
        self.op(|m| m.truncate_segment(id, pages.raw()))
    }

    /// Commits prototype PTEs `[first, first + count)` of a pagefile segment that are not yet
    /// committed; returns the pages charged.
    pub fn commit_segment(&self, id: SegmentId, first: u64, count: PageCount) -> Result<PageCount> {
        self.op(|m| m.commit_segment(id, ProtoIndex::new(first), count))
    }

    /// Parks (the owner has let go) or revives a segment; see [`Vmm::take_segments_to_delete`].
    pub fn set_segment_parked(&self, id: SegmentId, parked: bool) -> Result<()> {
        self.op(|m| m.set_parked(id, parked))
    }

    /// Parked segments that no longer hold any page or view: their owner should delete them.
    pub fn take_segments_to_delete(&self) -> Vec<SegmentId> {
        // The flag is raised under the lock by any operation that queued a segment; one
        // queued concurrently with this read is taken by the next call.
        if !self.deletions_pending.load(Ordering::Relaxed) {
            return Vec::new();
        }
        self.op(|m| {
            self.deletions_pending.store(false, Ordering::Relaxed);
            m.take_deletion_queue()
        })
    }

    /// Writes a segment's modified pages and frees its resident frames.
    pub fn purge_segment(&self, id: SegmentId) -> Result<()> {
        self.op(|m| m.purge_segment(id))
    }

    /// Deletes an unmapped segment (a pagefile segment's contents are discarded).
    pub fn delete_segment(&self, id: SegmentId) -> Result<()> {
        self.op(|m| m.delete_segment(id))
    }

    /// Disables or re-enables writing a segment's modified pages.
    pub fn set_no_modified_writing(&self, id: SegmentId, on: bool) -> Result<()> {
        self.op(|m| m.set_no_modified_writing(id, on))
    }

    /// A segment's state.
    pub fn segment_info(&self, id: SegmentId) -> Result<SegmentInfo> {
        self.lock().segment(id).map(|s| s.info())
    }

    /// The live segments.
    pub fn segments(&self) -> Vec<SegmentId> {
        self.lock().segments.keys().copied().collect()
    }

    /// A prototype PTE.
    pub fn proto_pte(&self, id: SegmentId, index: u64) -> Result<ProtoPte> {
        let m = self.lock();
        let seg = m.segment(id)?;
        if !seg.holds(ProtoIndex::new(index)) {
            return Err(VmmError::BeyondSegment {
                segment: id,
                index,
                pages: seg.page_count(),
            });
        }
        Ok(seg.get(ProtoIndex::new(index)))
    }

    /// Reads segment bytes through its prototype PTEs (cached file I/O, nt_internals §8).
    pub fn read_segment(&self, id: SegmentId, offset: u64, buf: &mut [u8]) -> Result<()> {
        self.op(|m| m.read_segment(id, offset, buf))
    }

    /// Appends `len` segment bytes at `offset` to `out` (no zero-fill first); reserve the room
    /// in `out` beforehand for the copy to allocate nothing. On an error some pages' bytes may
    /// have been appended.
    pub fn read_segment_append(
        &self,
        id: SegmentId,
        offset: u64,
        len: usize,
        out: &mut Vec<u8>,
    ) -> Result<()> {
        self.op(|m| m.read_segment_append(id, offset, len, out))
    }

    /// Writes segment bytes through its prototype PTEs; the pages become modified.
    pub fn write_segment(&self, id: SegmentId, offset: u64, data: &[u8]) -> Result<()> {
        self.op(|m| m.write_segment(id, offset, data))
    }

    /// Writes the modified resident pages of `[first, first + count)` of a file segment.
    pub fn flush_segment(&self, id: SegmentId, first: u64, count: PageCount) -> Result<u64> {
        self.op(|m| m.flush_segment(id, ProtoIndex::new(first), count))
    }

    // ---- regions --------------------------------------------------------------------------

    /// Maps `pages` prototype PTEs of a segment from `first_index` into an address space.
    pub fn map_segment(
        &self,
        asid: AsId,
        segment: SegmentId,
        first_index: u64,
        pages: PageCount,
        placement: Placement,
        protection: Protection,
    ) -> Result<Va> {
        self.op(|m| {
            m.map_segment(
                asid,
                segment,
                ProtoIndex::new(first_index),
                pages,
                placement,
                protection,
            )
        })
    }

    /// Reserves (and with `commit`, commits) a private region.
    pub fn allocate_private(
        &self,
        asid: AsId,
        pages: PageCount,
        placement: Placement,
        protection: Protection,
        commit: bool,
    ) -> Result<Va> {
        self.op(|m| m.allocate_private(asid, pages, placement, protection, commit))
    }

    /// Commits pages of a private region; returns the pages newly charged.
    pub fn commit_private(
        &self,
        asid: AsId,
        va: Va,
        pages: PageCount,
        protection: Protection,
    ) -> Result<PageCount> {
        let va = user_va(va)?;
        self.op(|m| m.commit_private(asid, va.vpn(), pages, protection))
    }

    /// Decommits pages of a private region; returns the pages uncharged.
    pub fn decommit_private(&self, asid: AsId, va: Va, pages: PageCount) -> Result<PageCount> {
        let va = user_va(va)?;
        self.op(|m| m.decommit_private(asid, va.vpn(), pages))
    }

    /// Removes the region containing `va` (unmap a view or release private memory). Unmapping
    /// captures dirty bits and never writes.
    pub fn free_region(&self, asid: AsId, va: Va) -> Result<Vad> {
        let va = user_va(va)?;
        self.op(|m| m.free_region(asid, va))
    }

    /// Reserves a placeholder (`MEM_RESERVE | MEM_RESERVE_PLACEHOLDER`, F72).
    pub fn reserve_placeholder(
        &self,
        asid: AsId,
        pages: PageCount,
        placement: Placement,
    ) -> Result<Va> {
        self.op(|m| m.reserve_placeholder(asid, pages, placement))
    }

    /// Splits `[va, va + pages)` off the placeholder holding it (`MEM_PRESERVE_PLACEHOLDER`,
    /// F68), or turns private memory that replaced a placeholder back into it.
    pub fn split_placeholder(&self, asid: AsId, va: Va, pages: PageCount) -> Result<()> {
        let va = user_va(va)?;
        self.op(|m| m.split_placeholder(asid, va.vpn(), pages))
    }

    /// Coalesces the adjacent placeholders exactly covering `[va, va + pages)`
    /// (`MEM_COALESCE_PLACEHOLDERS`).
    pub fn coalesce_placeholders(&self, asid: AsId, va: Va, pages: PageCount) -> Result<()> {
        let va = user_va(va)?;
        self.op(|m| m.coalesce_placeholders(asid, va.vpn(), pages))
    }

    /// Removes the region holding `va`, which replaced a placeholder, and puts the placeholder
    /// back (`UnmapViewOfFile2(…, MEM_PRESERVE_PLACEHOLDER)`, F72).
    pub fn free_region_to_placeholder(&self, asid: AsId, va: Va) -> Result<Vad> {
        let va = user_va(va)?;
        self.op(|m| m.free_region_to_placeholder(asid, va))
    }

    /// Changes the protection of committed pages of one region; returns the first page's old
    /// protection.
    pub fn protect(
        &self,
        asid: AsId,
        va: Va,
        pages: PageCount,
        protection: Protection,
    ) -> Result<Protection> {
        let va = user_va(va)?;
        self.op(|m| m.protect(asid, va.vpn(), pages, protection))
    }

    /// Sets the protection of pages of a view being built (an image view's sections, each
    /// with its own protection, §1.5): the PTE changes of [`Vmm::protect`], without a
    /// `ProtectionChanged` event, as no protection call is made.
    pub fn protect_while_mapping(
        &self,
        asid: AsId,
        va: Va,
        pages: PageCount,
        protection: Protection,
    ) -> Result<Protection> {
        let va = user_va(va)?;
        self.op(|m| m.protect_pages(asid, va.vpn(), pages, protection))
    }

    /// The `MEMORY_BASIC_INFORMATION` record of `va`.
    pub fn query(&self, asid: AsId, va: Va) -> Result<RegionInfo> {
        self.lock().query(asid, va)
    }

    /// The region containing `va`, if any.
    pub fn region(&self, asid: AsId, va: Va) -> Result<Option<Vad>> {
        Ok(self.lock().space(asid)?.vads.find(va.vpn()))
    }

    /// Every region of an address space, in address order.
    pub fn regions(&self, asid: AsId) -> Result<Vec<Vad>> {
        Ok(self.lock().space(asid)?.vads.iter().copied().collect())
    }

    /// Moves the dirty bits of this address space's valid PTEs in the range into their frames
    /// (the first step of a flush); returns how many pages were dirty.
    pub fn harvest_dirty(&self, asid: AsId, va: Va, pages: PageCount) -> Result<u64> {
        let va = user_va(va)?;
        let end = va.vpn().checked_add(pages).ok_or(VmmError::RangeOverflow)?;
        let range = PageRange::new(va.vpn(), end).ok_or(VmmError::RangeOverflow)?;
        self.op(|m| m.harvest_dirty(asid, range))
    }

    // ---- memory access --------------------------------------------------------------------

    /// Loads `buf.len()` bytes at `va`, page by page.
    pub fn read(&self, asid: AsId, va: Va, buf: &mut [u8]) -> Result<()> {
        self.op(|m| m.read(asid, va, buf))
    }

    /// Stores `data` at `va`, page by page; bytes stored before a faulting page stay stored.
    pub fn write(&self, asid: AsId, va: Va, data: &[u8]) -> Result<()> {
        self.op(|m| m.write(asid, va, data))
    }

    /// Touches the page of `va` for `access` (resolving faults) and returns its frame.
    pub fn touch(&self, asid: AsId, va: Va, access: Access) -> Result<Pfn> {
        Machine::check_user_range(va, 1)?;
        self.op(|m| m.translate(asid, va, access))
    }

    /// Loads a value of `N` bytes: from the calling thread's TLB without the machine lock when
    /// the page's translation is cached and stable ([`crate::tlb`]), else under the lock, which
    /// resolves any fault and caches the translation.
    #[inline]
    fn load<const N: usize>(&self, asid: AsId, va: Va) -> Result<[u8; N]> {
        let off = va.page_offset();
        if off + N <= PAGE_BYTES {
            let epoch = self.memory.epoch();
            if let Some(e) = epoch.stable() {
                if let Some(pfn) = crate::tlb::lookup(e, asid, va.vpn()) {
                    if let Some(v) = self.memory.load_value::<N>(pfn, off) {
                        if epoch.still(e) {
                            return Ok(v);
                        }
                    }
                }
            }
        }
        self.load_locked(asid, va)
    }

    fn load_locked<const N: usize>(&self, asid: AsId, va: Va) -> Result<[u8; N]> {
        let mut m = self.lock();
        let r = m.read_value::<N>(asid, va);
        m.after_op();
        if r.is_ok() && va.page_offset() + N <= PAGE_BYTES {
            // Cache the translation the load used, at the epoch that ends this operation.
            m.memory.epoch().end_change();
            let cached = m
                .space(asid)
                .ok()
                .and_then(|s| s.page_table.tlb_lookup(va.vpn(), false));
            if let (Some(pfn), Some(e)) = (cached, m.memory.epoch().stable()) {
                crate::tlb::fill(e, asid, va.vpn(), pfn);
            }
        }
        r
    }

    /// Loads a byte.
    pub fn read_u8(&self, asid: AsId, va: Va) -> Result<u8> {
        self.load::<1>(asid, va).map(u8::from_le_bytes)
    }
    /// Loads a little-endian 16-bit value.
    pub fn read_u16(&self, asid: AsId, va: Va) -> Result<u16> {
        self.load::<2>(asid, va).map(u16::from_le_bytes)
    }
    /// Loads a little-endian 32-bit value.
    pub fn read_u32(&self, asid: AsId, va: Va) -> Result<u32> {
        self.load::<4>(asid, va).map(u32::from_le_bytes)
    }
    /// Loads a little-endian 64-bit value.
    #[inline]
    pub fn read_u64(&self, asid: AsId, va: Va) -> Result<u64> {
        self.load::<8>(asid, va).map(u64::from_le_bytes)
    }
    /// Stores a byte.
    pub fn write_u8(&self, asid: AsId, va: Va, v: u8) -> Result<()> {
        self.op(|m| m.write_value(asid, va, v.to_le_bytes()))
    }
    /// Stores a little-endian 16-bit value (all or nothing, even across pages).
    pub fn write_u16(&self, asid: AsId, va: Va, v: u16) -> Result<()> {
        self.op(|m| m.write_value(asid, va, v.to_le_bytes()))
    }
    /// Stores a little-endian 32-bit value (all or nothing, even across pages).
    pub fn write_u32(&self, asid: AsId, va: Va, v: u32) -> Result<()> {
        self.op(|m| m.write_value(asid, va, v.to_le_bytes()))
    }
    /// Stores a little-endian 64-bit value (all or nothing, even across pages).
    pub fn write_u64(&self, asid: AsId, va: Va, v: u64) -> Result<()> {
        self.op(|m| m.write_value(asid, va, v.to_le_bytes()))
    }

    // ---- memory pressure ------------------------------------------------------------------

    /// Trims the oldest `pages` pages (all if `None`) of a working set, as `EmptyWorkingSet`
    /// does. Returns the pages trimmed.
    pub fn trim(&self, asid: AsId, pages: Option<u64>) -> Result<u64> {
        self.op(|m| m.trim_working_set(asid, pages))
    }

    /// Empties every working set.
    pub fn trim_all(&self) -> u64 {
        self.op(|m| {
            let ids: Vec<AsId> = m.spaces.keys().copied().collect();
            ids.into_iter()
                .map(|id| m.trim_working_set(id, None).unwrap_or(0))
                .sum()
        })
    }

    /// Runs the mapped page writer and the modified page writer over the whole modified list.
    pub fn run_writers(&self) -> WriterReport {
        self.op(|m| m.run_writers_internal(crate::event::WriterTrigger::Requested))
    }

    /// Runs the modified page writer only (pagefile-destined pages).
    pub fn run_modified_page_writer(&self) -> WriterReport {
        self.op(|m| m.run_modified_page_writer(crate::event::WriterTrigger::Requested))
    }

    /// Runs the mapped page writer only (file pages).
    pub fn run_mapped_page_writer(&self) -> WriterReport {
        self.op(|m| m.run_mapped_page_writer(crate::event::WriterTrigger::Requested))
    }

    /// Makes `pages` frames available (zeroed + free + standby), running the writers and
    /// trimming working sets as memory pressure would.
    pub fn make_available(&self, pages: u64) -> Result<()> {
        self.op(|m| {
            if pages > m.pfn.len() as u64 {
                return Err(VmmError::InvalidParameter(
                    "more frames than the machine has",
                ));
            }
            m.ensure_available(pages)
        })
    }

    // ---- inspection -----------------------------------------------------------------------

    /// The PTE of `va`.
    pub fn pte(&self, asid: AsId, va: Va) -> Result<Pte> {
        Ok(self.lock().space(asid)?.page_table.get(va.vpn()))
    }

    /// A frame's PFN entry.
    pub fn pfn_entry(&self, pfn: Pfn) -> Option<PfnEntry> {
        self.lock().pfn.get(pfn).cloned()
    }

    /// A frame's contents.
    pub fn frame(&self, pfn: Pfn) -> Option<Box<PageBuf>> {
        let m = self.lock();
        m.pfn.get(pfn)?;
        Some(Box::new(m.memory.frame(&m.memory_right, pfn)))
    }

    /// Frames per list.
    pub fn list_counts(&self) -> ListCounts {
        self.lock().pfn.counts()
    }

    /// The frames of a list, head first.
    pub fn list(&self, list: PageLocation) -> Vec<Pfn> {
        self.lock().pfn.list(list)
    }

    /// Fault counters of an address space.
    pub fn fault_counters(&self, asid: AsId) -> Result<FaultCounters> {
        Ok(self.lock().space(asid)?.counters)
    }

    /// Machine-wide counters.
    pub fn machine_counters(&self) -> MachineCounters {
        self.lock().counters
    }

    /// The pages of a working set, oldest first.
    pub fn working_set(&self, asid: AsId) -> Result<Vec<Vpn>> {
        Ok(self.lock().space(asid)?.ws.pages())
    }

    /// The commit state.
    pub fn commit(&self) -> CommitState {
        self.lock().commit
    }

    /// Pagefile slots in use.
    pub fn pagefile_used(&self) -> u32 {
        self.lock().pagefile.used()
    }

    /// Checks every invariant of the machine (see [`crate::invariants`]).
    pub fn check_invariants(&self) -> std::result::Result<(), InvariantViolation> {
        self.lock().check_invariants()
    }
}

//! The machine: every piece of state of the simulated VMM, behind one lock.
//!
//! # Locking
//! [`crate::Vmm`] is `Send + Sync`. All machine state sits behind one `parking_lot::Mutex`, which plays
//! the part of NT's PFN lock and working-set locks together; backing-store I/O is done while it is
//! held (synchronous I/O, nt_internals §9.2). Upper layers take their own locks first, in this
//! order: object manager → section layer → this machine lock. Nothing here calls back up, so
//! no lock order can be inverted: the event subscribers called under the lock
//! ([`crate::event`]) only record, never call in. Single-threaded use is deterministic: no wall clock, no
//! randomness, and every iteration is over ordered maps.

use crate::addr::ProtoIndex;
use crate::address_space::AddressSpace;
use crate::commit::CommitState;
use crate::counters::MachineCounters;
use crate::error::{Result, VmmError};
use crate::id::{AsId, SegmentId, StoreId};
use crate::memory::PhysicalMemory;
use crate::pagefile::Pagefile;
use crate::pfn::PfnDatabase;
use crate::pte::ProtoPte;
use crate::segment::{Segment, SegmentInfo};
use crate::store::{BackingStore, MemoryStore};
use std::collections::BTreeMap;

/// When the mapped page writer writes file pages (nt_internals §4.6 \[design\]).
#[derive(Clone, Copy, PartialEq, Eq, Debug, Hash, Default)]
pub enum WriterPolicy {
    /// A file page is written as soon as it reaches the modified list (at the end of the
    /// operation that put it there), like NT's mapped-writer timer firing at once.
    Eager,
    /// Modified pages wait for memory pressure or an explicit writer run.
    #[default]
    Lazy,
}

/// Machine configuration. Each field has its limit in [`crate::limits`] (the one table
/// `ntmm machine` prints); [`VmmConfig::validate`] checks them all, and every constructor of
/// the machine ([`crate::Vmm::new`], [`crate::Vmm::with_pagefile_store`]) runs it before
/// anything is allocated.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct VmmConfig {
    /// Physical frames (4 KiB each), within [`crate::limits::FRAMES`]: 4..=2^20 (4 GiB of
    /// emulated memory).
    pub frames: u32,
    /// Pagefile size in pages, slot 0 included (it is never used), within
    /// [`crate::limits::PAGEFILE`]: 1..=2^24 (64 GiB).
    pub pagefile_pages: u32,
    /// Default working-set maximum, in pages, of a new address space, within
    /// [`crate::limits::WORKING_SET`]: 2..=2^20.
    pub working_set_max: u64,
    /// The mapped page writer's policy.
    pub writer: WriterPolicy,
}

impl Default for VmmConfig {
    fn default() -> Self {
        VmmConfig {
            frames: 4096,
            pagefile_pages: 16384,
            working_set_max: 1024,
            writer: WriterPolicy::Lazy,
        }
    }
}

impl VmmConfig {
    /// Checks every option against its limit in [`crate::limits`] (the one table `ntmm machine`
    /// prints), before anything is allocated: the first option out of range is named with its
    /// range (`VmmError::OutOfRange`, `STATUS_INVALID_PARAMETER`).
    pub fn validate(&self) -> Result<()> {
        crate::limits::FRAMES.check(u64::from(self.frames))?;
        crate::limits::PAGEFILE.check(u64::from(self.pagefile_pages))?;
        crate::limits::WORKING_SET.check(self.working_set_max)?;
        Ok(())
    }
}

/// All state of the machine. Reached through [`crate::Vmm`], which holds it behind the machine lock.
#[derive(Debug)]
pub struct Machine {
    pub(crate) config: VmmConfig,
    pub(crate) memory: std::sync::Arc<PhysicalMemory>,
    /// The one right to store into `memory` (so stores, like everything here, happen under
    /// the machine lock; copies out of frames borrow it shared and may `memcpy`).
    pub(crate) memory_right: crate::memory::StoreRight,
    pub(crate) pfn: PfnDatabase,
    pub(crate) spaces: crate::address_space::Spaces,
    pub(crate) segments: BTreeMap<SegmentId, Segment>,
    pub(crate) stores: BTreeMap<StoreId, Box<dyn BackingStore>>,
    pub(crate) pagefile: Pagefile,
    pub(crate) commit: CommitState,
    pub(crate) counters: MachineCounters,
    /// Parked segments whose last resident page has gone: the owner deletes them
    /// (NT's segment dereference thread queue, nt_internals §6.2).
    pub(crate) deletion_queue: Vec<SegmentId>,
    /// The subscribers of the machine's events (shared with the PFN database and the
    /// fault-injecting stores, which emit too).
    pub(crate) events: crate::event::Events,
    next_space: u32,
    next_segment: u32,
    next_store: u32,
}

impl Machine {
    pub(crate) fn new(
        config: VmmConfig,
        mut pagefile_store: Box<dyn BackingStore>,
    ) -> Result<Self> {
        config.validate()?;
        let events = crate::event::Events::default();
        pagefile_store.attach_events(&events);
        let pagefile = Pagefile::new(pagefile_store, config.pagefile_pages)?;
        let limit = u64::from(config.frames) + u64::from(pagefile.usable());
        let (memory, memory_right) = PhysicalMemory::new(config.frames)?;
        Ok(Machine {
            config,
            memory: std::sync::Arc::new(memory),
            memory_right,
            pfn: PfnDatabase::new(config.frames, events.clone())?,
            spaces: crate::address_space::Spaces::default(),
            segments: BTreeMap::new(),
            stores: BTreeMap::new(),
            pagefile,
            commit: CommitState::new(limit),
            counters: MachineCounters::default(),
            deletion_queue: Vec::new(),
            events,
            next_space: 1,
            next_segment: 1,
            next_store: 1,
        })
    }

    pub(crate) fn space(&self, id: AsId) -> Result<&AddressSpace> {
        self.spaces
            .get(&id)
            .ok_or(VmmError::UnknownAddressSpace(id))
    }
    pub(crate) fn space_mut(&mut self, id: AsId) -> Result<&mut AddressSpace> {
        self.spaces
            .get_mut(&id)
            .ok_or(VmmError::UnknownAddressSpace(id))
    }
    pub(crate) fn segment(&self, id: SegmentId) -> Result<&Segment> {
        self.segments.get(&id).ok_or(VmmError::UnknownSegment(id))
    }
    pub(crate) fn segment_mut(&mut self, id: SegmentId) -> Result<&mut Segment> {
        self.segments
            .get_mut(&id)
            .ok_or(VmmError::UnknownSegment(id))
    }

    pub(crate) fn new_space_id(&mut self) -> AsId {
        let id = AsId::new(self.next_space);
        self.next_space += 1;
        id
    }
    pub(crate) fn new_segment_id(&mut self) -> SegmentId {
        let id = SegmentId::new(self.next_segment);
        self.next_segment += 1;
        id
    }
    pub(crate) fn new_store_id(&mut self) -> StoreId {
        let id = StoreId::new(self.next_store);
        self.next_store += 1;
        id
    }

    /// Work done at the end of every public operation: the eager mapped page writer.
    pub(crate) fn after_op(&mut self) {
        if self.config.writer == WriterPolicy::Eager
            && self.pfn.list_len(crate::pfn::PageLocation::Modified) > 0
        {
            let report = self.run_mapped_page_writer(crate::event::WriterTrigger::Eager);
            if !report.errors.is_empty() {
                tracing::warn!(errors = report.errors.len(), "eager mapped writes failed");
            }
        }
    }
}

/// Read-only views of the machine, for inspection and display ([`crate::Vmm::inspect`]).
impl Machine {
    /// The PFN database.
    pub fn pfn_database(&self) -> &crate::pfn::PfnDatabase {
        &self.pfn
    }
    /// An address space.
    pub fn address_space(&self, id: AsId) -> Option<&AddressSpace> {
        self.spaces.get(&id)
    }
    /// A segment's state.
    pub fn segment_state(&self, id: SegmentId) -> Option<SegmentInfo> {
        self.segments.get(&id).map(|s| s.info())
    }
    /// The prototype PTEs of a segment that differ from its template (every resident,
    /// committed-later or paged-out one), in index order.
    pub fn segment_entries(&self, id: SegmentId) -> Vec<(ProtoIndex, ProtoPte)> {
        self.segments
            .get(&id)
            .map(|s| s.non_template(ProtoIndex::ZERO, s.page_count()))
            .unwrap_or_default()
    }
    /// The live segments.
    pub fn segment_ids(&self) -> Vec<SegmentId> {
        self.segments.keys().copied().collect()
    }
    /// The live address spaces.
    pub fn address_space_ids(&self) -> Vec<AsId> {
        self.spaces.keys().copied().collect()
    }
    /// The commit state.
    pub fn commit_state(&self) -> CommitState {
        self.commit
    }
    /// Physical memory.
    pub fn physical_memory(&self) -> &crate::memory::PhysicalMemory {
        &self.memory
    }
    /// The pagefile.
    pub fn pagefile(&self) -> &crate::pagefile::Pagefile {
        &self.pagefile
    }
}

/// A fresh in-memory pagefile store.
pub(crate) fn default_pagefile_store() -> Box<dyn BackingStore> {
    Box::new(MemoryStore::new())
}

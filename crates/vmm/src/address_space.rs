//! Address spaces: one per emulated process — page table, VAD tree, working set, counters.

use crate::commit::ProcessCommit;
use crate::counters::FaultCounters;
use crate::id::AsId;
use crate::page_table::PageTable;
use crate::vad::VadTree;
use crate::working_set::WorkingSet;

/// An address space.
///
/// # Invariants
/// * Every non-zero PTE lies inside a VAD.
/// * The working set holds exactly the pages whose PTE is valid.
#[derive(Debug)]
pub struct AddressSpace {
    pub(crate) id: AsId,
    pub(crate) page_table: PageTable,
    pub(crate) vads: VadTree,
    pub(crate) ws: WorkingSet,
    pub(crate) counters: FaultCounters,
    pub(crate) commit: ProcessCommit,
}

impl AddressSpace {
    pub(crate) fn new(
        id: AsId,
        working_set_max: u64,
        epoch: std::sync::Arc<crate::tlb::TranslationEpoch>,
    ) -> Self {
        AddressSpace {
            id,
            page_table: PageTable::new(epoch),
            vads: VadTree::default(),
            ws: WorkingSet::new(working_set_max),
            counters: FaultCounters::default(),
            commit: ProcessCommit::default(),
        }
    }
    /// The identifier.
    pub fn id(&self) -> AsId {
        self.id
    }
    /// The page table.
    pub fn page_table(&self) -> &PageTable {
        &self.page_table
    }
    /// The regions.
    pub fn vads(&self) -> &VadTree {
        &self.vads
    }
    /// The working set.
    pub fn working_set(&self) -> &WorkingSet {
        &self.ws
    }
    /// Fault counters.
    pub fn counters(&self) -> FaultCounters {
        self.counters
    }
    /// The commit charged to this process (its private regions and copy-on-write views).
    pub fn commit(&self) -> ProcessCommit {
        self.commit
    }
}

/// The machine's address spaces, indexed by their identifier: identifiers are handed out in
/// increasing order and never reused, so a slot vector gives O(1) lookup on every access while
/// iterating in identifier order exactly as an ordered map would.
///
/// # Invariants
/// `slots[i]`, when present, is the address space whose identifier is `i`.
#[derive(Debug, Default)]
pub struct Spaces {
    slots: Vec<Option<Box<AddressSpace>>>,
    len: usize,
}

impl Spaces {
    /// The address space `id`.
    #[inline]
    pub fn get(&self, id: &AsId) -> Option<&AddressSpace> {
        self.slots.get(id.raw() as usize)?.as_deref()
    }
    /// The address space `id`, mutably.
    #[inline]
    pub(crate) fn get_mut(&mut self, id: &AsId) -> Option<&mut AddressSpace> {
        self.slots.get_mut(id.raw() as usize)?.as_deref_mut()
    }
    /// Adds an address space under its identifier.
    pub(crate) fn insert(&mut self, id: AsId, space: AddressSpace) {
        let i = id.raw() as usize;
        if self.slots.len() <= i {
            self.slots.resize_with(i + 1, || None);
        }
        if self.slots[i].replace(Box::new(space)).is_none() {
            self.len += 1;
        }
    }
    /// Removes an address space.
    pub(crate) fn remove(&mut self, id: &AsId) -> Option<AddressSpace> {
        let s = self.slots.get_mut(id.raw() as usize)?.take()?;
        self.len -= 1;
        Some(*s)
    }
    /// The identifiers, in increasing order.
    pub fn keys(&self) -> impl Iterator<Item = &AsId> + '_ {
        self.values().map(|s| &s.id)
    }
    /// The address spaces, in identifier order.
    pub fn values(&self) -> impl Iterator<Item = &AddressSpace> + '_ {
        self.slots.iter().flatten().map(|b| &**b)
    }
    /// Number of address spaces.
    pub fn len(&self) -> usize {
        self.len
    }
    /// Whether there are none.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }
}

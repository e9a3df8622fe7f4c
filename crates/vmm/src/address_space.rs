//! Address spaces: one per emulated process — page table, VAD tree, working set, counters.

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
}

impl AddressSpace {
    pub(crate) fn new(id: AsId, working_set_max: u64) -> Self {
        AddressSpace {
            id,
            page_table: PageTable::default(),
            vads: VadTree::default(),
            ws: WorkingSet::new(working_set_max),
            counters: FaultCounters::default(),
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
}

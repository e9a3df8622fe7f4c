//! Counters: faults per kind per address space (nt_internals §3.9), and machine-wide I/O.

/// Faults of one address space, by kind.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct FaultCounters {
    /// Demand-zero faults (private or prototype).
    pub demand_zero: u64,
    /// Share faults: the prototype PTE was already valid (another mapper had the page).
    pub share: u64,
    /// Soft faults: the page came back from the standby or modified list.
    pub transition: u64,
    /// Copy-on-write faults.
    pub copy_on_write: u64,
    /// Hard faults read from a file.
    pub hard_file: u64,
    /// Hard faults read from the pagefile.
    pub hard_pagefile: u64,
    /// Guard-page exceptions raised.
    pub guard_page: u64,
    /// Access violations raised.
    pub access_violation: u64,
    /// In-page errors raised.
    pub in_page_error: u64,
}

impl FaultCounters {
    /// All resolved faults.
    pub fn resolved(&self) -> u64 {
        self.demand_zero
            + self.share
            + self.transition
            + self.copy_on_write
            + self.hard_file
            + self.hard_pagefile
    }
}

/// Machine-wide counters.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct MachineCounters {
    /// Pages read from files.
    pub file_reads: u64,
    /// Pages read from the pagefile.
    pub pagefile_reads: u64,
    /// Pages written to files (mapped page writer and flushes).
    pub file_writes: u64,
    /// Pages written to the pagefile (modified page writer).
    pub pagefile_writes: u64,
    /// Store operations that failed.
    pub io_errors: u64,
    /// Working-set entries trimmed.
    pub trims: u64,
    /// Writer runs.
    pub writer_runs: u64,
    /// Standby frames repurposed (their original PTE restored).
    pub repurposed: u64,
}

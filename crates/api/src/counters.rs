//! Numbers that can be checked: the resource counters Windows reports — `GetProcessMemoryInfo`
//! (`PROCESS_MEMORY_COUNTERS_EX`), `QueryWorkingSetEx` (`PSAPI_WORKING_SET_EX_BLOCK`),
//! `GetPerformanceInfo` (`PERFORMANCE_INFORMATION`) — the two calls that change a working set's
//! size, `EmptyWorkingSet` and `SetProcessWorkingSetSize`, and ntmm's own counters for what
//! Windows does not report per kind: `NtmmFaultCounters`, `NtmmPageLists`, `NtmmIoCounters`
//! (docs/SCENARIO.md "Resource counters").
//!
//! Each structure keeps Windows' field names (in Rust's case) and Windows' units: **bytes**
//! where Microsoft's documentation says bytes (`PROCESS_MEMORY_COUNTERS`), **pages** where it
//! says pages (`PERFORMANCE_INFORMATION`). The machine keeps the numbers where they change
//! (nt_internals §3.9 fault accounting, §1.9 commit, §4.5 working sets); this module only
//! reads them and converts units.
//!
//! The rights each call needs on its process handle:
//!
//! * `GetProcessMemoryInfo`: `PROCESS_QUERY_LIMITED_INFORMATION` (which
//!   `PROCESS_QUERY_INFORMATION` brings). Microsoft's page also asks for `PROCESS_VM_READ`, but
//!   Wine's psapi `test_GetProcessMemoryInfo` succeeds on Windows with a
//!   `PROCESS_QUERY_INFORMATION`-only handle and fails with `ERROR_ACCESS_DENIED` on a
//!   `STANDARD_RIGHTS_REQUIRED` one: the modern behaviour is modelled.
//! * `QueryWorkingSetEx`: `PROCESS_QUERY_INFORMATION` (Microsoft's documentation).
//! * `EmptyWorkingSet`: `PROCESS_QUERY_LIMITED_INFORMATION` and `PROCESS_SET_QUOTA`
//!   (Microsoft's documentation; Wine psapi `test_ws_functions`: `ERROR_ACCESS_DENIED` without
//!   them, `ERROR_INVALID_HANDLE` for NULL).
//! * `SetProcessWorkingSetSize`: `PROCESS_SET_QUOTA` (Microsoft's documentation).
//! * `NtmmFaultCounters` (ntmm's): as `GetProcessMemoryInfo`.
//!
//! A missing right is `STATUS_ACCESS_DENIED` (`ERROR_ACCESS_DENIED`), a NULL handle
//! `ERROR_INVALID_HANDLE`, a process that has exited `ERROR_ACCESS_DENIED` (ntmm drops an exited
//! process's address space, so its counters are gone; Windows keeps them readable — a stated
//! simplification).

use crate::access::*;
use crate::object::Handle;
use crate::system::{Fail, System};
use crate::win32::*;
use ntmm_vmm::{AsId, NtStatus, Pte, Va, VadKind, PAGE_SIZE};

/// `PROCESS_MEMORY_COUNTERS_EX` as `GetProcessMemoryInfo` fills it (the fields the contract
/// names). Sizes are in **bytes**, as Microsoft documents them.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct ProcessMemoryCounters {
    /// `PageFaultCount` (a `DWORD`, wrapping): the page faults the process took — soft faults
    /// (demand-zero, share, transition, copy-on-write) and hard faults (from a file or the
    /// pagefile) alike. A fault that ends in an exception (access violation, guard page,
    /// in-page error) resolves nothing and is not counted (ntmm's simplification).
    pub page_fault_count: u32,
    /// `WorkingSetSize`: bytes of the process's working set (4096 × its pages).
    pub working_set_size: u64,
    /// `PeakWorkingSetSize`: the most bytes its working set has held.
    pub peak_working_set_size: u64,
    /// `PagefileUsage`: the process's commit charge in bytes — its committed private pages and
    /// the pages of its copy-on-write views (§1.9). Since Windows 8 the same as `PrivateUsage`
    /// (Microsoft: "Windows 7 and Windows Server 2008 R2 and earlier: PagefileUsage is always
    /// zero").
    pub pagefile_usage: u64,
    /// `PeakPagefileUsage`: the highest commit charge in bytes during the process's life.
    pub peak_pagefile_usage: u64,
    /// `PrivateUsage`: the same as `PagefileUsage` ("Same as PagefileUsage", Microsoft).
    pub private_usage: u64,
}

/// `PSAPI_WORKING_SET_EX_BLOCK` of one page, as `QueryWorkingSetEx` fills it.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct WorkingSetExBlock {
    /// `Valid`: the page is in the process's working set (its PTE is valid).
    pub valid: bool,
    /// `ShareCount` (3 bits, at most 7): for a valid shareable page, the number of valid PTEs
    /// mapping its frame (the PFN share count, §4.3); 0 for a private page and for an invalid
    /// one (Wine psapi `test_QueryWorkingSetEx`: "ShareCount == 0" unless valid and shared).
    pub share_count: u8,
    /// `Win32Protection`: the page's `PAGE_*` protection when valid, else 0 (Wine
    /// `test_QueryWorkingSetEx`: an invalid page reports 0).
    pub win32_protection: u32,
    /// `Shared`: the page can be shared — it belongs to a view and still maps its prototype
    /// (not a private copy). Reported for invalid pages too (the `Invalid.Shared` bit; Wine
    /// `test_QueryWorkingSetEx` sees 1 for a no-access page of the executable's view).
    pub shared: bool,
}

/// `PERFORMANCE_INFORMATION` as `GetPerformanceInfo` fills it (the fields the contract names).
/// Counts are in **pages** and `PageSize` in bytes, as Microsoft documents them.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct PerformanceInformation {
    /// `CommitTotal`: pages committed system-wide now (the machine's commit charge).
    pub commit_total: u64,
    /// `CommitLimit`: the most pages that can be committed (frames + usable pagefile pages).
    pub commit_limit: u64,
    /// `CommitPeak`: the most pages committed at once since the machine started.
    pub commit_peak: u64,
    /// `PhysicalTotal`: pages of physical memory (the machine's frames).
    pub physical_total: u64,
    /// `PhysicalAvailable`: pages reusable without writing them first: the zeroed, free and
    /// standby lists (Microsoft: "the sum of the size of the standby, free, and zero lists").
    pub physical_available: u64,
    /// `SystemCache`: "the size of the standby list plus the system working set" (Microsoft);
    /// ntmm's cache keeps no working set of its own, so this is the standby list.
    pub system_cache: u64,
    /// `PageSize`: 4096 bytes.
    pub page_size: u64,
}

/// ntmm's `NtmmFaultCounters`: a process's faults by kind (nt_internals §3.9).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct NtmmFaultCounters {
    /// `DemandZero`: a zero-filled frame for a page never touched (§3.6).
    pub demand_zero: u64,
    /// `Share`: the prototype PTE was already valid — another mapping had the page (§3.2).
    pub share: u64,
    /// `Transition`: the page came back from the standby or modified list (§3.3).
    pub transition: u64,
    /// `CopyOnWrite`: a store to a copy-on-write page made a private copy (§3.7).
    pub copy_on_write: u64,
    /// `HardFile`: the page was read from its file (§3.4).
    pub hard_file: u64,
    /// `HardPagefile`: the page was read from the pagefile (§3.5).
    pub hard_pagefile: u64,
    /// `AccessViolation`: accesses that raised `STATUS_ACCESS_VIOLATION` (§3.8).
    pub access_violation: u64,
    /// `Guard`: accesses that raised `STATUS_GUARD_PAGE_VIOLATION`.
    pub guard: u64,
    /// `InPageError`: accesses that raised `STATUS_IN_PAGE_ERROR` (a page read failed).
    pub in_page_error: u64,
}

/// ntmm's `NtmmPageLists`: frames on each page list (§4.2), in frames.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct NtmmPageLists {
    /// `Zeroed`: frames on the zeroed list.
    pub zeroed: u64,
    /// `Free`: frames on the free list.
    pub free: u64,
    /// `Standby`: clean frames that still hold a page (reusable without I/O).
    pub standby: u64,
    /// `Modified`: dirty frames waiting for the modified or mapped page writer.
    pub modified: u64,
    /// `ModifiedNoWrite`: dirty frames the writers may not write yet.
    pub modified_no_write: u64,
    /// `Active`: frames in use — mapped by a PTE or a valid prototype PTE, or held for I/O
    /// (transition); every frame is on exactly one of these six.
    pub active: u64,
}

/// ntmm's `NtmmIoCounters`: page I/Os of the machine since it started, one per page.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct NtmmIoCounters {
    /// `FileReads`: pages read from files by hard faults.
    pub file_reads: u64,
    /// `FileWrites`: pages written to files (mapped page writer, flushes).
    pub file_writes: u64,
    /// `PagefileReads`: pages read from the pagefile by hard faults.
    pub pagefile_reads: u64,
    /// `PagefileWrites`: pages written to the pagefile (modified page writer).
    pub pagefile_writes: u64,
    /// `Errors`: page reads and writes that failed.
    pub errors: u64,
}

/// The smallest working-set maximum `SetProcessWorkingSetSize` takes: 13 pages (Microsoft:
/// "This parameter must be greater than or equal to 13 pages").
pub const MIN_WORKING_SET_MAXIMUM_PAGES: u64 = 13;

/// `(SIZE_T)-1`: both limits at this value empty the working set.
pub const EMPTY_WORKING_SET: u64 = u64::MAX;

impl System {
    /// `GetProcessMemoryInfo(hProcess, &pmc, sizeof pmc)`: the process's counters in bytes
    /// ([`ProcessMemoryCounters`]). Needs `PROCESS_QUERY_LIMITED_INFORMATION`.
    pub fn get_process_memory_info(
        &self,
        pid: AsId,
        process: Handle,
    ) -> Result<ProcessMemoryCounters, Win32Error> {
        let r = self
            .target(pid, process, PROCESS_QUERY_LIMITED_INFORMATION)
            .and_then(|t| {
                self.ex
                    .vmm()
                    .inspect(|m| {
                        m.address_space(t).map(|s| {
                            let commit = s.commit().charged().raw() * PAGE_SIZE;
                            ProcessMemoryCounters {
                                page_fault_count: s.counters().resolved() as u32,
                                working_set_size: s.working_set().len() * PAGE_SIZE,
                                peak_working_set_size: s.working_set().peak() * PAGE_SIZE,
                                pagefile_usage: commit,
                                peak_pagefile_usage: s.commit().peak().raw() * PAGE_SIZE,
                                private_usage: commit,
                            }
                        })
                    })
                    .ok_or(Fail::Status(NtStatus::STATUS_PROCESS_IS_TERMINATING))
            });
        self.win32(pid, r)
    }

    /// `QueryWorkingSetEx(hProcess, &info, sizeof info)` for the page at `address`
    /// ([`WorkingSetExBlock`]). Needs `PROCESS_QUERY_INFORMATION`. A page that is free,
    /// reserved, not resident or outside user space reports all zeros but `Shared`.
    pub fn query_working_set_ex(
        &self,
        pid: AsId,
        process: Handle,
        address: Va,
    ) -> Result<WorkingSetExBlock, Win32Error> {
        let r = self
            .target(pid, process, PROCESS_QUERY_INFORMATION)
            .and_then(|t| {
                self.ex
                    .vmm()
                    .inspect(|m| {
                        let space = m.address_space(t)?;
                        if !address.is_user() {
                            return Some(WorkingSetExBlock::default());
                        }
                        let vpn = address.vpn();
                        let view = space
                            .vads()
                            .find(vpn)
                            .is_some_and(|v| matches!(v.kind, VadKind::Mapped { .. }));
                        Some(match space.page_table().get(vpn) {
                            Pte::Valid(h) => {
                                let e = m.pfn_database().get(h.pfn);
                                let shared = e.is_some_and(|e| e.is_prototype());
                                let protection = space
                                    .working_set()
                                    .get(vpn)
                                    .map_or(0, |w| w.protection.to_win32());
                                WorkingSetExBlock {
                                    valid: true,
                                    share_count: if shared {
                                        e.map_or(0, |e| e.share_count().min(7) as u8)
                                    } else {
                                        0
                                    },
                                    win32_protection: protection,
                                    shared,
                                }
                            }
                            // A view page that still maps its prototype: shareable though
                            // not resident in this working set.
                            Pte::Prototype { .. } | Pte::PrototypeLookup { .. } | Pte::Zero => {
                                WorkingSetExBlock {
                                    shared: view,
                                    ..WorkingSetExBlock::default()
                                }
                            }
                            // A private page (or a view page's private copy), not resident.
                            _ => WorkingSetExBlock::default(),
                        })
                    })
                    .ok_or(Fail::Status(NtStatus::STATUS_PROCESS_IS_TERMINATING))
            });
        self.win32(pid, r)
    }

    /// `GetPerformanceInfo(&perf, sizeof perf)`: the machine's commit and memory in pages
    /// ([`PerformanceInformation`]). It cannot fail.
    pub fn get_performance_info(&self) -> PerformanceInformation {
        let vmm = self.ex.vmm();
        let commit = vmm.commit();
        let lists = vmm.list_counts();
        PerformanceInformation {
            commit_total: commit.charged().raw(),
            commit_limit: commit.limit().raw(),
            commit_peak: commit.peak().raw(),
            physical_total: u64::from(vmm.config().frames),
            physical_available: lists.available(),
            system_cache: lists.standby,
            page_size: PAGE_SIZE,
        }
    }

    /// `EmptyWorkingSet(hProcess)`: removes every page from the process's working set, as the
    /// `trim` directive does (§4.5: shared pages return to their prototype, private pages go to
    /// transition; frames no working set holds go to the standby or modified list). Needs
    /// `PROCESS_QUERY_LIMITED_INFORMATION` and `PROCESS_SET_QUOTA`.
    pub fn empty_working_set(&self, pid: AsId, process: Handle) -> Result<(), Win32Error> {
        let r = self
            .target(
                pid,
                process,
                PROCESS_QUERY_LIMITED_INFORMATION | PROCESS_SET_QUOTA,
            )
            .and_then(|t| Ok(self.ex.trim(t).map(|_| ())?));
        self.win32(pid, r)
    }

    /// `SetProcessWorkingSetSize(hProcess, dwMinimumWorkingSetSize, dwMaximumWorkingSetSize)`,
    /// sizes in bytes. Needs `PROCESS_SET_QUOTA`. As Microsoft documents it:
    ///
    /// * both `(SIZE_T)-1`: the working set is emptied (as `EmptyWorkingSet`), limits unchanged;
    /// * otherwise the minimum must be greater than 0 and at most the maximum, and the maximum
    ///   at least 13 pages: else `STATUS_BAD_WORKING_SET_LIMIT` (`ERROR_INVALID_PARAMETER`);
    /// * the maximum (rounded down to pages) becomes the process's working-set maximum, and a
    ///   working set above it is trimmed at once, oldest pages first.
    ///
    /// Simplifications (stated in docs/SCENARIO.md): ntmm keeps no minimum (it never grows a
    /// working set on its own, so the minimum would change nothing) and enforces the maximum as
    /// a hard limit (NT lets a working set exceed a soft maximum while memory is plentiful); the
    /// system-wide upper bound and the `SE_INC_WORKING_SET_NAME` privilege are not modelled.
    pub fn set_process_working_set_size(
        &self,
        pid: AsId,
        process: Handle,
        minimum: u64,
        maximum: u64,
    ) -> Result<(), Win32Error> {
        let r = self.target(pid, process, PROCESS_SET_QUOTA).and_then(|t| {
            if minimum == EMPTY_WORKING_SET && maximum == EMPTY_WORKING_SET {
                return Ok(self.ex.trim(t).map(|_| ())?);
            }
            let max_pages = maximum / PAGE_SIZE;
            if minimum == 0 || minimum > maximum || max_pages < MIN_WORKING_SET_MAXIMUM_PAGES {
                return Err(Fail::Status(NtStatus::STATUS_BAD_WORKING_SET_LIMIT));
            }
            Ok(self.ex.set_working_set_maximum(t, max_pages)?)
        });
        self.win32(pid, r)
    }

    /// ntmm's `NtmmFaultCounters(hProcess, &f)`: the process's faults by kind
    /// ([`NtmmFaultCounters`]). Needs `PROCESS_QUERY_LIMITED_INFORMATION`.
    pub fn ntmm_fault_counters(
        &self,
        pid: AsId,
        process: Handle,
    ) -> Result<NtmmFaultCounters, Win32Error> {
        let r = self
            .target(pid, process, PROCESS_QUERY_LIMITED_INFORMATION)
            .and_then(|t| {
                let f = self
                    .ex
                    .vmm()
                    .fault_counters(t)
                    .map_err(|_| Fail::Status(NtStatus::STATUS_PROCESS_IS_TERMINATING))?;
                Ok(NtmmFaultCounters {
                    demand_zero: f.demand_zero,
                    share: f.share,
                    transition: f.transition,
                    copy_on_write: f.copy_on_write,
                    hard_file: f.hard_file,
                    hard_pagefile: f.hard_pagefile,
                    access_violation: f.access_violation,
                    guard: f.guard_page,
                    in_page_error: f.in_page_error,
                })
            });
        self.win32(pid, r)
    }

    /// ntmm's `NtmmPageLists(&l)`: frames per page list ([`NtmmPageLists`]).
    pub fn ntmm_page_lists(&self) -> NtmmPageLists {
        let c = self.ex.vmm().list_counts();
        NtmmPageLists {
            zeroed: c.zeroed,
            free: c.free,
            standby: c.standby,
            modified: c.modified,
            modified_no_write: c.modified_no_write,
            active: c.in_use,
        }
    }

    /// ntmm's `NtmmIoCounters(&io)`: the machine's page I/Os ([`NtmmIoCounters`]).
    pub fn ntmm_io_counters(&self) -> NtmmIoCounters {
        let c = self.ex.vmm().machine_counters();
        NtmmIoCounters {
            file_reads: c.file_reads,
            file_writes: c.file_writes,
            pagefile_reads: c.pagefile_reads,
            pagefile_writes: c.pagefile_writes,
            errors: c.io_errors,
        }
    }
}

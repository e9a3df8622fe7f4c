//! Resource counters (docs/SCENARIO.md "Resource counters"): `GetProcessMemoryInfo`,
//! `QueryWorkingSetEx`, `GetPerformanceInfo`, `EmptyWorkingSet`, `SetProcessWorkingSetSize`, and
//! ntmm's `NtmmFaultCounters`, `NtmmPageLists`, `NtmmIoCounters`. Each returns a `BOOL` and
//! stores its structure as a record whose fields are Windows' names, in Windows' units (bytes
//! in `PROCESS_MEMORY_COUNTERS`, pages in `PERFORMANCE_INFORMATION`); the `cb` size argument
//! Windows takes is implied.

use crate::ast::Call;
use crate::calls::null_write;
use crate::runner::{Outcome, Runner, StmtError};
use crate::value::Value;
use ntmm_api::*;

/// The functions this module binds.
const COUNTER_CALLS: &[&str] = &[
    "GetProcessMemoryInfo",
    "QueryWorkingSetEx",
    "GetPerformanceInfo",
    "EmptyWorkingSet",
    "SetProcessWorkingSetSize",
    "NtmmFaultCounters",
    "NtmmPageLists",
    "NtmmIoCounters",
];

/// Whether `name` (canonical) is one of this module's functions.
pub(crate) fn is_counter_call(name: &str) -> bool {
    COUNTER_CALLS.contains(&name)
}

/// `PROCESS_MEMORY_COUNTERS_EX` (bytes).
fn pmc_record(c: &ProcessMemoryCounters) -> Value {
    Value::Record(vec![
        ("PageFaultCount", u64::from(c.page_fault_count)),
        ("WorkingSetSize", c.working_set_size),
        ("PeakWorkingSetSize", c.peak_working_set_size),
        ("PagefileUsage", c.pagefile_usage),
        ("PeakPagefileUsage", c.peak_pagefile_usage),
        ("PrivateUsage", c.private_usage),
    ])
}

/// `PSAPI_WORKING_SET_EX_BLOCK`.
fn ws_record(b: &WorkingSetExBlock) -> Value {
    Value::Record(vec![
        ("Valid", u64::from(b.valid)),
        ("ShareCount", u64::from(b.share_count)),
        ("Shared", u64::from(b.shared)),
        ("Win32Protection", u64::from(b.win32_protection)),
    ])
}

/// `PERFORMANCE_INFORMATION` (pages; `PageSize` in bytes).
fn perf_record(p: &PerformanceInformation) -> Value {
    Value::Record(vec![
        ("CommitTotal", p.commit_total),
        ("CommitLimit", p.commit_limit),
        ("CommitPeak", p.commit_peak),
        ("PhysicalTotal", p.physical_total),
        ("PhysicalAvailable", p.physical_available),
        ("SystemCache", p.system_cache),
        ("PageSize", p.page_size),
    ])
}

fn faults_record(f: &NtmmFaultCounters) -> Value {
    Value::Record(vec![
        ("DemandZero", f.demand_zero),
        ("Share", f.share),
        ("Transition", f.transition),
        ("CopyOnWrite", f.copy_on_write),
        ("HardFile", f.hard_file),
        ("HardPagefile", f.hard_pagefile),
        ("AccessViolation", f.access_violation),
        ("Guard", f.guard),
        ("InPageError", f.in_page_error),
    ])
}

fn lists_record(l: &NtmmPageLists) -> Value {
    Value::Record(vec![
        ("Zeroed", l.zeroed),
        ("Free", l.free),
        ("Standby", l.standby),
        ("Modified", l.modified),
        ("ModifiedNoWrite", l.modified_no_write),
        ("Active", l.active),
    ])
}

fn io_record(io: &NtmmIoCounters) -> Value {
    Value::Record(vec![
        ("FileReads", io.file_reads),
        ("FileWrites", io.file_writes),
        ("PagefileReads", io.pagefile_reads),
        ("PagefileWrites", io.pagefile_writes),
        ("Errors", io.errors),
    ])
}

impl Runner {
    /// Stores `value` through the out-parameter and returns `TRUE`, or for `NULL` fails with
    /// `ERROR_NOACCESS`: the buffer is probed (the kernel's probe of a NULL buffer is
    /// `STATUS_ACCESS_VIOLATION`) before anything else is looked at.
    fn counters_out(
        &mut self,
        pid: AsId,
        function: &str,
        ptr: Option<String>,
        value: impl FnOnce(&System) -> Result<Value, Win32Error>,
    ) -> Result<u64, StmtError> {
        let Some(name) = ptr else {
            self.system()?
                .null_pointer_probe(pid, function, "its output buffer", false);
            return Ok(0);
        };
        match value(self.system()?) {
            Ok(v) => {
                self.set_var(name, v);
                Ok(1)
            }
            Err(_) => Ok(0),
        }
    }

    /// Calls one of [`COUNTER_CALLS`] in process `pid`: the Win32 `BOOL` and the last error.
    pub(crate) fn counter_call(&mut self, pid: AsId, call: &Call) -> Result<Outcome, StmtError> {
        let ret = match call.name.as_str() {
            "GetProcessMemoryInfo" => {
                let h = Handle(self.int(call, 0)?);
                let ptr = self.out_ptr(call, 1)?;
                self.counters_out(pid, &call.name, ptr, |s| {
                    s.get_process_memory_info(pid, h).map(|c| pmc_record(&c))
                })?
            }
            "QueryWorkingSetEx" => {
                let h = Handle(self.int(call, 0)?);
                let va = Va::new(self.int(call, 1)?);
                let ptr = self.out_ptr(call, 2)?;
                self.counters_out(pid, &call.name, ptr, |s| {
                    s.query_working_set_ex(pid, h, va).map(|b| ws_record(&b))
                })?
            }
            "GetPerformanceInfo" => {
                // psapi fills the caller's structure itself: a NULL pointer faults in the
                // caller, as GetSystemInfo's does.
                let Some(name) = self.out_ptr(call, 0)? else {
                    return Ok(null_write());
                };
                let perf = self.system()?.get_performance_info();
                self.set_var(name, perf_record(&perf));
                1
            }
            "EmptyWorkingSet" => {
                let h = Handle(self.int(call, 0)?);
                u64::from(self.system()?.empty_working_set(pid, h).is_ok())
            }
            "SetProcessWorkingSetSize" => {
                let h = Handle(self.int(call, 0)?);
                let (min, max) = (self.int(call, 1)?, self.int(call, 2)?);
                u64::from(
                    self.system()?
                        .set_process_working_set_size(pid, h, min, max)
                        .is_ok(),
                )
            }
            "NtmmFaultCounters" => {
                let h = Handle(self.int(call, 0)?);
                let ptr = self.out_ptr(call, 1)?;
                self.counters_out(pid, &call.name, ptr, |s| {
                    s.ntmm_fault_counters(pid, h).map(|f| faults_record(&f))
                })?
            }
            "NtmmPageLists" => {
                let ptr = self.out_ptr(call, 0)?;
                self.counters_out(pid, &call.name, ptr, |s| {
                    Ok(lists_record(&s.ntmm_page_lists()))
                })?
            }
            "NtmmIoCounters" => {
                let ptr = self.out_ptr(call, 0)?;
                self.counters_out(pid, &call.name, ptr, |s| {
                    Ok(io_record(&s.ntmm_io_counters()))
                })?
            }
            other => return Err(StmtError(format!("{other} is not callable here"))),
        };
        let last_error = self.system()?.get_last_error(pid);
        Ok(Outcome::win32(ret, last_error))
    }
}

#[cfg(test)]
mod tests {
    use crate::runner::{run_source, Options};

    /// Runs a scenario and asserts every expectation held and nothing failed.
    fn passes(src: &str) {
        let r = run_source("t.ntm", src, &Options::default());
        assert_eq!(r.failed, 0, "{}", r.output);
        assert!(r.passed > 0, "{}", r.output);
    }

    /// The contract's example lines (docs/SCENARIO.md "Resource counters"), each run exactly as
    /// written, with what they must give checked around them: record fields with Windows'
    /// names, bytes in `PROCESS_MEMORY_COUNTERS`, pages in `PERFORMANCE_INFORMATION`.
    #[test]
    fn test_the_contracts_lines_run_as_written() {
        passes(
            "machine frames=64 pagefile=256 workingset=64\n\
             process A\n\
             p = VirtualAlloc(NULL, 0x3000, MEM_RESERVE | MEM_COMMIT, PAGE_READWRITE)\n\
             write(p, \"one\")\n\
             write(p + 0x1000, \"two\")\n\
             expect GetProcessMemoryInfo(A, &pmc) == TRUE\n\
             GetProcessMemoryInfo(A, &pmc)\n\
             expect pmc.PageFaultCount == 2\n\
             expect pmc.WorkingSetSize == 0x2000\n\
             expect pmc.PeakWorkingSetSize == 0x2000\n\
             expect pmc.PagefileUsage == 0x3000\n\
             expect pmc.PeakPagefileUsage == 0x3000\n\
             expect pmc.PrivateUsage == 0x3000\n\
             QueryWorkingSetEx(A, p, &ws)\n\
             expect ws.Valid == 1\n\
             expect ws.ShareCount == 0\n\
             expect ws.Shared == 0\n\
             expect ws.Win32Protection == PAGE_READWRITE\n\
             GetPerformanceInfo(&perf)\n\
             expect perf.CommitTotal >= 3\n\
             expect perf.CommitLimit == 64 + 255\n\
             expect perf.CommitPeak >= perf.CommitTotal\n\
             expect perf.PhysicalTotal == 64\n\
             expect perf.PageSize == 4096\n\
             NtmmPageLists(&l)\n\
             expect perf.PhysicalAvailable == l.Zeroed + l.Free + l.Standby\n\
             expect perf.SystemCache == l.Standby\n\
             expect l.Zeroed + l.Free + l.Standby + l.Modified + l.ModifiedNoWrite + l.Active == 64\n\
             EmptyWorkingSet(A)\n\
             GetProcessMemoryInfo(A, &pmc)\n\
             expect pmc.WorkingSetSize == 0\n\
             NtmmPageLists(&l2)\n\
             expect l2.Modified == l.Modified + 2\n\
             QueryWorkingSetEx(A, p, &ws)\n\
             expect ws.Valid == 0\n\
             expect ws.Win32Protection == 0\n\
             min = 0x1000\n\
             max = 13 * 4096\n\
             SetProcessWorkingSetSize(A, min, max)\n\
             expect GetLastError() == 0\n\
             expect SetProcessWorkingSetSize(A, max + 0x1000, max) == FALSE, ERROR_INVALID_PARAMETER\n\
             write(p, \"again\")\n\
             NtmmFaultCounters(A, &f)\n\
             expect f.DemandZero == 2\n\
             expect f.Transition == 1\n\
             expect f.Share == 0\n\
             expect f.CopyOnWrite == 0\n\
             expect f.HardFile == 0\n\
             expect f.HardPagefile == 0\n\
             expect f.AccessViolation == 0\n\
             expect f.Guard == 0\n\
             expect f.InPageError == 0\n\
             NtmmIoCounters(&io)\n\
             expect io.FileReads == 0\n\
             expect io.FileWrites == 0\n\
             expect io.PagefileReads == 0\n\
             expect io.PagefileWrites == 0\n\
             expect io.Errors == 0\n\
             flush-modified\n\
             NtmmIoCounters(&io)\n\
             expect io.PagefileWrites == 1\n",
        );
    }

    /// NULL out-parameters, handles without the rights, and the ntmm-only records.
    #[test]
    fn test_null_pointers_and_rights() {
        passes(
            "process B\n\
             process A\n\
             expect GetProcessMemoryInfo(A, NULL) == FALSE, ERROR_NOACCESS\n\
             expect QueryWorkingSetEx(A, 0x10000, NULL) == FALSE, ERROR_NOACCESS\n\
             expect NtmmFaultCounters(A, NULL) == FALSE, ERROR_NOACCESS\n\
             expect NtmmPageLists(NULL) == FALSE, ERROR_NOACCESS\n\
             expect NtmmIoCounters(NULL) == FALSE, ERROR_NOACCESS\n\
             expect GetPerformanceInfo(NULL) raises STATUS_ACCESS_VIOLATION\n\
             h = OpenProcess(PROCESS_VM_READ, FALSE, B)\n\
             expect GetProcessMemoryInfo(h, &pmc) == FALSE, ERROR_ACCESS_DENIED\n\
             expect EmptyWorkingSet(h) == FALSE, ERROR_ACCESS_DENIED\n\
             expect EmptyWorkingSet(NULL) == FALSE, ERROR_INVALID_HANDLE\n\
             q = OpenProcess(PROCESS_QUERY_INFORMATION, FALSE, B)\n\
             expect GetProcessMemoryInfo(q, &pmc) == TRUE\n\
             expect pmc.WorkingSetSize == 0\n\
             expect QueryWorkingSetEx(q, 0x10000, &ws) == TRUE\n\
             expect ws.Valid == 0\n\
             expect SetProcessWorkingSetSize(q, 0x1000, 0x20000) == FALSE, ERROR_ACCESS_DENIED\n\
             expect SetProcessWorkingSetSize(GetCurrentProcess(), -1, -1) == TRUE\n",
        );
    }
}

//! Conformance: the resource counters — `GetProcessMemoryInfo`, `QueryWorkingSetEx`,
//! `GetPerformanceInfo`, `EmptyWorkingSet`, `SetProcessWorkingSetSize`, and ntmm's
//! `NtmmFaultCounters`, `NtmmPageLists`, `NtmmIoCounters`: their units and what they count.
//!
//! Sources: Microsoft's documentation of `PROCESS_MEMORY_COUNTERS_EX` (sizes in bytes;
//! `PagefileUsage` = `PrivateUsage` = the process's commit charge), `PERFORMANCE_INFORMATION`
//! (counts in pages; `PhysicalAvailable` = standby + free + zero lists), `PSAPI_WORKING_SET_EX_BLOCK`,
//! `EmptyWorkingSet` and `SetProcessWorkingSetSize` ("[DOC]"); Wine `dlls/psapi/tests/psapi_main.c`
//! `test_GetProcessMemoryInfo`, `test_QueryWorkingSetEx` and `test_ws_functions` ("[Wine psapi]");
//! nt_internals §1.9 (commit), §3.x (fault kinds), §4.2–§4.5 (page lists, share counts,
//! trimming); and where the references are silent the choices stated in docs/SCENARIO.md's
//! implementation notes ("[ntmm]").
#![allow(clippy::tests_outside_test_module)]

mod common;
use common::*;

const PS: u64 = 0x1000;

fn pmc(s: &System, p: AsId) -> ProcessMemoryCounters {
    s.get_process_memory_info(p, Handle::INVALID).unwrap()
}

fn wsx(s: &System, p: AsId, va: Va) -> WorkingSetExBlock {
    s.query_working_set_ex(p, Handle::INVALID, va).unwrap()
}

fn faults(s: &System, p: AsId) -> NtmmFaultCounters {
    s.ntmm_fault_counters(p, Handle::INVALID).unwrap()
}

fn commit(s: &System, p: AsId, pages: u64) -> Va {
    s.virtual_alloc(
        p,
        None,
        pages * PS,
        MEM_RESERVE | MEM_COMMIT,
        PAGE_READWRITE,
    )
    .unwrap()
}

fn touch(s: &System, p: AsId, va: Va, pages: u64) {
    for i in 0..pages {
        s.read_memory(p, at(va, i * PS), 1).unwrap();
    }
}

/// Every frame is on exactly one list (§4.2), so the six counts add up to the machine's frames.
fn lists_cover_every_frame(s: &System) {
    let l = s.ntmm_page_lists();
    let sum = l.zeroed + l.free + l.standby + l.modified + l.modified_no_write + l.active;
    assert_eq!(sum, s.get_performance_info().physical_total, "{l:?}");
}

// ---- GetProcessMemoryInfo: bytes, and what counts ---------------------------------------------

#[test]
fn a_demand_zero_fault_counts_in_page_fault_count_and_demand_zero() {
    // §3.6: the first touch of a committed private page is a demand-zero fault; [DOC]
    // PageFaultCount is "the number of page faults" (soft ones included).
    let (s, p) = one();
    let before = pmc(&s, p);
    let va = commit(&s, p, 3);
    assert_eq!(pmc(&s, p).page_fault_count, before.page_fault_count);
    touch(&s, p, va, 2);
    let after = pmc(&s, p);
    assert_eq!(after.page_fault_count, before.page_fault_count + 2);
    assert_eq!(faults(&s, p).demand_zero, 2);
    // Touching a resident page again is no fault.
    touch(&s, p, va, 2);
    assert_eq!(pmc(&s, p).page_fault_count, after.page_fault_count);
    ok(&s);
}

#[test]
fn working_set_size_is_4096_bytes_per_resident_page_and_the_peak_stays() {
    // [DOC] WorkingSetSize and PeakWorkingSetSize are in bytes.
    let (s, p) = one();
    assert_eq!(pmc(&s, p).working_set_size, 0);
    let va = commit(&s, p, 5);
    touch(&s, p, va, 5);
    let c = pmc(&s, p);
    assert_eq!(c.working_set_size, 5 * 4096);
    assert_eq!(c.peak_working_set_size, 5 * 4096);
    s.empty_working_set(p, Handle::INVALID).unwrap();
    let c = pmc(&s, p);
    assert_eq!(c.working_set_size, 0);
    assert_eq!(
        c.peak_working_set_size,
        5 * 4096,
        "the peak is the most ever held"
    );
    // Trimmed pages come back by transition faults (§3.3), counted as page faults too.
    let faults_before = c.page_fault_count;
    touch(&s, p, va, 2);
    assert_eq!(pmc(&s, p).working_set_size, 2 * 4096);
    assert_eq!(pmc(&s, p).page_fault_count, faults_before + 2);
    assert_eq!(faults(&s, p).transition, 2);
    ok(&s);
}

#[test]
fn pagefile_usage_and_private_usage_are_the_processs_commit_charge_in_bytes() {
    // [DOC] PagefileUsage: "The Commit Charge value in bytes for this process"; PrivateUsage:
    // "Same as PagefileUsage". §1.9: committed private pages and copy-on-write views are
    // charged to the process; a pagefile-backed section is charged to the system.
    let (s, p) = one();
    assert_eq!(pmc(&s, p).pagefile_usage, 0);
    let va = commit(&s, p, 3);
    let c = pmc(&s, p);
    assert_eq!(
        c.pagefile_usage,
        3 * 4096,
        "charged at commit, before any touch"
    );
    assert_eq!(c.private_usage, c.pagefile_usage);
    // Reserving charges nothing.
    s.virtual_alloc(p, None, 0x10000, MEM_RESERVE, PAGE_READWRITE)
        .unwrap();
    assert_eq!(pmc(&s, p).private_usage, 3 * 4096);
    // A shared view of a pagefile section: the system's charge, not the process's.
    let h = anon(&s, p, PAGE_READWRITE, 0x10000, None).unwrap();
    let v = s.map_view_of_file(p, h, FILE_MAP_WRITE, 0, 0, 0).unwrap();
    assert_eq!(pmc(&s, p).private_usage, 3 * 4096);
    // A copy-on-write view: every page of it, at map time.
    let c = s.map_view_of_file(p, h, FILE_MAP_COPY, 0, 0, 0).unwrap();
    assert_eq!(pmc(&s, p).private_usage, (3 + 16) * 4096);
    s.unmap_view_of_file(p, c).unwrap();
    s.unmap_view_of_file(p, v).unwrap();
    s.virtual_free(p, at(va, PS), PS, MEM_DECOMMIT).unwrap();
    let c = pmc(&s, p);
    assert_eq!(c.pagefile_usage, 2 * 4096);
    assert_eq!(
        c.peak_pagefile_usage,
        19 * 4096,
        "the peak is the most ever charged"
    );
    ok(&s);
}

// ---- GetPerformanceInfo: pages --------------------------------------------------------------

#[test]
fn performance_information_counts_pages_and_page_size_is_bytes() {
    // [DOC] PERFORMANCE_INFORMATION: CommitTotal/Limit/Peak, PhysicalTotal/Available and
    // SystemCache in pages; PageSize in bytes. [Wine psapi test_GetPerformanceInfo] checks
    // PageSize against SYSTEM_BASIC_INFORMATION.PageSize and PhysicalTotal against
    // MmNumberOfPhysicalPages.
    let s = machine(64, 4096, 64);
    let p = s.create_process(None, false).unwrap();
    let before = s.get_performance_info();
    assert_eq!(before.page_size, 4096);
    assert_eq!(before.physical_total, 64);
    // The commit limit: every frame plus every usable pagefile page (slot 0 is never used).
    assert_eq!(before.commit_limit, 64 + 4095);
    commit(&s, p, 3);
    assert_eq!(
        s.get_performance_info().commit_total,
        before.commit_total + 3
    );
    // §1.9: a pagefile-backed SEC_COMMIT section is charged in full at creation.
    let h = anon(&s, p, PAGE_READWRITE, 0x10000, None).unwrap();
    let perf = s.get_performance_info();
    assert_eq!(perf.commit_total, before.commit_total + 3 + 16);
    assert!(perf.commit_peak >= perf.commit_total);
    s.close_handle(p, h).unwrap();
    let after = s.get_performance_info();
    assert_eq!(after.commit_total, before.commit_total + 3);
    assert_eq!(after.commit_peak, before.commit_total + 19);
    ok(&s);
}

#[test]
fn physical_available_is_zeroed_plus_free_plus_standby_and_system_cache_is_standby() {
    // [DOC] PhysicalAvailable: "the sum of the size of the standby, free, and zero lists";
    // SystemCache: "the size of the standby list plus the system working set" [ntmm: no system
    // working set].
    let (s, p) = one();
    let h = rw_file(&s, p, "f.bin", &[7u8; 0x4000]);
    let m = s
        .create_file_mapping(p, h, false, PAGE_READONLY, 0, 0, None)
        .unwrap();
    let v = s.map_view_of_file(p, m, FILE_MAP_READ, 0, 0, 0).unwrap();
    touch(&s, p, v, 4);
    s.empty_working_set(p, Handle::INVALID).unwrap();
    let l = s.ntmm_page_lists();
    let perf = s.get_performance_info();
    assert_eq!(
        l.standby, 4,
        "clean file pages trimmed from the only working set"
    );
    assert_eq!(perf.physical_available, l.zeroed + l.free + l.standby);
    assert_eq!(perf.system_cache, l.standby);
    lists_cover_every_frame(&s);
    ok(&s);
}

// ---- EmptyWorkingSet and the page lists -----------------------------------------------------

#[test]
fn a_trim_moves_clean_pages_to_standby_and_dirty_ones_to_modified() {
    // §4.5: trimming captures the dirty bit; a frame no PTE maps goes to the modified list if
    // modified, else to standby (§4.3). [DOC] EmptyWorkingSet "removes as many pages as possible".
    let (s, p) = one();
    let h = rw_file(&s, p, "f.bin", &[1u8; 0x2000]);
    let m = s
        .create_file_mapping(p, h, false, PAGE_READWRITE, 0, 0, None)
        .unwrap();
    let v = s.map_view_of_file(p, m, FILE_MAP_WRITE, 0, 0, 0).unwrap();
    s.read_memory(p, v, 1).unwrap();
    s.write_memory(p, at(v, PS), b"dirty").unwrap();
    let before = s.ntmm_page_lists();
    s.empty_working_set(p, Handle::INVALID).unwrap();
    let after = s.ntmm_page_lists();
    assert_eq!(after.standby, before.standby + 1);
    assert_eq!(after.modified, before.modified + 1);
    assert_eq!(after.active, before.active - 2);
    assert_eq!(pmc(&s, p).working_set_size, 0);
    lists_cover_every_frame(&s);
    ok(&s);
}

// ---- QueryWorkingSetEx ----------------------------------------------------------------------

#[test]
fn a_page_mapped_by_two_processes_has_share_count_two_and_is_shared() {
    // [DOC] ShareCount: "The number of processes that share this page"; Shared: "the page can
    // be shared". §4.3: the share count of a prototype-backed frame is its valid PTEs.
    let s = sys();
    let a = s.create_process(None, false).unwrap();
    let b = s.create_process(None, false).unwrap();
    let h = anon(&s, a, PAGE_READWRITE, 0x10000, Some("Local\\Shared")).unwrap();
    let va = s.map_view_of_file(a, h, FILE_MAP_WRITE, 0, 0, 0).unwrap();
    let hb = s
        .open_file_mapping(b, FILE_MAP_READ, false, "Local\\Shared")
        .unwrap();
    let vb = s.map_view_of_file(b, hb, FILE_MAP_READ, 0, 0, 0).unwrap();
    s.write_memory(a, va, b"x").unwrap();
    let w = wsx(&s, a, va);
    assert_eq!(
        (w.valid, w.share_count, w.shared, w.win32_protection),
        (true, 1, true, PAGE_READWRITE)
    );
    s.read_memory(b, vb, 1).unwrap();
    assert_eq!(
        faults(&s, b).share,
        1,
        "§3.2: the prototype PTE was already valid"
    );
    let w = wsx(&s, a, va);
    assert_eq!((w.valid, w.share_count, w.shared), (true, 2, true));
    let wb = wsx(&s, b, vb);
    assert_eq!(
        (wb.valid, wb.share_count, wb.shared, wb.win32_protection),
        (true, 2, true, PAGE_READONLY)
    );
    // B lets go: A's page is shared by one; B's is invalid but still shareable, and an invalid
    // page reports no protection and no share count [Wine psapi test_QueryWorkingSetEx].
    s.empty_working_set(b, Handle::INVALID).unwrap();
    assert_eq!(wsx(&s, a, va).share_count, 1);
    assert_eq!(
        wsx(&s, b, vb),
        WorkingSetExBlock {
            valid: false,
            share_count: 0,
            win32_protection: 0,
            shared: true
        }
    );
    ok(&s);
}

#[test]
fn a_private_page_is_unshared_with_share_count_zero_valid_only_while_resident() {
    // [Wine psapi test_QueryWorkingSetEx] "valloc" (0,0,0), "valloc,read" (1, PAGE_READWRITE,
    // 0), "valloc,noaccess" (0,0,0) and "valloc,free" (0,0,0); ShareCount 0 unless valid and
    // shared.
    let (s, p) = one();
    let va = commit(&s, p, 2);
    assert_eq!(wsx(&s, p, va), WorkingSetExBlock::default());
    s.read_memory(p, va, 1).unwrap();
    assert_eq!(
        wsx(&s, p, va),
        WorkingSetExBlock {
            valid: true,
            share_count: 0,
            win32_protection: PAGE_READWRITE,
            shared: false
        }
    );
    s.virtual_protect(p, va, PS, PAGE_NOACCESS).unwrap();
    assert_eq!(wsx(&s, p, va), WorkingSetExBlock::default());
    s.virtual_free(p, va, 0, MEM_RELEASE).unwrap();
    assert_eq!(wsx(&s, p, va), WorkingSetExBlock::default());
    // Addresses outside user space, like free ones, are simply not in the working set [ntmm].
    assert_eq!(
        wsx(&s, p, Va::new(0xFFFF_8000_0000_0000)),
        WorkingSetExBlock::default()
    );
    ok(&s);
}

#[test]
fn a_copy_on_write_page_is_shared_until_written_then_private() {
    // §3.7: the write gives the process a private copy, whose protection is read-write
    // (VirtualQuery reports it so too). NtmmFaultCounters counts the copy-on-write fault.
    let (s, p) = one();
    let h = anon(&s, p, PAGE_READWRITE, 0x10000, None).unwrap();
    let v = s.map_view_of_file(p, h, FILE_MAP_COPY, 0, 0, 0).unwrap();
    s.read_memory(p, v, 1).unwrap();
    let w = wsx(&s, p, v);
    assert_eq!(
        (w.valid, w.shared, w.win32_protection),
        (true, true, PAGE_WRITECOPY)
    );
    s.write_memory(p, v, b"mine").unwrap();
    assert_eq!(
        wsx(&s, p, v),
        WorkingSetExBlock {
            valid: true,
            share_count: 0,
            win32_protection: PAGE_READWRITE,
            shared: false
        }
    );
    assert_eq!(faults(&s, p).copy_on_write, 1);
    ok(&s);
}

// ---- SetProcessWorkingSetSize ---------------------------------------------------------------

#[test]
fn set_process_working_set_size_limits_the_working_set_and_trims_it_at_once() {
    // [DOC] sizes in bytes; [ntmm] the maximum is enforced as a hard limit, and a working set
    // above it is trimmed at once, oldest first (§4.5).
    let (s, p) = one();
    let va = commit(&s, p, 20);
    touch(&s, p, va, 20);
    assert_eq!(pmc(&s, p).working_set_size, 20 * 4096);
    s.set_process_working_set_size(p, Handle::INVALID, 13 * 4096, 13 * 4096)
        .unwrap();
    assert_eq!(pmc(&s, p).working_set_size, 13 * 4096);
    // The oldest pages went: the first seven are no longer valid, the last thirteen are.
    assert!(!wsx(&s, p, va).valid);
    assert!(!wsx(&s, p, at(va, 6 * PS)).valid);
    assert!(wsx(&s, p, at(va, 7 * PS)).valid);
    // New faults replace the oldest page: the size stays at the maximum.
    touch(&s, p, va, 3);
    assert_eq!(pmc(&s, p).working_set_size, 13 * 4096);
    assert_eq!(pmc(&s, p).peak_working_set_size, 20 * 4096);
    // A maximum not a multiple of the page size counts whole pages.
    s.set_process_working_set_size(p, Handle::INVALID, 0x1000, 14 * 4096 + 0xFFF)
        .unwrap();
    touch(&s, p, va, 20);
    assert_eq!(pmc(&s, p).working_set_size, 14 * 4096);
    ok(&s);
}

#[test]
fn set_process_working_set_size_minus_one_twice_empties_the_working_set() {
    // [DOC] "If both dwMinimumWorkingSetSize and dwMaximumWorkingSetSize have the value
    // (SIZE_T)–1, the function removes as many pages as possible from the working set".
    let (s, p) = one();
    let va = commit(&s, p, 4);
    touch(&s, p, va, 4);
    s.set_process_working_set_size(p, Handle::INVALID, u64::MAX, u64::MAX)
        .unwrap();
    assert_eq!(pmc(&s, p).working_set_size, 0);
    // The limits are unchanged: all four pages fit again.
    touch(&s, p, va, 4);
    assert_eq!(pmc(&s, p).working_set_size, 4 * 4096);
    ok(&s);
}

#[test]
fn set_process_working_set_size_refuses_limits_out_of_range() {
    // [DOC] the minimum "must be greater than zero but less than or equal to the maximum"; the
    // maximum "must be greater than or equal to 13 pages". NtSetInformationProcess refuses them
    // with STATUS_BAD_WORKING_SET_LIMIT, which RtlNtStatusToDosError makes
    // ERROR_INVALID_PARAMETER.
    let (s, p) = one();
    let me = Handle::INVALID;
    assert_eq!(
        dos_error(NtStatus::STATUS_BAD_WORKING_SET_LIMIT),
        ERROR_INVALID_PARAMETER
    );
    for (min, max) in [
        (20 * 4096, 13 * 4096), // minimum above the maximum
        (0, 20 * 4096),         // a zero minimum
        (4096, 12 * 4096),      // a maximum under 13 pages
        (4096, 0),
        (u64::MAX, 20 * 4096), // only one of them (SIZE_T)-1
    ] {
        let e = err(&s, p, s.set_process_working_set_size(p, me, min, max));
        assert_eq!(e, ERROR_INVALID_PARAMETER, "({min:#x}, {max:#x})");
    }
    s.set_process_working_set_size(p, me, 4096, 13 * 4096)
        .unwrap();
    ok(&s);
}

// ---- access rights ------------------------------------------------------------------------------

#[test]
fn each_counter_call_needs_the_rights_windows_documents() {
    let s = sys();
    let a = s.create_process(None, false).unwrap();
    let b = s.create_process(None, false).unwrap();
    let with = |access: u32| s.open_process_access(a, access, false, b).unwrap();
    let va = commit(&s, b, 1);
    // [Wine psapi test_GetProcessMemoryInfo]: a PROCESS_QUERY_INFORMATION handle suffices on
    // Windows (no PROCESS_VM_READ); STANDARD_RIGHTS_REQUIRED is ERROR_ACCESS_DENIED; NULL is
    // ERROR_INVALID_HANDLE.
    s.get_process_memory_info(a, with(PROCESS_QUERY_INFORMATION))
        .unwrap();
    s.get_process_memory_info(a, with(PROCESS_QUERY_LIMITED_INFORMATION))
        .unwrap();
    let e = err(
        &s,
        a,
        s.get_process_memory_info(a, with(STANDARD_RIGHTS_REQUIRED)),
    );
    assert_eq!(e, ERROR_ACCESS_DENIED);
    let e = err(&s, a, s.get_process_memory_info(a, with(PROCESS_VM_READ)));
    assert_eq!(e, ERROR_ACCESS_DENIED);
    let e = err(&s, a, s.get_process_memory_info(a, Handle::NULL));
    assert_eq!(e, ERROR_INVALID_HANDLE);
    // [DOC] QueryWorkingSetEx: PROCESS_QUERY_INFORMATION.
    s.query_working_set_ex(a, with(PROCESS_QUERY_INFORMATION), va)
        .unwrap();
    let e = err(
        &s,
        a,
        s.query_working_set_ex(a, with(PROCESS_QUERY_LIMITED_INFORMATION), va),
    );
    assert_eq!(e, ERROR_ACCESS_DENIED);
    // [DOC] EmptyWorkingSet: PROCESS_QUERY_(LIMITED_)INFORMATION and PROCESS_SET_QUOTA;
    // [Wine psapi test_ws_functions]: NULL is ERROR_INVALID_HANDLE, STANDARD_RIGHTS_REQUIRED
    // ERROR_ACCESS_DENIED.
    s.empty_working_set(
        a,
        with(PROCESS_QUERY_LIMITED_INFORMATION | PROCESS_SET_QUOTA),
    )
    .unwrap();
    for access in [
        PROCESS_SET_QUOTA,
        PROCESS_QUERY_INFORMATION,
        STANDARD_RIGHTS_REQUIRED,
    ] {
        let e = err(&s, a, s.empty_working_set(a, with(access)));
        assert_eq!(e, ERROR_ACCESS_DENIED, "{access:#x}");
    }
    assert_eq!(
        err(&s, a, s.empty_working_set(a, Handle::NULL)),
        ERROR_INVALID_HANDLE
    );
    // [DOC] SetProcessWorkingSetSize: PROCESS_SET_QUOTA.
    s.set_process_working_set_size(a, with(PROCESS_SET_QUOTA), 4096, 20 * 4096)
        .unwrap();
    let e = err(
        &s,
        a,
        s.set_process_working_set_size(a, with(PROCESS_QUERY_INFORMATION), 4096, 20 * 4096),
    );
    assert_eq!(e, ERROR_ACCESS_DENIED);
    // [ntmm] NtmmFaultCounters asks what GetProcessMemoryInfo asks.
    s.ntmm_fault_counters(a, with(PROCESS_QUERY_LIMITED_INFORMATION))
        .unwrap();
    let e = err(&s, a, s.ntmm_fault_counters(a, with(PROCESS_VM_READ)));
    assert_eq!(e, ERROR_ACCESS_DENIED);
    // [ntmm] A process that has exited has no counters left: ERROR_ACCESS_DENIED, as every
    // memory call on it.
    let hb = with(PROCESS_ALL_ACCESS);
    s.exit_process(b).unwrap();
    assert_eq!(
        err(&s, a, s.get_process_memory_info(a, hb)),
        ERROR_ACCESS_DENIED
    );
    ok(&s);
}

// ---- NtmmIoCounters -----------------------------------------------------------------------------

#[test]
fn io_counters_count_page_reads_and_writes_of_files_and_the_pagefile_and_failures() {
    let (s, p) = one();
    let io0 = s.ntmm_io_counters();
    // §3.4: a hard fault on a file page reads one page.
    let h = rw_file(&s, p, "f.bin", &[3u8; 0x3000]);
    let m = s
        .create_file_mapping(p, h, false, PAGE_READWRITE, 0, 0, None)
        .unwrap();
    let v = s.map_view_of_file(p, m, FILE_MAP_WRITE, 0, 0, 0).unwrap();
    s.write_memory(p, v, b"changed").unwrap();
    assert_eq!(s.ntmm_io_counters().file_reads, io0.file_reads + 1);
    assert_eq!(faults(&s, p).hard_file, 1);
    // §4.6: the mapped page writer writes the modified page to its file.
    s.empty_working_set(p, Handle::INVALID).unwrap();
    s.executive().run_writers();
    assert_eq!(s.ntmm_io_counters().file_writes, io0.file_writes + 1);
    // A dirty private page goes to the pagefile (§4.6, modified page writer).
    let va = commit(&s, p, 1);
    s.write_memory(p, va, b"private").unwrap();
    s.empty_working_set(p, Handle::INVALID).unwrap();
    s.executive().run_writers();
    let io = s.ntmm_io_counters();
    assert_eq!(io.pagefile_writes, io0.pagefile_writes + 1);
    assert_eq!(io.pagefile_reads, io0.pagefile_reads);
    // While its frame is on standby, touching it again is a soft fault: nothing is read.
    assert_eq!(s.read_memory(p, va, 7).unwrap(), b"private");
    assert_eq!(faults(&s, p).transition, 1);
    assert_eq!(s.ntmm_io_counters().pagefile_reads, io0.pagefile_reads);
    // A failed page read is counted as an error, and as no read.
    s.inject_file_fault("f.bin", IoKind::Read, 2, FaultDuration::Once)
        .unwrap();
    let before = s.ntmm_io_counters();
    assert_eq!(
        raised(s.executive().vmm().read(p, at(v, 2 * PS), &mut [0u8; 1])),
        ExceptionKind::InPageError(NtStatus::STATUS_DEVICE_DATA_ERROR)
    );
    let after = s.ntmm_io_counters();
    assert_eq!(after.errors, before.errors + 1);
    assert_eq!(after.file_reads, before.file_reads);
    assert_eq!(faults(&s, p).in_page_error, 1);
    ok(&s);
}

#[test]
fn a_hard_pagefile_fault_reads_one_page_from_the_pagefile() {
    // §3.5: a page whose frame was reused comes back from its pagefile slot: one page read,
    // counted as HardPagefile and in PageFaultCount.
    let s = machine(16, 64, 64);
    let p = s.create_process(None, false).unwrap();
    let va = commit(&s, p, 1);
    s.write_memory(p, va, b"private").unwrap();
    s.empty_working_set(p, Handle::INVALID).unwrap();
    s.executive().run_writers();
    // Use every frame: the standby copy is repurposed.
    let fill = commit(&s, p, 20);
    for i in 0..20 {
        s.write_memory(p, at(fill, i * PS), b"f").unwrap();
    }
    let io = s.ntmm_io_counters();
    let before = pmc(&s, p).page_fault_count;
    assert_eq!(s.read_memory(p, va, 7).unwrap(), b"private");
    assert_eq!(faults(&s, p).hard_pagefile, 1);
    assert_eq!(s.ntmm_io_counters().pagefile_reads, io.pagefile_reads + 1);
    assert_eq!(pmc(&s, p).page_fault_count, before + 1);
    lists_cover_every_frame(&s);
    ok(&s);
}

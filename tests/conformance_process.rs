//! Conformance: processes as handles and calls on another process — `GetCurrentProcess`,
//! `OpenProcess`, the process-handle rights each memory call needs, handles to exited
//! processes, `VirtualAllocEx`/`VirtualFreeEx`/`VirtualProtectEx`/`VirtualQueryEx`,
//! `ReadProcessMemory`/`WriteProcessMemory` (and `NtReadVirtualMemory`/`NtWriteVirtualMemory`),
//! `MapViewOfFile2`, `UnmapViewOfFile2`, `UnmapViewOfFileEx`.
//!
//! Sources: Wine `dlls/kernel32/tests/process.c` `test_OpenProcess` and `test_Handles`
//! ("[Wine test_OpenProcess]"), Wine `dlls/kernel32/tests/virtual.c` `test_VirtualAllocEx`
//! ("[Wine test_VirtualAllocEx]"), Microsoft's documentation of each function ("[DOC]"),
//! windows_facts.md (F-numbers), and where the references are silent the choices stated in
//! docs/SCENARIO.md's implementation notes and DESIGN.md ("[ntmm]").
#![allow(clippy::tests_outside_test_module)]

mod common;
use common::*;

const PS: u64 = 0x1000;

/// A system with a debugger `a` and a debuggee `b`; `hb` is `a`'s handle to `b` with `access`.
fn pair(access: u32) -> (System, AsId, AsId, Handle) {
    let s = sys();
    let a = s.create_process(None, false).unwrap();
    let b = s.create_process(None, false).unwrap();
    let hb = s.open_process_access(a, access, false, b).unwrap();
    (s, a, b, hb)
}

/// Committed read-write memory in `b`, allocated by `b` itself.
fn alloc_in(s: &System, b: AsId, size: u64) -> Va {
    s.virtual_alloc(b, None, size, MEM_RESERVE | MEM_COMMIT, PAGE_READWRITE)
        .unwrap()
}

// ---- processes as handles ---------------------------------------------------------------------

#[test]
fn get_current_process_is_the_all_ones_pseudo_handle() {
    // [Wine test_Handles]: GetCurrentProcess() == (HANDLE)~0.
    let (s, _) = one();
    assert_eq!(s.get_current_process(), Handle(u64::MAX));
    assert_eq!(s.get_current_process(), Handle::INVALID);
}

#[test]
fn the_pseudo_handle_works_in_every_process_call() {
    // [Wine test_VirtualAllocEx] allocates and frees in the same process through it.
    let (s, a) = one();
    let me = s.get_current_process();
    let p = s
        .virtual_alloc_ex(
            a,
            me,
            None,
            0x10000,
            MEM_RESERVE | MEM_COMMIT,
            PAGE_READWRITE,
        )
        .unwrap();
    let (r, n) = s.write_process_memory(a, me, p, b"self");
    r.unwrap();
    assert_eq!(n, Some(4));
    let (r, data) = s.read_process_memory(a, me, p, 4);
    r.unwrap();
    assert_eq!(data, b"self");
    assert_eq!(s.virtual_query_ex(a, me, p).unwrap().state, MEM_COMMIT);
    assert_eq!(
        s.virtual_protect_ex(a, me, p, PS, PAGE_READONLY).unwrap(),
        PAGE_READWRITE
    );
    s.virtual_free_ex(a, me, p, 0, MEM_RELEASE).unwrap();
    let h = anon(&s, a, PAGE_READWRITE, 0x10000, None).unwrap();
    let v = s
        .map_view_of_file2(a, h, me, 0, None, 0, 0, PAGE_READWRITE)
        .unwrap();
    s.unmap_view_of_file2(a, me, v, 0).unwrap();
    let d = s
        .duplicate_handle(a, me, h, me, 0, false, DUPLICATE_SAME_ACCESS)
        .unwrap();
    s.close_handle(a, d).unwrap();
    ok(&s);
}

#[test]
fn open_process_grants_exactly_the_access_asked_for() {
    // [DOC] OpenProcess; "Process Security and Access Rights": QUERY_INFORMATION brings
    // QUERY_LIMITED_INFORMATION with it.
    let (s, a, _, h) = pair(PROCESS_VM_READ);
    assert_eq!(s.handle_access(a, h).unwrap(), PROCESS_VM_READ);
    let b = s.process_of_handle(a, h).unwrap();
    let q = s
        .open_process_access(a, PROCESS_QUERY_INFORMATION, false, b)
        .unwrap();
    assert_eq!(
        s.handle_access(a, q).unwrap(),
        PROCESS_QUERY_INFORMATION | PROCESS_QUERY_LIMITED_INFORMATION
    );
    let all = s
        .open_process_access(a, PROCESS_ALL_ACCESS, true, b)
        .unwrap();
    assert_eq!(s.handle_access(a, all).unwrap(), PROCESS_ALL_ACCESS);
    let g = s.open_process_access(a, GENERIC_ALL, false, b).unwrap();
    assert_eq!(s.handle_access(a, g).unwrap(), PROCESS_ALL_ACCESS);
    assert_eq!(s.get_last_error(a), 0, "success leaves the last error");
    // The native form returns the same handle rights.
    let n = s.nt_open_process(a, PROCESS_VM_WRITE, false, b).unwrap();
    assert_eq!(s.handle_access(a, n).unwrap(), PROCESS_VM_WRITE);
    ok(&s);
}

#[test]
fn open_process_of_a_process_that_is_gone_is_invalid_parameter() {
    // [ntmm] NtOpenProcess of a client id that names no process: STATUS_INVALID_CID, which
    // RtlNtStatusToDosError turns into ERROR_INVALID_PARAMETER.
    let (s, a) = one();
    let b = s.create_process(None, false).unwrap();
    s.exit_process(b).unwrap();
    let e = err(
        &s,
        a,
        s.open_process_access(a, PROCESS_ALL_ACCESS, false, b),
    );
    assert_eq!(e, ERROR_INVALID_PARAMETER);
    assert_eq!(
        s.nt_open_process(a, PROCESS_ALL_ACCESS, false, b),
        Err(NtStatus::STATUS_INVALID_CID)
    );
}

#[test]
fn duplicate_handle_needs_process_dup_handle_on_both_process_handles() {
    // [DOC] DuplicateHandle: "The handle must have the PROCESS_DUP_HANDLE access right"
    // (hSourceProcessHandle and hTargetProcessHandle).
    let (s, a, b, read_only) = pair(PROCESS_VM_READ);
    let h = anon(&s, a, PAGE_READWRITE, 0x1000, None).unwrap();
    let me = s.get_current_process();
    let e = err(
        &s,
        a,
        s.duplicate_handle(a, me, h, read_only, 0, false, DUPLICATE_SAME_ACCESS),
    );
    assert_eq!(e, ERROR_ACCESS_DENIED);
    let dup = s
        .open_process_access(a, PROCESS_DUP_HANDLE, false, b)
        .unwrap();
    let hb = s
        .duplicate_handle(a, me, h, dup, 0, false, DUPLICATE_SAME_ACCESS)
        .unwrap();
    assert!(s.handle_access(b, hb).is_ok(), "the handle arrived in b");
    // Duplicating a process handle with new access maps it as OpenProcess does.
    let q = s
        .duplicate_handle(a, me, dup, me, PROCESS_QUERY_INFORMATION, false, 0)
        .unwrap();
    assert_eq!(
        s.handle_access(a, q).unwrap(),
        PROCESS_QUERY_INFORMATION | PROCESS_QUERY_LIMITED_INFORMATION
    );
    ok(&s);
}

// ---- the rights each call needs (Wine test_OpenProcess) -----------------------------------------

#[test]
fn virtual_alloc_ex_without_vm_operation_is_access_denied() {
    // [Wine test_OpenProcess]: PROCESS_ALL_ACCESS_NT4 & ~PROCESS_VM_OPERATION.
    let (s, a, b, h) = pair(0x000F_0FFF & !PROCESS_VM_OPERATION);
    let e = err(
        &s,
        a,
        s.virtual_alloc_ex(a, h, None, 0xFFFC, MEM_RESERVE, PAGE_NOACCESS),
    );
    assert_eq!(e, ERROR_ACCESS_DENIED);
    assert_eq!(
        s.nt_allocate_virtual_memory(a, h, None, 0xFFFC, MEM_RESERVE, PAGE_NOACCESS),
        Err(NtStatus::STATUS_ACCESS_DENIED)
    );
    // ... while PROCESS_VM_READ alone reads.
    let p = alloc_in(&s, b, 0x1000);
    s.write_memory(b, p, b"readable").unwrap();
    let (r, data) = s.read_process_memory(a, h, p, 8);
    r.unwrap();
    assert_eq!(data, b"readable");
    ok(&s);
}

#[test]
fn vm_operation_alone_allocates_but_neither_queries_nor_reads() {
    // [Wine test_OpenProcess]: OpenProcess(PROCESS_VM_OPERATION).
    let (s, a, _, h) = pair(PROCESS_VM_OPERATION);
    let p = s
        .virtual_alloc_ex(a, h, None, 0xFFFC, MEM_RESERVE, PAGE_NOACCESS)
        .unwrap();
    let e = err(&s, a, s.virtual_query_ex(a, h, p));
    assert_eq!(e, ERROR_ACCESS_DENIED);
    assert_eq!(
        s.nt_query_virtual_memory(a, h, p),
        Err(NtStatus::STATUS_ACCESS_DENIED)
    );
    s.set_last_error(a, 0xdead_beef);
    let (r, data) = s.read_process_memory(a, h, p, 8);
    assert_eq!(r, Err(Win32Error(ERROR_ACCESS_DENIED)));
    assert_eq!(s.get_last_error(a), ERROR_ACCESS_DENIED);
    assert!(data.is_empty(), "read_bytes == 0");
    let (st, data) = s.nt_read_virtual_memory(a, h, p, 8);
    assert_eq!((st, data.len()), (NtStatus::STATUS_ACCESS_DENIED, 0));
    ok(&s);
}

#[test]
fn query_information_queries_but_does_not_free() {
    // [Wine test_OpenProcess]: OpenProcess(PROCESS_QUERY_INFORMATION).
    let (s, a, b, h) = pair(PROCESS_QUERY_INFORMATION);
    let p = s
        .virtual_alloc(b, None, 0xFFFC, MEM_RESERVE, PAGE_NOACCESS)
        .unwrap();
    let m = s.virtual_query_ex(a, h, p).unwrap();
    assert_eq!(m.base_address, p.raw());
    assert_eq!(m.allocation_base, p.raw());
    assert_eq!(m.allocation_protect, PAGE_NOACCESS);
    assert_eq!(m.region_size, 0x10000);
    assert_eq!(m.state, MEM_RESERVE);
    assert_eq!(m.protect, 0, "NT reports Protect == 0 for reserved memory");
    assert_eq!(m.kind, MEM_PRIVATE);
    let e = err(&s, a, s.virtual_free_ex(a, h, p, 0, MEM_RELEASE));
    assert_eq!(e, ERROR_ACCESS_DENIED);
    assert_eq!(
        s.nt_free_virtual_memory(a, h, p, 0, MEM_RELEASE),
        Err(NtStatus::STATUS_ACCESS_DENIED)
    );
    ok(&s);
}

#[test]
fn query_limited_information_queries_on_windows_8_and_later() {
    // [Wine test_OpenProcess]: PROCESS_QUERY_LIMITED_INFORMATION — VirtualQueryEx succeeds
    // ("win8"), VirtualFreeEx is ERROR_ACCESS_DENIED.
    let (s, a, b, h) = pair(PROCESS_QUERY_LIMITED_INFORMATION);
    let p = s
        .virtual_alloc(b, None, 0xFFFC, MEM_RESERVE, PAGE_NOACCESS)
        .unwrap();
    let m = s.virtual_query_ex(a, h, p).unwrap();
    assert_eq!((m.state, m.protect, m.kind), (MEM_RESERVE, 0, MEM_PRIVATE));
    assert!(s.nt_query_virtual_memory(a, h, p).is_ok());
    let e = err(&s, a, s.virtual_free_ex(a, h, p, 0, MEM_RELEASE));
    assert_eq!(e, ERROR_ACCESS_DENIED);
}

#[test]
fn virtual_protect_ex_needs_vm_operation() {
    // [DOC] VirtualProtectEx: "The handle must have the PROCESS_VM_OPERATION access right."
    let (s, a, b, h) = pair(PROCESS_ALL_ACCESS & !PROCESS_VM_OPERATION);
    let p = alloc_in(&s, b, 0x1000);
    let e = err(&s, a, s.virtual_protect_ex(a, h, p, PS, PAGE_READONLY));
    assert_eq!(e, ERROR_ACCESS_DENIED);
    assert_eq!(
        s.nt_protect_virtual_memory(a, h, p, PS, PAGE_READONLY),
        Err(NtStatus::STATUS_ACCESS_DENIED)
    );
    assert_eq!(vq(&s, b, p).protect, PAGE_READWRITE, "unchanged");
}

#[test]
fn write_process_memory_needs_vm_write_and_vm_operation() {
    // [DOC] WriteProcessMemory: "The handle must have PROCESS_VM_WRITE and
    // PROCESS_VM_OPERATION access to the process."
    let (s, a, b, op_only) = pair(PROCESS_VM_OPERATION);
    let p = alloc_in(&s, b, 0x1000);
    let (r, n) = s.write_process_memory(a, op_only, p, b"x");
    assert_eq!(r, Err(Win32Error(ERROR_ACCESS_DENIED)));
    assert_eq!(n, Some(0), "NtWriteVirtualMemory ran and wrote 0");
    let write_only = s
        .open_process_access(a, PROCESS_VM_WRITE, false, b)
        .unwrap();
    let (r, n) = s.write_process_memory(a, write_only, p, b"x");
    assert_eq!(r, Err(Win32Error(ERROR_ACCESS_DENIED)));
    assert_eq!(n, None, "the protection step failed first: count untouched");
    // The native call needs PROCESS_VM_WRITE only.
    assert_eq!(
        s.nt_write_virtual_memory(a, write_only, p, b"native"),
        (NtStatus::STATUS_SUCCESS, 6)
    );
    assert_eq!(
        s.nt_write_virtual_memory(a, op_only, p, b"x"),
        (NtStatus::STATUS_ACCESS_DENIED, 0)
    );
    assert_eq!(s.read_memory(b, p, 6).unwrap(), b"native");
    ok(&s);
}

#[test]
fn read_process_memory_needs_vm_read() {
    // [DOC] ReadProcessMemory: "The handle must have PROCESS_VM_READ access to the process."
    let (s, a, b, h) = pair(PROCESS_ALL_ACCESS & !PROCESS_VM_READ);
    let p = alloc_in(&s, b, 0x1000);
    let (r, data) = s.read_process_memory(a, h, p, 4);
    assert_eq!(r, Err(Win32Error(ERROR_ACCESS_DENIED)));
    assert!(data.is_empty());
}

#[test]
fn map_and_unmap_into_another_process_need_vm_operation() {
    // [DOC] MapViewOfFile2, UnmapViewOfFile2: "The handle must have the PROCESS_VM_OPERATION
    // access mask"; NtMapViewOfSection/NtUnmapViewOfSection/NtFlushVirtualMemory likewise.
    let (s, a, b, h) = pair(PROCESS_ALL_ACCESS & !PROCESS_VM_OPERATION);
    let sec = anon(&s, a, PAGE_READWRITE, 0x10000, None).unwrap();
    let e = err(
        &s,
        a,
        s.map_view_of_file2(a, sec, h, 0, None, 0, 0, PAGE_READWRITE),
    );
    assert_eq!(e, ERROR_ACCESS_DENIED);
    assert_eq!(
        s.nt_map_view_of_section(a, sec, h, shared(PAGE_READWRITE)),
        Err(NtStatus::STATUS_ACCESS_DENIED)
    );
    let full = s.open_process(a, b).unwrap();
    let v = s
        .map_view_of_file2(a, sec, full, 0, None, 0, 0, PAGE_READWRITE)
        .unwrap();
    let e = err(&s, a, s.unmap_view_of_file2(a, h, v, 0));
    assert_eq!(e, ERROR_ACCESS_DENIED);
    assert_eq!(
        s.nt_unmap_view_of_section(a, h, v),
        Err(NtStatus::STATUS_ACCESS_DENIED)
    );
    assert_eq!(
        s.nt_flush_virtual_memory(a, h, v, 0),
        Err(NtStatus::STATUS_ACCESS_DENIED)
    );
    assert_eq!(vq(&s, b, v).kind, MEM_MAPPED, "still mapped");
    ok(&s);
}

// ---- bad handles -------------------------------------------------------------------------------

#[test]
fn a_null_process_handle_is_invalid_handle_everywhere() {
    // [Wine test_VirtualAllocEx]: VirtualAllocEx(NULL), VirtualFreeEx(NULL) →
    // ERROR_INVALID_HANDLE; F65 NtMapViewOfSection; F72 UnmapViewOfFile2(NULL).
    let (s, a) = one();
    let p = alloc_in(&s, a, 0x1000);
    let n = Handle::NULL;
    let invalid = ERROR_INVALID_HANDLE;
    assert_eq!(
        err(
            &s,
            a,
            s.virtual_alloc_ex(a, n, None, 0x1000, MEM_COMMIT, PAGE_READWRITE)
        ),
        invalid
    );
    assert_eq!(
        err(&s, a, s.virtual_free_ex(a, n, p, 0, MEM_RELEASE)),
        invalid
    );
    assert_eq!(
        err(&s, a, s.virtual_protect_ex(a, n, p, PS, PAGE_READONLY)),
        invalid
    );
    assert_eq!(err(&s, a, s.virtual_query_ex(a, n, p)), invalid);
    assert_eq!(
        s.read_process_memory(a, n, p, 1).0,
        Err(Win32Error(invalid))
    );
    assert_eq!(
        s.write_process_memory(a, n, p, b"x"),
        (Err(Win32Error(invalid)), None)
    );
    let sec = anon(&s, a, PAGE_READWRITE, 0x10000, None).unwrap();
    assert_eq!(
        err(
            &s,
            a,
            s.map_view_of_file2(a, sec, n, 0, None, 0, 0, PAGE_READWRITE)
        ),
        invalid
    );
    assert_eq!(err(&s, a, s.unmap_view_of_file2(a, n, p, 0)), invalid);
    assert_eq!(
        s.nt_read_virtual_memory(a, n, p, 1).0,
        NtStatus::STATUS_INVALID_HANDLE
    );
    assert_eq!(
        s.nt_write_virtual_memory(a, n, p, b"x").0,
        NtStatus::STATUS_INVALID_HANDLE
    );
}

#[test]
fn a_closed_or_wrong_type_handle_is_refused() {
    // [ntmm] ObReferenceObjectByHandle: a closed handle is STATUS_INVALID_HANDLE, a handle to
    // another type STATUS_OBJECT_TYPE_MISMATCH; both are ERROR_INVALID_HANDLE (error table).
    let (s, a, b, h) = pair(PROCESS_ALL_ACCESS);
    let p = alloc_in(&s, b, 0x1000);
    s.close_handle(a, h).unwrap();
    assert_eq!(
        err(&s, a, s.virtual_query_ex(a, h, p)),
        ERROR_INVALID_HANDLE
    );
    assert_eq!(
        s.nt_read_virtual_memory(a, h, p, 1).0,
        NtStatus::STATUS_INVALID_HANDLE
    );
    let sec = anon(&s, a, PAGE_READWRITE, 0x1000, None).unwrap();
    assert_eq!(
        err(&s, a, s.virtual_query_ex(a, sec, p)),
        ERROR_INVALID_HANDLE
    );
    assert_eq!(
        s.nt_allocate_virtual_memory(a, sec, None, 0x1000, MEM_COMMIT, PAGE_READWRITE),
        Err(NtStatus::STATUS_OBJECT_TYPE_MISMATCH)
    );
    assert_eq!(
        s.nt_write_virtual_memory(a, sec, p, b"x").0,
        NtStatus::STATUS_OBJECT_TYPE_MISMATCH
    );
}

// ---- a process that has exited ----------------------------------------------------------------

#[test]
fn a_handle_to_an_exited_process_stays_valid_and_memory_calls_fail() {
    // [ntmm] NT: the handle keeps the process object; its address space is gone, and the
    // memory manager refuses it with STATUS_PROCESS_IS_TERMINATING (ERROR_ACCESS_DENIED).
    let (s, a, b, h) = pair(PROCESS_ALL_ACCESS);
    let p = alloc_in(&s, b, 0x1000);
    let sec = anon(&s, a, PAGE_READWRITE, 0x10000, None).unwrap();
    s.exit_process(b).unwrap();
    assert_eq!(s.handle_access(a, h).unwrap(), PROCESS_ALL_ACCESS, "valid");
    let denied = ERROR_ACCESS_DENIED;
    assert_eq!(
        err(
            &s,
            a,
            s.virtual_alloc_ex(a, h, None, 0x1000, MEM_COMMIT, PAGE_READWRITE)
        ),
        denied
    );
    assert_eq!(
        err(&s, a, s.virtual_free_ex(a, h, p, 0, MEM_RELEASE)),
        denied
    );
    assert_eq!(
        err(&s, a, s.virtual_protect_ex(a, h, p, PS, PAGE_READONLY)),
        denied
    );
    assert_eq!(err(&s, a, s.virtual_query_ex(a, h, p)), denied);
    let (r, data) = s.read_process_memory(a, h, p, 4);
    assert_eq!((r, data.len()), (Err(Win32Error(denied)), 0));
    assert_eq!(
        s.write_process_memory(a, h, p, b"x"),
        (Err(Win32Error(denied)), None)
    );
    assert_eq!(
        err(
            &s,
            a,
            s.map_view_of_file2(a, sec, h, 0, None, 0, 0, PAGE_READWRITE)
        ),
        denied
    );
    assert_eq!(err(&s, a, s.unmap_view_of_file2(a, h, p, 0)), denied);
    let terminating = NtStatus::STATUS_PROCESS_IS_TERMINATING;
    assert_eq!(
        s.nt_allocate_virtual_memory(a, h, None, 0x1000, MEM_COMMIT, PAGE_READWRITE),
        Err(terminating)
    );
    assert_eq!(s.nt_query_virtual_memory(a, h, p), Err(terminating));
    assert_eq!(s.nt_read_virtual_memory(a, h, p, 4).0, terminating);
    assert_eq!(s.nt_write_virtual_memory(a, h, p, b"x").0, terminating);
    assert_eq!(
        s.nt_map_view_of_section(a, sec, h, shared(PAGE_READWRITE)),
        Err(terminating)
    );
    // A missing right is still the first thing refused.
    s.close_handle(a, h).unwrap();
    ok(&s);
}

#[test]
fn a_limited_handle_to_an_exited_process_is_refused_for_its_rights_first() {
    // [ntmm] ObReferenceObjectByHandle checks the rights before Mm looks at the process.
    let (s, a, b, h) = pair(PROCESS_VM_READ);
    s.exit_process(b).unwrap();
    assert_eq!(
        s.nt_allocate_virtual_memory(a, h, None, 0x1000, MEM_COMMIT, PAGE_READWRITE),
        Err(NtStatus::STATUS_ACCESS_DENIED)
    );
    assert_eq!(
        s.nt_read_virtual_memory(a, h, Va::new(0x10000), 4).0,
        NtStatus::STATUS_PROCESS_IS_TERMINATING
    );
}

// ---- VirtualAllocEx and friends (Wine test_VirtualAllocEx) -----------------------------------

#[test]
fn virtual_alloc_ex_write_and_read_round_trip() {
    // [Wine test_VirtualAllocEx]: VirtualAllocEx(MEM_COMMIT, PAGE_EXECUTE_READWRITE), write
    // 32 KiB, read it back, VirtualFreeEx(MEM_RELEASE).
    let (s, a, b, h) = pair(PROCESS_ALL_ACCESS);
    let p = s
        .virtual_alloc_ex(a, h, None, 1 << 15, MEM_COMMIT, PAGE_EXECUTE_READWRITE)
        .unwrap();
    let src: Vec<u8> = (0..1u32 << 15).map(|i| i as u8).collect();
    let (r, n) = s.write_process_memory(a, h, p, &src);
    r.unwrap();
    assert_eq!(n, Some(1 << 15));
    let (r, dst) = s.read_process_memory(a, h, p, 1 << 15);
    r.unwrap();
    assert_eq!(dst, src);
    assert_eq!(s.read_memory(b, p, 1 << 15).unwrap(), src, "in b itself");
    assert_eq!(
        s.nt_write_virtual_memory(a, h, p, &src),
        (NtStatus::STATUS_SUCCESS, 1 << 15)
    );
    let (st, dst) = s.nt_read_virtual_memory(a, h, p, 1 << 15);
    assert_eq!((st, dst == src), (NtStatus::STATUS_SUCCESS, true));
    s.virtual_free_ex(a, h, p, 0, MEM_RELEASE).unwrap();
    assert_eq!(vq(&s, b, p).state, MEM_FREE);
    ok(&s);
}

#[test]
fn zero_length_reads_and_writes_succeed_with_zero_bytes() {
    // [Wine test_VirtualAllocEx] "test 0 length".
    let (s, a, b, h) = pair(PROCESS_ALL_ACCESS);
    let p = alloc_in(&s, b, 0x1000);
    assert_eq!(s.write_process_memory(a, h, p, b""), (Ok(()), Some(0)));
    let (r, data) = s.read_process_memory(a, h, p, 0);
    assert_eq!((r, data.len()), (Ok(()), 0));
    assert_eq!(
        s.nt_write_virtual_memory(a, h, p, b""),
        (NtStatus::STATUS_SUCCESS, 0)
    );
    assert_eq!(
        s.nt_read_virtual_memory(a, h, p, 0),
        (NtStatus::STATUS_SUCCESS, vec![])
    );
}

#[test]
fn virtual_alloc_ex_argument_failures_match_virtual_alloc() {
    // [Wine test_VirtualAllocEx] "The following tests parallel those in test_VirtualAlloc()".
    let (s, a, _, h) = pair(PROCESS_ALL_ACCESS);
    let e = err(
        &s,
        a,
        s.virtual_alloc_ex(a, h, None, 0, MEM_RESERVE, PAGE_NOACCESS),
    );
    assert_eq!(e, ERROR_INVALID_PARAMETER, "zero size");
    let p = s
        .virtual_alloc_ex(a, h, None, 0xFFFC, MEM_RESERVE, PAGE_NOACCESS)
        .unwrap();
    let e = err(&s, a, s.virtual_protect_ex(a, h, p, 0xFFFC, PAGE_READONLY));
    assert_eq!(e, ERROR_INVALID_ADDRESS, "not committed");
    let q = s
        .virtual_alloc_ex(a, h, Some(p), 0x1000, MEM_COMMIT, PAGE_NOACCESS)
        .unwrap();
    assert_eq!(q, p);
    let m = s.virtual_query_ex(a, h, p).unwrap();
    assert_eq!(
        (m.region_size, m.state, m.protect, m.allocation_protect),
        (0x1000, MEM_COMMIT, PAGE_NOACCESS, PAGE_NOACCESS)
    );
    let e = err(&s, a, s.virtual_protect_ex(a, h, p, 0xFFFC, PAGE_READONLY));
    assert_eq!(e, ERROR_INVALID_ADDRESS, "not the whole range is committed");
    assert_eq!(
        s.virtual_protect_ex(a, h, p, 0x1000, PAGE_READONLY),
        Ok(PAGE_NOACCESS)
    );
    assert_eq!(
        s.virtual_protect_ex(a, h, p, 0x1000, PAGE_READWRITE),
        Ok(PAGE_READONLY)
    );
    assert_eq!(
        err(&s, a, s.virtual_free_ex(a, h, p, 0x10000, 0)),
        ERROR_INVALID_PARAMETER,
        "type 0"
    );
    s.virtual_free_ex(a, h, p, 0x10000, MEM_DECOMMIT).unwrap();
    assert_eq!(
        err(&s, a, s.virtual_free_ex(a, h, p, 1, MEM_RELEASE)),
        ERROR_INVALID_PARAMETER,
        "MEM_RELEASE needs size 0 (F141)"
    );
    s.virtual_free_ex(a, h, p, 0, MEM_RELEASE).unwrap();
    // Misaligned base for a reservation rounds down (F89-style); out of range is refused.
    let e = err(
        &s,
        a,
        s.virtual_query_ex(a, h, Va::new(0xFFFF_FFFF_FFFF_0000)),
    );
    assert_eq!(e, ERROR_INVALID_PARAMETER, "above user space");
    ok(&s);
}

// ---- ReadProcessMemory: partial copies --------------------------------------------------------

#[test]
fn a_read_into_an_inaccessible_page_is_a_partial_copy_with_the_count_read() {
    // [DOC] ReadProcessMemory: "The function fails if the requested read operation crosses
    // into an area of the process that is inaccessible." NtReadVirtualMemory returns
    // STATUS_PARTIAL_COPY with the bytes before it (Wine test_VirtualAllocEx: partial copies
    // of 0x2000 bytes; ERROR_PARTIAL_COPY on Windows 10 1607 and later).
    let (s, a, b, h) = pair(PROCESS_ALL_ACCESS);
    let p = alloc_in(&s, b, 0x3000);
    s.write_memory(b, p, &[0x5A; 0x2000]).unwrap();
    s.virtual_protect(b, at(p, 0x2000), PS, PAGE_NOACCESS)
        .unwrap();
    let (r, data) = s.read_process_memory(a, h, at(p, 0x1000), 0x2000);
    assert_eq!(r, Err(Win32Error(ERROR_PARTIAL_COPY)));
    assert_eq!(s.get_last_error(a), ERROR_PARTIAL_COPY);
    assert_eq!(data, vec![0x5A; 0x1000]);
    let (st, data) = s.nt_read_virtual_memory(a, h, at(p, 0x1800), 0x1000);
    assert_eq!((st, data.len()), (NtStatus::STATUS_PARTIAL_COPY, 0x800));
    // Starting on the inaccessible page: nothing.
    let (st, data) = s.nt_read_virtual_memory(a, h, at(p, 0x2000), 1);
    assert_eq!((st, data.len()), (NtStatus::STATUS_PARTIAL_COPY, 0));
}

#[test]
fn reserved_free_and_guard_pages_are_not_read_and_the_guard_stays() {
    // [ntmm] The copy stops at a page that is not committed or is a guard page; the guard is
    // left armed (the debuggee's own access still raises STATUS_GUARD_PAGE_VIOLATION).
    let (s, a, b, h) = pair(PROCESS_ALL_ACCESS);
    let r = s
        .virtual_alloc(b, None, 0x10000, MEM_RESERVE, PAGE_READWRITE)
        .unwrap();
    assert_eq!(
        s.nt_read_virtual_memory(a, h, r, 4),
        (NtStatus::STATUS_PARTIAL_COPY, vec![])
    );
    let g = s
        .virtual_alloc(b, None, 0x1000, MEM_COMMIT, PAGE_READWRITE | PAGE_GUARD)
        .unwrap();
    assert_eq!(
        s.nt_read_virtual_memory(a, h, g, 4),
        (NtStatus::STATUS_PARTIAL_COPY, vec![])
    );
    assert_eq!(
        s.nt_write_virtual_memory(a, h, g, b"x"),
        (NtStatus::STATUS_PARTIAL_COPY, 0)
    );
    assert_ne!(vq(&s, b, g).protect & PAGE_GUARD, 0, "still a guard page");
    assert_eq!(
        raised(s.read_memory(b, g, 1)),
        ExceptionKind::GuardPage,
        "b's own touch raises"
    );
    // Free memory.
    let (r2, d) = s.read_process_memory(a, h, Va::new(0x7FFF_0000_0000), 8);
    assert_eq!((r2, d.len()), (Err(Win32Error(ERROR_PARTIAL_COPY)), 0));
}

#[test]
fn a_range_leaving_user_space_is_an_access_violation() {
    // [ntmm] NtReadVirtualMemory/NtWriteVirtualMemory check the range against the highest user
    // address before copying: STATUS_ACCESS_VIOLATION (ERROR_NOACCESS), nothing copied.
    let (s, a, b, h) = pair(PROCESS_ALL_ACCESS);
    let p = alloc_in(&s, b, 0x1000);
    let (st, d) = s.nt_read_virtual_memory(a, h, p, u64::MAX);
    assert_eq!((st, d.len()), (NtStatus::STATUS_ACCESS_VIOLATION, 0));
    let (r, d) = s.read_process_memory(a, h, Va::new(0xFFFF_8000_0000_0000), 4);
    assert_eq!((r, d.len()), (Err(Win32Error(ERROR_NOACCESS)), 0));
    assert_eq!(
        s.nt_write_virtual_memory(a, h, Va::new(0x7FFF_FFFF_FFFF), b"xy"),
        (NtStatus::STATUS_ACCESS_VIOLATION, 0)
    );
}

#[test]
fn reading_demand_zero_memory_gives_zeros() {
    // [ntmm] §3.6: the copy resolves the target's faults as its own accesses would.
    let (s, a, b, h) = pair(PROCESS_VM_READ);
    let p = alloc_in(&s, b, 0x2000);
    let (r, d) = s.read_process_memory(a, h, p, 0x2000);
    r.unwrap();
    assert_eq!(d, vec![0; 0x2000]);
    ok(&s);
}

// ---- WriteProcessMemory and the page protection (Wine test_VirtualAllocEx) -------------------

#[test]
fn write_to_read_only_memory_fails_with_noaccess_and_leaves_the_count() {
    // [Wine test_VirtualAllocEx] "test readonly buffers": WriteProcessMemory fails with
    // ERROR_NOACCESS and bytes_written stays 0xdeadbeef; NtWriteVirtualMemory is
    // STATUS_PARTIAL_COPY with 0 bytes.
    let (s, a, b, h) = pair(PROCESS_ALL_ACCESS);
    let p = alloc_in(&s, b, 0x8000);
    s.virtual_protect_ex(a, h, p, 0x8000, PAGE_READONLY)
        .unwrap();
    let (r, n) = s.write_process_memory(a, h, p, &[1; 0x8000]);
    assert_eq!((r, n), (Err(Win32Error(ERROR_NOACCESS)), None));
    assert_eq!(s.get_last_error(a), ERROR_NOACCESS);
    assert_eq!(
        s.nt_write_virtual_memory(a, h, p, &[1; 0x8000]),
        (NtStatus::STATUS_PARTIAL_COPY, 0)
    );
    assert_eq!(
        s.read_memory(b, p, 4).unwrap(),
        vec![0; 4],
        "nothing written"
    );
    assert_eq!(vq(&s, b, p).protect, PAGE_READONLY, "protection unchanged");
    // A read-only mapped view is refused the same way.
    let sec = anon(&s, b, PAGE_READWRITE, 0x10000, None).unwrap();
    let v = s.map_view_of_file(b, sec, FILE_MAP_READ, 0, 0, 0).unwrap();
    let (r, n) = s.write_process_memory(a, h, v, b"x");
    assert_eq!((r, n), (Err(Win32Error(ERROR_NOACCESS)), None));
    ok(&s);
}

#[test]
fn write_to_execute_read_code_succeeds_and_restores_the_protection() {
    // [Wine test_VirtualAllocEx]: PAGE_EXECUTE_READ — WriteProcessMemory succeeds with all
    // bytes; NtWriteVirtualMemory alone is STATUS_PARTIAL_COPY with 0 bytes.
    let (s, a, b, h) = pair(PROCESS_ALL_ACCESS);
    let p = alloc_in(&s, b, 0x8000);
    s.virtual_protect_ex(a, h, p, 0x8000, PAGE_EXECUTE_READ)
        .unwrap();
    assert_eq!(
        s.nt_write_virtual_memory(a, h, p, &[7; 0x8000]),
        (NtStatus::STATUS_PARTIAL_COPY, 0)
    );
    let (r, n) = s.write_process_memory(a, h, p, &[7; 0x8000]);
    assert_eq!((r, n), (Ok(()), Some(0x8000)));
    assert_eq!(s.read_memory(b, at(p, 0x7FFF), 1).unwrap(), vec![7]);
    let m = vq(&s, b, p);
    assert_eq!(
        (m.protect, m.region_size),
        (PAGE_EXECUTE_READ, 0x8000),
        "given back, one region"
    );
    ok(&s);
}

#[test]
fn a_write_that_runs_from_writable_into_unwritable_pages_is_partial() {
    // [Wine test_VirtualAllocEx]: 0x2000 bytes PAGE_EXECUTE_READWRITE then PAGE_EXECUTE_READ
    // (and then PAGE_READONLY): WriteProcessMemory fails (Windows 10 1511 and later);
    // NtWriteVirtualMemory is STATUS_PARTIAL_COPY with 0x2000 bytes.
    let (s, a, b, h) = pair(PROCESS_ALL_ACCESS);
    let p = alloc_in(&s, b, 0x8000);
    s.virtual_protect_ex(a, h, p, 0x8000, PAGE_EXECUTE_READ)
        .unwrap();
    s.virtual_protect_ex(a, h, p, 0x2000, PAGE_EXECUTE_READWRITE)
        .unwrap();
    let (r, n) = s.write_process_memory(a, h, p, &[3; 0x8000]);
    assert_eq!((r, n), (Err(Win32Error(ERROR_PARTIAL_COPY)), Some(0x2000)));
    assert_eq!(
        s.nt_write_virtual_memory(a, h, p, &[3; 0x8000]),
        (NtStatus::STATUS_PARTIAL_COPY, 0x2000)
    );
    s.virtual_protect_ex(a, h, at(p, 0x2000), 0x6000, PAGE_READONLY)
        .unwrap();
    let (r, n) = s.write_process_memory(a, h, p, &[3; 0x8000]);
    assert_eq!((r, n), (Err(Win32Error(ERROR_PARTIAL_COPY)), Some(0x2000)));
    assert_eq!(s.read_memory(b, at(p, 0x1FFF), 2).unwrap(), vec![3, 0]);
}

#[test]
fn reserved_and_free_memory_is_not_written() {
    // [ntmm] A target page that is not committed: WriteProcessMemory's protection check
    // finds nothing writable (ERROR_NOACCESS); NtWriteVirtualMemory copies nothing.
    let (s, a, b, h) = pair(PROCESS_ALL_ACCESS);
    let r = s
        .virtual_alloc(b, None, 0x10000, MEM_RESERVE, PAGE_READWRITE)
        .unwrap();
    assert_eq!(
        s.write_process_memory(a, h, r, b"x"),
        (Err(Win32Error(ERROR_NOACCESS)), None)
    );
    assert_eq!(
        s.nt_write_virtual_memory(a, h, r, b"x"),
        (NtStatus::STATUS_PARTIAL_COPY, 0)
    );
    assert_eq!(
        s.write_process_memory(a, h, Va::new(0x7FFF_0000_0000), b"x"),
        (Err(Win32Error(ERROR_NOACCESS)), None)
    );
}

#[test]
fn a_write_through_a_copy_on_write_view_stays_private_to_the_target() {
    // §3.7: writing a PAGE_WRITECOPY page makes the target's private copy; the section and
    // other views keep the shared page.
    let (s, a, b, h) = pair(PROCESS_ALL_ACCESS);
    let sec = anon(&s, a, PAGE_READWRITE, 0x10000, Some("cow")).unwrap();
    let va = s.map_view_of_file(a, sec, FILE_MAP_WRITE, 0, 0, 0).unwrap();
    s.write_memory(a, va, b"shared").unwrap();
    let hb = s.open_file_mapping(b, FILE_MAP_READ, false, "cow").unwrap();
    let vb = s.map_view_of_file(b, hb, FILE_MAP_COPY, 0, 0, 0).unwrap();
    let (r, n) = s.write_process_memory(a, h, vb, b"PRIVATE");
    assert_eq!((r, n), (Ok(()), Some(7)));
    assert_eq!(s.read_memory(b, vb, 7).unwrap(), b"PRIVATE");
    assert_eq!(s.read_memory(a, va, 6).unwrap(), b"shared");
    ok(&s);
}

// ---- MapViewOfFile2, UnmapViewOfFile2, UnmapViewOfFileEx ---------------------------------------

#[test]
fn map_view_of_file2_maps_into_another_process() {
    // F67: a view mapped into another process reads the section's contents there, and
    // ReadProcessMemory from that process returns them. [DOC] MapViewOfFile2: PageProtection
    // is a page protection.
    let (s, a, b, h) = pair(PROCESS_ALL_ACCESS);
    let f = rw_file(&s, a, "data.bin", b"file contents");
    let sec = s
        .create_file_mapping(a, f, false, PAGE_READWRITE, 0, 0, None)
        .unwrap();
    let v = s
        .map_view_of_file2(a, sec, h, 0, None, 0, 0, PAGE_READONLY)
        .unwrap();
    assert_eq!(v.raw() % 0x10000, 0, "64 KiB aligned (F67)");
    assert_eq!(s.read_memory(b, v, 13).unwrap(), b"file contents");
    let (r, d) = s.read_process_memory(a, h, v, 13);
    r.unwrap();
    assert_eq!(d, b"file contents");
    let m = vq(&s, b, v);
    assert_eq!((m.kind, m.protect), (MEM_MAPPED, PAGE_READONLY));
    assert_eq!(
        raised(s.write_memory(b, v, b"x")),
        ExceptionKind::AccessViolation
    );
    s.unmap_view_of_file2(a, h, v, 0).unwrap();
    assert_eq!(vq(&s, b, v).state, MEM_FREE);
    ok(&s);
}

#[test]
fn map_view_of_file2_checks_offset_protection_and_section_rights() {
    // F54 offset alignment, F51 an invalid protection, F48 the section handle's rights.
    let (s, a, _, h) = pair(PROCESS_ALL_ACCESS);
    let sec = anon(&s, a, PAGE_READWRITE, 0x20000, Some("m2")).unwrap();
    assert_eq!(
        err(
            &s,
            a,
            s.map_view_of_file2(a, sec, h, 0x1000, None, 0, 0, PAGE_READWRITE)
        ),
        ERROR_MAPPED_ALIGNMENT
    );
    assert_eq!(
        err(&s, a, s.map_view_of_file2(a, sec, h, 0, None, 0, 0, 0)),
        ERROR_INVALID_PARAMETER
    );
    assert_eq!(
        err(
            &s,
            a,
            s.map_view_of_file2(
                a,
                sec,
                h,
                0,
                Some(Va::new(0x1_0001_0000 + 0x1000)),
                0,
                0,
                PAGE_READWRITE
            )
        ),
        ERROR_MAPPED_ALIGNMENT,
        "a base that is not 64 KiB aligned (F56)"
    );
    let ro = s.open_file_mapping(a, FILE_MAP_READ, false, "m2").unwrap();
    assert_eq!(
        err(
            &s,
            a,
            s.map_view_of_file2(a, ro, h, 0, None, 0, 0, PAGE_READWRITE)
        ),
        ERROR_ACCESS_DENIED
    );
    let v = s
        .map_view_of_file2(a, ro, h, 0x10000, None, 0x10000, 0, PAGE_READONLY)
        .unwrap();
    assert_eq!(s.virtual_query_ex(a, h, v).unwrap().region_size, 0x10000);
    ok(&s);
}

#[test]
fn unmap_view_of_file2_flags() {
    // F71: MEM_PRESERVE_PLACEHOLDER on an ordinary view is ERROR_INVALID_ADDRESS (the view stays);
    // F72: other flag bits are ERROR_INVALID_PARAMETER, MEM_UNMAP_WITH_TRANSIENT_BOOST is accepted;
    // F112: an address that is not a view is ERROR_INVALID_ADDRESS.
    let (s, a, b, h) = pair(PROCESS_ALL_ACCESS);
    let sec = anon(&s, a, PAGE_READWRITE, 0x10000, None).unwrap();
    let v = s
        .map_view_of_file2(a, sec, h, 0, None, 0, 0, PAGE_READWRITE)
        .unwrap();
    assert_eq!(
        err(
            &s,
            a,
            s.unmap_view_of_file2(a, h, v, MEM_PRESERVE_PLACEHOLDER)
        ),
        ERROR_INVALID_ADDRESS
    );
    assert_eq!(vq(&s, b, v).kind, MEM_MAPPED, "still mapped");
    assert_eq!(
        err(
            &s,
            a,
            s.unmap_view_of_file2(a, h, v, MEM_RELEASE | MEM_PRESERVE_PLACEHOLDER)
        ),
        ERROR_INVALID_PARAMETER
    );
    assert_eq!(
        err(&s, a, s.unmap_view_of_file2(a, h, v, 4)),
        ERROR_INVALID_PARAMETER
    );
    let p = alloc_in(&s, b, 0x1000);
    assert_eq!(
        err(&s, a, s.unmap_view_of_file2(a, h, p, 0)),
        ERROR_INVALID_ADDRESS
    );
    s.unmap_view_of_file2(a, h, v, MEM_UNMAP_WITH_TRANSIENT_BOOST)
        .unwrap();
    assert_eq!(vq(&s, b, v).state, MEM_FREE);
    ok(&s);
}

#[test]
fn unmap_view_of_file_ex_unmaps_in_the_caller() {
    // [DOC] UnmapViewOfFileEx(BaseAddress, UnmapFlags); F71 for MEM_PRESERVE_PLACEHOLDER.
    let (s, a) = one();
    let sec = anon(&s, a, PAGE_READWRITE, 0x10000, None).unwrap();
    let v = s.map_view_of_file(a, sec, FILE_MAP_WRITE, 0, 0, 0).unwrap();
    assert_eq!(
        err(
            &s,
            a,
            s.unmap_view_of_file_ex(a, v, MEM_PRESERVE_PLACEHOLDER)
        ),
        ERROR_INVALID_ADDRESS
    );
    assert_eq!(
        err(&s, a, s.unmap_view_of_file_ex(a, v, 0x8)),
        ERROR_INVALID_PARAMETER
    );
    s.unmap_view_of_file_ex(a, v, 0).unwrap();
    assert_eq!(vq(&s, a, v).state, MEM_FREE);
    assert_eq!(
        err(&s, a, s.unmap_view_of_file_ex(a, v, 0)),
        ERROR_INVALID_ADDRESS,
        "F112"
    );
}

#[test]
fn a_write_into_another_process_view_is_seen_through_every_view() {
    // F108: views of one section share its pages, in every process.
    let (s, a, _, h) = pair(PROCESS_ALL_ACCESS);
    let sec = anon(&s, a, PAGE_READWRITE, 0x10000, None).unwrap();
    let mine = s.map_view_of_file(a, sec, FILE_MAP_READ, 0, 0, 0).unwrap();
    let theirs = s
        .map_view_of_file2(a, sec, h, 0, None, 0, 0, PAGE_READWRITE)
        .unwrap();
    let (r, n) = s.write_process_memory(a, h, at(theirs, 0x1234), b"through b");
    assert_eq!((r, n), (Ok(()), Some(9)));
    assert_eq!(s.read_memory(a, at(mine, 0x1234), 9).unwrap(), b"through b");
    ok(&s);
}

//! Model-based test of the whole stack through the Win32 facade: random call sequences over 1–4
//! processes — pagefile- and file-backed sections, named and unnamed, read-only, read-write,
//! copy-on-write and no-access views, reads and writes, trims, writer runs, flushes, file reads
//! and writes, handle closes and process exits, and calls on another process (views mapped
//! into it with `MapViewOfFile2`, `ReadProcessMemory`/`WriteProcessMemory` through handles of
//! assorted rights), ring buffers in placeholders (`VirtualAlloc2`, `MapViewOfFile3`,
//! `UnmapViewOfFile2`) — on machines from 8 to 4096 frames, checked call
//! by call against a flat reference model, with every invariant checked after every call.
//!
//! Each process may also load the image `app.dll` (the contract's example: headers, `.text` rx,
//! `.data` rw copy-on-write, `.shared` rws) with `LoadLibrary`, read and write it page by page
//! and unload it with `FreeLibrary`: code pages raise on a write, `.data` is private to each
//! process, `.shared` is one page for every process that has the image loaded and starts again
//! from the file once no process does (the image control area died, F134, §6.2).
//!
//! 50,000 calls by default (250 sequences of 200). `NTMM_MODEL_CALLS=1000000 cargo test
//! --release --test model_api` runs a soak of that many calls.
#![allow(clippy::tests_outside_test_module)]

mod common;
use common::*;
use proptest::prelude::*;
use std::collections::BTreeMap;

const STEPS: usize = 200;
const FILES: usize = 2;
const FILE_BYTES: usize = 3 * 4096 + 77;
const NAMES: usize = 3;
const PS: u64 = 4096;

fn cases() -> u32 {
    scaled_cases("NTMM_MODEL_CALLS", 50_000, STEPS)
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Kind {
    Ro,
    Rw,
    Copy,
    NoAccess,
}

impl Kind {
    /// The page protection of a view of this kind (`MapViewOfFile2`, `MapViewOfFile3`).
    fn protection(self) -> u32 {
        match self {
            Kind::Ro => PAGE_READONLY,
            Kind::Rw => PAGE_READWRITE,
            Kind::Copy => PAGE_WRITECOPY,
            Kind::NoAccess => PAGE_NOACCESS,
        }
    }
    fn access(self) -> u32 {
        match self {
            Kind::Ro => FILE_MAP_READ,
            Kind::Rw => FILE_MAP_WRITE,
            Kind::Copy => FILE_MAP_COPY,
            Kind::NoAccess => 0,
        }
    }
}

#[derive(Clone, Debug)]
enum Op {
    CreateAnon {
        p: usize,
        pages: u64,
        name: Option<usize>,
        rw: bool,
        /// Through NtCreateSection (the NT name, OBJ_OPENIF) instead of CreateFileMapping.
        native: bool,
    },
    CreateFileSection {
        p: usize,
        file: usize,
        rw: bool,
    },
    OpenNamed {
        p: usize,
        name: usize,
        write: bool,
        native: bool,
    },
    Map {
        p: usize,
        h: usize,
        kind: Kind,
        /// `Some(q)`: NtMapViewOfSection into process q (through a process handle).
        native: Option<usize>,
    },
    Unmap {
        v: usize,
        native: bool,
    },
    Read {
        v: usize,
        off: u64,
        len: usize,
    },
    Write {
        v: usize,
        off: u64,
        len: usize,
        byte: u8,
    },
    Trim {
        p: usize,
    },
    Writers,
    Flush {
        v: usize,
        native: bool,
    },
    FileRead {
        p: usize,
        file: usize,
        off: u64,
        len: usize,
    },
    FileWrite {
        p: usize,
        file: usize,
        off: u64,
        len: usize,
        byte: u8,
    },
    Close {
        p: usize,
        h: usize,
        native: bool,
    },
    Exit {
        p: usize,
    },
    /// `ReadProcessMemory` of a view, from process `by`, through a handle with `XRIGHTS[rights]`.
    XRead {
        by: usize,
        v: usize,
        off: u64,
        len: usize,
        rights: usize,
    },
    /// `WriteProcessMemory` into a view, from process `by`.
    XWrite {
        by: usize,
        v: usize,
        off: u64,
        len: usize,
        byte: u8,
        rights: usize,
    },
    /// `MapViewOfFile2` of a section handle of `by` into process `p`.
    MapInto {
        by: usize,
        p: usize,
        h: usize,
        kind: Kind,
    },
    /// `LoadLibrary("app.dll")` in process `p`.
    ImageLoad {
        p: usize,
    },
    /// `FreeLibrary` of the image's base in process `p`.
    ImageFree {
        p: usize,
    },
    /// A read of the image in `p`, inside one page of its sections (pages 1–4).
    ImageRead {
        p: usize,
        page: u64,
        off: u64,
        len: usize,
    },
    /// A write to the image in `p`, inside one page of its sections.
    ImageWrite {
        p: usize,
        page: u64,
        off: u64,
        len: usize,
        byte: u8,
    },
    /// `QueryWorkingSetEx` of one page in every view of its object, and `GetProcessMemoryInfo`
    /// of the view's process, checked against the model's views.
    Counters {
        v: usize,
        off: u64,
    },
    /// A ring buffer (F68–F70): a placeholder of twice the section's size in process `p`,
    /// split in two, the section mapped into both halves with
    /// `MapViewOfFile3(MEM_REPLACE_PLACEHOLDER)`; refused views leave the placeholders, which
    /// are coalesced and released.
    Ring {
        p: usize,
        h: usize,
        kind: Kind,
    },
    /// `UnmapViewOfFile2(MEM_PRESERVE_PLACEHOLDER)`: a view that replaced a placeholder
    /// becomes it again (F72); any other view stays, `ERROR_INVALID_ADDRESS` (F71).
    UnmapToPlaceholder {
        v: usize,
    },
    /// `VirtualFree(MEM_RELEASE)` of a placeholder a view went back to.
    ReleasePlaceholder {
        i: usize,
    },
}

/// The process-handle rights the cross-process calls are tried with.
const XRIGHTS: [u32; 5] = [
    PROCESS_ALL_ACCESS,
    PROCESS_VM_READ,
    PROCESS_VM_WRITE | PROCESS_VM_OPERATION,
    PROCESS_VM_OPERATION,
    PROCESS_QUERY_INFORMATION,
];

fn op() -> impl Strategy<Value = Op> {
    let kind = prop_oneof![3 => Just(Kind::Rw), 2 => Just(Kind::Ro), 2 => Just(Kind::Copy), 1 => Just(Kind::NoAccess)];
    prop_oneof![
        3 => (0usize..4, 1u64..4, proptest::option::of(0..NAMES), any::<bool>(), any::<bool>()).prop_map(|(p, pages, name, rw, native)| Op::CreateAnon { p, pages, name, rw, native }),
        2 => (0usize..4, 0..FILES, any::<bool>()).prop_map(|(p, file, rw)| Op::CreateFileSection { p, file, rw }),
        2 => (0usize..4, 0..NAMES, any::<bool>(), any::<bool>()).prop_map(|(p, name, write, native)| Op::OpenNamed { p, name, write, native }),
        5 => (0usize..4, any::<usize>(), kind.clone(), proptest::option::of(0usize..4)).prop_map(|(p, h, kind, native)| Op::Map { p, h, kind, native }),
        2 => (any::<usize>(), any::<bool>()).prop_map(|(v, native)| Op::Unmap { v, native }),
        6 => (any::<usize>(), 0u64..4 * PS, 1usize..6000).prop_map(|(v, off, len)| Op::Read { v, off, len }),
        7 => (any::<usize>(), 0u64..4 * PS, 1usize..6000, any::<u8>()).prop_map(|(v, off, len, byte)| Op::Write { v, off, len, byte }),
        2 => (0usize..4).prop_map(|p| Op::Trim { p }),
        1 => Just(Op::Writers),
        2 => (any::<usize>(), any::<bool>()).prop_map(|(v, native)| Op::Flush { v, native }),
        3 => (0usize..4, 0..FILES, 0u64..FILE_BYTES as u64, 1usize..5000).prop_map(|(p, file, off, len)| Op::FileRead { p, file, off, len }),
        3 => (0usize..4, 0..FILES, 0u64..FILE_BYTES as u64, 1usize..5000, any::<u8>()).prop_map(|(p, file, off, len, byte)| Op::FileWrite { p, file, off, len, byte }),
        2 => (0usize..4, any::<usize>(), any::<bool>()).prop_map(|(p, h, native)| Op::Close { p, h, native }),
        1 => (0usize..4).prop_map(|p| Op::Exit { p }),
        3 => (0usize..4, any::<usize>(), 0u64..4 * PS, 1usize..6000, 0..XRIGHTS.len()).prop_map(|(by, v, off, len, rights)| Op::XRead { by, v, off, len, rights }),
        3 => (0usize..4, any::<usize>(), 0u64..4 * PS, 1usize..6000, any::<u8>(), 0..XRIGHTS.len()).prop_map(|(by, v, off, len, byte, rights)| Op::XWrite { by, v, off, len, byte, rights }),
        2 => (0usize..4, 0usize..4, any::<usize>(), kind.clone()).prop_map(|(by, p, h, kind)| Op::MapInto { by, p, h, kind }),
        2 => (any::<usize>(), 0u64..4 * PS).prop_map(|(v, off)| Op::Counters { v, off }),
        2 => (0usize..4, any::<usize>(), kind.clone()).prop_map(|(p, h, kind)| Op::Ring { p, h, kind }),
        2 => any::<usize>().prop_map(|v| Op::UnmapToPlaceholder { v }),
        1 => any::<usize>().prop_map(|i| Op::ReleasePlaceholder { i }),
        2 => (0usize..4).prop_map(|p| Op::ImageLoad { p }),
        1 => (0usize..4).prop_map(|p| Op::ImageFree { p }),
        3 => (0usize..4, 1u64..5, 0u64..PS, 1usize..PS as usize).prop_map(|(p, page, off, len)| Op::ImageRead { p, page, off, len }),
        3 => (0usize..4, 1u64..5, 0u64..PS, 1usize..64, any::<u8>()).prop_map(|(p, page, off, len, byte)| Op::ImageWrite { p, page, off, len, byte }),
    ]
}

/// The image every process may load: the contract's example.
const IMAGE: &str = "app.dll";
const IMAGE_BASE: u64 = 0x1_8000_0000;
const TEXT: &[u8] = b"code bytes";
const SHARED: &[u8] = b"shared between processes";

fn write_image(s: &System) {
    use ntmm::api::section::image::{ImageSectionSpec, ImageSpec};
    let sec = |name: &str, flags: &str, data: &[u8], size| ImageSectionSpec {
        name: name.into(),
        read: flags.contains('r'),
        write: flags.contains('w'),
        execute: flags.contains('x'),
        shared: flags.contains('s'),
        data: data.to_vec(),
        virtual_size: size,
    };
    s.write_image(
        IMAGE,
        &ImageSpec {
            base: IMAGE_BASE,
            sections: vec![
                sec(".text", "rx", TEXT, None),
                sec(".data", "rw", b"", Some(0x2000)),
                sec(".shared", "rws", SHARED, None),
            ],
        },
    )
    .unwrap();
}

/// A page of raw data as the image maps it: the bytes, then zeros.
fn page_of(bytes: &[u8]) -> Vec<u8> {
    let mut v = bytes.to_vec();
    v.resize(PS as usize, 0);
    v
}

/// The image as one process sees it: its load count and its private `.data` (two pages,
/// zeros until written: copy-on-write of demand-zero pages).
struct MImage {
    count: u32,
    data: Vec<u8>,
}

/// What the model expects at image page `page` (1–4), offset `off`, in process `p`.
fn image_byte(images: &[Option<MImage>], shared: &[u8], p: usize, page: u64, off: u64) -> u8 {
    match page {
        1 => page_of(TEXT)[off as usize],
        2 | 3 => images[p]
            .as_ref()
            .map_or(0, |i| i.data[((page - 2) * PS + off) as usize]),
        _ => shared[off as usize],
    }
}

struct MHandle {
    h: Handle,
    obj: usize,
    read: bool,
    write: bool,
    name: Option<usize>,
}

struct MView {
    p: usize,
    base: Va,
    obj: usize,
    size: u64,
    kind: Kind,
    copies: BTreeMap<u64, Vec<u8>>,
    /// Mapped into a placeholder (`MEM_REPLACE_PLACEHOLDER`).
    placeholder: bool,
}

struct Obj {
    bytes: Vec<u8>,
    /// The section protection allows writable views.
    writable: bool,
}

struct Proc {
    pid: AsId,
    files: [Handle; FILES],
    handles: Vec<MHandle>,
}

struct Model {
    objs: Vec<Obj>,
    names: BTreeMap<usize, usize>,
    views: Vec<MView>,
    /// Placeholders views went back to: (process, base, bytes).
    placeholders: Vec<(usize, Va, u64)>,
}

impl Model {
    fn byte(&self, v: &MView, off: u64) -> u8 {
        match v.copies.get(&(off / PS)) {
            Some(c) => c[(off % PS) as usize],
            None => self.objs[v.obj]
                .bytes
                .get(off as usize)
                .copied()
                .unwrap_or(0),
        }
    }
    fn store(&mut self, vi: usize, off: u64, data: &[u8]) {
        for (i, b) in data.iter().enumerate() {
            let o = off + i as u64;
            let pg = o / PS;
            if self.views[vi].kind == Kind::Copy && !self.views[vi].copies.contains_key(&pg) {
                let copy: Vec<u8> = (0..PS)
                    .map(|k| self.byte(&self.views[vi], pg * PS + k))
                    .collect();
                self.views[vi].copies.insert(pg, copy);
            }
            let v = &mut self.views[vi];
            if let Some(c) = v.copies.get_mut(&pg) {
                c[(o % PS) as usize] = *b;
            } else if let Some(x) = self.objs[v.obj].bytes.get_mut(o as usize) {
                *x = *b;
            }
        }
    }
}

fn file_bytes(i: usize) -> Vec<u8> {
    (0..FILE_BYTES)
        .map(|k| ((k * 13 + i * 101) % 251) as u8)
        .collect()
}

fn path(i: usize) -> String {
    format!("model{i}.bin")
}

fn name(i: usize) -> String {
    format!("Local\\model-{i}")
}

/// The NT name of `name(i)` (session 1's local directory).
fn nt_name(i: usize) -> String {
    format!("\\Sessions\\1\\BaseNamedObjects\\model-{i}")
}

/// A native status as the Win32 error it becomes (to compare with the model's Win32 rules).
fn as_win32<T>(r: Result<T, NtStatus>) -> Result<T, Win32Error> {
    r.map_err(|s| Win32Error(dos_error(s)))
}

fn new_proc(s: &System) -> Proc {
    let pid = s.create_process(None, false).unwrap();
    let files = std::array::from_fn(|i| {
        s.create_file(
            pid,
            &path(i),
            GENERIC_READ | GENERIC_WRITE,
            7,
            false,
            OPEN_EXISTING,
            0,
        )
        .unwrap()
    });
    Proc {
        pid,
        files,
        handles: Vec::new(),
    }
}

fn check(s: &System) -> Result<(), TestCaseError> {
    s.check_invariants().map_err(TestCaseError::fail)
}

fn close_view_and_handles(m: &mut Model, procs: &mut [Proc], p: usize) {
    m.views.retain(|v| v.p != p);
    m.placeholders.retain(|x| x.0 != p);
    procs[p].handles.clear();
    let live: std::collections::BTreeSet<usize> = procs
        .iter()
        .flat_map(|q| q.handles.iter().filter_map(|h| h.name))
        .collect();
    m.names.retain(|n, _| live.contains(n));
}

fn run(frames: u32, ws: u64, nprocs: usize, ops: Vec<Op>) -> Result<(), TestCaseError> {
    let s = common::machine(frames, 4096, ws);
    let mut m = Model {
        objs: Vec::new(),
        names: BTreeMap::new(),
        views: Vec::new(),
        placeholders: Vec::new(),
    };
    for i in 0..FILES {
        s.create_volume_file(&path(i), &file_bytes(i)).unwrap();
        m.objs.push(Obj {
            bytes: file_bytes(i),
            writable: true,
        });
    }
    let mut procs: Vec<Proc> = (0..nprocs).map(|_| new_proc(&s)).collect();
    write_image(&s);
    let mut images: Vec<Option<MImage>> = (0..nprocs).map(|_| None).collect();
    let mut shared = page_of(SHARED);

    for op in ops {
        match op {
            Op::CreateAnon {
                p,
                pages,
                name: n,
                rw,
                native,
            } => {
                let p = p % nprocs;
                let prot = if rw { PAGE_READWRITE } else { PAGE_READONLY };
                let existing = n.and_then(|n| m.names.get(&n).copied());
                let h = if native {
                    s.set_last_error(procs[p].pid, 0xDEAD);
                    let nt = n.map(nt_name);
                    let (h, st) = s
                        .nt_create_section_attributes(
                            procs[p].pid,
                            ObjectAttributes {
                                name: nt.as_deref(),
                                inherit: false,
                                open_if: true,
                            },
                            NtCreateSectionArgs {
                                access: section_rights_for_protection(prot),
                                maximum_size: pages * PS,
                                protection: prot,
                                attributes: SEC_COMMIT,
                                ..NtCreateSectionArgs::default()
                            },
                        )
                        .map_err(|e| TestCaseError::fail(format!("NtCreateSection: {e:?}")))?;
                    prop_assert_eq!(
                        st,
                        if existing.is_some() {
                            NtStatus::STATUS_OBJECT_NAME_EXISTS
                        } else {
                            NtStatus::STATUS_SUCCESS
                        }
                    );
                    prop_assert_eq!(s.get_last_error(procs[p].pid), 0xDEAD);
                    h
                } else {
                    let r = s.create_file_mapping(
                        procs[p].pid,
                        Handle::INVALID,
                        false,
                        prot,
                        0,
                        (pages * PS) as u32,
                        n.map(name).as_deref(),
                    );
                    let h =
                        r.map_err(|e| TestCaseError::fail(format!("CreateFileMapping: {e}")))?;
                    prop_assert_eq!(
                        s.get_last_error(procs[p].pid),
                        if existing.is_some() {
                            ERROR_ALREADY_EXISTS
                        } else {
                            ERROR_SUCCESS
                        }
                    );
                    h
                };
                let obj = match existing {
                    Some(o) => o,
                    None => {
                        m.objs.push(Obj {
                            bytes: vec![0; (pages * PS) as usize],
                            writable: rw,
                        });
                        m.objs.len() - 1
                    }
                };
                if let Some(n) = n {
                    m.names.insert(n, obj);
                }
                procs[p].handles.push(MHandle {
                    h,
                    obj,
                    read: true,
                    write: rw,
                    name: n,
                });
            }
            Op::CreateFileSection { p, file, rw } => {
                let p = p % nprocs;
                let prot = if rw { PAGE_READWRITE } else { PAGE_READONLY };
                let h = s
                    .create_file_mapping(
                        procs[p].pid,
                        procs[p].files[file],
                        false,
                        prot,
                        0,
                        0,
                        None,
                    )
                    .map_err(|e| TestCaseError::fail(format!("file mapping: {e}")))?;
                procs[p].handles.push(MHandle {
                    h,
                    obj: file,
                    read: true,
                    write: rw,
                    name: None,
                });
            }
            Op::OpenNamed {
                p,
                name: n,
                write,
                native,
            } => {
                let p = p % nprocs;
                let access = if write {
                    FILE_MAP_READ | FILE_MAP_WRITE
                } else {
                    FILE_MAP_READ
                };
                let r = if native {
                    let nt = nt_name(n);
                    as_win32(s.nt_open_section_attributes(
                        procs[p].pid,
                        access,
                        Some(ObjectAttributes {
                            name: Some(&nt),
                            ..ObjectAttributes::default()
                        }),
                    ))
                } else {
                    s.open_file_mapping(procs[p].pid, access, false, &name(n))
                };
                match m.names.get(&n).copied() {
                    Some(obj) => {
                        let h =
                            r.map_err(|e| TestCaseError::fail(format!("OpenFileMapping: {e}")))?;
                        procs[p].handles.push(MHandle {
                            h,
                            obj,
                            read: true,
                            write,
                            name: Some(n),
                        });
                    }
                    None => prop_assert_eq!(r.unwrap_err().0, ERROR_FILE_NOT_FOUND),
                }
            }
            Op::Map { p, h, kind, native } => {
                let p = p % nprocs;
                if procs[p].handles.is_empty() {
                    continue;
                }
                let mh = &procs[p].handles[h % procs[p].handles.len()];
                let (hh, obj) = (mh.h, mh.obj);
                let rights_ok = mh.read && (kind != Kind::Rw || mh.write);
                let ceiling_ok = kind != Kind::Rw || m.objs[obj].writable;
                // The native form maps into process `into` through a process handle (F67), with
                // the protection MapViewOfFile would derive (F47).
                let (r, into) = match native {
                    Some(q) => {
                        let q = q % nprocs;
                        let ph = s.open_process(procs[p].pid, procs[q].pid).unwrap();
                        let args = NtMapViewArgs {
                            inherit: VIEW_SHARE,
                            protection: view_protection(kind.access()),
                            ..NtMapViewArgs::default()
                        };
                        let r = as_win32(s.nt_map_view_of_section(procs[p].pid, hh, ph, args));
                        s.close_handle(procs[p].pid, ph).unwrap();
                        (r.map(|(va, _)| va), q)
                    }
                    None => (
                        s.map_view_of_file(procs[p].pid, hh, kind.access(), 0, 0, 0),
                        p,
                    ),
                };
                match (rights_ok, ceiling_ok) {
                    (true, true) => {
                        let base = r.map_err(|e| {
                            TestCaseError::fail(format!("MapViewOfFile {kind:?}: {e}"))
                        })?;
                        let size = m.objs[obj].bytes.len() as u64;
                        m.views.push(MView {
                            p: into,
                            base,
                            obj,
                            size,
                            kind,
                            copies: BTreeMap::new(),
                            placeholder: false,
                        });
                    }
                    (false, _) => prop_assert_eq!(r.unwrap_err().0, ERROR_ACCESS_DENIED),
                    (true, false) => prop_assert_eq!(r.unwrap_err().0, ERROR_INVALID_PARAMETER),
                }
            }
            Op::Unmap { v, native } => {
                if m.views.is_empty() {
                    continue;
                }
                let view = m.views.remove(v % m.views.len());
                let (pid, va) = (procs[view.p].pid, at(view.base, view.size / 2));
                if native {
                    // F136: two addresses of one view are the same mapped file.
                    prop_assert_eq!(
                        s.nt_are_mapped_files_the_same(pid, view.base, va),
                        NtStatus::STATUS_SUCCESS
                    );
                    s.nt_unmap_view_of_section(pid, Handle::INVALID, va)
                        .map_err(|e| TestCaseError::fail(format!("NtUnmapViewOfSection: {e:?}")))?;
                } else {
                    s.unmap_view_of_file(pid, va)
                        .map_err(|e| TestCaseError::fail(format!("unmap: {e}")))?;
                }
            }
            Op::Read { v, off, len } => {
                if m.views.is_empty() {
                    continue;
                }
                let view = &m.views[v % m.views.len()];
                let off = off % view.size;
                let len = len.min((view.size - off) as usize);
                let r = s.read_memory(procs[view.p].pid, at(view.base, off), len);
                if view.kind == Kind::NoAccess {
                    prop_assert_eq!(raised(r), ExceptionKind::AccessViolation);
                } else {
                    let got = r.map_err(|e| TestCaseError::fail(format!("read: {e}")))?;
                    let want: Vec<u8> = (0..len as u64).map(|k| m.byte(view, off + k)).collect();
                    prop_assert!(got == want, "view read differs");
                }
            }
            Op::Write { v, off, len, byte } => {
                if m.views.is_empty() {
                    continue;
                }
                let vi = v % m.views.len();
                let (p, base, size, kind) = {
                    let x = &m.views[vi];
                    (x.p, x.base, x.size, x.kind)
                };
                let off = off % size;
                let data = vec![byte; len.min((size - off) as usize)];
                let r = s.write_memory(procs[p].pid, at(base, off), &data);
                if matches!(kind, Kind::Ro | Kind::NoAccess) {
                    prop_assert_eq!(raised(r), ExceptionKind::AccessViolation);
                } else {
                    r.map_err(|e| TestCaseError::fail(format!("write: {e}")))?;
                    m.store(vi, off, &data);
                }
            }
            Op::Trim { p } => {
                s.executive().trim(procs[p % nprocs].pid).unwrap();
            }
            Op::Writers => {
                prop_assert!(s.executive().run_writers().errors.is_empty());
            }
            Op::Counters { v, off } => {
                if m.views.is_empty() {
                    continue;
                }
                let view = &m.views[v % m.views.len()];
                let (obj, page) = (view.obj, (off % view.size) / PS);
                // Every view of the object that covers the page: a view page that still maps the
                // object is shareable (Shared = 1, valid or not); a copy-on-write view's page
                // with a private copy is not.
                let mut seen = Vec::new();
                for w in m
                    .views
                    .iter()
                    .filter(|w| w.obj == obj && page * PS < w.size)
                {
                    let b = s
                        .query_working_set_ex(
                            procs[w.p].pid,
                            Handle::INVALID,
                            at(w.base, page * PS),
                        )
                        .unwrap();
                    let copied = w.copies.contains_key(&page);
                    prop_assert_eq!(
                        b.shared,
                        !copied,
                        "Shared of a view page (copied: {})",
                        copied
                    );
                    if !b.valid {
                        prop_assert_eq!((b.share_count, b.win32_protection), (0, 0));
                    }
                    seen.push(b);
                }
                // §4.3: the frame's share count is the number of valid PTEs that map it — here,
                // the model's views of that page that are resident (saturating at 7).
                let resident = seen.iter().filter(|b| b.valid && b.shared).count() as u8;
                for b in seen.iter().filter(|b| b.valid && b.shared) {
                    prop_assert_eq!(b.share_count, resident.min(7));
                }
                // The process's working set is its views' resident pages (the model's processes
                // have no other memory), in bytes.
                let pid = procs[view.p].pid;
                let mut valid = 0;
                for w in m.views.iter().filter(|w| w.p == view.p) {
                    for k in 0..w.size.div_ceil(PS) {
                        valid += u64::from(
                            s.query_working_set_ex(pid, Handle::INVALID, at(w.base, k * PS))
                                .unwrap()
                                .valid,
                        );
                    }
                }
                if images[view.p].is_some() {
                    for k in 0..5 {
                        valid += u64::from(
                            s.query_working_set_ex(
                                pid,
                                Handle::INVALID,
                                Va::new(IMAGE_BASE + k * PS),
                            )
                            .unwrap()
                            .valid,
                        );
                    }
                }
                let c = s.get_process_memory_info(pid, Handle::INVALID).unwrap();
                prop_assert_eq!(c.working_set_size, valid * 4096);
                prop_assert!(c.peak_working_set_size >= c.working_set_size);
            }
            Op::Flush { v, native } => {
                if m.views.is_empty() {
                    continue;
                }
                let view = &m.views[v % m.views.len()];
                if native {
                    // §5.2: a pagefile-backed view has no data to flush.
                    match s.nt_flush_virtual_memory(
                        procs[view.p].pid,
                        Handle::INVALID,
                        view.base,
                        0,
                    ) {
                        Ok(_) => prop_assert!(view.obj < FILES, "flushed a pagefile view"),
                        Err(NtStatus::STATUS_NOT_MAPPED_DATA) => prop_assert!(view.obj >= FILES),
                        Err(e) => return Err(TestCaseError::fail(format!("NtFlush: {e:?}"))),
                    }
                } else {
                    s.flush_view_of_file(procs[view.p].pid, view.base, 0)
                        .map_err(|e| TestCaseError::fail(format!("flush: {e}")))?;
                }
            }
            Op::FileRead { p, file, off, len } => {
                let pr = &procs[p % nprocs];
                s.set_file_pointer(pr.pid, pr.files[file], off as i32, None, FILE_BEGIN)
                    .unwrap();
                let got = s.read_file(pr.pid, pr.files[file], len).unwrap();
                let end = (off as usize + len).min(FILE_BYTES);
                prop_assert!(
                    got[..] == m.objs[file].bytes[off as usize..end],
                    "ReadFile differs"
                );
            }
            Op::FileWrite {
                p,
                file,
                off,
                len,
                byte,
            } => {
                let pr = &procs[p % nprocs];
                let len = len.min(FILE_BYTES - off as usize);
                s.set_file_pointer(pr.pid, pr.files[file], off as i32, None, FILE_BEGIN)
                    .unwrap();
                prop_assert_eq!(
                    s.write_file(pr.pid, pr.files[file], &vec![byte; len])
                        .unwrap() as usize,
                    len
                );
                m.objs[file].bytes[off as usize..off as usize + len].fill(byte);
            }
            Op::Close { p, h, native } => {
                let p = p % nprocs;
                if procs[p].handles.is_empty() {
                    continue;
                }
                let idx = h % procs[p].handles.len();
                let mh = procs[p].handles.remove(idx);
                if native {
                    s.nt_close(procs[p].pid, mh.h).unwrap();
                } else {
                    s.close_handle(procs[p].pid, mh.h).unwrap();
                }
                if let Some(n) = mh.name {
                    let still = procs
                        .iter()
                        .any(|q| q.handles.iter().any(|x| x.name == Some(n)));
                    if !still {
                        m.names.remove(&n);
                    }
                }
            }
            Op::Exit { p } => {
                let p = p % nprocs;
                s.exit_process(procs[p].pid).unwrap();
                close_view_and_handles(&mut m, &mut procs, p);
                procs[p] = new_proc(&s);
                images[p] = None;
                if images.iter().all(Option::is_none) {
                    shared = page_of(SHARED);
                }
            }
            Op::ImageLoad { p } => {
                let p = p % nprocs;
                let base = s
                    .load_library(procs[p].pid, IMAGE)
                    .map_err(|e| TestCaseError::fail(format!("LoadLibrary: {e}")))?;
                prop_assert_eq!(base.raw(), IMAGE_BASE, "the image base is always free here");
                let q = s.virtual_query(procs[p].pid, at(base, 0x4000)).unwrap();
                prop_assert_eq!((q.kind, q.protect), (MEM_IMAGE, PAGE_READWRITE));
                match &mut images[p] {
                    Some(i) => i.count += 1,
                    None => {
                        images[p] = Some(MImage {
                            count: 1,
                            data: vec![0; 2 * PS as usize],
                        })
                    }
                }
            }
            Op::ImageFree { p } => {
                let p = p % nprocs;
                let r = s.free_library(procs[p].pid, Va::new(IMAGE_BASE));
                match &mut images[p] {
                    None => prop_assert_eq!(r.unwrap_err().0, ERROR_MOD_NOT_FOUND),
                    Some(i) => {
                        r.map_err(|e| TestCaseError::fail(format!("FreeLibrary: {e}")))?;
                        i.count -= 1;
                        if i.count == 0 {
                            images[p] = None;
                            if images.iter().all(Option::is_none) {
                                shared = page_of(SHARED);
                            }
                        }
                    }
                }
            }
            Op::ImageRead { p, page, off, len } => {
                let p = p % nprocs;
                if images[p].is_none() {
                    continue;
                }
                let len = len.min((PS - off) as usize);
                let va = Va::new(IMAGE_BASE + page * PS + off);
                let got = s
                    .read_memory(procs[p].pid, va, len)
                    .map_err(|e| TestCaseError::fail(format!("image read: {e}")))?;
                let want: Vec<u8> = (0..len as u64)
                    .map(|k| image_byte(&images, &shared, p, page, off + k))
                    .collect();
                prop_assert!(got == want, "image page {} read differs", page);
            }
            Op::ImageWrite {
                p,
                page,
                off,
                len,
                byte,
            } => {
                let p = p % nprocs;
                let Some(img) = images[p].as_mut() else {
                    continue;
                };
                let len = len.min((PS - off) as usize);
                let va = Va::new(IMAGE_BASE + page * PS + off);
                let r = s.write_memory(procs[p].pid, va, &vec![byte; len]);
                match page {
                    1 => prop_assert_eq!(raised(r), ExceptionKind::AccessViolation),
                    2 | 3 => {
                        r.map_err(|e| TestCaseError::fail(format!("image write: {e}")))?;
                        let at = ((page - 2) * PS + off) as usize;
                        img.data[at..at + len].fill(byte);
                    }
                    _ => {
                        r.map_err(|e| TestCaseError::fail(format!("image write: {e}")))?;
                        shared[off as usize..off as usize + len].fill(byte);
                    }
                }
            }
            Op::XRead {
                by,
                v,
                off,
                len,
                rights,
            } => {
                if m.views.is_empty() {
                    continue;
                }
                let view = &m.views[v % m.views.len()];
                let (by, access) = (procs[by % nprocs].pid, XRIGHTS[rights]);
                let hp = s
                    .open_process_access(by, access, false, procs[view.p].pid)
                    .unwrap();
                let off = off % view.size;
                let len = len.min((view.size - off) as usize);
                let (r, got) = s.read_process_memory(by, hp, at(view.base, off), len as u64);
                if access & PROCESS_VM_READ == 0 {
                    prop_assert_eq!(r, Err(Win32Error(ERROR_ACCESS_DENIED)));
                    prop_assert!(got.is_empty());
                } else if view.kind == Kind::NoAccess {
                    prop_assert_eq!(r, Err(Win32Error(ERROR_PARTIAL_COPY)));
                    prop_assert!(got.is_empty());
                } else {
                    prop_assert_eq!(r, Ok(()));
                    let want: Vec<u8> = (0..len as u64).map(|k| m.byte(view, off + k)).collect();
                    prop_assert!(got == want, "ReadProcessMemory differs from the model");
                }
                s.close_handle(by, hp).unwrap();
            }
            Op::XWrite {
                by,
                v,
                off,
                len,
                byte,
                rights,
            } => {
                if m.views.is_empty() {
                    continue;
                }
                let vi = v % m.views.len();
                let (p, base, size, kind) = {
                    let x = &m.views[vi];
                    (x.p, x.base, x.size, x.kind)
                };
                let (by, access) = (procs[by % nprocs].pid, XRIGHTS[rights]);
                let hp = s
                    .open_process_access(by, access, false, procs[p].pid)
                    .unwrap();
                let off = off % size;
                let data = vec![byte; len.min((size - off) as usize)];
                let (r, n) = s.write_process_memory(by, hp, at(base, off), &data);
                if access & PROCESS_VM_OPERATION == 0 {
                    prop_assert_eq!((r, n), (Err(Win32Error(ERROR_ACCESS_DENIED)), None));
                } else if matches!(kind, Kind::Ro | Kind::NoAccess) {
                    prop_assert_eq!((r, n), (Err(Win32Error(ERROR_NOACCESS)), None));
                } else if access & PROCESS_VM_WRITE == 0 {
                    prop_assert_eq!((r, n), (Err(Win32Error(ERROR_ACCESS_DENIED)), Some(0)));
                } else {
                    prop_assert_eq!((r, n), (Ok(()), Some(data.len() as u64)));
                    m.store(vi, off, &data);
                }
                s.close_handle(by, hp).unwrap();
            }
            Op::MapInto { by, p, h, kind } => {
                let (by, p) = (by % nprocs, p % nprocs);
                if procs[by].handles.is_empty() {
                    continue;
                }
                let mh = &procs[by].handles[h % procs[by].handles.len()];
                let (hh, obj) = (mh.h, mh.obj);
                let rights_ok = mh.read && (kind != Kind::Rw || mh.write);
                let ceiling_ok = kind != Kind::Rw || m.objs[obj].writable;
                let protection = kind.protection();
                let hp = s.open_process(procs[by].pid, procs[p].pid).unwrap();
                let r = s.map_view_of_file2(procs[by].pid, hh, hp, 0, None, 0, 0, protection);
                s.close_handle(procs[by].pid, hp).unwrap();
                match (rights_ok, ceiling_ok) {
                    (true, true) => {
                        let base = r.map_err(|e| {
                            TestCaseError::fail(format!("MapViewOfFile2 {kind:?}: {e}"))
                        })?;
                        let size = m.objs[obj].bytes.len() as u64;
                        m.views.push(MView {
                            p,
                            base,
                            obj,
                            size,
                            kind,
                            copies: BTreeMap::new(),
                            placeholder: false,
                        });
                    }
                    (false, _) => prop_assert_eq!(r.unwrap_err().0, ERROR_ACCESS_DENIED),
                    (true, false) => prop_assert_eq!(r.unwrap_err().0, ERROR_INVALID_PARAMETER),
                }
            }
            Op::Ring { p, h, kind } => {
                let p = p % nprocs;
                if procs[p].handles.is_empty() {
                    continue;
                }
                let mh = &procs[p].handles[h % procs[p].handles.len()];
                let (hh, obj) = (mh.h, mh.obj);
                let rights_ok = mh.read && (kind != Kind::Rw || mh.write);
                let ceiling_ok = kind != Kind::Rw || m.objs[obj].writable;
                let bytes = m.objs[obj].bytes.len() as u64;
                let size = bytes.div_ceil(PS) * PS;
                let pid = procs[p].pid;
                let fail = |what: &str, e: Win32Error| TestCaseError::fail(format!("{what}: {e}"));
                let r = s
                    .virtual_alloc2(
                        pid,
                        Handle::NULL,
                        None,
                        2 * size,
                        MEM_RESERVE | MEM_RESERVE_PLACEHOLDER,
                        PAGE_NOACCESS,
                    )
                    .map_err(|e| fail("VirtualAlloc2", e))?;
                s.virtual_free(pid, r, size, MEM_RELEASE | MEM_PRESERVE_PLACEHOLDER)
                    .map_err(|e| fail("split", e))?;
                let map3 = |base: Va| {
                    s.map_view_of_file3(
                        pid,
                        hh,
                        Handle::NULL,
                        Some(base),
                        0,
                        0,
                        MEM_REPLACE_PLACEHOLDER,
                        kind.protection(),
                    )
                };
                let v1 = map3(r);
                match (rights_ok, ceiling_ok) {
                    (true, true) => {
                        let v1 = v1.map_err(|e| fail("MapViewOfFile3", e))?;
                        let v2 = map3(at(r, size)).map_err(|e| fail("MapViewOfFile3", e))?;
                        prop_assert_eq!((v1, v2), (r, at(r, size)), "F70");
                        for base in [v1, v2] {
                            m.views.push(MView {
                                p,
                                base,
                                obj,
                                size: bytes,
                                kind,
                                copies: BTreeMap::new(),
                                placeholder: true,
                            });
                        }
                    }
                    (ok, _) => {
                        prop_assert_eq!(
                            v1.unwrap_err().0,
                            if ok {
                                ERROR_INVALID_PARAMETER
                            } else {
                                ERROR_ACCESS_DENIED
                            }
                        );
                        s.virtual_free(pid, r, 2 * size, MEM_RELEASE | MEM_COALESCE_PLACEHOLDERS)
                            .map_err(|e| fail("coalesce", e))?;
                        let q = s.virtual_query(pid, r).unwrap();
                        prop_assert_eq!(
                            (q.state, q.kind, q.region_size),
                            (MEM_RESERVE, MEM_PRIVATE, 2 * size)
                        );
                        s.virtual_free(pid, r, 0, MEM_RELEASE)
                            .map_err(|e| fail("release", e))?;
                    }
                }
            }
            Op::UnmapToPlaceholder { v } => {
                if m.views.is_empty() {
                    continue;
                }
                let vi = v % m.views.len();
                let (p, base, size, placeholder) = {
                    let view = &m.views[vi];
                    (view.p, view.base, view.size, view.placeholder)
                };
                let pid = procs[p].pid;
                let r = s.unmap_view_of_file2(pid, Handle::INVALID, base, MEM_PRESERVE_PLACEHOLDER);
                if placeholder {
                    prop_assert_eq!(r, Ok(()), "F72");
                    m.views.remove(vi);
                    let bytes = size.div_ceil(PS) * PS;
                    let q = s.virtual_query(pid, base).unwrap();
                    prop_assert_eq!(
                        (q.state, q.kind, q.allocation_protect, q.region_size),
                        (MEM_RESERVE, MEM_PRIVATE, PAGE_NOACCESS, bytes),
                        "F72: a placeholder again"
                    );
                    m.placeholders.push((p, base, bytes));
                } else {
                    prop_assert_eq!(r, Err(Win32Error(ERROR_INVALID_ADDRESS)), "F71");
                }
            }
            Op::ReleasePlaceholder { i } => {
                if m.placeholders.is_empty() {
                    continue;
                }
                let (p, base, _) = m.placeholders.remove(i % m.placeholders.len());
                let pid = procs[p].pid;
                prop_assert_eq!(s.virtual_free(pid, base, 0, MEM_RELEASE), Ok(()));
                prop_assert_eq!(s.virtual_query(pid, base).unwrap().state, MEM_FREE);
            }
        }
        check(&s)?;
    }

    // Every view reads what the model says; with every view and handle gone and the writers
    // run, each file on disk equals its model bytes.
    for view in &m.views {
        if view.kind == Kind::NoAccess {
            continue;
        }
        let got = s
            .read_memory(procs[view.p].pid, view.base, view.size as usize)
            .unwrap();
        let want: Vec<u8> = (0..view.size).map(|k| m.byte(view, k)).collect();
        prop_assert!(got == want, "final view read differs");
    }
    for p in 0..nprocs {
        s.exit_process(procs[p].pid).unwrap();
        close_view_and_handles(&mut m, &mut procs, p);
    }
    prop_assert!(s.executive().run_writers().errors.is_empty());
    for i in 0..FILES {
        prop_assert!(
            s.read_disk(&path(i)).unwrap() == m.objs[i].bytes,
            "file {} on disk differs",
            i
        );
    }
    check(&s)?;
    prop_assert!(
        s.executive().control_areas().iter().all(|c| c.parked),
        "only cached file data remains"
    );
    Ok(())
}

fn machine() -> impl Strategy<Value = (u32, u64)> {
    prop_oneof![
        3 => Just((8u32, 4u64)),
        2 => Just((12, 6)),
        2 => Just((16, 8)),
        2 => Just((64, 16)),
        1 => Just((256, 64)),
        1 => Just((4096, 1024)),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(cases()))]

    #[test]
    fn model_win32_calls_agree_with_the_flat_model(mach in machine(), nprocs in 1usize..=4, ops in prop::collection::vec(op(), STEPS)) {
        run(mach.0, mach.1, nprocs, ops)?;
    }
}

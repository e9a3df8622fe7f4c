//! Model-based property test: random machine-level operation sequences (map a region to a
//! segment, read, write, trim, run writers, flush, cached I/O, unmap; two address spaces sharing
//! segments) on 8–64 frames, checked against a flat byte model, with `check_invariants()` after
//! every step.
//!
//! The model: one byte array per segment (its logical contents), one per private region, and
//! for each copy-on-write view the private copies of the pages it has stored to.
#![allow(clippy::tests_outside_test_module)]

mod common;
use common::*;
use ntmm_vmm::*;
use proptest::prelude::*;
use std::collections::BTreeMap;

const SEG_PAGES: u64 = 6;
const SEGS: usize = 3; // 0, 1: pagefile-backed; 2: file-backed
const PS: usize = PAGE_SIZE as usize;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum ViewProt {
    ReadWrite,
    ReadOnly,
    CopyOnWrite,
}

#[derive(Clone, Debug)]
enum Op {
    Map {
        space: usize,
        seg: usize,
        first: u64,
        pages: u64,
        prot: ViewProt,
    },
    AllocPrivate {
        space: usize,
        pages: u64,
    },
    Unmap {
        view: usize,
    },
    Read {
        view: usize,
        offset: u64,
        len: usize,
    },
    Write {
        view: usize,
        offset: u64,
        len: usize,
        byte: u8,
    },
    Write64 {
        view: usize,
        offset: u64,
        value: u64,
    },
    Trim {
        space: usize,
    },
    TrimAll,
    Writers,
    Flush {
        view: usize,
    },
    SegRead {
        seg: usize,
        offset: u64,
        len: usize,
    },
    SegWrite {
        seg: usize,
        offset: u64,
        len: usize,
        byte: u8,
    },
    Protect {
        view: usize,
        page: u64,
        read_only: bool,
    },
    /// Changes a segment behind the model's back (never generated: proves the runner can fail).
    Sabotage {
        seg: usize,
        offset: u64,
    },
}

fn op() -> impl Strategy<Value = Op> {
    let prot = prop_oneof![
        3 => Just(ViewProt::ReadWrite),
        1 => Just(ViewProt::ReadOnly),
        2 => Just(ViewProt::CopyOnWrite)
    ];
    prop_oneof![
        3 => (0usize..2, 0usize..SEGS, 0u64..SEG_PAGES, 1u64..=SEG_PAGES, prot)
            .prop_map(|(space, seg, first, pages, prot)| Op::Map { space, seg, first, pages: pages.min(SEG_PAGES - first), prot }),
        1 => (0usize..2, 1u64..4).prop_map(|(space, pages)| Op::AllocPrivate { space, pages }),
        1 => any::<usize>().prop_map(|view| Op::Unmap { view }),
        5 => (any::<usize>(), 0u64..SEG_PAGES * PAGE_SIZE, 1usize..6000).prop_map(|(view, offset, len)| Op::Read { view, offset, len }),
        6 => (any::<usize>(), 0u64..SEG_PAGES * PAGE_SIZE, 1usize..6000, any::<u8>()).prop_map(|(view, offset, len, byte)| Op::Write { view, offset, len, byte }),
        2 => (any::<usize>(), 0u64..SEG_PAGES * PAGE_SIZE, any::<u64>()).prop_map(|(view, offset, value)| Op::Write64 { view, offset, value }),
        2 => (0usize..2).prop_map(|space| Op::Trim { space }),
        1 => Just(Op::TrimAll),
        2 => Just(Op::Writers),
        1 => any::<usize>().prop_map(|view| Op::Flush { view }),
        2 => (0usize..SEGS, 0u64..SEG_PAGES * PAGE_SIZE, 1usize..5000).prop_map(|(seg, offset, len)| Op::SegRead { seg, offset, len }),
        2 => (2usize..SEGS, 0u64..SEG_PAGES * PAGE_SIZE, 1usize..5000, any::<u8>()).prop_map(|(seg, offset, len, byte)| Op::SegWrite { seg, offset, len, byte }),
        1 => (any::<usize>(), 0u64..SEG_PAGES, any::<bool>()).prop_map(|(view, page, read_only)| Op::Protect { view, page, read_only }),
    ]
}

#[derive(Debug)]
enum Backing {
    Seg(usize),
    Private(Vec<u8>),
}

#[derive(Debug)]
struct View {
    space: usize,
    base: Va,
    pages: u64,
    first: u64,
    backing: Backing,
    prot: ViewProt,
    /// Per page: read-only after a Protect (only RW views are narrowed to read-only).
    read_only_pages: Vec<bool>,
    /// Copy-on-write private copies by view page.
    copies: BTreeMap<u64, Vec<u8>>,
}

struct Model {
    segs: Vec<Vec<u8>>,
    views: Vec<View>,
}

impl Model {
    fn byte(&self, v: &View, off: u64) -> u8 {
        let pg = off / PAGE_SIZE;
        if let Some(c) = v.copies.get(&pg) {
            return c[(off % PAGE_SIZE) as usize];
        }
        match &v.backing {
            Backing::Seg(s) => self.segs[*s][(v.first * PAGE_SIZE + off) as usize],
            Backing::Private(b) => b[off as usize],
        }
    }
    fn writable(v: &View, pg: u64) -> bool {
        v.prot != ViewProt::ReadOnly && !v.read_only_pages[pg as usize]
    }
    /// Applies a store page by page as the machine does; returns the offset of the first page
    /// that faults, if any.
    fn store(&mut self, vi: usize, off: u64, data: &[u8]) -> Option<u64> {
        let mut done = 0usize;
        while done < data.len() {
            let pos = off + done as u64;
            let pg = pos / PAGE_SIZE;
            let n = (PS - (pos % PAGE_SIZE) as usize).min(data.len() - done);
            if !Self::writable(&self.views[vi], pg) {
                return Some(pos);
            }
            self.store_page(vi, pos, &data[done..done + n]);
            done += n;
        }
        None
    }
    fn store_page(&mut self, vi: usize, pos: u64, bytes: &[u8]) {
        let pg = pos / PAGE_SIZE;
        let in_page = (pos % PAGE_SIZE) as usize;
        if self.views[vi].prot == ViewProt::CopyOnWrite && !self.views[vi].copies.contains_key(&pg)
        {
            let copy: Vec<u8> = (0..PAGE_SIZE)
                .map(|i| self.byte(&self.views[vi], pg * PAGE_SIZE + i))
                .collect();
            self.views[vi].copies.insert(pg, copy);
        }
        let v = &mut self.views[vi];
        if let Some(c) = v.copies.get_mut(&pg) {
            c[in_page..in_page + bytes.len()].copy_from_slice(bytes);
            return;
        }
        match &mut v.backing {
            Backing::Seg(s) => {
                let at = (v.first * PAGE_SIZE + pos) as usize;
                self.segs[*s][at..at + bytes.len()].copy_from_slice(bytes);
            }
            Backing::Private(b) => {
                b[pos as usize..pos as usize + bytes.len()].copy_from_slice(bytes)
            }
        }
    }
}

fn initial_file() -> Vec<u8> {
    (0..SEG_PAGES * PAGE_SIZE)
        .map(|i| (i * 7 % 251) as u8)
        .collect()
}

fn run(frames: u32, ops: Vec<Op>) -> std::result::Result<(), TestCaseError> {
    let vmm = Vmm::new(VmmConfig {
        frames,
        pagefile_pages: 512,
        working_set_max: 12,
        writer: WriterPolicy::Lazy,
    })
    .unwrap();
    let spaces = [vmm.create_address_space(), vmm.create_address_space()];
    let file = initial_file();
    let store = vmm.add_store(Box::new(MemoryStore::with_contents(&file)));
    let segs = [
        vmm.create_pagefile_segment(pages(SEG_PAGES), Protection::READWRITE, false)
            .unwrap(),
        vmm.create_pagefile_segment(pages(SEG_PAGES), Protection::READWRITE, false)
            .unwrap(),
        vmm.create_file_segment(store, pages(SEG_PAGES)).unwrap(),
    ];
    let mut m = Model {
        segs: vec![
            vec![0; SEG_PAGES as usize * PS],
            vec![0; SEG_PAGES as usize * PS],
            file,
        ],
        views: Vec::new(),
    };
    let pick = |m: &Model, i: usize| (!m.views.is_empty()).then(|| i % m.views.len());

    for op in ops {
        match op {
            Op::Map {
                space,
                seg,
                first,
                pages: n,
                prot,
            } => {
                if n == 0 {
                    continue;
                }
                let p = match prot {
                    ViewProt::ReadWrite => Protection::READWRITE,
                    ViewProt::ReadOnly => Protection::READONLY,
                    ViewProt::CopyOnWrite => Protection::WRITECOPY,
                };
                let base = vmm
                    .map_segment(
                        spaces[space],
                        segs[seg],
                        first,
                        pages(n),
                        Placement::BottomUp,
                        p,
                    )
                    .unwrap();
                m.views.push(View {
                    space,
                    base,
                    pages: n,
                    first,
                    backing: Backing::Seg(seg),
                    prot,
                    read_only_pages: vec![false; n as usize],
                    copies: BTreeMap::new(),
                });
            }
            Op::AllocPrivate { space, pages: n } => {
                let base = vmm
                    .allocate_private(
                        spaces[space],
                        pages(n),
                        Placement::TopDown,
                        Protection::READWRITE,
                        true,
                    )
                    .unwrap();
                m.views.push(View {
                    space,
                    base,
                    pages: n,
                    first: 0,
                    backing: Backing::Private(vec![0; n as usize * PS]),
                    prot: ViewProt::ReadWrite,
                    read_only_pages: vec![false; n as usize],
                    copies: BTreeMap::new(),
                });
            }
            Op::Unmap { view } => {
                if let Some(i) = pick(&m, view) {
                    let v = m.views.remove(i);
                    vmm.free_region(spaces[v.space], v.base).unwrap();
                }
            }
            Op::Read { view, offset, len } => {
                if let Some(i) = pick(&m, view) {
                    let v = &m.views[i];
                    let size = v.pages * PAGE_SIZE;
                    let off = offset % size;
                    let len = len.min((size - off) as usize);
                    let mut got = vec![0u8; len];
                    vmm.read(spaces[v.space], Va::new(v.base.raw() + off), &mut got)
                        .unwrap();
                    let want: Vec<u8> = (0..len as u64).map(|k| m.byte(v, off + k)).collect();
                    prop_assert!(got == want, "read of view {i} at {off:#x}+{len} differs");
                }
            }
            Op::Write {
                view,
                offset,
                len,
                byte,
            } => {
                if let Some(i) = pick(&m, view) {
                    let (space, base, size) = (
                        m.views[i].space,
                        m.views[i].base,
                        m.views[i].pages * PAGE_SIZE,
                    );
                    let off = offset % size;
                    let data = vec![byte; len.min((size - off) as usize)];
                    let real = vmm.write(spaces[space], Va::new(base.raw() + off), &data);
                    match m.store(i, off, &data) {
                        None => prop_assert!(real.is_ok(), "write failed: {real:?}"),
                        Some(at) => {
                            let Err(VmmError::Exception(e)) = real else {
                                return Err(TestCaseError::fail(format!(
                                    "expected an access violation, got {real:?}"
                                )));
                            };
                            prop_assert_eq!(e.kind, ExceptionKind::AccessViolation);
                            prop_assert_eq!(e.address, Va::new(base.raw() + at));
                        }
                    }
                }
            }
            Op::Write64 {
                view,
                offset,
                value,
            } => {
                if let Some(i) = pick(&m, view) {
                    let (space, base, size) = (
                        m.views[i].space,
                        m.views[i].base,
                        m.views[i].pages * PAGE_SIZE,
                    );
                    let off = (offset % size).min(size - 8);
                    let real = vmm.write_u64(spaces[space], Va::new(base.raw() + off), value);
                    let allowed = (off / PAGE_SIZE..=(off + 7) / PAGE_SIZE)
                        .all(|pg| Model::writable(&m.views[i], pg));
                    prop_assert_eq!(real.is_ok(), allowed, "value store {:?}", real);
                    if allowed {
                        prop_assert!(m.store(i, off, &value.to_le_bytes()).is_none());
                    }
                }
            }
            Op::Trim { space } => {
                vmm.trim(spaces[space], None).unwrap();
            }
            Op::TrimAll => {
                vmm.trim_all();
            }
            Op::Writers => {
                prop_assert!(vmm.run_writers().errors.is_empty());
            }
            Op::Flush { view } => {
                if let Some(i) = pick(&m, view) {
                    let v = &m.views[i];
                    if let Backing::Seg(2) = v.backing {
                        vmm.harvest_dirty(spaces[v.space], v.base, pages(v.pages))
                            .unwrap();
                        vmm.flush_segment(segs[2], v.first, pages(v.pages)).unwrap();
                    }
                }
            }
            Op::SegRead { seg, offset, len } => {
                let len = len.min((SEG_PAGES * PAGE_SIZE - offset) as usize);
                let mut got = vec![0u8; len];
                vmm.read_segment(segs[seg], offset, &mut got).unwrap();
                prop_assert!(
                    got[..] == m.segs[seg][offset as usize..offset as usize + len],
                    "cached read of seg {seg} differs"
                );
            }
            Op::SegWrite {
                seg,
                offset,
                len,
                byte,
            } => {
                let len = len.min((SEG_PAGES * PAGE_SIZE - offset) as usize);
                vmm.write_segment(segs[seg], offset, &vec![byte; len])
                    .unwrap();
                m.segs[seg][offset as usize..offset as usize + len].fill(byte);
            }
            Op::Protect {
                view,
                page: pg,
                read_only,
            } => {
                if let Some(i) = pick(&m, view) {
                    let v = &mut m.views[i];
                    let pg = pg % v.pages;
                    if v.prot == ViewProt::ReadWrite {
                        let p = if read_only {
                            Protection::READONLY
                        } else {
                            Protection::READWRITE
                        };
                        vmm.protect(spaces[v.space], page(v.base, pg), pages(1), p)
                            .unwrap();
                        v.read_only_pages[pg as usize] = read_only;
                    }
                }
            }
            Op::Sabotage { seg, offset } => {
                vmm.write_segment(segs[seg], offset, &[!m.segs[seg][offset as usize]])
                    .unwrap();
            }
        }
        if let Err(v) = vmm.check_invariants() {
            return Err(TestCaseError::fail(v.to_string()));
        }
    }

    // Every view reads back exactly what the model says, then, with everything unmapped and
    // written, the file on disk equals the file segment's contents.
    for v in &m.views {
        let mut got = vec![0u8; (v.pages * PAGE_SIZE) as usize];
        vmm.read(spaces[v.space], v.base, &mut got).unwrap();
        let want: Vec<u8> = (0..v.pages * PAGE_SIZE).map(|k| m.byte(v, k)).collect();
        prop_assert!(got == want, "final read of a view differs");
    }
    for v in std::mem::take(&mut m.views) {
        vmm.free_region(spaces[v.space], v.base).unwrap();
    }
    prop_assert!(vmm.run_writers().errors.is_empty());
    let on_disk = disk(&vmm, store, 0, (SEG_PAGES * PAGE_SIZE) as usize);
    prop_assert!(
        on_disk == m.segs[2],
        "the file on disk differs from the model"
    );
    for (s, want) in segs.iter().zip(&m.segs) {
        let mut got = vec![0u8; want.len()];
        vmm.read_segment(*s, 0, &mut got).unwrap();
        prop_assert!(&got == want);
    }
    if let Err(v) = vmm.check_invariants() {
        return Err(TestCaseError::fail(v.to_string()));
    }
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(192))]

    #[test]
    fn prop_machine_agrees_with_flat_model(frames in 8u32..=64, ops in prop::collection::vec(op(), 1..160)) {
        run(frames, ops)?;
    }
}

#[test]
fn test_model_runner_detects_a_machine_that_disagrees() {
    let ops = vec![
        Op::Map {
            space: 0,
            seg: 0,
            first: 0,
            pages: 1,
            prot: ViewProt::ReadWrite,
        },
        Op::Write {
            view: 0,
            offset: 0,
            len: 4,
            byte: 9,
        },
        Op::Read {
            view: 0,
            offset: 0,
            len: 4,
        },
    ];
    assert!(run(8, ops.clone()).is_ok());
    let mut broken = ops;
    broken.insert(2, Op::Sabotage { seg: 0, offset: 1 });
    assert!(
        run(8, broken).is_err(),
        "a byte changed behind the model's back must be caught"
    );
}

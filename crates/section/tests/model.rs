//! Model-based property test of the section layer: random sequences of create / map / unmap /
//! close / read / write / trim / run writers / flush / file read / file write over 1–3
//! processes and 8–64 frames, against a flat model — one byte array per backing object, and
//! private page copies for copy-on-write views — with every invariant checked after every step.
#![allow(clippy::tests_outside_test_module)]

mod common;
use common::*;
use proptest::prelude::*;
use std::collections::BTreeMap;

const FILES: usize = 2;
const FILE_BYTES: usize = 3 * 4096 + 123;
const PS: u64 = PAGE_SIZE;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Prot {
    Rw,
    Ro,
    Wc,
}

impl Prot {
    fn page(self) -> u32 {
        match self {
            Prot::Rw => PAGE_READWRITE,
            Prot::Ro => PAGE_READONLY,
            Prot::Wc => PAGE_WRITECOPY,
        }
    }
    /// The ceiling rule between a view protection and a section protection (facts §K).
    fn fits(self, section: Prot) -> bool {
        self != Prot::Rw || section == Prot::Rw
    }
}

#[derive(Clone, Debug)]
enum Op {
    CreateAnon {
        pages: u64,
        prot: Prot,
    },
    CreateFile {
        file: usize,
        prot: Prot,
    },
    Close {
        section: usize,
    },
    Map {
        space: usize,
        section: usize,
        prot: Prot,
    },
    Unmap {
        view: usize,
    },
    Read {
        view: usize,
        off: u64,
        len: usize,
    },
    Write {
        view: usize,
        off: u64,
        len: usize,
        byte: u8,
    },
    Trim {
        space: usize,
    },
    Writers,
    Flush {
        view: usize,
    },
    FileRead {
        file: usize,
        off: u64,
        len: usize,
    },
    FileWrite {
        file: usize,
        off: u64,
        len: usize,
        byte: u8,
    },
}

fn prot() -> impl Strategy<Value = Prot> {
    prop_oneof![3 => Just(Prot::Rw), 1 => Just(Prot::Ro), 2 => Just(Prot::Wc)]
}

fn op() -> impl Strategy<Value = Op> {
    let big = 0u64..4 * PS;
    prop_oneof![
        2 => (1u64..4, prot()).prop_map(|(pages, prot)| Op::CreateAnon { pages, prot }),
        2 => (0..FILES, prot()).prop_map(|(file, prot)| Op::CreateFile { file, prot }),
        1 => any::<usize>().prop_map(|section| Op::Close { section }),
        4 => (0usize..3, any::<usize>(), prot()).prop_map(|(space, section, prot)| Op::Map { space, section, prot }),
        2 => any::<usize>().prop_map(|view| Op::Unmap { view }),
        6 => (any::<usize>(), big.clone(), 1usize..5000).prop_map(|(view, off, len)| Op::Read { view, off, len }),
        7 => (any::<usize>(), big.clone(), 1usize..5000, any::<u8>()).prop_map(|(view, off, len, byte)| Op::Write { view, off, len, byte }),
        2 => (0usize..3).prop_map(|space| Op::Trim { space }),
        2 => Just(Op::Writers),
        2 => any::<usize>().prop_map(|view| Op::Flush { view }),
        3 => (0..FILES, big.clone(), 1usize..5000).prop_map(|(file, off, len)| Op::FileRead { file, off, len }),
        3 => (0..FILES, big, 1usize..5000, any::<u8>()).prop_map(|(file, off, len, byte)| Op::FileWrite { file, off, len, byte }),
    ]
}

struct MSection {
    id: SectionId,
    obj: usize,
    prot: Prot,
}

struct MView {
    space: usize,
    base: Va,
    obj: usize,
    size: u64,
    prot: Prot,
    copies: BTreeMap<u64, Vec<u8>>,
}

struct Model {
    /// Backing objects: the files first, then every pagefile section ever made.
    objs: Vec<Vec<u8>>,
    sections: Vec<MSection>,
    views: Vec<MView>,
}

impl Model {
    fn byte(&self, v: &MView, off: u64) -> u8 {
        match v.copies.get(&(off / PS)) {
            Some(c) => c[(off % PS) as usize],
            None => self.objs[v.obj][off as usize],
        }
    }
    fn store(&mut self, vi: usize, off: u64, data: &[u8]) {
        let v = &self.views[vi];
        if v.prot == Prot::Wc {
            let (first, last) = (off / PS, (off + data.len() as u64 - 1) / PS);
            for pg in first..=last {
                if !self.views[vi].copies.contains_key(&pg) {
                    let v = &self.views[vi];
                    let copy: Vec<u8> = (0..PS)
                        .map(|i| {
                            let o = pg * PS + i;
                            if o < self.objs[v.obj].len() as u64 {
                                self.objs[v.obj][o as usize]
                            } else {
                                0
                            }
                        })
                        .collect();
                    self.views[vi].copies.insert(pg, copy);
                }
            }
            for (i, b) in data.iter().enumerate() {
                let o = off + i as u64;
                self.views[vi].copies.get_mut(&(o / PS)).unwrap()[(o % PS) as usize] = *b;
            }
        } else {
            let obj = v.obj;
            let len = self.objs[obj].len();
            for (i, b) in data.iter().enumerate() {
                let o = off as usize + i;
                if o < len {
                    self.objs[obj][o] = *b;
                }
            }
        }
    }
}

fn file_bytes(i: usize) -> Vec<u8> {
    (0..FILE_BYTES)
        .map(|k| ((k * 31 + i * 7) % 253) as u8)
        .collect()
}

fn check(ex: &Executive) -> std::result::Result<(), TestCaseError> {
    ex.check_invariants()
        .map_err(|v| TestCaseError::fail(v.to_string()))
}

fn run(frames: u32, nspaces: usize, ops: Vec<Op>) -> std::result::Result<(), TestCaseError> {
    let ex = Executive::new(VmmConfig {
        frames,
        pagefile_pages: 2048,
        working_set_max: 16,
        writer: WriterPolicy::Lazy,
    })
    .unwrap();
    let spaces: Vec<AsId> = (0..nspaces).map(|_| ex.create_process()).collect();
    let files: Vec<StreamId> = (0..FILES).map(|i| file(&ex, &file_bytes(i))).collect();
    let mut m = Model {
        objs: (0..FILES).map(file_bytes).collect(),
        sections: Vec::new(),
        views: Vec::new(),
    };

    for op in ops {
        match op {
            Op::CreateAnon { pages, prot } => {
                let id = anon(&ex, pages * PS, prot.page(), 0).unwrap();
                m.objs.push(vec![0; (pages * PS) as usize]);
                m.sections.push(MSection {
                    id,
                    obj: m.objs.len() - 1,
                    prot,
                });
            }
            Op::CreateFile { file: f, prot } => {
                let id = file_section(&ex, files[f], FileAccess::ALL, 0, prot.page()).unwrap();
                m.sections.push(MSection { id, obj: f, prot });
            }
            Op::Close { section } => {
                if !m.sections.is_empty() {
                    let s = m.sections.remove(section % m.sections.len());
                    ex.close_section(s.id).unwrap();
                }
            }
            Op::Map {
                space,
                section,
                prot,
            } => {
                if m.sections.is_empty() {
                    continue;
                }
                let s = &m.sections[section % m.sections.len()];
                let space = space % nspaces;
                let r = map(&ex, spaces[space], s.id, prot.page());
                if !prot.fits(s.prot) {
                    prop_assert_eq!(status(r), NtStatus::STATUS_SECTION_PROTECTION);
                    continue;
                }
                let base = r.unwrap();
                let size = m.objs[s.obj].len() as u64;
                m.views.push(MView {
                    space,
                    base,
                    obj: s.obj,
                    size,
                    prot,
                    copies: BTreeMap::new(),
                });
            }
            Op::Unmap { view } => {
                if !m.views.is_empty() {
                    let v = m.views.remove(view % m.views.len());
                    ex.unmap_view(spaces[v.space], at(v.base, v.size / 2))
                        .unwrap();
                }
            }
            Op::Read { view, off, len } => {
                if m.views.is_empty() {
                    continue;
                }
                let v = &m.views[view % m.views.len()];
                let off = off % v.size;
                let len = len.min((v.size - off) as usize);
                let mut got = vec![0u8; len];
                ex.vmm()
                    .read(spaces[v.space], at(v.base, off), &mut got)
                    .unwrap();
                let want: Vec<u8> = (0..len as u64).map(|k| m.byte(v, off + k)).collect();
                prop_assert!(got == want, "view read differs at {:#x}", off);
            }
            Op::Write {
                view,
                off,
                len,
                byte,
            } => {
                if m.views.is_empty() {
                    continue;
                }
                let vi = view % m.views.len();
                let (space, base, size, prot) = {
                    let v = &m.views[vi];
                    (v.space, v.base, v.size, v.prot)
                };
                let off = off % size;
                let data = vec![byte; len.min((size - off) as usize)];
                let r = ex.vmm().write(spaces[space], at(base, off), &data);
                if prot == Prot::Ro {
                    prop_assert_eq!(raised(r), ExceptionKind::AccessViolation);
                } else {
                    prop_assert!(r.is_ok(), "write failed: {:?}", r);
                    m.store(vi, off, &data);
                }
            }
            Op::Trim { space } => {
                ex.trim(spaces[space % nspaces]).unwrap();
            }
            Op::Writers => {
                prop_assert!(ex.run_writers().errors.is_empty());
            }
            Op::Flush { view } => {
                if m.views.is_empty() {
                    continue;
                }
                let v = &m.views[view % m.views.len()];
                let r = ex.flush_virtual_memory(spaces[v.space], v.base, 0);
                if v.obj < FILES {
                    prop_assert!(r.is_ok(), "flush failed: {:?}", r);
                } else {
                    prop_assert_eq!(status(r), NtStatus::STATUS_NOT_MAPPED_DATA);
                }
            }
            Op::FileRead { file: f, off, len } => {
                let mut got = vec![0u8; len];
                let n = ex.read_file(files[f], off, &mut got).unwrap();
                let want_n = len.min(FILE_BYTES.saturating_sub(off as usize));
                prop_assert_eq!(n, want_n);
                let o = (off as usize).min(FILE_BYTES);
                prop_assert!(got[..n] == m.objs[f][o..o + n], "ReadFile differs");
            }
            Op::FileWrite {
                file: f,
                off,
                len,
                byte,
            } => {
                let off = off % FILE_BYTES as u64;
                let len = len.min(FILE_BYTES - off as usize);
                ex.write_file(files[f], off, &vec![byte; len]).unwrap();
                m.objs[f][off as usize..off as usize + len].fill(byte);
            }
        }
        check(&ex)?;
    }

    // Every view reads what the model says; then with every view and section gone and the
    // writers run, each file on disk equals its model bytes.
    for v in &m.views {
        let mut got = vec![0u8; v.size as usize];
        ex.vmm().read(spaces[v.space], v.base, &mut got).unwrap();
        let want: Vec<u8> = (0..v.size).map(|k| m.byte(v, k)).collect();
        prop_assert!(got == want, "final view read differs");
    }
    for v in std::mem::take(&mut m.views) {
        ex.unmap_view(spaces[v.space], v.base).unwrap();
    }
    for s in std::mem::take(&mut m.sections) {
        ex.close_section(s.id).unwrap();
    }
    prop_assert!(ex.run_writers().errors.is_empty());
    for (i, f) in files.iter().enumerate() {
        prop_assert!(
            disk(&ex, *f, 0, FILE_BYTES) == m.objs[i],
            "file {} on disk differs",
            i
        );
    }
    for f in &files {
        ex.release_file_cache(*f).unwrap();
    }
    check(&ex)?;
    prop_assert!(
        ex.control_areas().iter().all(|c| c.parked),
        "only cached file control areas remain"
    );
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn prop_section_layer_agrees_with_flat_model(
        frames in 8u32..=64,
        nspaces in 1usize..=3,
        ops in prop::collection::vec(op(), 200),
    ) {
        run(frames, nspaces, ops)?;
    }
}

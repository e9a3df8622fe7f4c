//! Differential test against the host kernel (unix): the same random operation sequences run on
//! ntmm (a file section with two read/write views and one copy-on-write view, `ReadFile` /
//! `WriteFile`, `FlushViewOfFile`) and on the host (two `MAP_SHARED` mappings and one
//! `MAP_PRIVATE` mapping of a real file, `pread` / `pwrite`, `msync`), for the semantics the two
//! share:
//!
//! - coherence between views: a store through one shared view is seen through the other
//!   (nt_internals §5.1, one prototype PTE per page; on Linux, one page-cache page);
//! - views against file I/O: `WriteFile` is seen by views and stores are seen by `ReadFile`
//!   (nt_internals §8, the cache manager maps the same control area);
//! - copy-on-write privacy: a written private page keeps its copy, an unwritten one still shows
//!   the file (F24);
//! - data on disk after flush and unmap: the files agree byte for byte.
//!
//! ntmm also trims and runs its writers at random points (the host has no equivalent): paging
//! must not change any result. Every read of every step is compared byte for byte.
#![cfg(unix)]
#![allow(clippy::tests_outside_test_module)]

mod common;
use common::*;
use memmap2::{MmapMut, MmapOptions};
use proptest::prelude::*;
use std::fs::File;
use std::os::unix::fs::FileExt;

const SIZE: usize = 3 * 4096 + 500;
const VIEWS: usize = 3; // 0 and 1 shared, 2 private (copy-on-write)
const PATH: &str = "\\diff.bin";

#[derive(Clone, Debug)]
enum Op {
    Store {
        view: usize,
        off: usize,
        data: Vec<u8>,
    },
    Load {
        view: usize,
        off: usize,
        len: usize,
    },
    PWrite {
        off: usize,
        data: Vec<u8>,
    },
    PRead {
        off: usize,
        len: usize,
    },
    Flush {
        view: usize,
    },
    Remap {
        view: usize,
    },
    /// ntmm only: trim the working set and run the writers.
    Page,
}

fn span() -> impl Strategy<Value = (usize, usize)> {
    // Offsets cluster around page boundaries, where bugs live.
    (
        prop_oneof![0..SIZE, (1..3usize).prop_map(|p| p * 4096 - 8)],
        1..96usize,
    )
        .prop_map(|(off, len)| (off, len.min(SIZE - off)))
}

fn bytes(len: usize) -> impl Strategy<Value = Vec<u8>> {
    proptest::collection::vec(any::<u8>(), len)
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        4 => (0..VIEWS, span()).prop_flat_map(|(view, (off, len))| bytes(len)
            .prop_map(move |data| Op::Store { view, off, data })),
        4 => (0..VIEWS, span()).prop_map(|(view, (off, len))| Op::Load { view, off, len }),
        2 => span().prop_flat_map(|(off, len)| bytes(len)
            .prop_map(move |data| Op::PWrite { off, data })),
        2 => span().prop_map(|(off, len)| Op::PRead { off, len }),
        1 => (0..2usize).prop_map(|view| Op::Flush { view }),
        1 => (0..VIEWS).prop_map(|view| Op::Remap { view }),
        1 => Just(Op::Page),
    ]
}

/// The host side: a real file and three mappings of it.
struct Host {
    _dir: tempfile::TempDir,
    path: std::path::PathBuf,
    file: File,
    views: Vec<MmapMut>,
}

impl Host {
    fn new(contents: &[u8]) -> Host {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("diff.bin");
        std::fs::write(&path, contents).unwrap();
        let file = File::options().read(true).write(true).open(&path).unwrap();
        let mut h = Host {
            _dir: dir,
            path,
            file,
            views: Vec::new(),
        };
        for v in 0..VIEWS {
            let m = h.map(v);
            h.views.push(m);
        }
        h
    }

    fn map(&self, view: usize) -> MmapMut {
        if view < 2 {
            // SAFETY: the file lives in a private temporary directory that only this test
            // touches, and its size never changes while mapped, so no access can fault (SIGBUS).
            unsafe { MmapMut::map_mut(&self.file) }.unwrap()
        } else {
            // SAFETY: as above; a MAP_PRIVATE mapping of the same file.
            unsafe { MmapOptions::new().map_copy(&self.file) }.unwrap()
        }
    }
}

/// The ntmm side: the same file on a memory volume, one process, three views.
struct Ntmm {
    s: System,
    p: AsId,
    file: Handle,
    section: Handle,
    views: Vec<Va>,
}

impl Ntmm {
    fn new(contents: &[u8], frames: u32) -> Ntmm {
        let s = machine(frames, 256, u64::from(frames));
        let p = s.create_process(None, false).unwrap();
        let file = rw_file(&s, p, PATH, contents);
        let section = s
            .create_file_mapping(p, file, false, PAGE_READWRITE, 0, 0, None)
            .unwrap();
        let mut n = Ntmm {
            s,
            p,
            file,
            section,
            views: Vec::new(),
        };
        for v in 0..VIEWS {
            let base = n.map(v);
            n.views.push(base);
        }
        n
    }

    fn map(&self, view: usize) -> Va {
        let access = if view < 2 {
            FILE_MAP_WRITE
        } else {
            FILE_MAP_COPY
        };
        self.s
            .map_view_of_file(self.p, self.section, access, 0, 0, 0)
            .unwrap()
    }

    fn seek(&self, off: usize) {
        self.s
            .set_file_pointer(self.p, self.file, off as i32, None, FILE_BEGIN)
            .unwrap();
    }
}

fn play(ops: &[Op], frames: u32) -> Result<(), TestCaseError> {
    let contents: Vec<u8> = (0..SIZE).map(|i| (i * 7 + i / 4096) as u8).collect();
    let mut host = Host::new(&contents);
    let mut nt = Ntmm::new(&contents, frames);
    for (step, op) in ops.iter().enumerate() {
        match op {
            Op::Store { view, off, data } => {
                host.views[*view][*off..*off + data.len()].copy_from_slice(data);
                nt.s.write_memory(nt.p, at(nt.views[*view], *off as u64), data)
                    .unwrap();
            }
            Op::Load { view, off, len } => {
                let h = &host.views[*view][*off..*off + *len];
                let n =
                    nt.s.read_memory(nt.p, at(nt.views[*view], *off as u64), *len)
                        .unwrap();
                prop_assert_eq!(h, &n[..], "step {}: {:?}", step, op);
            }
            Op::PWrite { off, data } => {
                host.file.write_all_at(data, *off as u64).unwrap();
                nt.seek(*off);
                prop_assert_eq!(
                    nt.s.write_file(nt.p, nt.file, data).unwrap() as usize,
                    data.len()
                );
            }
            Op::PRead { off, len } => {
                let mut h = vec![0u8; *len];
                host.file.read_exact_at(&mut h, *off as u64).unwrap();
                nt.seek(*off);
                let n = nt.s.read_file(nt.p, nt.file, *len).unwrap();
                prop_assert_eq!(h, n, "step {}: {:?}", step, op);
            }
            Op::Flush { view } => {
                host.views[*view].flush().unwrap();
                nt.s.flush_view_of_file(nt.p, nt.views[*view], 0).unwrap();
            }
            Op::Remap { view } => {
                host.views[*view] = host.map(*view);
                nt.s.unmap_view_of_file(nt.p, nt.views[*view]).unwrap();
                nt.views[*view] = nt.map(*view);
            }
            Op::Page => {
                nt.s.executive().trim(nt.p).unwrap();
                nt.s.executive().run_writers();
            }
        }
        nt.s.check_invariants()
            .map_err(|e| TestCaseError::fail(format!("step {step}: {e}")))?;
    }
    // Flush, unmap, and compare the files on disk.
    for v in 0..2 {
        host.views[v].flush().unwrap();
        nt.s.flush_view_of_file(nt.p, nt.views[v], 0).unwrap();
    }
    host.views.clear();
    for v in std::mem::take(&mut nt.views) {
        nt.s.unmap_view_of_file(nt.p, v).unwrap();
    }
    nt.s.flush_file_buffers(nt.p, nt.file).unwrap();
    let h = std::fs::read(&host.path).unwrap();
    let n = nt.s.read_disk(PATH).unwrap();
    prop_assert_eq!(h.len(), n.len());
    prop_assert!(h == n, "the files differ after flush and unmap");
    nt.s.check_invariants().map_err(TestCaseError::fail)?;
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 96, ..ProptestConfig::default() })]

    #[test]
    fn differential_ntmm_agrees_with_host_mmap(
        ops in proptest::collection::vec(op(), 1..80),
        frames in prop_oneof![Just(8u32), Just(16), Just(64)],
    ) {
        play(&ops, frames)?;
    }
}

/// The fixed cases the issue names, spelled out: each one holds on both sides.
#[test]
fn differential_named_semantics() {
    let page = 4096;
    let cases: Vec<Vec<Op>> = vec![
        // Coherence between views.
        vec![
            Op::Store {
                view: 0,
                off: page + 3,
                data: vec![1, 2, 3],
            },
            Op::Load {
                view: 1,
                off: page,
                len: 16,
            },
        ],
        // Views against file I/O, both ways.
        vec![
            Op::PWrite {
                off: 10,
                data: vec![9; 20],
            },
            Op::Load {
                view: 0,
                off: 0,
                len: 40,
            },
            Op::Store {
                view: 1,
                off: 2 * page,
                data: vec![5; 30],
            },
            Op::PRead {
                off: 2 * page - 5,
                len: 40,
            },
        ],
        // Copy-on-write privacy: the written page stays private, the others follow the file.
        vec![
            Op::Store {
                view: 2,
                off: 100,
                data: vec![0xEE; 8],
            },
            Op::Store {
                view: 0,
                off: 100,
                data: vec![0x11; 8],
            },
            Op::Store {
                view: 0,
                off: page + 100,
                data: vec![0x22; 8],
            },
            Op::Load {
                view: 2,
                off: 96,
                len: 16,
            },
            Op::Load {
                view: 2,
                off: page + 96,
                len: 16,
            },
            Op::Page,
            Op::Load {
                view: 2,
                off: 96,
                len: 16,
            },
            Op::PRead { off: 96, len: 16 },
        ],
        // Data on disk after flush and unmap, under paging.
        vec![
            Op::Store {
                view: 0,
                off: SIZE - 10,
                data: vec![7; 10],
            },
            Op::Page,
            Op::Remap { view: 0 },
            Op::Load {
                view: 0,
                off: SIZE - 20,
                len: 20,
            },
        ],
    ];
    for ops in cases {
        play(&ops, 8).unwrap();
    }
}

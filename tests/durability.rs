//! Durability and shutdown (SCENARIO.md additions, "Durability"): a dropped or shut-down
//! system leaves every written byte in its files; a shutdown that cannot write says so; a
//! crash after any statement of a write/flush/write-through sequence keeps exactly what the
//! model says is durable, on a memory and on a host volume; random sequences with a crash at
//! a random point agree with the same model.
#![allow(clippy::tests_outside_test_module)]

mod common;
use common::*;
use ntmm::scenario::{parse, Options, Runner};
use ntmm::vmm::{FaultyStore, MemoryStore};
use proptest::prelude::*;
use std::path::Path;

fn config(volume: Volume, writer: WriterPolicy) -> SystemConfig {
    SystemConfig {
        vmm: VmmConfig {
            writer,
            ..VmmConfig::default()
        },
        volume,
    }
}

/// "hello world" by `WriteFile`, "VIEW" at 0x10 through a view still mapped.
fn write_both_ways(sys: &System) -> AsId {
    let p = sys.create_process(None, false).unwrap();
    let hf = sys
        .create_file(
            p,
            "data.bin",
            GENERIC_READ | GENERIC_WRITE,
            0,
            false,
            CREATE_ALWAYS,
            0,
        )
        .unwrap();
    sys.write_file(p, hf, b"hello world").unwrap();
    let hm = sys
        .create_file_mapping(p, hf, false, PAGE_READWRITE, 0, 0x20, None)
        .unwrap();
    let v = sys
        .map_view_of_file(p, hm, FILE_MAP_WRITE, 0, 0, 0)
        .unwrap();
    sys.write_memory(p, at(v, 0x10), b"VIEW").unwrap();
    p
}

fn expected() -> Vec<u8> {
    let mut v = b"hello world".to_vec();
    v.resize(0x20, 0);
    v[0x10..0x14].copy_from_slice(b"VIEW");
    v
}

#[test]
fn a_dropped_system_keeps_host_volume_data() {
    for writer in [WriterPolicy::Lazy, WriterPolicy::Eager] {
        let dir = tempfile::tempdir().unwrap();
        let sys = System::new(config(Volume::HostDirectory(dir.path().into()), writer)).unwrap();
        write_both_ways(&sys);
        drop(sys);
        assert_eq!(
            std::fs::read(dir.path().join("data.bin")).unwrap(),
            expected(),
            "{writer:?}"
        );
    }
}

#[test]
fn shutdown_reports_what_it_did_and_is_idempotent() {
    let sys = System::new(config(Volume::Memory, WriterPolicy::Lazy)).unwrap();
    write_both_ways(&sys);
    let r = sys.shutdown().unwrap();
    assert_eq!(r.processes_exited, 1);
    assert_eq!(r.file_pages_written, 1, "one page, holding both writes");
    assert_eq!(r.files_flushed, 1);
    assert_eq!(sys.read_disk("data.bin").unwrap(), expected());
    assert!(sys.processes().is_empty());
    let again = sys.shutdown().unwrap();
    assert_eq!((again.processes_exited, again.file_pages_written), (0, 0));
    // What shutdown wrote is durable: a power loss now keeps it.
    let (sys, report) = sys.crash().unwrap();
    assert_eq!(report.files_kept, 1);
    assert_eq!(sys.read_disk("data.bin").unwrap(), expected());
}

/// A page that cannot be written at shutdown is an error naming the file, the page and the
/// NTSTATUS; it stays modified, so a later shutdown (fault cleared) writes it.
#[test]
fn a_write_fault_at_shutdown_is_reported_not_silent() {
    let sys = System::new(config(Volume::Memory, WriterPolicy::Lazy)).unwrap();
    let (store, plan) = FaultyStore::new(MemoryStore::with_contents(&[0u8; 0x2000]));
    sys.attach_volume_file("f.bin", Box::new(store)).unwrap();
    let p = sys.create_process(None, false).unwrap();
    let hf = open(&sys, p, "f.bin", GENERIC_READ | GENERIC_WRITE, 7).unwrap();
    let hm = sys
        .create_file_mapping(p, hf, false, PAGE_READWRITE, 0, 0, None)
        .unwrap();
    let v = sys
        .map_view_of_file(p, hm, FILE_MAP_WRITE, 0, 0, 0)
        .unwrap();
    sys.write_memory(p, at(v, 0x1000), b"page one").unwrap();
    plan.fail_all();
    let e = sys.shutdown().unwrap_err();
    assert!(e.failures.contains(&ShutdownFailure::File {
        file: "f.bin".into(),
        page: Some(1),
        status: NtStatus::STATUS_DEVICE_DATA_ERROR,
    }));
    let text = e.to_string();
    assert!(
        text.contains("\"f.bin\" page 1") && text.contains("STATUS_DEVICE_DATA_ERROR"),
        "{text}"
    );
    assert_eq!(e.report.processes_exited, 1);
    plan.clear();
    sys.shutdown().unwrap();
    assert_eq!(
        &sys.read_disk("f.bin").unwrap()[0x1000..0x1008],
        b"page one"
    );
}

// ---- the crash sweep ---------------------------------------------------------------------

/// One statement of the swept sequence and what it does to the model.
enum Effect {
    None,
    /// `WriteFile` at an offset (cached).
    FileWrite(usize, &'static [u8]),
    /// A store through the view (at a file offset).
    ViewWrite(usize, &'static [u8]),
    /// `FlushViewOfFile` of the whole view: its modified pages reach the disk (§5.2).
    FlushView,
    /// `UnmapViewOfFile`: dirty bits captured; the eager writer writes the pages at once.
    Unmap,
    /// The file's size changes (on the disk at once).
    Resize(usize),
    /// `FlushFileBuffers`: every modified page reaches the disk; the disk becomes durable.
    Durable,
    /// A write through a write-through handle: its pages reach the disk; the disk becomes
    /// durable.
    WriteThrough(usize, &'static [u8]),
}

fn sweep() -> Vec<(String, Effect)> {
    use Effect::*;
    const RW: &str =
        "GENERIC_READ | GENERIC_WRITE, FILE_SHARE_READ | FILE_SHARE_WRITE, NULL, OPEN_EXISTING";
    let v: Vec<(&str, Effect)> = vec![
        ("process A", None),
        (
            "hf = CreateFile(\"f.bin\", RW, FILE_ATTRIBUTE_NORMAL, NULL)",
            None,
        ),
        (
            "WriteFile(hf, \"AAAA\", 4, &n, NULL)",
            FileWrite(0, b"AAAA"),
        ),
        (
            "hm = CreateFileMapping(hf, NULL, PAGE_READWRITE, 0, 0x2000, NULL)",
            Resize(0x2000),
        ),
        ("p = MapViewOfFile(hm, FILE_MAP_WRITE, 0, 0, 0)", None),
        ("write(p + 0x1000, \"VIEW\")", ViewWrite(0x1000, b"VIEW")),
        ("FlushViewOfFile(p, 0)", FlushView),
        ("FlushFileBuffers(hf)", Durable),
        ("write(p, \"BB\")", ViewWrite(0, b"BB")),
        (
            "hw = CreateFile(\"f.bin\", RW, FILE_FLAG_WRITE_THROUGH, NULL)",
            None,
        ),
        ("SetFilePointer(hw, 0x1800, NULL, FILE_BEGIN)", None),
        (
            "WriteFile(hw, \"WT\", 2, &n, NULL)",
            WriteThrough(0x1800, b"WT"),
        ),
        ("UnmapViewOfFile(p)", Unmap),
        ("CloseHandle(hm)", None),
        ("SetFilePointer(hf, 0x800, NULL, FILE_BEGIN)", None),
        ("SetEndOfFile(hf)", Resize(0x800)),
        ("FlushFileBuffers(hf)", Durable),
        ("SetFilePointer(hf, 0x3000, NULL, FILE_BEGIN)", None),
        ("SetEndOfFile(hf)", Resize(0x3000)),
        ("SetFilePointer(hf, 0, NULL, FILE_END)", None),
        (
            "WriteFile(hf, \"tail\", 4, &n, NULL)",
            FileWrite(0x3000, b"tail"),
        ),
        ("SetFilePointer(hw, 0x10, NULL, FILE_BEGIN)", None),
        (
            "WriteFile(hw, \"wt2\", 3, &n, NULL)",
            WriteThrough(0x10, b"wt2"),
        ),
        ("CloseHandle(hw)", None),
        ("exit A", None),
    ];
    v.into_iter()
        .map(|(t, e)| (t.replace("RW", RW), e))
        .collect()
}

/// The model, page-granular: the file as programs see it, what the disk holds, what is
/// durable, and which pages are modified in memory (not on the disk yet).
#[derive(Clone, Debug, Default)]
struct Model {
    logical: Vec<u8>,
    disk: Vec<u8>,
    durable: Vec<u8>,
    modified: std::collections::BTreeSet<usize>,
    eager: bool,
}

impl Model {
    fn new(initial: &[u8], eager: bool) -> Self {
        Model {
            logical: initial.to_vec(),
            disk: initial.to_vec(),
            durable: initial.to_vec(),
            eager,
            ..Model::default()
        }
    }
    fn pages(at: usize, len: usize) -> std::ops::Range<usize> {
        at / 4096..(at + len).div_ceil(4096)
    }
    fn write(&mut self, at: usize, data: &[u8]) {
        if self.logical.len() < at + data.len() {
            self.resize(at + data.len());
        }
        self.logical[at..at + data.len()].copy_from_slice(data);
        self.modified.extend(Self::pages(at, data.len()));
    }
    fn write_to_disk(&mut self, pages: Vec<usize>) {
        for pg in pages {
            let (a, b) = (pg * 4096, ((pg + 1) * 4096).min(self.logical.len()));
            if a < b {
                self.disk[a..b].copy_from_slice(&self.logical[a..b]);
            }
            self.modified.remove(&pg);
        }
    }
    fn resize(&mut self, n: usize) {
        self.logical.resize(n, 0);
        self.disk.resize(n, 0);
        self.modified.retain(|&pg| pg * 4096 < n);
    }
    fn apply(&mut self, e: &Effect) {
        match *e {
            Effect::None => {}
            Effect::FileWrite(at, data) => {
                self.write(at, data);
                if self.eager {
                    // The cached pages reach the modified list; the eager writer writes them.
                    self.write_to_disk(Self::pages(at, data.len()).collect());
                }
            }
            Effect::ViewWrite(at, data) => self.write(at, data),
            Effect::FlushView => self.write_to_disk(self.modified.iter().copied().collect()),
            Effect::Unmap if self.eager => {
                self.write_to_disk(self.modified.iter().copied().collect())
            }
            Effect::Unmap => {}
            Effect::Resize(n) => self.resize(n),
            Effect::Durable => {
                self.write_to_disk(self.modified.iter().copied().collect());
                self.durable = self.disk.clone();
            }
            Effect::WriteThrough(at, data) => {
                self.write(at, data);
                self.write_to_disk(Self::pages(at, data.len()).collect());
                self.durable = self.disk.clone();
            }
        }
    }
}

const INITIAL: &[u8] = b"0123456789";

/// Runs the sequence with `crash` after statement `k` (0: before the first) and checks what
/// survives; then the scenario goes on, on the new machine, and checks the same by reading.
fn crash_after(k: usize, volume: &Volume, writer: WriterPolicy) -> Result<(), String> {
    let steps = sweep();
    let mut model = Model::new(INITIAL, writer == WriterPolicy::Eager);
    let mut src = format!(
        "file \"f.bin\" = \"{}\"\n",
        std::str::from_utf8(INITIAL).unwrap()
    );
    for (text, effect) in &steps[..k] {
        src.push_str(text);
        src.push('\n');
        model.apply(effect);
    }
    src.push_str("crash\n");
    let mut opts = Options {
        volume: volume.clone(),
        ..Options::default()
    };
    opts.machine.writer = writer;
    let mut r = Runner::new("sweep", &opts);
    r.run_script(&parse(&src).unwrap());
    let out = r.take_output();
    let (_, failed) = r.counts();
    if failed != 0 {
        return Err(format!("the run failed:\n{out}"));
    }
    if !out.contains("crash => power lost; 1 file kept its durable contents") {
        return Err(format!("no crash line:\n{out}"));
    }
    let disk = r
        .system_if_started()
        .unwrap()
        .read_disk("f.bin")
        .map_err(|e| e.to_string())?;
    if disk != model.durable {
        return Err(format!(
            "expect disk after the crash: {} bytes, model {} bytes; first difference at {:?}",
            disk.len(),
            model.durable.len(),
            disk.iter().zip(&model.durable).position(|(a, b)| a != b)
        ));
    }
    if let Volume::HostDirectory(dir) = volume {
        let host = std::fs::read(Path::new(dir).join("f.bin")).unwrap();
        if host != model.durable {
            return Err("the host file after the crash differs from the model".into());
        }
    }
    // The scenario goes on: old process names are gone; the file reads back as durable.
    let rest = format!(
        "process B\nh = CreateFile(\"f.bin\", GENERIC_READ, 7, NULL, OPEN_EXISTING, 0, NULL)\n\
         expect GetFileSize(h, NULL) == {}\nexpect ReadFile(h, &data, 0x10000, &n, NULL) == TRUE\n",
        model.durable.len()
    );
    r.run_script(&parse(&rest).unwrap());
    let (_, failed) = r.counts();
    let out = r.take_output();
    if failed != 0 {
        return Err(format!("after the crash:\n{out}"));
    }
    r.finish();
    if r.counts().1 != 0 {
        return Err(format!("shutdown after the crash: {}", r.take_output()));
    }
    Ok(())
}

#[test]
fn a_crash_after_every_statement_keeps_exactly_what_is_durable() {
    let n = sweep().len();
    let mut divergences = Vec::new();
    for writer in [WriterPolicy::Lazy, WriterPolicy::Eager] {
        for host in [false, true] {
            for k in 0..=n {
                let dir = tempfile::tempdir().unwrap();
                let volume = if host {
                    Volume::HostDirectory(dir.path().into())
                } else {
                    Volume::Memory
                };
                if let Err(e) = crash_after(k, &volume, writer) {
                    divergences.push(format!("{writer:?}, host {host}, crash after {k}: {e}"));
                }
            }
        }
    }
    assert!(divergences.is_empty(), "{}", divergences.join("\n"));
}

/// After a crash the scenario goes on: old process names are gone, old variables keep their
/// values, `process` lines create new processes.
#[test]
fn a_crash_ends_every_process_and_keeps_variables() {
    let src = "process A\nx = 5\ncrash\nuse A\nexpect x == 5\nprocess A\nexpect x == 5\n";
    let r = ntmm::scenario::run_source("c", src, &Options::default());
    assert_eq!((r.passed, r.failed), (2, 1), "{}", r.output);
    assert!(
        r.output.contains("use A => error: no process named A"),
        "{}",
        r.output
    );
}

// ---- random sequences ----------------------------------------------------------------------

#[derive(Clone, Debug)]
enum Op {
    Write(u16, u8, u8),
    WriteThrough(u16, u8, u8),
    Resize(u16),
    Flush,
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        3 => (0u16..0x5000, 1u8..40, 1u8..=255).prop_map(|(o, n, b)| Op::Write(o, n, b)),
        2 => (0u16..0x5000, 1u8..40, 1u8..=255).prop_map(|(o, n, b)| Op::WriteThrough(o, n, b)),
        1 => (0u16..0x5000).prop_map(Op::Resize),
        1 => Just(Op::Flush),
    ]
}

/// The model for cached I/O without views: the file as programs see it, what the disk holds
/// and what is durable. With the lazy writer and no memory pressure, only flushes and
/// write-through writes put pages on the disk; a size change reaches the disk at once.
#[derive(Clone, Debug, Default)]
struct Model3 {
    logical: Vec<u8>,
    disk: Vec<u8>,
    durable: Vec<u8>,
}

impl Model3 {
    fn apply(&mut self, op: &Op) {
        match *op {
            Op::Write(o, n, b) | Op::WriteThrough(o, n, b) => {
                let (o, n) = (o as usize, n as usize);
                if self.logical.len() < o + n {
                    self.logical.resize(o + n, 0);
                    self.disk.resize(o + n, 0);
                }
                self.logical[o..o + n].fill(b);
                if matches!(op, Op::WriteThrough(..)) {
                    let first = o / 4096 * 4096;
                    let end = ((o + n).div_ceil(4096) * 4096).min(self.logical.len());
                    self.disk[first..end].copy_from_slice(&self.logical[first..end]);
                    self.durable = self.disk.clone();
                }
            }
            Op::Resize(n) => {
                self.logical.resize(n as usize, 0);
                self.disk.resize(n as usize, 0);
            }
            Op::Flush => {
                self.disk = self.logical.clone();
                self.durable = self.disk.clone();
            }
        }
    }
}

fn run_random(ops: &[Op], crash_at: usize, host: bool) -> Result<(), TestCaseError> {
    let dir = tempfile::tempdir().unwrap();
    let volume = if host {
        Volume::HostDirectory(dir.path().into())
    } else {
        Volume::Memory
    };
    let sys = System::new(config(volume, WriterPolicy::Lazy)).unwrap();
    sys.create_volume_file("r.bin", b"").unwrap();
    let p = sys.create_process(None, false).unwrap();
    let h = open(&sys, p, "r.bin", GENERIC_READ | GENERIC_WRITE, 7).unwrap();
    let wt = sys
        .create_file(
            p,
            "r.bin",
            GENERIC_READ | GENERIC_WRITE,
            7,
            false,
            OPEN_EXISTING,
            FILE_FLAG_WRITE_THROUGH,
        )
        .unwrap();
    let mut m = Model3::default();
    for op in &ops[..crash_at.min(ops.len())] {
        match *op {
            Op::Write(o, n, b) | Op::WriteThrough(o, n, b) => {
                let hh = if matches!(op, Op::Write(..)) { h } else { wt };
                sys.set_file_pointer(p, hh, i32::from(o), None, FILE_BEGIN)
                    .unwrap();
                sys.write_file(p, hh, &vec![b; n as usize]).unwrap();
            }
            Op::Resize(n) => {
                sys.set_file_pointer(p, h, i32::from(n), None, FILE_BEGIN)
                    .unwrap();
                sys.set_end_of_file(p, h).unwrap();
            }
            Op::Flush => sys.flush_file_buffers(p, h).unwrap(),
        }
        m.apply(op);
        prop_assert!(
            sys.read_disk("r.bin").unwrap() == m.disk,
            "disk after {:?}",
            op
        );
    }
    let (sys, report) = sys.crash().unwrap();
    prop_assert_eq!(report.files_kept, 1);
    prop_assert!(
        sys.read_disk("r.bin").unwrap() == m.durable,
        "durable after the crash"
    );
    let p = sys.create_process(None, false).unwrap();
    let h = open(&sys, p, "r.bin", GENERIC_READ, 7).unwrap();
    prop_assert!(sys.read_file(p, h, 0x10000).unwrap() == m.durable);
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(48))]

    #[test]
    fn prop_a_crash_at_a_random_point_keeps_what_the_model_says(
        ops in proptest::collection::vec(op(), 1..24),
        crash_at in 0usize..24,
        host in any::<bool>(),
    ) {
        run_random(&ops, crash_at, host)?;
    }
}

/// `FlushViewOfFile` puts pages on the disk, not in durable storage (F130) — unless the
/// section was created from a `FILE_FLAG_WRITE_THROUGH` handle.
#[test]
fn a_view_flush_is_durable_only_through_a_write_through_section() {
    for (flags, survives) in [(0, false), (FILE_FLAG_WRITE_THROUGH, true)] {
        let sys = System::new(config(Volume::Memory, WriterPolicy::Lazy)).unwrap();
        sys.create_volume_file("v.bin", &[0u8; 0x1000]).unwrap();
        let p = sys.create_process(None, false).unwrap();
        let hf = sys
            .create_file(
                p,
                "v.bin",
                GENERIC_READ | GENERIC_WRITE,
                7,
                false,
                OPEN_EXISTING,
                flags,
            )
            .unwrap();
        let hm = sys
            .create_file_mapping(p, hf, false, PAGE_READWRITE, 0, 0, None)
            .unwrap();
        let v = sys
            .map_view_of_file(p, hm, FILE_MAP_WRITE, 0, 0, 0)
            .unwrap();
        sys.write_memory(p, v, b"mapped").unwrap();
        sys.flush_view_of_file(p, v, 0).unwrap();
        assert_eq!(
            &sys.read_disk("v.bin").unwrap()[..6],
            b"mapped",
            "on the disk"
        );
        let (sys, _) = sys.crash().unwrap();
        let after = sys.read_disk("v.bin").unwrap();
        assert_eq!(after.len(), 0x1000);
        assert_eq!(&after[..6] == b"mapped", survives, "flags {flags:#x}");
    }
}

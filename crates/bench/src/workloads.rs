//! The workloads, by their fixed names (issue 7/7's table), each an ntmm side and, where one
//! exists, a host side doing the same work.

use crate::fixture::{self, anon, at, e, system, touch_read, touch_write, view, PAGE};
use crate::{host, Row, Settings, Spread};
use ntmm_api::*;
use std::hint::black_box;
use std::time::Instant;

const MIB: u64 = 1 << 20;

type Sample<'a> = &'a mut dyn FnMut() -> Result<f64, String>;

/// The host side of a workload as an optional sample: the closure on unix, absent elsewhere.
macro_rules! host_side {
    ($f:ident) => {{
        #[cfg(unix)]
        let side: Option<Sample<'_>> = Some(&mut $f);
        #[cfg(not(unix))]
        let side: Option<Sample<'_>> = None;
        side
    }};
}

/// A shared memfd mapping of `bytes` with every page written (resident and dirty).
#[cfg(unix)]
fn resident_memfd(bytes: u64) -> Result<(std::fs::File, memmap2::MmapMut), String> {
    let f = host::memfd(bytes).map_err(e)?;
    let mut m = host::map_shared(&f, bytes as usize).map_err(e)?;
    m.iter_mut().step_by(PAGE as usize).for_each(|b| *b = 1);
    Ok((f, m))
}

/// The host offsets of one 8-byte word per page of `pages` pages (the first word).
#[cfg(unix)]
fn per_page(pages: u64) -> Result<host::Offsets, String> {
    host::Offsets::strided(pages as usize, PAGE as usize).ok_or_else(|| "bad offsets".into())
}

fn ns_per(t: Instant, ops: u64) -> f64 {
    t.elapsed().as_nanos() as f64 / ops as f64
}

/// Sizes of one run.
#[derive(Clone, Copy)]
struct Scale {
    reps: usize,
    fault_pages: u64,
    resident_pages: u64,
    batch: u64,
    views: u64,
    processes: u64,
    statements: u64,
    random_loads: usize,
}

impl Scale {
    fn of(s: &Settings) -> Scale {
        if s.quick {
            Scale {
                reps: 3,
                fault_pages: 256,
                resident_pages: 64,
                batch: 16,
                views: 2_000,
                processes: 50,
                statements: 2_000,
                random_loads: 8192,
            }
        } else {
            Scale {
                reps: 31,
                fault_pages: 2048,
                resident_pages: 256,
                batch: 64,
                views: 100_000,
                processes: 1_000,
                statements: 20_000,
                random_loads: 65_536,
            }
        }
    }
}

/// Alternates ntmm and host samples and returns both spreads.
fn pair(
    reps: usize,
    nt: Sample<'_>,
    host: Option<Sample<'_>>,
) -> Result<(Spread, Option<Spread>), String> {
    let mut a = Vec::with_capacity(reps);
    let mut b = Vec::with_capacity(reps);
    let mut host = host.filter(|_| host::AVAILABLE);
    for _ in 0..reps {
        a.push(nt()?);
        if let Some(h) = host.as_mut() {
            b.push(h()?);
        }
    }
    let hs = if b.is_empty() {
        None
    } else {
        Some(Spread::of(&mut b))
    };
    Ok((Spread::of(&mut a), hs))
}

/// ntmm's samples alone.
fn solo(reps: usize, nt: Sample<'_>) -> Result<Spread, String> {
    Ok(pair(reps, nt, None)?.0)
}

type Workload = fn(Scale) -> Result<Vec<Row>, String>;

/// The workloads, in the table's order, with the rows each produces.
const WORKLOADS: [(&[&str], Workload); 22] = [
    (&["demand_zero_fault"], demand_zero_fault),
    (
        &["demand_zero_fault@prezeroed"],
        demand_zero_fault_prezeroed,
    ),
    (&["share_fault"], share_fault),
    (&["share_fault@per_fault"], share_fault_per_fault),
    (&["resident_read8"], resident_read8),
    (&["resident_write8"], resident_write8),
    (&["random_read8_64mib"], random_read8_64mib),
    (&["bulk_read_1mib"], bulk_read_1mib),
    (&["map_unmap_64k"], map_unmap_64k),
    (&["flush_dirty_page"], flush_dirty_page),
    (&["flush_dirty_page@cache"], flush_dirty_page_cache),
    (&["flush_clean_16mib"], flush_clean_16mib),
    (&["flush_clean_64k"], flush_clean_64k),
    (&["cow_fault"], cow_fault),
    (&["hard_fault_file"], hard_fault_file),
    (&["readfile_64k"], readfile_64k),
    (&SCENARIO_ROWS, scenario_throughput),
    (&MACHINE_ROWS, machine_start),
    (&THREAD_ROWS, threads_read8),
    (&["soft_fault_transition"], soft_fault_transition),
    (&["hard_fault_pagefile"], hard_fault_pagefile),
    (&["create_reserve_1tib"], create_reserve_1tib),
];

/// The prefixes of the rows `scaling` and `metadata` produce.
const SCALING: [&str; 2] = ["map_unmap_64k@", "share_fault@"];
const METADATA: &str = "metadata_";

/// Runs every workload (or, with `settings.only`, those whose row names start with it) and
/// returns their rows, in the table's order. A prefix that names nothing is an error.
pub fn run(settings: Settings) -> Result<Vec<Row>, String> {
    let sc = Scale::of(&settings);
    let only = settings.only.as_deref();
    let wanted = |name: &str| only.is_none_or(|p| name.starts_with(p));
    // Whether a family of rows (names starting with `family`) may hold a wanted one.
    let family = |family: &str| only.is_none_or(|p| family.starts_with(p) || p.starts_with(family));
    let any_scaling = SCALING.iter().any(|f| family(f));
    if let Some(p) = only {
        let any = WORKLOADS.iter().any(|(ns, _)| ns.iter().any(|n| wanted(n)));
        if !any && !any_scaling && !family(METADATA) {
            let names: Vec<&str> = WORKLOADS
                .iter()
                .flat_map(|(ns, _)| ns.iter().copied())
                .collect();
            return Err(format!(
                "no workload name starts with `{p}` (workloads: {}; scaling rows {}…; {METADATA}…)",
                names.join(", "),
                SCALING.join("…, ")
            ));
        }
    }
    let mut rows = Vec::new();
    for (names, workload) in WORKLOADS {
        if names.iter().any(|n| wanted(n)) {
            rows.extend(workload(sc)?.into_iter().filter(|r| wanted(r.name)));
        }
    }
    if any_scaling {
        rows.extend(scaling(sc)?.into_iter().filter(|r| wanted(r.name)));
    }
    if let Some(heap) = settings.heap_bytes {
        if family(METADATA) {
            rows.extend(metadata(heap)?.into_iter().filter(|r| wanted(r.name)));
        }
    }
    Ok(rows)
}

/// Metadata bytes per resident page (heap growth while a view's pages become resident, plus
/// the frame's PFN entry, which the machine allocates for every frame up front) and per touched
/// prototype PTE (heap growth while a file's pages enter the cache through `ReadFile`, so no
/// process page table or working set is involved).
fn metadata(heap: fn() -> i64) -> Result<Vec<Row>, String> {
    const N: u64 = 8192;
    let (s, p) = system(16_384, Volume::Memory)?;
    let h = anon(&s, p, N * PAGE, 0)?;
    let v = view(&s, p, h, 0)?;
    let before = heap();
    touch_write(&s, p, v, N)?;
    let per_resident =
        (heap() - before) as f64 / N as f64 + std::mem::size_of::<ntmm_vmm::PfnEntry>() as f64;

    s.create_volume_file("m.bin", &vec![0u8; (N * PAGE) as usize])
        .map_err(e)?;
    let fh = s
        .create_file(p, "m.bin", GENERIC_READ, 7, false, OPEN_EXISTING, 0)
        .map_err(e)?;
    // The first read creates the stream's cache section; measure the pages after it.
    black_box(s.read_file(p, fh, PAGE as usize).map_err(e)?);
    let before = heap();
    for _ in 1..N {
        black_box(s.read_file(p, fh, PAGE as usize).map_err(e)?);
    }
    let per_proto = (heap() - before) as f64 / (N - 1) as f64;
    Ok(vec![
        Row::new(
            "metadata_per_resident_page",
            "bytes",
            Spread::single(per_resident),
            None,
        ),
        Row::new(
            "metadata_per_touched_proto_pte",
            "bytes",
            Spread::single(per_proto),
            None,
        ),
    ])
}

fn one(name: &'static str, unit: &'static str, (nt, host): (Spread, Option<Spread>)) -> Vec<Row> {
    vec![Row::new(name, unit, nt, host)]
}

/// The fault counters of `p`.
fn faults(s: &System, p: AsId) -> Result<ntmm_vmm::FaultCounters, String> {
    s.executive().vmm().fault_counters(p).map_err(e)
}

/// Demand-zero faults with the zeroed list empty: every frame comes off the free list and the
/// fault zeroes it (no zero page thread is modelled, nt_internals §9.2), as under sustained
/// allocation. The host's first write to each page of a fresh shared memfd zeroes the page in
/// the fault too: the same work.
fn demand_zero_fault(sc: Scale) -> Result<Vec<Row>, String> {
    let n = sc.fault_pages;
    let (s, p) = system(16_384, Volume::Memory)?;
    // Move every zeroed frame to the free list: touch a view of them all, then delete it.
    let all = s.executive().vmm().list_counts().zeroed;
    let h = anon(&s, p, all * PAGE, 0)?;
    let v = view(&s, p, h, 0)?;
    touch_write(&s, p, v, all)?;
    s.unmap_view_of_file(p, v).map_err(e)?;
    s.close_handle(p, h).map_err(e)?;
    let mut nt = || {
        let h = anon(&s, p, n * PAGE, 0)?;
        let v = view(&s, p, h, 0)?;
        if s.executive().vmm().list_counts().zeroed > 0 {
            return Err("demand_zero_fault: zeroed frames left".into());
        }
        let before = faults(&s, p)?.demand_zero;
        let t = Instant::now();
        touch_write(&s, p, v, n)?;
        let ns = ns_per(t, n);
        let taken = faults(&s, p)?.demand_zero - before;
        if taken != n {
            return Err(format!("demand_zero_fault: {taken} faults for {n} pages"));
        }
        s.unmap_view_of_file(p, v).map_err(e)?;
        s.close_handle(p, h).map_err(e)?;
        Ok(ns)
    };
    #[cfg(unix)]
    let offs = per_page(n)?;
    #[cfg(unix)]
    let mut hs = || {
        let f = host::memfd(n * PAGE).map_err(e)?;
        let mut m = host::map_shared(&f, (n * PAGE) as usize).map_err(e)?;
        let t = Instant::now();
        host::store8(&mut m, &offs, 0);
        let ns = ns_per(t, n);
        drop(m);
        Ok(ns)
    };
    let h = host_side!(hs);
    Ok(one(
        "demand_zero_fault",
        "ns/op",
        pair(sc.reps, &mut nt, h)?,
    ))
}

/// Demand-zero faults as NT takes them while its zero page thread keeps up: every frame comes
/// off the zeroed list, so the fault zeroes nothing (`MiRemoveZeroPage`, nt_internals §4.2).
/// Informational: the host has no pre-zeroed pool to compare with, so no ratio. A fresh
/// machine per sample (set-up untimed) keeps every sample in that regime.
fn demand_zero_fault_prezeroed(sc: Scale) -> Result<Vec<Row>, String> {
    let n = sc.fault_pages;
    let mut nt = || {
        let (s, p) = system(16_384, Volume::Memory)?;
        let h = anon(&s, p, n * PAGE, 0)?;
        let v = view(&s, p, h, 0)?;
        if s.executive().vmm().list_counts().zeroed < n {
            return Err("demand_zero_fault@prezeroed: the zeroed list is short".into());
        }
        let t = Instant::now();
        touch_write(&s, p, v, n)?;
        let ns = ns_per(t, n);
        let taken = faults(&s, p)?.demand_zero;
        if taken != n {
            return Err(format!("demand_zero_fault@prezeroed: {taken} faults"));
        }
        Ok(ns)
    };
    Ok(one(
        "demand_zero_fault@prezeroed",
        "ns/op",
        (solo(sc.reps, &mut nt)?, None),
    ))
}

fn share_fault(sc: Scale) -> Result<Vec<Row>, String> {
    share_faults(sc, false)
}

/// The share-fault workload per *fault* rather than per page: Linux resolves a read fault on
/// a shared mapping by mapping the neighbouring cached pages too (fault-around, 16 pages by
/// default), while NT resolves one prototype PTE per fault (nt_internals §3.1). Both sides
/// touch every page of a second view; ntmm's time is divided by its share faults (one per
/// page), the host's by the minor faults the thread took (`/proc/thread-self/stat`), so the
/// ratio compares the cost of one fault. No host figure where that count is unavailable.
fn share_fault_per_fault(sc: Scale) -> Result<Vec<Row>, String> {
    share_faults(sc, true)
}

/// First reads of every resident page through a second view, per page or (`per_fault`) per
/// fault taken. Either way ntmm must take exactly one share fault per page.
fn share_faults(sc: Scale, per_fault: bool) -> Result<Vec<Row>, String> {
    let n = sc.fault_pages;
    let (s, p) = system(16_384, Volume::Memory)?;
    let h = anon(&s, p, n * PAGE, 0)?;
    let first = view(&s, p, h, 0)?;
    touch_write(&s, p, first, n)?;
    let mut nt = || {
        let v = view(&s, p, h, 0)?;
        let before = faults(&s, p)?.share;
        let t = Instant::now();
        black_box(touch_read(&s, p, v, n)?);
        let ns = t.elapsed().as_nanos() as f64;
        let taken = faults(&s, p)?.share - before;
        s.unmap_view_of_file(p, v).map_err(e)?;
        if taken != n {
            return Err(format!("share_fault: {taken} faults for {n} pages"));
        }
        Ok(ns / n as f64)
    };
    #[cfg(unix)]
    let (f, _m1) = resident_memfd(n * PAGE)?;
    #[cfg(unix)]
    let offs = per_page(n)?;
    #[cfg(unix)]
    let minor = || host::minor_faults().ok_or("no fault count");
    #[cfg(unix)]
    let mut hs = || {
        let m2 = host::map_shared(&f, (n * PAGE) as usize).map_err(e)?;
        let before = if per_fault { minor()? } else { 0 };
        let t = Instant::now();
        black_box(host::load8(&m2, &offs));
        let ns = t.elapsed().as_nanos() as f64;
        let ops = if per_fault { minor()? - before } else { n };
        drop(m2);
        Ok(ns / ops.max(1) as f64)
    };
    #[cfg(unix)]
    let counted = !per_fault || host::minor_faults().is_some();
    #[cfg(not(unix))]
    let counted = false;
    let hh = if counted { host_side!(hs) } else { None };
    let (name, unit) = if per_fault {
        ("share_fault@per_fault", "ns/fault")
    } else {
        ("share_fault", "ns/op")
    };
    // ntmm takes one fault per page: per page and per fault are the same figure.
    Ok(one(name, unit, pair(sc.reps, &mut nt, hh)?))
}

/// The distance between successive 8-byte accesses of the resident workloads (a cache line).
const STRIDE: u64 = 64;

/// A machine with a resident, dirty, `pages`-page view (every page written once).
fn resident_view(pages: u64) -> Result<(System, AsId, Va), String> {
    let (s, p) = system((pages as u32).max(16_384) + 1024, Volume::Memory)?;
    let h = anon(&s, p, pages * PAGE, 0)?;
    let v = view(&s, p, h, 0)?;
    touch_write(&s, p, v, pages)?;
    Ok((s, p, v))
}

/// Checks that resident accesses took no fault at all.
fn no_faults(s: &System, p: AsId, before: u64, what: &str) -> Result<(), String> {
    let after = faults(s, p)?.resolved();
    if after != before {
        return Err(format!(
            "{what}: {} faults on resident pages",
            after - before
        ));
    }
    Ok(())
}

/// 8-byte loads every 64 bytes of 256 resident pages; the host's are bare volatile loads at the
/// same offsets (one bounds check for the whole loop).
fn resident_read8(sc: Scale) -> Result<Vec<Row>, String> {
    let n = sc.resident_pages;
    let loads = n * PAGE / STRIDE;
    let (s, p, v) = resident_view(n)?;
    let mut nt = || {
        let before = faults(&s, p)?.resolved();
        let t = Instant::now();
        let mut acc = 0u64;
        for i in 0..loads {
            acc = acc.wrapping_add(s.read_value(p, at(v, i * STRIDE), 8).map_err(e)?);
        }
        black_box(acc);
        let ns = ns_per(t, loads);
        no_faults(&s, p, before, "resident_read8")?;
        Ok(ns)
    };
    #[cfg(unix)]
    let (_f, m) = resident_memfd(n * PAGE)?;
    #[cfg(unix)]
    let offs = host::Offsets::strided(loads as usize, STRIDE as usize).ok_or("offsets")?;
    #[cfg(unix)]
    let mut hs = || {
        let t = Instant::now();
        black_box(host::load8(&m, &offs));
        Ok(ns_per(t, loads))
    };
    let hh = host_side!(hs);
    Ok(one("resident_read8", "ns/op", pair(sc.reps, &mut nt, hh)?))
}

/// 8-byte stores every 64 bytes of 256 resident, already-dirty pages; the host's are bare
/// volatile stores at the same offsets.
fn resident_write8(sc: Scale) -> Result<Vec<Row>, String> {
    let n = sc.resident_pages;
    let stores = n * PAGE / STRIDE;
    let (s, p, v) = resident_view(n)?;
    let mut k = 0u64;
    let mut nt = || {
        k += 1;
        let before = faults(&s, p)?.resolved();
        let t = Instant::now();
        for i in 0..stores {
            s.write_value(p, at(v, i * STRIDE), 8, k.wrapping_add(i))
                .map_err(e)?;
        }
        let ns = ns_per(t, stores);
        no_faults(&s, p, before, "resident_write8")?;
        if s.read_value(p, at(v, STRIDE), 8).map_err(e)? != k + 1 {
            return Err("resident_write8: the store was lost".into());
        }
        Ok(ns)
    };
    #[cfg(unix)]
    let (_f, mut m) = resident_memfd(n * PAGE)?;
    #[cfg(unix)]
    let offs = host::Offsets::strided(stores as usize, STRIDE as usize).ok_or("offsets")?;
    #[cfg(unix)]
    let mut j = 0u64;
    #[cfg(unix)]
    let mut hs = || {
        j += 1;
        let t = Instant::now();
        host::store8(&mut m, &offs, j);
        Ok(ns_per(t, stores))
    };
    let hh = host_side!(hs);
    Ok(one("resident_write8", "ns/op", pair(sc.reps, &mut nt, hh)?))
}

/// A fixed pseudo-random sequence (xorshift64*): the same addresses on every run and side.
fn random_offsets(count: usize, bytes: u64) -> Vec<u64> {
    let mut x = 0x9E37_79B9_7F4A_7C15u64;
    (0..count)
        .map(|_| {
            x ^= x >> 12;
            x ^= x << 25;
            x ^= x >> 27;
            let r = x.wrapping_mul(0x2545_F491_4F6C_DD1D);
            let page = (r >> 32) % (bytes / PAGE);
            let word = (r & 0xFFFF) % (PAGE / 8);
            page * PAGE + word * 8
        })
        .collect()
}

/// 8-byte loads at 65 536 fixed pseudo-random addresses (a random page, a random word in it)
/// over 64 MiB of resident memory: TLB and cache misses on both sides.
fn random_read8_64mib(sc: Scale) -> Result<Vec<Row>, String> {
    let bytes = 64 * MIB;
    let offs = random_offsets(sc.random_loads, bytes);
    let loads = offs.len() as u64;
    let (s, p, v) = resident_view(bytes / PAGE)?;
    let mut nt = || {
        let before = faults(&s, p)?.resolved();
        let t = Instant::now();
        let mut acc = 0u64;
        for &o in &offs {
            acc = acc.wrapping_add(s.read_value(p, at(v, o), 8).map_err(e)?);
        }
        black_box(acc);
        let ns = ns_per(t, loads);
        no_faults(&s, p, before, "random_read8_64mib")?;
        Ok(ns)
    };
    #[cfg(unix)]
    let (_f, m) = resident_memfd(bytes)?;
    #[cfg(unix)]
    let hoffs = host::Offsets::new(offs.iter().map(|&o| o as usize).collect(), bytes as usize)
        .ok_or("offsets")?;
    #[cfg(unix)]
    let mut hs = || {
        let t = Instant::now();
        black_box(host::load8(&m, &hoffs));
        Ok(ns_per(t, loads))
    };
    let hh = host_side!(hs);
    Ok(one(
        "random_read8_64mib",
        "ns/op",
        pair(sc.reps, &mut nt, hh)?,
    ))
}

fn bulk_read_1mib(sc: Scale) -> Result<Vec<Row>, String> {
    let copies = sc.batch;
    let (s, p, v) = resident_view(MIB / PAGE)?;
    let mut buf = vec![0u8; MIB as usize];
    let mut nt = || {
        let t = Instant::now();
        for _ in 0..copies {
            s.executive().vmm().read(p, v, &mut buf).map_err(e)?;
            black_box(&mut buf);
        }
        let ns = ns_per(t, copies);
        if buf[0] != 0 || buf[PAGE as usize] != 1 {
            return Err("bulk_read_1mib: the bytes read are not the view's".into());
        }
        Ok(ns)
    };
    #[cfg(unix)]
    let (_f, m) = resident_memfd(MIB)?;
    #[cfg(unix)]
    let mut hbuf = vec![0u8; MIB as usize];
    #[cfg(unix)]
    let mut hs = || {
        let t = Instant::now();
        for _ in 0..copies {
            hbuf.copy_from_slice(black_box(&m[..]));
            black_box(&mut hbuf);
        }
        Ok(ns_per(t, copies))
    };
    let hh = host_side!(hs);
    Ok(one("bulk_read_1mib", "ns/MiB", pair(sc.reps, &mut nt, hh)?))
}

const K64: u64 = 64 * 1024;

/// Map and unmap a 64 KiB view of a 64 KiB section; the host maps 64 KiB of a memfd with the
/// length given (no size query) and unmaps it.
fn map_unmap_64k(sc: Scale) -> Result<Vec<Row>, String> {
    let ops = sc.batch * 4;
    let (s, p) = system(4096, Volume::Memory)?;
    let h = anon(&s, p, K64, 0)?;
    let mut nt = || {
        let t = Instant::now();
        for _ in 0..ops {
            let v = s
                .map_view_of_file(p, h, FILE_MAP_WRITE, 0, 0, K64)
                .map_err(e)?;
            s.unmap_view_of_file(p, v).map_err(e)?;
        }
        Ok(ns_per(t, ops))
    };
    #[cfg(unix)]
    let f = host::memfd(K64).map_err(e)?;
    #[cfg(unix)]
    let mut hs = || {
        let t = Instant::now();
        for _ in 0..ops {
            let m = host::map_shared(&f, K64 as usize).map_err(e)?;
            drop(black_box(m));
        }
        Ok(ns_per(t, ops))
    };
    let hh = host_side!(hs);
    Ok(one("map_unmap_64k", "ns/op", pair(sc.reps, &mut nt, hh)?))
}

const FLUSH_BYTES: u64 = 16 * MIB;

/// A 16 MiB file on a host-directory volume in `dir`, mapped read/write and made resident.
fn file_view(dir: &std::path::Path) -> Result<(System, AsId, Va, Handle), String> {
    fixture::file_view(Volume::HostDirectory(dir.join("ntmm")), FLUSH_BYTES)
}

/// The host's 16 MiB file `host.bin` in `dir` (every byte 1), opened read/write, and a shared
/// mapping of it with every page read (cached and mapped).
#[cfg(unix)]
fn host_file_view(dir: &std::path::Path) -> Result<(std::fs::File, memmap2::MmapMut), String> {
    let path = dir.join("host.bin");
    std::fs::write(&path, vec![1u8; FLUSH_BYTES as usize]).map_err(e)?;
    let f = std::fs::File::options()
        .read(true)
        .write(true)
        .open(&path)
        .map_err(e)?;
    let m = host::map_shared(&f, FLUSH_BYTES as usize).map_err(e)?;
    black_box(host::load8(&m, &per_page(FLUSH_BYTES / PAGE)?));
    Ok((f, m))
}

/// FlushViewOfFile of a clean, resident view: no page is written. No host row (a clean
/// `msync` still asks the device to flush its cache); the figure to compare is
/// `flush_clean_64k`, which it should stay within 2× of.
fn flush_clean(sc: Scale, bytes: u64, name: &'static str) -> Result<Vec<Row>, String> {
    let ops = sc.batch / 4;
    let dir = tempfile::tempdir().map_err(e)?;
    let (s, p, v, _) = fixture::file_view(Volume::HostDirectory(dir.path().join("ntmm")), bytes)?;
    s.flush_view_of_file(p, v, 0).map_err(e)?;
    let mut nt = || {
        let t = Instant::now();
        for _ in 0..ops {
            s.flush_view_of_file(p, v, 0).map_err(e)?;
        }
        Ok(ns_per(t, ops))
    };
    Ok(one(name, "ns/op", (solo(sc.reps, &mut nt)?, None)))
}

fn flush_clean_16mib(sc: Scale) -> Result<Vec<Row>, String> {
    flush_clean(sc, FLUSH_BYTES, "flush_clean_16mib")
}

fn flush_clean_64k(sc: Scale) -> Result<Vec<Row>, String> {
    flush_clean(sc, K64, "flush_clean_64k")
}

/// One dirty page made durable: a store, FlushViewOfFile of the view (the page reaches the
/// host file) and FlushFileBuffers (`fsync` of the host file). The host stores into its
/// mapping of a file on the same file system and calls `msync(MS_SYNC)` on the mapping, which
/// writes the page and syncs the file.
fn flush_dirty_page(sc: Scale) -> Result<Vec<Row>, String> {
    flush_dirty(sc, true)
}

/// One dirty page written to the host's page cache, durable on neither side: a store and
/// FlushViewOfFile (ntmm writes the page to the host file, no sync); the host `pwrite`s the
/// page to its file.
fn flush_dirty_page_cache(sc: Scale) -> Result<Vec<Row>, String> {
    flush_dirty(sc, false)
}

fn flush_dirty(sc: Scale, durable: bool) -> Result<Vec<Row>, String> {
    let ops = if durable { sc.batch / 4 } else { sc.batch };
    let pages = FLUSH_BYTES / PAGE;
    let dir = tempfile::tempdir().map_err(e)?;
    let (s, p, v, fh) = file_view(dir.path())?;
    let mut k = 0u64;
    let mut nt = || {
        let t = Instant::now();
        for _ in 0..ops {
            k += 1;
            s.write_value(p, at(v, (k * 97 % pages) * PAGE), 8, k)
                .map_err(e)?;
            s.flush_view_of_file(p, v, 0).map_err(e)?;
            if durable {
                s.flush_file_buffers(p, fh).map_err(e)?;
            }
        }
        Ok(ns_per(t, ops))
    };
    #[cfg(unix)]
    let (f, mut m) = host_file_view(dir.path())?;
    #[cfg(unix)]
    let mut page = vec![1u8; PAGE as usize];
    #[cfg(unix)]
    let mut j = 0u64;
    #[cfg(unix)]
    let mut hs = || {
        use std::os::unix::fs::FileExt;
        let t = Instant::now();
        for _ in 0..ops {
            j += 1;
            let o = ((j * 97 % pages) * PAGE) as usize;
            if durable {
                m[o..o + 8].copy_from_slice(&j.to_le_bytes());
                m.flush().map_err(e)?;
            } else {
                page[..8].copy_from_slice(&j.to_le_bytes());
                f.write_all_at(&page, o as u64).map_err(e)?;
            }
        }
        Ok(ns_per(t, ops))
    };
    let hh = host_side!(hs);
    let name = if durable {
        "flush_dirty_page"
    } else {
        "flush_dirty_page@cache"
    };
    let row = one(name, "ns/op", pair(sc.reps, &mut nt, hh)?);
    // The last store reached the host file.
    let bytes = std::fs::read(dir.path().join("ntmm").join("f.bin")).map_err(e)?;
    let o = ((k * 97 % pages) * PAGE) as usize;
    if bytes[o..o + 8] != k.to_le_bytes() {
        return Err(format!("{name}: the flushed page is not in the host file"));
    }
    Ok(row)
}

/// First writes to each page of a FILE_MAP_COPY view of a resident file: one copy-on-write
/// fault per page (a private copy of the cached page). The host writes to each page of a
/// `MAP_PRIVATE` mapping of a file whose pages are in its page cache.
fn cow_fault(sc: Scale) -> Result<Vec<Row>, String> {
    let n = sc.fault_pages;
    let (s, p, _, fh) = fixture::file_view(Volume::Memory, n * PAGE)?;
    let sec = s
        .create_file_mapping(p, fh, false, PAGE_WRITECOPY, 0, 0, None)
        .map_err(e)?;
    let mut nt = || {
        let v = s
            .map_view_of_file(p, sec, FILE_MAP_COPY, 0, 0, 0)
            .map_err(e)?;
        let before = faults(&s, p)?.copy_on_write;
        let t = Instant::now();
        touch_write(&s, p, v, n)?;
        let ns = ns_per(t, n);
        let taken = faults(&s, p)?.copy_on_write - before;
        s.unmap_view_of_file(p, v).map_err(e)?;
        if taken != n {
            return Err(format!("cow_fault: {taken} faults for {n} pages"));
        }
        Ok(ns)
    };
    #[cfg(unix)]
    let dir = tempfile::tempdir().map_err(e)?;
    #[cfg(unix)]
    let f = {
        let path = dir.path().join("cow.bin");
        std::fs::write(&path, vec![1u8; (n * PAGE) as usize]).map_err(e)?;
        std::fs::File::open(&path).map_err(e)?
    };
    #[cfg(unix)]
    let offs = per_page(n)?;
    #[cfg(unix)]
    let mut hs = || {
        let mut m = host::map_copy(&f, (n * PAGE) as usize).map_err(e)?;
        let t = Instant::now();
        host::store8(&mut m, &offs, 0);
        let ns = ns_per(t, n);
        drop(m);
        Ok(ns)
    };
    let hh = host_side!(hs);
    Ok(one("cow_fault", "ns/op", pair(sc.reps, &mut nt, hh)?))
}

/// First reads of each page of a file view whose pages are in no cache: ntmm's machine is
/// fresh (its cache empty) and the host's cached pages of the volume's file are dropped
/// (`posix_fadvise(DONTNEED)`), so ntmm's store reads come from the device as the host's do;
/// the host reads each page of a shared mapping of its own file after the same advice.
fn hard_fault_file(sc: Scale) -> Result<Vec<Row>, String> {
    let n = sc.fault_pages;
    let dir = tempfile::tempdir().map_err(e)?;
    let vol = dir.path().join("ntmm");
    std::fs::create_dir_all(&vol).map_err(e)?;
    std::fs::write(vol.join("f.bin"), vec![1u8; (n * PAGE) as usize]).map_err(e)?;
    let mut nt = || {
        let (s, p) = system(16_384, Volume::HostDirectory(vol.clone()))?;
        let fh = s
            .create_file(p, "f.bin", GENERIC_READ, 7, false, OPEN_EXISTING, 0)
            .map_err(e)?;
        let sec = s
            .create_file_mapping(p, fh, false, PAGE_READONLY, 0, 0, None)
            .map_err(e)?;
        let v = s
            .map_view_of_file(p, sec, FILE_MAP_READ, 0, 0, 0)
            .map_err(e)?;
        #[cfg(unix)]
        host::drop_cached(&std::fs::File::open(vol.join("f.bin")).map_err(e)?).map_err(e)?;
        let before = faults(&s, p)?;
        let t = Instant::now();
        let sum = touch_read(&s, p, v, n)?;
        let ns = ns_per(t, n);
        let after = faults(&s, p)?;
        if sum != n.wrapping_mul(0x0101_0101_0101_0101) || after.resolved() - before.resolved() != n
        {
            return Err("hard_fault_file: the pages read are not the file's".into());
        }
        if after.hard_file == before.hard_file {
            return Err("hard_fault_file: no hard fault".into());
        }
        Ok(ns)
    };
    #[cfg(unix)]
    let f = {
        let path = dir.path().join("host.bin");
        std::fs::write(&path, vec![1u8; (n * PAGE) as usize]).map_err(e)?;
        std::fs::File::open(&path).map_err(e)?
    };
    #[cfg(unix)]
    let offs = per_page(n)?;
    #[cfg(unix)]
    let mut hs = || {
        let m = host::map_read(&f, (n * PAGE) as usize).map_err(e)?;
        host::drop_cached(&f).map_err(e)?;
        let t = Instant::now();
        black_box(host::load8(&m, &offs));
        let ns = ns_per(t, n);
        drop(m);
        Ok(ns)
    };
    let hh = host_side!(hs);
    Ok(one("hard_fault_file", "ns/op", pair(sc.reps, &mut nt, hh)?))
}

/// ReadFile of 64 KiB from a file whose pages are in the machine's cache, sequentially through
/// a 16 MiB file; the host `pread`s the same 64 KiB ranges from its cached file.
fn readfile_64k(sc: Scale) -> Result<Vec<Row>, String> {
    let ops = sc.batch;
    let chunks = FLUSH_BYTES / K64;
    let dir = tempfile::tempdir().map_err(e)?;
    let (s, p, _, fh) = file_view(dir.path())?;
    let mut next = 0u64;
    let mut nt = || {
        if next + ops > chunks {
            next = 0;
        }
        s.set_file_pointer(p, fh, (next * K64) as i32, None, FILE_BEGIN)
            .map_err(e)?;
        let t = Instant::now();
        for _ in 0..ops {
            let b = s.read_file(p, fh, K64 as usize).map_err(e)?;
            if b.len() != K64 as usize {
                return Err("readfile_64k: short read".into());
            }
            black_box(b);
        }
        next += ops;
        Ok(ns_per(t, ops))
    };
    #[cfg(unix)]
    let (f, _m) = host_file_view(dir.path())?;
    #[cfg(unix)]
    let mut hbuf = vec![0u8; K64 as usize];
    #[cfg(unix)]
    let mut hnext = 0u64;
    #[cfg(unix)]
    let mut hs = || {
        use std::os::unix::fs::FileExt;
        if hnext + ops > chunks {
            hnext = 0;
        }
        let t = Instant::now();
        for i in 0..ops {
            f.read_exact_at(&mut hbuf, (hnext + i) * K64).map_err(e)?;
            black_box(&mut hbuf);
        }
        hnext += ops;
        Ok(ns_per(t, ops))
    };
    let hh = host_side!(hs);
    Ok(one("readfile_64k", "ns/op", pair(sc.reps, &mut nt, hh)?))
}

const SCENARIO_ROWS: [&str; 3] = [
    "scenario_throughput@plain",
    "scenario_throughput@json",
    "scenario_throughput@trace",
];

/// A scenario of about `statements` statements: a section and a view, then stores, checked
/// loads and calls over its pages, in a fixed order.
pub fn generated_scenario(statements: u64) -> String {
    let mut src = String::from(
        "machine frames=4096 pagefile=4096 workingset=4096\nprocess A\n\
         h = CreateFileMapping(INVALID_HANDLE_VALUE, NULL, PAGE_READWRITE, 0, 0x100000, NULL)\n\
         p = MapViewOfFile(h, FILE_MAP_WRITE, 0, 0, 0)\n",
    );
    for i in 0..statements.saturating_sub(4) {
        let off = (i * 520) % 0xFFFF8;
        match i % 4 {
            0 => src.push_str(&format!("write64(p + {off:#x}, {i})\n")),
            1 => src.push_str(&format!("x = read64(p + {off:#x})\n")),
            2 => src.push_str(&format!(
                "expect read64(p + {:#x}) == {}\n",
                (i - 2) * 520 % 0xFFFF8,
                i - 2
            )),
            _ => src.push_str("GetLastError()\n"),
        }
    }
    src
}

/// Statements per second through the scenario runner (as `ntmm run` drives it) on a
/// generated scenario, with the plain transcript, `--json` and `--trace`. Every expectation
/// must pass.
fn scenario_throughput(sc: Scale) -> Result<Vec<Row>, String> {
    let src = generated_scenario(sc.statements);
    let stmts = src.lines().count() as f64;
    let mut rows = Vec::new();
    for (i, name) in SCENARIO_ROWS.into_iter().enumerate() {
        let opts = ntmm_scenario::Options {
            json: i == 1,
            trace: i == 2,
            ..Default::default()
        };
        let mut nt = || {
            let t = Instant::now();
            let r = ntmm_scenario::run_source("gen.ntm", &src, &opts);
            let secs = t.elapsed().as_secs_f64();
            if r.failed != 0 || r.passed != sc.statements.saturating_sub(4) / 4 {
                return Err(format!(
                    "{name}: {} passed, {} failed: {}",
                    r.passed,
                    r.failed,
                    r.output.lines().find(|l| l.contains("FAIL")).unwrap_or("")
                ));
            }
            black_box(r.output);
            Ok(stmts / secs)
        };
        let reps = (sc.reps / 3).max(3);
        rows.push(Row::new(name, "stmt/s", solo(reps, &mut nt)?, None));
    }
    Ok(rows)
}

const MACHINE_ROWS: [&str; 3] = [
    "machine_start@16mib",
    "machine_start@1gib",
    "machine_start@4gib",
];

/// Creating a machine (`System::new`) of 16 MiB, 1 GiB and 4 GiB of RAM; the larger two carry
/// their ratio to the 16 MiB start.
fn machine_start(sc: Scale) -> Result<Vec<Row>, String> {
    let mut rows: Vec<Row> = Vec::new();
    for (name, frames) in MACHINE_ROWS.into_iter().zip([4096u32, 1 << 18, 1 << 20]) {
        let mut nt = || {
            let t = Instant::now();
            let s = System::new(SystemConfig {
                vmm: ntmm_vmm::VmmConfig {
                    frames,
                    pagefile_pages: 65_536,
                    working_set_max: u64::from(frames),
                    writer: ntmm_vmm::WriterPolicy::Lazy,
                },
                volume: Volume::Memory,
            })
            .map_err(e)?;
            let ns = t.elapsed().as_nanos() as f64;
            if s.executive().vmm().list_counts().zeroed + s.executive().vmm().list_counts().free
                != u64::from(frames)
            {
                return Err(format!("{name}: not every frame is available"));
            }
            drop(s);
            Ok(ns)
        };
        let mut row = Row::new(name, "ns/op", solo(sc.reps.min(11), &mut nt)?, None);
        if let Some(first) = rows.first() {
            row.ratio = Some(row.ntmm.median / first.ntmm.median);
            row.ratio_of = Some("machine_start@16mib");
        }
        rows.push(row);
    }
    Ok(rows)
}

const THREAD_ROWS: [&str; 2] = ["threads_read8@1", "threads_read8@2"];

/// Resident 8-byte loads from 1 and from 2 threads at once, each thread in its own process with
/// its own resident view (the loads of `resident_read8`, 16 passes per thread). The figure is
/// the wall time per load over all threads; the two-thread row carries the throughput ratio
/// to the one-thread row (2.0 would be perfect scaling).
fn threads_read8(sc: Scale) -> Result<Vec<Row>, String> {
    let n = sc.resident_pages;
    let loads = n * PAGE / STRIDE;
    let passes = 16u64;
    let (s, p0, v0) = resident_view(n)?;
    let p1 = s.create_process(None, false).map_err(e)?;
    let h1 = anon(&s, p1, n * PAGE, 0)?;
    let v1 = view(&s, p1, h1, 0)?;
    touch_write(&s, p1, v1, n)?;
    let reader = |p: AsId, v: Va| -> Result<u64, String> {
        let mut acc = 0u64;
        for _ in 0..passes {
            for i in 0..loads {
                acc = acc.wrapping_add(s.read_value(p, at(v, i * STRIDE), 8).map_err(e)?);
            }
        }
        Ok(acc)
    };
    let mut rows: Vec<Row> = Vec::new();
    for (name, threads) in THREAD_ROWS.into_iter().zip([1usize, 2]) {
        let mut nt = || {
            // Each thread times its own loads from the common start; the sample is the wall
            // time from the earliest start to the latest end. The start is a spinning barrier:
            // with a blocking one (`std::sync::Barrier`) the scheduler woke the second reader on
            // the first one's CPU and a 0.5 ms sample ended before it was moved, so `@2`
            // measured one CPU (a plain loop of loads showed the same 1.0: issue 7/7). Spinning,
            // both readers are running, each on its own CPU, when they pass it.
            let barrier = std::sync::atomic::AtomicUsize::new(0);
            let results: Vec<_> = std::thread::scope(|scope| {
                let hs: Vec<_> = [(p0, v0), (p1, v1)][..threads]
                    .iter()
                    .map(|&(p, v)| {
                        let barrier = &barrier;
                        let reader = &reader;
                        scope.spawn(move || {
                            barrier.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
                            while barrier.load(std::sync::atomic::Ordering::SeqCst) < threads {
                                std::hint::spin_loop();
                            }
                            let start = Instant::now();
                            let sum = reader(p, v);
                            (start, Instant::now(), sum)
                        })
                    })
                    .collect();
                hs.into_iter().map(|h| h.join()).collect()
            });
            let mut window: Option<(Instant, Instant)> = None;
            for r in results {
                let (start, end, sum) = r.map_err(|_| format!("{name}: a reader panicked"))?;
                black_box(sum?);
                window = Some(window.map_or((start, end), |(s, e)| (s.min(start), e.max(end))));
            }
            let (start, end) = window.ok_or("no reader")?;
            let ns = (end - start).as_nanos() as f64;
            Ok(ns / (loads * passes * threads as u64) as f64)
        };
        let mut row = Row::new(name, "ns/op", solo(sc.reps.min(15), &mut nt)?, None);
        if let Some(first) = rows.first() {
            row.ratio = Some(first.ntmm.median / row.ntmm.median);
            row.ratio_of = Some("throughput / threads_read8@1");
        }
        rows.push(row);
    }
    Ok(rows)
}

fn soft_fault_transition(sc: Scale) -> Result<Vec<Row>, String> {
    let n = sc.fault_pages;
    let (s, p) = system(16_384, Volume::Memory)?;
    let h = anon(&s, p, n * PAGE, 0)?;
    let v = view(&s, p, h, 0)?;
    touch_write(&s, p, v, n)?;
    let mut nt = || {
        s.executive().trim(p).map_err(e)?;
        let before = faults(&s, p)?.transition;
        let t = Instant::now();
        black_box(touch_read(&s, p, v, n)?);
        let ns = ns_per(t, n);
        if faults(&s, p)?.transition - before != n {
            return Err("soft_fault_transition: not one soft fault per page".into());
        }
        Ok(ns)
    };
    Ok(one(
        "soft_fault_transition",
        "ns/op",
        (solo(sc.reps, &mut nt)?, None),
    ))
}

fn hard_fault_pagefile(sc: Scale) -> Result<Vec<Row>, String> {
    // A machine of 512 frames: 256 pages written to the pagefile, then 448 other pages touched
    // so that their standby frames are reused; re-reading the first 256 is all hard faults.
    let (n, other) = (256u64, 448u64);
    let (s, p) = system(512, Volume::Memory)?;
    let a = anon(&s, p, n * PAGE, 0)?;
    let va = view(&s, p, a, 0)?;
    let b = anon(&s, p, other * PAGE, 0)?;
    let vb = view(&s, p, b, 0)?;
    let mut nt = || {
        touch_write(&s, p, va, n)?;
        s.executive().trim(p).map_err(e)?;
        s.executive().run_writers();
        black_box(touch_read(&s, p, vb, other)?);
        s.executive().trim(p).map_err(e)?;
        let before = faults(&s, p)?;
        let t = Instant::now();
        black_box(touch_read(&s, p, va, n)?);
        let ns = ns_per(t, n);
        let after = faults(&s, p)?;
        if after.hard_pagefile - before.hard_pagefile < n / 2 {
            return Err("hard_fault_pagefile: the pages were not evicted".into());
        }
        Ok(ns)
    };
    Ok(one(
        "hard_fault_pagefile",
        "ns/op",
        (solo(sc.reps, &mut nt)?, None),
    ))
}

fn create_reserve_1tib(sc: Scale) -> Result<Vec<Row>, String> {
    let ops = sc.batch;
    let (s, p) = system(4096, Volume::Memory)?;
    let mut nt = || {
        let t = Instant::now();
        for _ in 0..ops {
            let h = anon(&s, p, 1 << 40, SEC_RESERVE)?;
            let v = view(&s, p, h, 0)?;
            s.unmap_view_of_file(p, v).map_err(e)?;
            s.close_handle(p, h).map_err(e)?;
        }
        Ok(ns_per(t, ops))
    };
    Ok(one(
        "create_reserve_1tib",
        "ns/op",
        (solo(sc.reps, &mut nt)?, None),
    ))
}

/// Map/unmap and share-fault costs with many views in one process and with many processes,
/// next to the small case.
fn scaling(sc: Scale) -> Result<Vec<Row>, String> {
    const NAME: &str = "Local\\ntmm-bench";
    let (s, p) = system(16_384, Volume::Memory)?;
    let h = s
        .create_file_mapping(
            p,
            Handle::INVALID,
            false,
            PAGE_READWRITE,
            0,
            K64 as u32,
            Some(NAME),
        )
        .map_err(e)?;
    let first = view(&s, p, h, 0)?;
    touch_write(&s, p, first, K64 / PAGE)?;
    let ops = sc.batch * 4;
    let measure = |p: AsId, h: Handle| -> Result<(Spread, Spread), String> {
        let mut mu = || {
            let t = Instant::now();
            for _ in 0..ops {
                let v = view(&s, p, h, 0)?;
                s.unmap_view_of_file(p, v).map_err(e)?;
            }
            Ok(ns_per(t, ops))
        };
        let map_unmap = solo(sc.reps, &mut mu)?;
        let mut sf = || {
            let v = view(&s, p, h, 0)?;
            let t = Instant::now();
            black_box(touch_read(&s, p, v, K64 / PAGE)?);
            let ns = ns_per(t, K64 / PAGE);
            s.unmap_view_of_file(p, v).map_err(e)?;
            Ok(ns)
        };
        let share = solo(sc.reps, &mut sf)?;
        Ok((map_unmap, share))
    };
    let (small_mu, small_sf) = measure(p, h)?;
    // Many views in one process.
    for _ in 0..sc.views {
        view(&s, p, h, 0)?;
    }
    let (views_mu, views_sf) = measure(p, h)?;
    // Many processes, each with a view of the section, opened by name.
    let mut last = None;
    for _ in 0..sc.processes {
        let q = s.create_process(None, false).map_err(e)?;
        let qh = s
            .open_file_mapping(q, FILE_MAP_ALL_ACCESS, false, NAME)
            .map_err(e)?;
        let v = view(&s, q, qh, 0)?;
        touch_read(&s, q, v, 1)?;
        last = Some((q, qh));
    }
    let (q, qh) = last.ok_or("no processes")?;
    let (procs_mu, procs_sf) = measure(q, qh)?;
    let full = sc.views >= 100_000;
    let (mu_v, mu_p, sf_v, sf_p) = if full {
        (
            "map_unmap_64k@100k_views",
            "map_unmap_64k@1k_processes",
            "share_fault@100k_views",
            "share_fault@1k_processes",
        )
    } else {
        (
            "map_unmap_64k@2k_views",
            "map_unmap_64k@50_processes",
            "share_fault@2k_views",
            "share_fault@50_processes",
        )
    };
    Ok(vec![
        Row::new("map_unmap_64k@small", "ns/op", small_mu, None),
        Row::new(mu_v, "ns/op", views_mu, None),
        Row::new(mu_p, "ns/op", procs_mu, None),
        Row::new("share_fault@small", "ns/op", small_sf, None),
        Row::new(sf_v, "ns/op", views_sf, None),
        Row::new(sf_p, "ns/op", procs_sf, None),
    ])
}

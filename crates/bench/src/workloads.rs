//! The workloads, by their fixed names (issue 6/6's table), each an ntmm side and, where one
//! exists, a host side.

use crate::fixture::{self, anon, at, e, system, touch_read, touch_write, view, PAGE};
use crate::{host, median, Row, Settings};
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

/// A shared memfd mapping of `bytes` with every page touched (resident).
#[cfg(unix)]
fn resident_memfd(bytes: u64) -> Result<(std::fs::File, memmap2::MmapMut), String> {
    let f = host::memfd(bytes).map_err(e)?;
    let mut m = host::map_shared(&f, None).map_err(e)?;
    m.iter_mut().step_by(PAGE as usize).for_each(|b| *b = 1);
    Ok((f, m))
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
            }
        } else {
            Scale {
                reps: 31,
                fault_pages: 2048,
                resident_pages: 256,
                batch: 64,
                views: 100_000,
                processes: 1_000,
            }
        }
    }
}

/// Alternates ntmm and host samples and returns both medians.
fn pair(
    reps: usize,
    nt: Sample<'_>,
    host: Option<Sample<'_>>,
) -> Result<(f64, Option<f64>), String> {
    let mut a = Vec::with_capacity(reps);
    let mut b = Vec::with_capacity(reps);
    let mut host = host.filter(|_| host::AVAILABLE);
    for _ in 0..reps {
        a.push(nt()?);
        if let Some(h) = host.as_mut() {
            b.push(h()?);
        }
    }
    let hm = if b.is_empty() {
        None
    } else {
        Some(median(&mut b))
    };
    Ok((median(&mut a), hm))
}

type Workload = fn(Scale) -> Result<Row, String>;

/// The single workloads, in the table's order.
const WORKLOADS: [(&str, Workload); 12] = [
    ("demand_zero_fault", demand_zero_fault),
    ("demand_zero_fault@zeroing", demand_zero_fault_zeroing),
    ("share_fault", share_fault),
    ("share_fault@per_fault", share_fault_per_fault),
    ("resident_read8", resident_read8),
    ("bulk_read_1mib", bulk_read_1mib),
    ("map_unmap_64k", map_unmap_64k),
    ("flush_clean_16mib", flush_clean_16mib),
    ("flush_dirty_page", flush_dirty_page),
    ("soft_fault_transition", soft_fault_transition),
    ("hard_fault_pagefile", hard_fault_pagefile),
    ("create_reserve_1tib", create_reserve_1tib),
];

/// The prefixes of the rows `scaling` and `metadata` produce.
const SCALING: [&str; 2] = ["map_unmap_64k@", "share_fault@"];
const METADATA: &str = "metadata_";

/// Runs every workload (or, with `settings.only`, those whose row names start with it) and
/// returns one row each, in the table's order. A prefix that names nothing is an error.
pub fn run(settings: Settings) -> Result<Vec<Row>, String> {
    let sc = Scale::of(&settings);
    let only = settings.only.as_deref();
    let wanted = |name: &str| only.is_none_or(|p| name.starts_with(p));
    // Whether a family of rows (names starting with `family`) may hold a wanted one.
    let family = |family: &str| only.is_none_or(|p| family.starts_with(p) || p.starts_with(family));
    let any_scaling = SCALING.iter().any(|f| family(f));
    if let Some(p) = only {
        if !WORKLOADS.iter().any(|(n, _)| wanted(n)) && !any_scaling && !family(METADATA) {
            let names: Vec<&str> = WORKLOADS.iter().map(|(n, _)| *n).collect();
            return Err(format!(
                "no workload name starts with `{p}` (workloads: {}; scaling rows {}…; {METADATA}…)",
                names.join(", "),
                SCALING.join("…, ")
            ));
        }
    }
    let mut rows = Vec::new();
    for (name, workload) in WORKLOADS {
        if wanted(name) {
            rows.push(workload(sc)?);
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
        row("metadata_per_resident_page", "bytes", (per_resident, None)),
        row("metadata_per_touched_proto_pte", "bytes", (per_proto, None)),
    ])
}

fn row(name: &'static str, unit: &'static str, (nt, host): (f64, Option<f64>)) -> Row {
    Row {
        name,
        unit,
        ntmm: nt,
        host,
    }
}

/// Demand-zero faults as NT takes them while its zero page thread keeps up: every frame comes
/// off the zeroed list, so the fault zeroes nothing (`MiRemoveZeroPage`, nt_internals §4.2). A
/// fresh machine per sample (set-up untimed) keeps every sample in that regime.
fn demand_zero_fault(sc: Scale) -> Result<Row, String> {
    let n = sc.fault_pages;
    // Like the host side: set up, time, tear down, all in the sample (only the faults timed).
    let mut nt = || {
        let (s, p) = system(16_384, Volume::Memory)?;
        let h = anon(&s, p, n * PAGE, 0)?;
        let v = view(&s, p, h, 0)?;
        if s.executive().vmm().list_counts().zeroed < n {
            return Err("demand_zero_fault: the zeroed list is short".into());
        }
        let t = Instant::now();
        touch_write(&s, p, v, n)?;
        Ok(ns_per(t, n))
    };
    #[cfg(unix)]
    let mut hs = || {
        let f = host::memfd(n * PAGE).map_err(e)?;
        let mut m = host::map_shared(&f, None).map_err(e)?;
        let t = Instant::now();
        for i in 0..n {
            let o = (i * PAGE) as usize;
            m[o..o + 8].copy_from_slice(&i.to_le_bytes());
        }
        black_box(&mut m[..]);
        Ok(ns_per(t, n))
    };
    let h = host_side!(hs);
    Ok(row(
        "demand_zero_fault",
        "ns/op",
        pair(sc.reps, &mut nt, h)?,
    ))
}

/// Demand-zero faults with the zeroed list empty: every frame comes off the free list and the
/// fault zeroes it (no zero page thread is modelled, nt_internals §9.2), as under sustained
/// allocation. The host row of `demand_zero_fault` is the comparison.
fn demand_zero_fault_zeroing(sc: Scale) -> Result<Row, String> {
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
            return Err("demand_zero_fault@zeroing: zeroed frames left".into());
        }
        let t = Instant::now();
        touch_write(&s, p, v, n)?;
        let ns = ns_per(t, n);
        s.unmap_view_of_file(p, v).map_err(e)?;
        s.close_handle(p, h).map_err(e)?;
        Ok(ns)
    };
    Ok(row(
        "demand_zero_fault@zeroing",
        "ns/op",
        pair(sc.reps, &mut nt, None)?,
    ))
}

fn share_fault(sc: Scale) -> Result<Row, String> {
    share_faults(sc, false)
}

/// The share-fault workload per *fault* rather than per page: Linux resolves a read fault on
/// a shared mapping by mapping the neighbouring cached pages too (fault-around, 16 pages by
/// default), while NT resolves one prototype PTE per fault (nt_internals §3.1). Both sides
/// touch every page of a second view; ntmm's time is divided by its share faults (one per
/// page), the host's by the minor faults the thread took (`/proc/thread-self/stat`), so the
/// ratio compares the cost of one fault. No host figure where that count is unavailable.
fn share_fault_per_fault(sc: Scale) -> Result<Row, String> {
    share_faults(sc, true)
}

/// First reads of every resident page through a second view, per page or (`per_fault`) per
/// fault taken. Either way ntmm must take exactly one share fault per page.
fn share_faults(sc: Scale, per_fault: bool) -> Result<Row, String> {
    let n = sc.fault_pages;
    let (s, p) = system(16_384, Volume::Memory)?;
    let h = anon(&s, p, n * PAGE, 0)?;
    let first = view(&s, p, h, 0)?;
    touch_write(&s, p, first, n)?;
    let shares =
        || -> Result<u64, String> { Ok(s.executive().vmm().fault_counters(p).map_err(e)?.share) };
    let mut nt = || {
        let v = view(&s, p, h, 0)?;
        let before = shares()?;
        let t = Instant::now();
        black_box(touch_read(&s, p, v, n)?);
        let ns = t.elapsed().as_nanos() as f64;
        let faults = shares()? - before;
        s.unmap_view_of_file(p, v).map_err(e)?;
        if faults != n {
            return Err(format!("share_fault: {faults} faults for {n} pages"));
        }
        Ok(ns / n as f64)
    };
    #[cfg(unix)]
    let (f, _m1) = resident_memfd(n * PAGE)?;
    #[cfg(unix)]
    let faults = || host::minor_faults().ok_or("no fault count");
    #[cfg(unix)]
    let mut hs = || {
        let m2 = host::map_shared(&f, None).map_err(e)?;
        let before = if per_fault { faults()? } else { 0 };
        let t = Instant::now();
        let mut acc = 0u64;
        for i in 0..n {
            let o = (i * PAGE) as usize;
            acc = acc.wrapping_add(u64::from_le_bytes(m2[o..o + 8].try_into().map_err(e)?));
        }
        black_box(acc);
        let ns = t.elapsed().as_nanos() as f64;
        let ops = if per_fault { faults()? - before } else { n };
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
    Ok(row(name, unit, pair(sc.reps, &mut nt, hh)?))
}

const STRIDE: u64 = 64;

fn resident_read8(sc: Scale) -> Result<Row, String> {
    let n = sc.resident_pages;
    let loads = n * PAGE / STRIDE;
    let (s, p) = system(16_384, Volume::Memory)?;
    let h = anon(&s, p, n * PAGE, 0)?;
    let v = view(&s, p, h, 0)?;
    touch_write(&s, p, v, n)?;
    let mut nt = || {
        let t = Instant::now();
        let mut acc = 0u64;
        for i in 0..loads {
            acc = acc.wrapping_add(s.read_value(p, at(v, i * STRIDE), 8).map_err(e)?);
        }
        black_box(acc);
        Ok(ns_per(t, loads))
    };
    #[cfg(unix)]
    let (_f, m) = resident_memfd(n * PAGE)?;
    #[cfg(unix)]
    let mut hs = || {
        let t = Instant::now();
        let mut acc = 0u64;
        for i in 0..loads {
            let o = (i * STRIDE) as usize;
            let word = black_box(&m[o..o + 8]);
            acc = acc.wrapping_add(u64::from_le_bytes(word.try_into().map_err(e)?));
        }
        black_box(acc);
        Ok(ns_per(t, loads))
    };
    let hh = host_side!(hs);
    Ok(row("resident_read8", "ns/op", pair(sc.reps, &mut nt, hh)?))
}

fn bulk_read_1mib(sc: Scale) -> Result<Row, String> {
    let copies = sc.batch;
    let (s, p) = system(16_384, Volume::Memory)?;
    let h = anon(&s, p, MIB, 0)?;
    let v = view(&s, p, h, 0)?;
    touch_write(&s, p, v, MIB / PAGE)?;
    let mut buf = vec![0u8; MIB as usize];
    let mut nt = || {
        let t = Instant::now();
        for _ in 0..copies {
            s.executive().vmm().read(p, v, &mut buf).map_err(e)?;
            black_box(&mut buf);
        }
        Ok(ns_per(t, copies))
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
    Ok(row("bulk_read_1mib", "ns/MiB", pair(sc.reps, &mut nt, hh)?))
}

const K64: u64 = 64 * 1024;

fn map_unmap_64k(sc: Scale) -> Result<Row, String> {
    let ops = sc.batch * 4;
    let (s, p) = system(4096, Volume::Memory)?;
    let h = anon(&s, p, K64, 0)?;
    let mut nt = || {
        let t = Instant::now();
        for _ in 0..ops {
            let v = view(&s, p, h, 0)?;
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
            let m = host::map_shared(&f, None).map_err(e)?;
            drop(black_box(m));
        }
        Ok(ns_per(t, ops))
    };
    let hh = host_side!(hs);
    Ok(row("map_unmap_64k", "ns/op", pair(sc.reps, &mut nt, hh)?))
}

const FLUSH_BYTES: u64 = 16 * MIB;

/// A 16 MiB file on a host-directory volume in `dir`, mapped read/write and made resident.
fn file_view(dir: &std::path::Path) -> Result<(System, AsId, Va), String> {
    fixture::file_view(Volume::HostDirectory(dir.join("ntmm")), FLUSH_BYTES)
}

#[cfg(unix)]
fn host_file_view(dir: &std::path::Path) -> Result<memmap2::MmapMut, String> {
    let path = dir.join("host.bin");
    std::fs::write(&path, vec![1u8; FLUSH_BYTES as usize]).map_err(e)?;
    let f = std::fs::File::options()
        .read(true)
        .write(true)
        .open(&path)
        .map_err(e)?;
    let m = host::map_shared(&f, None).map_err(e)?;
    let mut acc = 0u8;
    for i in (0..m.len()).step_by(PAGE as usize) {
        acc = acc.wrapping_add(m[i]);
    }
    black_box(acc);
    Ok(m)
}

fn flush_clean_16mib(sc: Scale) -> Result<Row, String> {
    let ops = sc.batch / 4;
    let dir = tempfile::tempdir().map_err(e)?;
    let (s, p, v) = file_view(dir.path())?;
    s.flush_view_of_file(p, v, 0).map_err(e)?;
    let mut nt = || {
        let t = Instant::now();
        for _ in 0..ops {
            s.flush_view_of_file(p, v, 0).map_err(e)?;
        }
        Ok(ns_per(t, ops))
    };
    #[cfg(unix)]
    let m = host_file_view(dir.path())?;
    #[cfg(unix)]
    m.flush().map_err(e)?;
    #[cfg(unix)]
    let mut hs = || {
        let t = Instant::now();
        for _ in 0..ops {
            m.flush().map_err(e)?;
        }
        Ok(ns_per(t, ops))
    };
    let hh = host_side!(hs);
    Ok(row(
        "flush_clean_16mib",
        "ns/op",
        pair(sc.reps, &mut nt, hh)?,
    ))
}

fn flush_dirty_page(sc: Scale) -> Result<Row, String> {
    let ops = sc.batch / 4;
    let pages = FLUSH_BYTES / PAGE;
    let dir = tempfile::tempdir().map_err(e)?;
    let (s, p, v) = file_view(dir.path())?;
    let mut k = 0u64;
    let mut nt = || {
        let t = Instant::now();
        for _ in 0..ops {
            k += 1;
            s.write_value(p, at(v, (k * 97 % pages) * PAGE), 8, k)
                .map_err(e)?;
            s.flush_view_of_file(p, v, 0).map_err(e)?;
        }
        Ok(ns_per(t, ops))
    };
    #[cfg(unix)]
    let mut m = host_file_view(dir.path())?;
    #[cfg(unix)]
    let mut j = 0u64;
    #[cfg(unix)]
    let mut hs = || {
        let t = Instant::now();
        for _ in 0..ops {
            j += 1;
            let o = ((j * 97 % pages) * PAGE) as usize;
            m[o..o + 8].copy_from_slice(&j.to_le_bytes());
            m.flush().map_err(e)?;
        }
        Ok(ns_per(t, ops))
    };
    let hh = host_side!(hs);
    Ok(row(
        "flush_dirty_page",
        "ns/op",
        pair(sc.reps, &mut nt, hh)?,
    ))
}

fn soft_fault_transition(sc: Scale) -> Result<Row, String> {
    let n = sc.fault_pages;
    let (s, p) = system(16_384, Volume::Memory)?;
    let h = anon(&s, p, n * PAGE, 0)?;
    let v = view(&s, p, h, 0)?;
    touch_write(&s, p, v, n)?;
    let mut nt = || {
        s.executive().trim(p).map_err(e)?;
        let t = Instant::now();
        black_box(touch_read(&s, p, v, n)?);
        Ok(ns_per(t, n))
    };
    Ok(row(
        "soft_fault_transition",
        "ns/op",
        pair(sc.reps, &mut nt, None)?,
    ))
}

fn hard_fault_pagefile(sc: Scale) -> Result<Row, String> {
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
        let before = s.executive().vmm().fault_counters(p).map_err(e)?;
        let t = Instant::now();
        black_box(touch_read(&s, p, va, n)?);
        let ns = ns_per(t, n);
        let after = s.executive().vmm().fault_counters(p).map_err(e)?;
        if after.hard_pagefile - before.hard_pagefile < n / 2 {
            return Err("hard_fault_pagefile: the pages were not evicted".into());
        }
        Ok(ns)
    };
    Ok(row(
        "hard_fault_pagefile",
        "ns/op",
        pair(sc.reps, &mut nt, None)?,
    ))
}

fn create_reserve_1tib(sc: Scale) -> Result<Row, String> {
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
    Ok(row(
        "create_reserve_1tib",
        "ns/op",
        pair(sc.reps, &mut nt, None)?,
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
    let measure = |p: AsId, h: Handle| -> Result<(f64, f64), String> {
        let mut mu = || {
            let t = Instant::now();
            for _ in 0..ops {
                let v = view(&s, p, h, 0)?;
                s.unmap_view_of_file(p, v).map_err(e)?;
            }
            Ok(ns_per(t, ops))
        };
        let (map_unmap, _) = pair(sc.reps, &mut mu, None)?;
        let mut sf = || {
            let v = view(&s, p, h, 0)?;
            let t = Instant::now();
            black_box(touch_read(&s, p, v, K64 / PAGE)?);
            let ns = ns_per(t, K64 / PAGE);
            s.unmap_view_of_file(p, v).map_err(e)?;
            Ok(ns)
        };
        let (share, _) = pair(sc.reps, &mut sf, None)?;
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
        row("map_unmap_64k@small", "ns/op", (small_mu, None)),
        row(mu_v, "ns/op", (views_mu, None)),
        row(mu_p, "ns/op", (procs_mu, None)),
        row("share_fault@small", "ns/op", (small_sf, None)),
        row(sf_v, "ns/op", (views_sf, None)),
        row(sf_p, "ns/op", (procs_sf, None)),
    ])
}

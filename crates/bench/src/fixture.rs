//! The ntmm side's set-up, shared by `ntmm bench` and the criterion benches: a machine with a
//! process, pagefile-backed sections, views, and page touches. Errors come back as text.

use ntmm_api::*;
use ntmm_vmm::{VmmConfig, WriterPolicy};
use std::fmt::Debug;

/// The page size.
pub const PAGE: u64 = 4096;

/// Any error as text.
pub fn e<E: Debug>(x: E) -> String {
    format!("{x:?}")
}

/// `v + off`.
pub fn at(v: Va, off: u64) -> Va {
    Va::new(v.raw() + off)
}

/// A machine of `frames` frames (the working-set maximum as large) and one process.
pub fn system(frames: u32, volume: Volume) -> Result<(System, AsId), String> {
    let s = System::new(SystemConfig {
        vmm: VmmConfig {
            frames,
            pagefile_pages: 65_536,
            working_set_max: u64::from(frames),
            writer: WriterPolicy::Lazy,
        },
        volume,
    })
    .map_err(e)?;
    let p = s.create_process(None, false).map_err(e)?;
    Ok((s, p))
}

/// A pagefile-backed read/write section of `bytes` (`flags`: `SEC_RESERVE` and the like).
pub fn anon(s: &System, p: AsId, bytes: u64, flags: u32) -> Result<Handle, String> {
    s.create_file_mapping(
        p,
        Handle::INVALID,
        false,
        PAGE_READWRITE | flags,
        (bytes >> 32) as u32,
        bytes as u32,
        None,
    )
    .map_err(e)
}

/// A read/write view of `size` bytes (0: all).
pub fn view(s: &System, p: AsId, h: Handle, size: u64) -> Result<Va, String> {
    s.map_view_of_file(p, h, FILE_MAP_WRITE, 0, 0, size)
        .map_err(e)
}

/// Stores into the first 8 bytes of each of `pages` pages.
pub fn touch_write(s: &System, p: AsId, v: Va, pages: u64) -> Result<(), String> {
    (0..pages).try_for_each(|i| s.write_value(p, at(v, i * PAGE), 8, i).map_err(e))
}

/// Loads the first 8 bytes of each of `pages` pages; returns their wrapping sum.
pub fn touch_read(s: &System, p: AsId, v: Va, pages: u64) -> Result<u64, String> {
    (0..pages).try_fold(0u64, |acc, i| {
        Ok(acc.wrapping_add(s.read_value(p, at(v, i * PAGE), 8).map_err(e)?))
    })
}

/// A machine on `volume` holding a `bytes`-long file `f.bin` (every byte 1), opened read/write,
/// mapped by one read/write view, and made resident (one load per page); returns the machine,
/// its process, the view and the file's handle.
pub fn file_view(volume: Volume, bytes: u64) -> Result<(System, AsId, Va, Handle), String> {
    let (s, p) = system(16_384, volume)?;
    s.create_volume_file("f.bin", &vec![1u8; bytes as usize])
        .map_err(e)?;
    let fh = s
        .create_file(
            p,
            "f.bin",
            GENERIC_READ | GENERIC_WRITE,
            7,
            false,
            OPEN_EXISTING,
            0,
        )
        .map_err(e)?;
    let sec = s
        .create_file_mapping(p, fh, false, PAGE_READWRITE, 0, 0, None)
        .map_err(e)?;
    let v = view(&s, p, sec, 0)?;
    touch_read(&s, p, v, bytes / PAGE)?;
    Ok((s, p, v, fh))
}

//! The host kernel's side of the benchmarks: shared memfd mappings (the host's pagefile-backed
//! sections) and file mappings, through memmap2 and rustix, and the bare loads and stores that
//! a program makes on them. Unix only; elsewhere every host figure is absent.

#[cfg(unix)]
#[allow(unsafe_code)]
mod imp {
    use memmap2::{Mmap, MmapMut, MmapOptions};
    use std::fs::File;

    /// An anonymous shared-memory object of `bytes` bytes (memfd).
    pub fn memfd(bytes: u64) -> std::io::Result<File> {
        let fd = rustix::fs::memfd_create("ntmm-bench", rustix::fs::MemfdFlags::CLOEXEC)?;
        let f = File::from(fd);
        f.set_len(bytes)?;
        Ok(f)
    }

    /// A `MAP_SHARED` read/write mapping of the first `len` bytes of `file`. The length is
    /// given, so memmap2 asks the kernel nothing but the `mmap` (no `statx` for the size).
    pub fn map_shared(file: &File, len: usize) -> std::io::Result<MmapMut> {
        // SAFETY: every file mapped here is private to the benchmark (a memfd, or a file in a
        // temporary directory it created) and is never truncated while mapped, so no access
        // can fault with SIGBUS and nothing else changes the memory under the slice.
        unsafe { MmapOptions::new().len(len).map_mut(file) }
    }

    /// A `MAP_SHARED` read-only mapping of the first `len` bytes of `file`.
    pub fn map_read(file: &File, len: usize) -> std::io::Result<Mmap> {
        // SAFETY: as for `map_shared`.
        unsafe { MmapOptions::new().len(len).map(file) }
    }

    /// A `MAP_PRIVATE` (copy-on-write) read/write mapping of the first `len` bytes of `file`.
    pub fn map_copy(file: &File, len: usize) -> std::io::Result<MmapMut> {
        // SAFETY: as for `map_shared`; writes go to private copies, never to the file.
        unsafe { MmapOptions::new().len(len).map_copy(file) }
    }

    /// Drops the host's cached pages of `file` (`posix_fadvise(POSIX_FADV_DONTNEED)`), after
    /// writing back any dirty ones, so that the next read of each page goes to the device.
    pub fn drop_cached(file: &File) -> std::io::Result<()> {
        file.sync_data()?;
        rustix::fs::fadvise(file, 0, None, rustix::fs::Advice::DontNeed)?;
        Ok(())
    }

    /// Byte offsets of 8-byte words, each 8-aligned and wholly below `bound`: checked once
    /// when made, so the loops over them need no check per access.
    #[derive(Clone, Debug)]
    pub struct Offsets {
        offs: Vec<usize>,
        bound: usize,
    }

    impl Offsets {
        /// The offsets, or `None` if one is unaligned or reaches past `bound`.
        pub fn new(offs: Vec<usize>, bound: usize) -> Option<Offsets> {
            offs.iter()
                .all(|&o| o % 8 == 0 && o.checked_add(8).is_some_and(|e| e <= bound))
                .then_some(Offsets { offs, bound })
        }

        /// `count` offsets `0, stride, 2·stride, …` (`stride` a multiple of 8).
        pub fn strided(count: usize, stride: usize) -> Option<Offsets> {
            Offsets::new(
                (0..count).map(|i| i * stride).collect(),
                count.checked_mul(stride)?,
            )
        }

        /// The offsets.
        #[cfg(test)]
        pub fn get(&self) -> &[usize] {
            &self.offs
        }
    }

    /// The wrapping sum of the 8-byte words of `m` at `offs`, each read with one volatile load:
    /// the one bounds check is `m` against the offsets' bound, before the loop.
    pub fn load8(m: &[u8], offs: &Offsets) -> u64 {
        assert!(m.len() >= offs.bound, "offsets past the mapping");
        let base = m.as_ptr();
        let mut acc = 0u64;
        for &o in &offs.offs {
            // SAFETY: `o + 8 <= offs.bound <= m.len()` (checked when `offs` was made and by the
            // assertion above), so the word lies inside `m`; `o` is a multiple of 8 and `m`
            // starts a page-aligned mapping, so the pointer is aligned for `u64`; every bit
            // pattern is a valid `u64`, and `m` is borrowed for the whole loop. Volatile, so
            // the compiler keeps every load, as a program touching the memory would make them.
            acc = acc.wrapping_add(unsafe { base.add(o).cast::<u64>().read_volatile() });
        }
        acc
    }

    /// Stores `value + i` into the 8-byte word of `m` at the `i`-th offset of `offs`, one
    /// volatile store each (one bounds check before the loop, as for [`load8`]).
    pub fn store8(m: &mut [u8], offs: &Offsets, value: u64) {
        assert!(m.len() >= offs.bound, "offsets past the mapping");
        let base = m.as_mut_ptr();
        for (i, &o) in offs.offs.iter().enumerate() {
            // SAFETY: as in `load8`: in bounds and aligned; `m` is borrowed mutably for the
            // whole loop, so nothing else reads or writes the word.
            unsafe {
                base.add(o)
                    .cast::<u64>()
                    .write_volatile(value.wrapping_add(i as u64))
            };
        }
    }
}

#[cfg(unix)]
pub use imp::*;

/// The minor page faults this thread has taken (field 10 of `/proc/thread-self/stat`), where
/// the host exposes that count (Linux); `None` elsewhere.
pub fn minor_faults() -> Option<u64> {
    let stat = std::fs::read_to_string("/proc/thread-self/stat").ok()?;
    // The command name (field 2) is parenthesised and may hold spaces; fields 3… follow it.
    let rest = &stat[stat.rfind(')')? + 1..];
    rest.split_whitespace().nth(7)?.parse().ok()
}

/// Whether the host side runs on this platform.
pub const AVAILABLE: bool = cfg!(unix);

#[cfg(all(test, target_os = "linux"))]
mod tests {
    use super::*;

    /// Touching the pages of a fresh private mapping takes minor faults, and the count read
    /// back sees them.
    #[test]
    fn test_minor_faults_count_first_touches() {
        let before = minor_faults().expect("Linux exposes the count");
        let mut m = memmap2::MmapMut::map_anon(64 * 4096).unwrap();
        for i in (0..m.len()).step_by(4096) {
            m[i] = 1;
        }
        std::hint::black_box(&m);
        let after = minor_faults().unwrap();
        assert!(after > before, "{before} -> {after}");
    }

    /// The volatile stores land at the offsets (value + index) and the loads read them back;
    /// offsets that are unaligned or reach past the bound are refused when made.
    #[test]
    fn test_volatile_loads_and_stores_hit_the_offsets() {
        let f = memfd(2 * 4096).unwrap();
        let mut m = map_shared(&f, 2 * 4096).unwrap();
        let offs = Offsets::new(vec![0, 4096 + 8, 8184], 8192).unwrap();
        store8(&mut m, &offs, 10);
        assert_eq!(u64::from_ne_bytes(m[4104..4112].try_into().unwrap()), 11);
        assert_eq!(u64::from_ne_bytes(m[8184..8192].try_into().unwrap()), 12);
        assert_eq!(load8(&m, &offs), 10 + 11 + 12);
        assert!(Offsets::new(vec![4], 8192).is_none());
        assert!(Offsets::new(vec![8192], 8192).is_none());
        assert_eq!(Offsets::strided(4, 64).unwrap().get(), &[0, 64, 128, 192]);
    }

    /// A copy mapping's stores stay private: the file keeps its bytes.
    #[test]
    fn test_copy_mapping_leaves_the_file_alone() {
        let f = memfd(4096).unwrap();
        let shared = map_shared(&f, 4096).unwrap();
        let mut private = map_copy(&f, 4096).unwrap();
        private[0] = 7;
        assert_eq!(shared[0], 0);
        drop_cached(&f).unwrap();
    }
}

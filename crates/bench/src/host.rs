//! The host kernel's side of the benchmarks: shared memfd mappings (the host's pagefile-backed
//! sections) and file mappings, through memmap2 and rustix. Unix only; elsewhere every host
//! figure is absent.

#[cfg(unix)]
#[allow(unsafe_code)]
mod imp {
    use memmap2::{MmapMut, MmapOptions};
    use std::fs::File;

    /// An anonymous shared-memory object of `bytes` bytes (memfd).
    pub fn memfd(bytes: u64) -> std::io::Result<File> {
        let fd = rustix::fs::memfd_create("ntmm-bench", rustix::fs::MemfdFlags::CLOEXEC)?;
        let f = File::from(fd);
        f.set_len(bytes)?;
        Ok(f)
    }

    /// A `MAP_SHARED` read/write mapping of `len` bytes of `file` (all of it for `None`).
    pub fn map_shared(file: &File, len: Option<usize>) -> std::io::Result<MmapMut> {
        let mut o = MmapOptions::new();
        if let Some(len) = len {
            o.len(len);
        }
        // SAFETY: every file mapped here is private to the benchmark (a memfd, or a file in a
        // temporary directory it created) and is never truncated while mapped, so no access
        // can fault with SIGBUS and nothing else changes the memory under the slice.
        unsafe { o.map_mut(file) }
    }
}

#[cfg(unix)]
pub use imp::*;

/// Whether the host side runs on this platform.
pub const AVAILABLE: bool = cfg!(unix);

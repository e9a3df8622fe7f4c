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
}

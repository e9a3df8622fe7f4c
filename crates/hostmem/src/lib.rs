//! Host memory for the emulated machine's physical memory.
//!
//! A kernel reaches RAM through a direct map built of large pages, so touching a frame costs it
//! no TLB miss of its own. The emulator's RAM is an ordinary host allocation, and with 4 KiB
//! host pages every frame it touches for the first time in a while is a host TLB miss (a nested
//! page walk in a virtual machine). [`AtomicWords::zeroed`] therefore takes one anonymous
//! mapping and, on Linux, advises it for transparent huge pages (`MADV_HUGEPAGE`) before anything
//! touches it. The contents and every observable behaviour are the same either way; only the
//! host's page size differs. If the mapping cannot be made, the words come from the heap; if
//! the heap cannot provide them either, [`AtomicWords::zeroed`] returns [`HostMemoryError`]
//! instead of aborting the process.
//!
//! This crate holds the one piece of `unsafe` the machine's memory needs: viewing the mapping as
//! atomic words.
#![deny(unsafe_code)]

use std::fmt;
use std::ops::Deref;
use std::ptr::NonNull;
use std::sync::atomic::AtomicU64;

/// `len` zero-filled 64-bit atomic words: one anonymous host mapping (advised for huge pages
/// on Linux), or a heap slice where the mapping could not be made.
///
/// # Invariants
/// For `Mapped`, `ptr` is the start of `map`, which is at least `len * 8` bytes, page-aligned and
/// read/write; `map` is never read or written as bytes, only through the atomic view.
pub struct AtomicWords(Storage);

enum Storage {
    Mapped {
        ptr: NonNull<AtomicU64>,
        len: usize,
        /// Owns the mapping (unmapped on drop).
        _map: memmap2::MmapMut,
    },
    Heap(Box<[AtomicU64]>),
}

// SAFETY: the mapping is plain memory owned by this value and accessed only through
// `&[AtomicU64]` (atomics are `Send` and `Sync`); the raw pointer is what makes the type lose
// the auto traits, not any thread-affine state.
#[allow(unsafe_code)]
unsafe impl Send for AtomicWords {}
// SAFETY: as above: shared access hands out only `&[AtomicU64]`, which is `Sync`.
#[allow(unsafe_code)]
unsafe impl Sync for AtomicWords {}

/// The host could not provide the memory asked for (neither a mapping nor the heap).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct HostMemoryError {
    /// The bytes asked for (saturated at `u64::MAX`).
    pub bytes: u64,
}

impl fmt::Display for HostMemoryError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "the host could not provide {} bytes", self.bytes)
    }
}

impl std::error::Error for HostMemoryError {}

impl AtomicWords {
    /// `len` zero-filled words, none of them touched yet; an error (never an abort) if the host
    /// cannot provide them.
    pub fn zeroed(len: usize) -> Result<Self, HostMemoryError> {
        if let Some(s) = Self::mapped(len) {
            return Ok(AtomicWords(s));
        }
        let fail = HostMemoryError {
            bytes: (len as u64).saturating_mul(8),
        };
        let mut words: Vec<AtomicU64> = Vec::new();
        words.try_reserve_exact(len).map_err(|_| fail)?;
        words.extend((0..len).map(|_| AtomicU64::new(0)));
        Ok(AtomicWords(Storage::Heap(words.into_boxed_slice())))
    }

    fn mapped(len: usize) -> Option<Storage> {
        let bytes = len.checked_mul(8)?.max(8);
        let mut map = memmap2::MmapOptions::new().len(bytes).map_anon().ok()?;
        // A hint: where the kernel has no transparent huge pages it fails or does nothing, and
        // the memory is simply backed by small pages.
        #[cfg(target_os = "linux")]
        let _ = map.advise(memmap2::Advice::HugePage);
        let ptr = NonNull::new(map.as_mut_ptr().cast::<AtomicU64>())?;
        Some(Storage::Mapped {
            ptr,
            len,
            _map: map,
        })
    }

    /// Whether the words live in a host mapping (else on the heap).
    pub fn is_mapped(&self) -> bool {
        matches!(self.0, Storage::Mapped { .. })
    }
}

impl Deref for AtomicWords {
    type Target = [AtomicU64];
    fn deref(&self) -> &[AtomicU64] {
        match &self.0 {
            #[allow(unsafe_code)]
            // SAFETY: (the type's invariants) `ptr` starts a live, read/write, page-aligned
            // (so 8-byte-aligned) mapping of at least `len * 8` bytes, zero-filled by the kernel,
            // so `len` initialised `AtomicU64`s (every bit pattern is a valid one). The mapping
            // lives as long as `self`, which the returned slice borrows. The pointer came from
            // `as_mut_ptr`, so it may be written through, and nothing else reads or writes the
            // bytes: all access goes through this atomic view.
            Storage::Mapped { ptr, len, .. } => unsafe {
                std::slice::from_raw_parts(ptr.as_ptr(), *len)
            },
            Storage::Heap(words) => words,
        }
    }
}

impl fmt::Debug for AtomicWords {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AtomicWords")
            .field("len", &self.len())
            .field("mapped", &self.is_mapped())
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::Ordering;

    #[test]
    fn test_words_start_zero_and_keep_what_is_stored() {
        for len in [0usize, 1, 511, 512, 1 << 20] {
            let w = AtomicWords::zeroed(len).unwrap();
            assert_eq!(w.len(), len);
            assert!(w
                .iter()
                .step_by(4099)
                .all(|x| x.load(Ordering::Relaxed) == 0));
            if len > 0 {
                w[len - 1].store(u64::MAX, Ordering::Relaxed);
                assert_eq!(w[len - 1].load(Ordering::Relaxed), u64::MAX);
                w[0].fetch_add(7, Ordering::Relaxed);
                let first = if len == 1 {
                    u64::MAX.wrapping_add(7)
                } else {
                    7
                };
                assert_eq!(w[0].load(Ordering::Relaxed), first);
            }
        }
    }

    #[test]
    fn test_words_are_shared_across_threads() {
        let w = std::sync::Arc::new(AtomicWords::zeroed(1024).unwrap());
        let handles: Vec<_> = (0..4)
            .map(|t| {
                let w = std::sync::Arc::clone(&w);
                std::thread::spawn(move || {
                    for i in 0..1024 {
                        w[i].fetch_add(t + 1, Ordering::Relaxed);
                    }
                })
            })
            .collect();
        for h in handles {
            h.join().unwrap();
        }
        assert!(w.iter().all(|x| x.load(Ordering::Relaxed) == 10));
    }

    #[test]
    fn test_an_impossible_size_is_an_error_not_an_abort() {
        // More than any address space: neither a mapping nor the heap can give it.
        let e = AtomicWords::zeroed(usize::MAX / 4).unwrap_err();
        assert_eq!(e.bytes, u64::MAX);
        assert!(e.to_string().contains("could not provide"));
    }

    #[cfg(target_os = "linux")]
    #[test]
    fn test_the_words_live_in_a_host_mapping_on_linux() {
        assert!(AtomicWords::zeroed(4096).unwrap().is_mapped());
    }
}

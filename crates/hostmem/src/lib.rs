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
//! atomic words, and as bytes while no store can happen.
//!
//! Loads need nothing ([`AtomicWords::load`]); stores need the words' one [`StoreRight`] by
//! unique reference ([`AtomicWords::words_mut`]). While the right is only shared, nothing can
//! store, so [`AtomicWords::bytes`] may lend the words as plain bytes: the holder copies them
//! out with `memcpy` (a bulk copy the compiler cannot make of atomic loads). Concurrent
//! atomic loads by other threads are reads too, and reads never race.
#![deny(unsafe_code)]

use std::fmt;
use std::ops::Range;
use std::ptr::NonNull;
use std::sync::atomic::{AtomicU64, Ordering};

/// `len` zero-filled 64-bit atomic words: one anonymous host mapping (advised for huge pages
/// on Linux), or a heap slice where the mapping could not be made.
///
/// # Invariants
/// For `Mapped`, `ptr` is the start of `map`, which is at least `len * 8` bytes, page-aligned and
/// read/write; `map` is stored to only through the atomic view, and read as bytes only through
/// [`AtomicWords::bytes`], while the one [`StoreRight`] of these words is borrowed shared.
pub struct AtomicWords(Storage);

/// The right to store into one [`AtomicWords`]: made once with them and not cloneable, so a
/// `&mut StoreRight` excludes every other store *and* every byte view of the same words.
///
/// Whoever owns the right serialises the stores (ntmm's machine keeps it under the machine
/// lock); loads need no right.
#[derive(Debug)]
pub struct StoreRight {
    /// The address of the words it belongs to (checked on every use: a right of other words
    /// grants nothing).
    owner: usize,
}

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
    /// `len` zero-filled words, none of them touched yet, and the one right to store into
    /// them; an error (never an abort) if the host cannot provide them.
    pub fn zeroed(len: usize) -> Result<(Self, StoreRight), HostMemoryError> {
        let words = Self::zeroed_words(len)?;
        let right = StoreRight {
            owner: words.base() as usize,
        };
        Ok((words, right))
    }

    fn zeroed_words(len: usize) -> Result<Self, HostMemoryError> {
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

impl AtomicWords {
    fn base(&self) -> *const AtomicU64 {
        match &self.0 {
            Storage::Mapped { ptr, .. } => ptr.as_ptr(),
            Storage::Heap(words) => words.as_ptr(),
        }
    }

    /// The atomic view of every word, for this crate only (stores through it need the right).
    fn all(&self) -> &[AtomicU64] {
        match &self.0 {
            #[allow(unsafe_code)]
            // SAFETY: (the type's invariants) `ptr` starts a live, read/write, page-aligned
            // (so 8-byte-aligned) mapping of at least `len * 8` bytes, zero-filled by the kernel,
            // so `len` initialised `AtomicU64`s (every bit pattern is a valid one). The mapping
            // lives as long as `self`, which the returned slice borrows. The pointer came from
            // `as_mut_ptr`, so it may be written through; non-atomic access to the bytes is
            // only the shared byte view of `bytes`, during which no store can happen.
            Storage::Mapped { ptr, len, .. } => unsafe {
                std::slice::from_raw_parts(ptr.as_ptr(), *len)
            },
            Storage::Heap(words) => words,
        }
    }

    /// The number of words.
    pub fn len(&self) -> usize {
        match &self.0 {
            Storage::Mapped { len, .. } => *len,
            Storage::Heap(words) => words.len(),
        }
    }

    /// Whether there are no words.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// An atomic load of word `i` (`None` past the end). Needs no right: a load may run
    /// concurrently with the right's holder storing.
    #[inline]
    pub fn load(&self, i: usize, order: Ordering) -> Option<u64> {
        self.all().get(i).map(|w| w.load(order))
    }

    /// Words `range` for loads and (atomic) stores, while `right` is borrowed uniquely.
    ///
    /// # Panics
    /// If `right` belongs to other words, or `range` leaves the words.
    #[inline]
    pub fn words_mut<'a>(
        &'a self,
        right: &'a mut StoreRight,
        range: Range<usize>,
    ) -> &'a [AtomicU64] {
        self.check(right);
        &self.all()[range]
    }

    /// Words `range` as their bytes in host byte order, while `right` is borrowed shared: no
    /// store can happen until the view is dropped, so it may be read (copied out) as plain
    /// memory.
    ///
    /// # Panics
    /// If `right` belongs to other words, or `range` leaves the words.
    #[inline]
    pub fn bytes<'a>(&'a self, right: &'a StoreRight, range: Range<usize>) -> &'a [u8] {
        self.check(right);
        let words = &self.all()[range];
        #[allow(unsafe_code)]
        // SAFETY: `words` is a live, initialised slice of `AtomicU64`s borrowed for 'a, so its
        // `len * 8` bytes are readable, aligned for `u8` and initialised (every bit pattern of
        // a `u64` is `u8`s). Writes to them happen only through `words_mut` (the type has no
        // other store path), which needs `&mut StoreRight` of these words (checked above), and
        // `right` is borrowed shared for 'a: no write happens while the view lives. Other
        // threads may load atomically meanwhile; reads never race with reads.
        unsafe {
            std::slice::from_raw_parts(words.as_ptr().cast::<u8>(), std::mem::size_of_val(words))
        }
    }

    fn check(&self, right: &StoreRight) {
        assert!(
            right.owner == self.base() as usize,
            "a store right of other words"
        );
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
            let (w, mut right) = AtomicWords::zeroed(len).unwrap();
            assert_eq!(w.len(), len);
            assert!((0..len)
                .step_by(4099)
                .all(|i| w.load(i, Ordering::Relaxed) == Some(0)));
            assert_eq!(w.load(len, Ordering::Relaxed), None);
            if len > 0 {
                w.words_mut(&mut right, len - 1..len)[0].store(u64::MAX, Ordering::Relaxed);
                assert_eq!(w.load(len - 1, Ordering::Relaxed), Some(u64::MAX));
                w.words_mut(&mut right, 0..1)[0].fetch_add(7, Ordering::Relaxed);
                let first = if len == 1 {
                    u64::MAX.wrapping_add(7)
                } else {
                    7
                };
                assert_eq!(w.load(0, Ordering::Relaxed), Some(first));
            }
        }
    }

    /// The byte view shows the stored words in host byte order, and only the range asked for.
    #[test]
    fn test_the_byte_view_shows_what_was_stored() {
        let (w, mut right) = AtomicWords::zeroed(8).unwrap();
        for (i, x) in w.words_mut(&mut right, 0..8).iter().enumerate() {
            x.store(0x0101_0101_0101_0101 * i as u64, Ordering::Release);
        }
        let b = w.bytes(&right, 2..4);
        assert_eq!(b.len(), 16);
        assert_eq!(&b[..8], &0x0202_0202_0202_0202u64.to_ne_bytes());
        assert_eq!(&b[8..], &0x0303_0303_0303_0303u64.to_ne_bytes());
    }

    /// A right grants nothing over other words: using it panics instead of lending bytes that
    /// the other words' right holder could be storing into.
    #[test]
    #[should_panic(expected = "a store right of other words")]
    fn test_a_right_of_other_words_is_refused() {
        let (a, _ra) = AtomicWords::zeroed(16).unwrap();
        let (_b, rb) = AtomicWords::zeroed(16).unwrap();
        let _ = a.bytes(&rb, 0..1);
    }

    #[test]
    fn test_words_are_shared_across_threads() {
        let (w, mut right) = AtomicWords::zeroed(1024).unwrap();
        let w = std::sync::Arc::new(w);
        let readers: Vec<_> = (0..2)
            .map(|_| {
                let w = std::sync::Arc::clone(&w);
                std::thread::spawn(move || {
                    // Loads need no right and see only values some store made.
                    for _ in 0..100 {
                        for i in 0..1024 {
                            let v = w.load(i, Ordering::Acquire).unwrap();
                            assert!(v <= 10, "word {i} = {v}");
                        }
                    }
                })
            })
            .collect();
        for t in 1..=4u64 {
            for x in w.words_mut(&mut right, 0..1024) {
                x.fetch_add(t, Ordering::Release);
            }
        }
        for h in readers {
            h.join().unwrap();
        }
        assert!((0..1024).all(|i| w.load(i, Ordering::Relaxed) == Some(10)));
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
        assert!(AtomicWords::zeroed(4096).unwrap().0.is_mapped());
    }
}

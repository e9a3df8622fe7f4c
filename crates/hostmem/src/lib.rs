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
    #[inline]
    fn base(&self) -> *const AtomicU64 {
        match &self.0 {
            Storage::Mapped { ptr, .. } => ptr.as_ptr(),
            Storage::Heap(words) => words.as_ptr(),
        }
    }

    /// The atomic view of every word, for this crate only (stores through it need the right).
    #[inline]
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

    #[inline]
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

/// Bytes from which [`FixedVec`] takes its room from an anonymous mapping instead of the heap:
/// glibc's largest dynamic mmap threshold on 64-bit hosts. Above it malloc maps fresh memory on
/// every allocation anyway, and touches its header page (a host page fault, ≈ 4 µs with the
/// unmap, issue 7/7 `machine_start@4gib`); a mapping of our own is not touched until used.
pub const FIXED_VEC_MAP_BYTES: usize = 32 << 20;

/// A vector of `Copy` values whose whole capacity is reserved when it is made (so growing it
/// never allocates, and never fails or aborts), its memory touched only as it fills: from an
/// anonymous mapping for large capacities ([`FIXED_VEC_MAP_BYTES`]), else from the heap.
///
/// # Invariants
/// `len <= cap`. For `Mapped`, `ptr` starts `map`, a read/write, page-aligned mapping of at
/// least `cap * size_of::<T>()` bytes whose first `len` elements were written by `push`; for
/// `Heap`, the vector's capacity is at least `cap` and its length is `len`.
pub struct FixedVec<T: Copy> {
    storage: VecStorage<T>,
    len: usize,
    cap: usize,
}

enum VecStorage<T> {
    Mapped {
        ptr: NonNull<T>,
        /// Owns the mapping (unmapped on drop; `T: Copy` has no destructor to run).
        _map: memmap2::MmapMut,
    },
    Heap(Vec<T>),
}

// SAFETY: the mapping is plain memory owned by this value, holding `T`s: sending the vector
// sends its `T`s, as for `Vec<T>`.
#[allow(unsafe_code)]
unsafe impl<T: Copy + Send> Send for FixedVec<T> {}
// SAFETY: shared access hands out only `&[T]`, as `Vec<T>` does.
#[allow(unsafe_code)]
unsafe impl<T: Copy + Sync> Sync for FixedVec<T> {}

impl<T: Copy> FixedVec<T> {
    /// An empty vector with room for `cap` values; an error (never an abort) if the host
    /// cannot provide it.
    pub fn with_capacity(cap: usize) -> Result<Self, HostMemoryError> {
        let size = std::mem::size_of::<T>().max(1);
        let fail = HostMemoryError {
            bytes: (cap as u64).saturating_mul(size as u64),
        };
        let bytes = cap.checked_mul(size).ok_or(fail)?;
        // A page-aligned mapping suits any `T` aligned to at most a page.
        if bytes >= FIXED_VEC_MAP_BYTES && std::mem::align_of::<T>() <= 4096 {
            if let Ok(mut map) = memmap2::MmapOptions::new().len(bytes).map_anon() {
                if let Some(ptr) = NonNull::new(map.as_mut_ptr().cast::<T>()) {
                    return Ok(FixedVec {
                        storage: VecStorage::Mapped { ptr, _map: map },
                        len: 0,
                        cap,
                    });
                }
            }
        }
        let mut v = Vec::new();
        v.try_reserve_exact(cap).map_err(|_| fail)?;
        Ok(FixedVec {
            storage: VecStorage::Heap(v),
            len: 0,
            cap,
        })
    }

    /// The room reserved.
    pub fn capacity(&self) -> usize {
        self.cap
    }

    /// Whether the room is in a host mapping of its own (else on the heap).
    pub fn is_mapped(&self) -> bool {
        matches!(self.storage, VecStorage::Mapped { .. })
    }

    /// Appends a value.
    ///
    /// # Panics
    /// If the vector is full (its capacity was fixed when it was made).
    pub fn push(&mut self, value: T) {
        assert!(self.len < self.cap, "a FixedVec is full");
        match &mut self.storage {
            #[allow(unsafe_code)]
            // SAFETY: `len < cap` (checked above) and the mapping holds `cap` elements
            // (invariant), so `ptr + len` is in bounds, aligned (page-aligned start, `T`'s
            // alignment at most a page) and writable; `write` does not read the old bytes.
            VecStorage::Mapped { ptr, .. } => unsafe { ptr.as_ptr().add(self.len).write(value) },
            VecStorage::Heap(v) => v.push(value),
        }
        self.len += 1;
    }
}

impl<T: Copy> std::ops::Deref for FixedVec<T> {
    type Target = [T];
    fn deref(&self) -> &[T] {
        match &self.storage {
            #[allow(unsafe_code)]
            // SAFETY: the first `len` elements from `ptr` were written by `push` (invariant),
            // lie in the live mapping owned by `self`, and are aligned; the slice borrows
            // `self`, so nothing writes them meanwhile.
            VecStorage::Mapped { ptr, .. } => unsafe {
                std::slice::from_raw_parts(ptr.as_ptr(), self.len)
            },
            VecStorage::Heap(v) => v,
        }
    }
}

impl<T: Copy> std::ops::DerefMut for FixedVec<T> {
    fn deref_mut(&mut self) -> &mut [T] {
        match &mut self.storage {
            #[allow(unsafe_code)]
            // SAFETY: as for `deref`; the slice borrows `self` uniquely, and the mapping was
            // made writable (`map_anon`) with `ptr` from `as_mut_ptr`.
            VecStorage::Mapped { ptr, .. } => unsafe {
                std::slice::from_raw_parts_mut(ptr.as_ptr(), self.len)
            },
            VecStorage::Heap(v) => v,
        }
    }
}

impl<T: Copy + fmt::Debug> fmt::Debug for FixedVec<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("FixedVec")
            .field("len", &self.len)
            .field("cap", &self.cap)
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

    /// Large and small vectors alike keep what is pushed, up to their capacity; the large one
    /// lives in a mapping of its own.
    #[test]
    fn test_fixed_vec_keeps_pushed_values_in_either_storage() {
        let big = FIXED_VEC_MAP_BYTES / 16;
        for cap in [0usize, 1, 1000, big] {
            let mut v: FixedVec<[u64; 2]> = FixedVec::with_capacity(cap).unwrap();
            #[cfg(target_os = "linux")]
            assert_eq!(v.is_mapped(), cap == big);
            for i in 0..cap.min(70_000) {
                v.push([i as u64, !(i as u64)]);
            }
            assert_eq!(v.len(), cap.min(70_000));
            assert!(v
                .iter()
                .enumerate()
                .all(|(i, x)| *x == [i as u64, !(i as u64)]));
            if let Some(x) = v.last_mut() {
                x[0] = 7;
            }
            assert_eq!(v.capacity(), cap);
        }
    }

    #[test]
    #[should_panic(expected = "a FixedVec is full")]
    fn test_a_full_fixed_vec_refuses_a_push() {
        let mut v: FixedVec<u8> = FixedVec::with_capacity(1).unwrap();
        v.push(1);
        v.push(2);
    }

    #[test]
    fn test_an_impossible_fixed_vec_is_an_error_not_an_abort() {
        let e = FixedVec::<[u64; 4]>::with_capacity(usize::MAX / 64).unwrap_err();
        assert!(e.bytes > 1 << 60);
    }

    #[cfg(target_os = "linux")]
    #[test]
    fn test_the_words_live_in_a_host_mapping_on_linux() {
        assert!(AtomicWords::zeroed(4096).unwrap().0.is_mapped());
    }
}

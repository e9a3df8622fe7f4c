//! Physical memory: the frames' contents, stored contiguously as little-endian 64-bit words.
//!
//! The words are atomics so that a resident load can read them without the machine lock (see
//! [`crate::tlb`]); every *store* still happens under the machine lock, which holds the words'
//! one `ntmm_hostmem::StoreRight` (`Machine::memory_right`): stores borrow it uniquely, and
//! copies out of the frames (`read`, `frame`, `read_append`) borrow it shared and so may
//! `memcpy` the bytes (no store can run meanwhile; lock-free loads only read). Stores use
//! release ordering and lock-free loads acquire ordering — on x86-64 both are plain moves — so
//! a load that sees a store also sees everything its storer did before it (the x86 ordering of
//! ordinary loads and stores, which emulated programs may rely on to pass messages).
//!
//! A store path without the lock (`resident_write8`, issue 7/7) would break this: a store
//! racing a `memcpy` out of its frame is a data race, so copies would go back to word loads,
//! and a translation change would have to wait for in-flight stores (DESIGN.md "Performance").

use crate::addr::{Pfn, PAGE_BYTES};
use crate::store::PageBuf;
use crate::tlb::TranslationEpoch;
use ntmm_hostmem::AtomicWords;
pub(crate) use ntmm_hostmem::StoreRight;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

/// Bytes per word.
const WORD: usize = 8;
/// Words per frame.
const WORDS: usize = PAGE_BYTES / WORD;

/// The bytes of every frame, one contiguous allocation of words, and the machine's translation
/// epoch.
///
/// # Invariants
/// `words.len()` is a whole number of frames. Byte `b` of a frame is byte `b % 8` (little
/// endian) of word `b / 8`, on every host. Only code holding the machine lock stores (it holds
/// the [`StoreRight`]).
#[derive(Debug)]
pub struct PhysicalMemory {
    words: AtomicWords,
    epoch: Arc<TranslationEpoch>,
}

impl PhysicalMemory {
    /// `frames` zero-filled frames (host memory reserved, each host page mapped on first
    /// use) and the right to store into them; an error if the host cannot provide them.
    pub(crate) fn new(frames: u32) -> crate::error::Result<(Self, StoreRight)> {
        // One host mapping advised for huge pages (ntmm-hostmem), so that a frame touched for
        // the first time in a while costs no host TLB miss: RAM through a direct map.
        let (words, right) = AtomicWords::zeroed(frames as usize * WORDS).map_err(|e| {
            crate::error::VmmError::HostMemory {
                what: "physical memory",
                bytes: e.bytes,
            }
        })?;
        // Not touched here: an anonymous mapping already reads as zero, and touching every
        // page made creating a 4 GiB machine take a million host page faults (issue 7/7,
        // `machine_start`). The host maps each page on its first store; a frame's first use
        // pays that host fault once, as a demand-zero fault that zeroes its frame would.
        Ok((
            PhysicalMemory {
                words,
                epoch: Arc::new(TranslationEpoch::new()),
            },
            right,
        ))
    }

    /// The machine's translation epoch (shared with its page tables).
    pub(crate) fn epoch(&self) -> &Arc<TranslationEpoch> {
        &self.epoch
    }

    fn words<'a>(&'a self, right: &'a mut StoreRight, pfn: Pfn) -> &'a [AtomicU64] {
        let start = pfn.index() * WORDS;
        self.words.words_mut(right, start..start + WORDS)
    }

    /// The contents of a frame (a copy).
    pub(crate) fn frame(&self, right: &StoreRight, pfn: Pfn) -> PageBuf {
        let mut out = [0u8; PAGE_BYTES];
        self.read(right, pfn, 0, &mut out);
        out
    }

    /// Appends bytes `[off, off + len)` of a frame to `out` (a bulk copy, no zero-fill of
    /// `out` first: `ReadFile`, issue 7/7). The caller has reserved the room (the copy
    /// allocates nothing then).
    ///
    /// # Panics
    /// If the range leaves the frame.
    pub(crate) fn read_append(
        &self,
        right: &StoreRight,
        pfn: Pfn,
        off: usize,
        len: usize,
        out: &mut Vec<u8>,
    ) {
        assert!(off + len <= PAGE_BYTES, "a read within one frame");
        #[cfg(target_endian = "little")]
        {
            let start = pfn.index() * WORDS;
            let bytes = self.words.bytes(right, start..start + WORDS);
            out.extend_from_slice(&bytes[off..off + len]);
        }
        #[cfg(not(target_endian = "little"))]
        {
            let at = out.len();
            out.resize(at + len, 0);
            self.read(right, pfn, off, &mut out[at..]);
        }
    }

    /// Copies bytes `[off, off + out.len())` of a frame into `out`.
    ///
    /// # Panics
    /// If the range leaves the frame (callers split accesses at page boundaries).
    pub(crate) fn read(&self, right: &StoreRight, pfn: Pfn, off: usize, out: &mut [u8]) {
        assert!(off + out.len() <= PAGE_BYTES, "a read within one frame");
        let start = pfn.index() * WORDS;
        // A little-endian host's bytes of the words are the frame's bytes: one memcpy, while
        // the shared right keeps every store out.
        #[cfg(target_endian = "little")]
        {
            let bytes = self.words.bytes(right, start..start + WORDS);
            out.copy_from_slice(&bytes[off..off + out.len()]);
        }
        #[cfg(not(target_endian = "little"))]
        self.read_words(right, start, off, out);
    }

    /// [`PhysicalMemory::read`] by word loads (big-endian hosts).
    #[cfg(not(target_endian = "little"))]
    fn read_words(&self, _right: &StoreRight, start: usize, off: usize, out: &mut [u8]) {
        for (i, byte) in out.iter_mut().enumerate() {
            let b = off + i;
            let w = self
                .words
                .load(start + b / WORD, Ordering::Relaxed)
                .unwrap_or(0);
            *byte = w.to_le_bytes()[b % WORD];
        }
    }

    /// Stores `data` at byte `off` of a frame: a store by the emulated CPU or the cache
    /// manager, which does not change any translation.
    ///
    /// # Panics
    /// If the range leaves the frame.
    pub(crate) fn write(&self, right: &mut StoreRight, pfn: Pfn, off: usize, data: &[u8]) {
        assert!(off + data.len() <= PAGE_BYTES, "a write within one frame");
        let words = self.words(right, pfn);
        // A partial word: the machine lock excludes other storers, so load-merge-store loses
        // nothing.
        let merge = |w: &AtomicU64, at: usize, part: &[u8]| {
            let mut bytes = w.load(Ordering::Relaxed).to_le_bytes();
            bytes[at..at + part.len()].copy_from_slice(part);
            w.store(u64::from_le_bytes(bytes), Ordering::Release);
        };
        let mut pos = off;
        let mut done = 0;
        if pos % WORD != 0 && !data.is_empty() {
            let n = (WORD - pos % WORD).min(data.len());
            merge(&words[pos / WORD], pos % WORD, &data[..n]);
            pos += n;
            done += n;
        }
        let whole = (data.len() - done) / WORD;
        for (src, w) in data[done..done + whole * WORD]
            .chunks_exact(WORD)
            .zip(&words[pos / WORD..pos / WORD + whole])
        {
            let mut bytes = [0u8; WORD];
            bytes.copy_from_slice(src);
            w.store(u64::from_le_bytes(bytes), Ordering::Release);
        }
        pos += whole * WORD;
        done += whole * WORD;
        if done < data.len() {
            merge(&words[pos / WORD], 0, &data[done..]);
        }
    }

    /// Stores a value of `N` (1, 2, 4 or 8) bytes at `off` of a frame (within the frame): one
    /// word store when the value fills an aligned word, a load-merge-store when it lies inside
    /// one word (the machine lock excludes other storers), else as [`PhysicalMemory::write`].
    #[inline]
    pub(crate) fn write_value<const N: usize>(
        &self,
        right: &mut StoreRight,
        pfn: Pfn,
        off: usize,
        bytes: [u8; N],
    ) {
        let at = off % WORD;
        if at + N > WORD || off + N > PAGE_BYTES {
            return self.write(right, pfn, off, &bytes);
        }
        let w = &self.words(right, pfn)[off / WORD];
        let mut word = if N == WORD {
            [0u8; WORD]
        } else {
            w.load(Ordering::Relaxed).to_le_bytes()
        };
        word[at..at + N].copy_from_slice(&bytes);
        w.store(u64::from_le_bytes(word), Ordering::Release);
    }

    /// Loads `N` (1, 2, 4 or 8) bytes at `off` of a frame without the machine lock: one or two
    /// acquiring word loads. The caller validates the result with the translation epoch.
    #[inline]
    pub(crate) fn load_value<const N: usize>(&self, pfn: Pfn, off: usize) -> Option<[u8; N]> {
        let base = pfn.index() * WORDS + off / WORD;
        let at = off % WORD;
        let lo = self.words.load(base, Ordering::Acquire)?;
        let mut out = [0u8; N];
        if at + N <= WORD {
            out.copy_from_slice(&lo.to_le_bytes()[at..at + N]);
        } else {
            // The value straddles two words of the same frame (off + N <= PAGE_BYTES).
            let hi = self.words.load(base + 1, Ordering::Acquire)?;
            let mut both = [0u8; 2 * WORD];
            both[..WORD].copy_from_slice(&lo.to_le_bytes());
            both[WORD..].copy_from_slice(&hi.to_le_bytes());
            out.copy_from_slice(&both[at..at + N]);
        }
        Some(out)
    }

    /// Fills a whole frame with new contents (a page read in): the frame takes a new identity,
    /// so the translation epoch is marked changing first.
    pub(crate) fn fill(&self, right: &mut StoreRight, pfn: Pfn, data: &PageBuf) {
        self.epoch.begin_change();
        self.write(right, pfn, 0, data);
    }

    /// Fills a frame with zeros. Only frames just taken off a list are zeroed: no valid PTE
    /// maps them, and the change that removed their last valid PTE already flushed every
    /// cached translation of them, so no translation ends here and the epoch is left alone
    /// (a demand-zero fault flushes no thread's TLB).
    pub(crate) fn zero(&self, right: &mut StoreRight, pfn: Pfn) {
        for w in self.words(right, pfn) {
            w.store(0, Ordering::Release);
        }
    }

    /// Loads the word holding byte `off` of a frame and discards it: a software prefetch in
    /// safe code, so that a store into a frame just taken finds its line on the way while the
    /// fault's bookkeeping runs, instead of stalling the lock release that follows it.
    #[inline]
    pub(crate) fn prefetch(&self, pfn: Pfn, off: usize) {
        let start = pfn.index() * WORDS + (off % PAGE_BYTES) / WORD;
        std::hint::black_box(self.words.load(start, Ordering::Relaxed));
    }

    /// Copies one frame onto another (a new identity for `to`, like [`PhysicalMemory::fill`]).
    pub(crate) fn copy(&self, right: &mut StoreRight, from: Pfn, to: Pfn) {
        self.epoch.begin_change();
        let all = self.words.words_mut(right, 0..self.words.len());
        let (f, t) = (from.index() * WORDS, to.index() * WORDS);
        for (d, s) in all[t..t + WORDS].iter().zip(&all[f..f + WORDS]) {
            d.store(s.load(Ordering::Relaxed), Ordering::Release);
        }
    }

    /// Whether a frame is all zeros.
    pub fn is_zero(&self, pfn: Pfn) -> bool {
        let start = pfn.index() * WORDS;
        (start..start + WORDS).all(|i| self.words.load(i, Ordering::Relaxed) == Some(0))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn test_bytes_round_trip_at_every_alignment_and_length() {
        let (m, mut r) = PhysicalMemory::new(2).unwrap();
        let pfn = Pfn::new(1);
        let pattern: Vec<u8> = (0..PAGE_BYTES).map(|i| (i * 7 + 3) as u8).collect();
        m.write(&mut r, pfn, 0, &pattern);
        for off in [0, 1, 5, 7, 8, 9, 4000, 4089, 4095] {
            for len in [0, 1, 2, 3, 7, 8, 9, 16, 17] {
                if off + len > PAGE_BYTES {
                    continue;
                }
                let mut out = vec![0u8; len];
                m.read(&r, pfn, off, &mut out);
                assert_eq!(out, pattern[off..off + len], "off {off} len {len}");
                let new: Vec<u8> = (0..len).map(|i| 0xA0 ^ i as u8).collect();
                m.write(&mut r, pfn, off, &new);
                let mut back = vec![0u8; len];
                m.read(&r, pfn, off, &mut back);
                assert_eq!(back, new);
                // The neighbours are untouched.
                let mut whole = [0u8; PAGE_BYTES];
                m.read(&r, pfn, 0, &mut whole);
                assert_eq!(whole[..off], pattern[..off]);
                assert_eq!(whole[off + len..], pattern[off + len..]);
                m.write(&mut r, pfn, off, &pattern[off..off + len]);
            }
        }
        // Frame 0 was never written.
        assert!(m.is_zero(Pfn::new(0)));
    }

    #[test]
    fn test_load_value_is_little_endian_within_and_across_words() {
        let (m, mut r) = PhysicalMemory::new(1).unwrap();
        let pfn = Pfn::new(0);
        let pattern: Vec<u8> = (0..32u8).collect();
        m.write(&mut r, pfn, 0, &pattern);
        assert_eq!(m.load_value::<8>(pfn, 0), Some([0, 1, 2, 3, 4, 5, 6, 7]));
        assert_eq!(m.load_value::<4>(pfn, 6), Some([6, 7, 8, 9]));
        assert_eq!(m.load_value::<2>(pfn, 15), Some([15, 16]));
        assert_eq!(m.load_value::<1>(pfn, 31), Some([31]));
        assert_eq!(
            u64::from_le_bytes(m.load_value::<8>(pfn, 3).unwrap()),
            u64::from_le_bytes([3, 4, 5, 6, 7, 8, 9, 10])
        );
    }

    #[test]
    fn test_fill_and_copy_announce_a_translation_change_and_zero_does_not() {
        let (m, mut r) = PhysicalMemory::new(2).unwrap();
        let e0 = m.epoch().stable().unwrap();
        m.fill(&mut r, Pfn::new(0), &[9u8; PAGE_BYTES]);
        assert_eq!(
            m.epoch().stable(),
            None,
            "odd while the change is in progress"
        );
        m.epoch().end_change();
        let e1 = m.epoch().stable().unwrap();
        assert_ne!(e0, e1);
        m.copy(&mut r, Pfn::new(0), Pfn::new(1));
        m.epoch().end_change();
        assert_eq!(m.frame(&r, Pfn::new(1)), [9u8; PAGE_BYTES]);
        let e2 = m.epoch().stable().unwrap();
        // Zeroing a frame taken off a list ends no translation (issue 7/7).
        m.zero(&mut r, Pfn::new(1));
        assert_eq!(m.epoch().stable(), Some(e2));
        assert!(m.is_zero(Pfn::new(1)));
        assert!(!m.is_zero(Pfn::new(0)));
    }

    /// `read_append` appends exactly the bytes `read` copies, at every alignment, after what
    /// the vector held.
    #[test]
    fn test_read_append_appends_the_bytes_read_copies() {
        let (m, mut r) = PhysicalMemory::new(1).unwrap();
        let pfn = Pfn::new(0);
        let pattern: Vec<u8> = (0..PAGE_BYTES).map(|i| (i * 13 + 1) as u8).collect();
        m.write(&mut r, pfn, 0, &pattern);
        for (off, len) in [
            (0, PAGE_BYTES),
            (1, 7),
            (5, 4091),
            (4095, 1),
            (8, 0),
            (3, 64),
        ] {
            let mut out = vec![0xAA, 0xBB];
            out.reserve(len);
            m.read_append(&r, pfn, off, len, &mut out);
            assert_eq!(out[..2], [0xAA, 0xBB]);
            assert_eq!(out[2..], pattern[off..off + len], "off {off} len {len}");
        }
    }

    /// A value store writes its bytes little-endian, whole words, parts of one word (the rest
    /// of the word kept) and values straddling two words alike.
    #[test]
    fn test_write_value_matches_a_byte_write() {
        let (m, mut r) = PhysicalMemory::new(2).unwrap();
        let (a, b) = (Pfn::new(0), Pfn::new(1));
        m.write(&mut r, a, 0, &[0xEE; 64]);
        m.write(&mut r, b, 0, &[0xEE; 64]);
        m.write_value(&mut r, a, 8, 0x1122_3344_5566_7788u64.to_le_bytes());
        m.write(&mut r, b, 8, &0x1122_3344_5566_7788u64.to_le_bytes());
        m.write_value(&mut r, a, 17, 0xABCDu16.to_le_bytes());
        m.write(&mut r, b, 17, &0xABCDu16.to_le_bytes());
        m.write_value(&mut r, a, 29, 0x0102_0304u32.to_le_bytes());
        m.write(&mut r, b, 29, &0x0102_0304u32.to_le_bytes());
        m.write_value(&mut r, a, 4094, [7u8, 9]);
        m.write(&mut r, b, 4094, &[7u8, 9]);
        assert_eq!(m.frame(&r, a), m.frame(&r, b));
        assert_eq!(
            m.load_value::<8>(a, 8),
            Some(0x1122_3344_5566_7788u64.to_le_bytes())
        );
        assert_eq!(m.load_value::<1>(a, 16), Some([0xEE]));
    }
}

//! Physical memory: the frames' contents, stored contiguously as little-endian 64-bit words.
//!
//! The words are atomics so that a resident load can read them without the machine lock (see
//! [`crate::tlb`]); every *store* still happens under the machine lock. Stores use release
//! ordering and lock-free loads acquire ordering — on x86-64 both are plain moves — so a load
//! that sees a store also sees everything its storer did before it (the x86 ordering of
//! ordinary loads and stores, which emulated programs may rely on to pass messages).

use crate::addr::{Pfn, PAGE_BYTES};
use crate::store::PageBuf;
use crate::tlb::TranslationEpoch;
use ntmm_hostmem::AtomicWords;
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
/// endian) of word `b / 8`, on every host. Only code holding the machine lock stores.
#[derive(Debug)]
pub struct PhysicalMemory {
    words: AtomicWords,
    epoch: Arc<TranslationEpoch>,
}

impl PhysicalMemory {
    /// `frames` zero-filled frames (host memory reserved, each host page mapped on first
    /// use); an error if the host cannot provide them.
    pub(crate) fn new(frames: u32) -> crate::error::Result<Self> {
        // One host mapping advised for huge pages (ntmm-hostmem), so that a frame touched for
        // the first time in a while costs no host TLB miss: RAM through a direct map.
        let words = AtomicWords::zeroed(frames as usize * WORDS).map_err(|e| {
            crate::error::VmmError::HostMemory {
                what: "physical memory",
                bytes: e.bytes,
            }
        })?;
        // Not touched here: an anonymous mapping already reads as zero, and touching every
        // page made creating a 4 GiB machine take a million host page faults (issue 7/7,
        // `machine_start`). The host maps each page on its first store; a frame's first use
        // pays that host fault once, as a demand-zero fault that zeroes its frame would.
        Ok(PhysicalMemory {
            words,
            epoch: Arc::new(TranslationEpoch::new()),
        })
    }

    /// The machine's translation epoch (shared with its page tables).
    pub(crate) fn epoch(&self) -> &Arc<TranslationEpoch> {
        &self.epoch
    }

    fn words(&self, pfn: Pfn) -> &[AtomicU64] {
        let start = pfn.index() * WORDS;
        &self.words[start..start + WORDS]
    }

    /// The contents of a frame (a copy).
    pub fn frame(&self, pfn: Pfn) -> PageBuf {
        let mut out = [0u8; PAGE_BYTES];
        self.read(pfn, 0, &mut out);
        out
    }

    /// Copies bytes `[off, off + out.len())` of a frame into `out`.
    ///
    /// # Panics
    /// If the range leaves the frame (callers split accesses at page boundaries).
    pub fn read(&self, pfn: Pfn, off: usize, out: &mut [u8]) {
        assert!(off + out.len() <= PAGE_BYTES, "a read within one frame");
        let words = self.words(pfn);
        let mut pos = off;
        let mut done = 0;
        // A leading partial word.
        if pos % WORD != 0 && done < out.len() {
            let w = words[pos / WORD].load(Ordering::Relaxed).to_le_bytes();
            let n = (WORD - pos % WORD).min(out.len());
            out[..n].copy_from_slice(&w[pos % WORD..pos % WORD + n]);
            pos += n;
            done += n;
        }
        // Whole words.
        let whole = (out.len() - done) / WORD;
        for (dst, w) in out[done..done + whole * WORD]
            .chunks_exact_mut(WORD)
            .zip(&words[pos / WORD..pos / WORD + whole])
        {
            dst.copy_from_slice(&w.load(Ordering::Relaxed).to_le_bytes());
        }
        pos += whole * WORD;
        done += whole * WORD;
        // A trailing partial word.
        if done < out.len() {
            let w = words[pos / WORD].load(Ordering::Relaxed).to_le_bytes();
            let n = out.len() - done;
            out[done..].copy_from_slice(&w[..n]);
        }
    }

    /// Stores `data` at byte `off` of a frame: a store by the emulated CPU or the cache
    /// manager, which does not change any translation.
    ///
    /// # Panics
    /// If the range leaves the frame.
    pub(crate) fn write(&self, pfn: Pfn, off: usize, data: &[u8]) {
        assert!(off + data.len() <= PAGE_BYTES, "a write within one frame");
        let words = self.words(pfn);
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
    pub(crate) fn write_value<const N: usize>(&self, pfn: Pfn, off: usize, bytes: [u8; N]) {
        let at = off % WORD;
        if at + N > WORD || off + N > PAGE_BYTES {
            return self.write(pfn, off, &bytes);
        }
        let w = &self.words(pfn)[off / WORD];
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
        let lo = self.words.get(base)?.load(Ordering::Acquire);
        let mut out = [0u8; N];
        if at + N <= WORD {
            out.copy_from_slice(&lo.to_le_bytes()[at..at + N]);
        } else {
            // The value straddles two words of the same frame (off + N <= PAGE_BYTES).
            let hi = self.words.get(base + 1)?.load(Ordering::Acquire);
            let mut both = [0u8; 2 * WORD];
            both[..WORD].copy_from_slice(&lo.to_le_bytes());
            both[WORD..].copy_from_slice(&hi.to_le_bytes());
            out.copy_from_slice(&both[at..at + N]);
        }
        Some(out)
    }

    /// Fills a whole frame with new contents (a page read in): the frame takes a new identity,
    /// so the translation epoch is marked changing first.
    pub(crate) fn fill(&self, pfn: Pfn, data: &PageBuf) {
        self.epoch.begin_change();
        self.write(pfn, 0, data);
    }

    /// Fills a frame with zeros. Only frames just taken off a list are zeroed: no valid PTE
    /// maps them, and the change that removed their last valid PTE already flushed every
    /// cached translation of them, so no translation ends here and the epoch is left alone
    /// (a demand-zero fault flushes no thread's TLB).
    pub(crate) fn zero(&self, pfn: Pfn) {
        for w in self.words(pfn) {
            w.store(0, Ordering::Release);
        }
    }

    /// Loads the word holding byte `off` of a frame and discards it: a software prefetch in
    /// safe code, so that a store into a frame just taken finds its line on the way while the
    /// fault's bookkeeping runs, instead of stalling the lock release that follows it.
    #[inline]
    pub(crate) fn prefetch(&self, pfn: Pfn, off: usize) {
        let start = pfn.index() * WORDS + (off % PAGE_BYTES) / WORD;
        if let Some(w) = self.words.get(start) {
            std::hint::black_box(w.load(Ordering::Relaxed));
        }
    }

    /// Copies one frame onto another (a new identity for `to`, like [`PhysicalMemory::fill`]).
    pub(crate) fn copy(&self, from: Pfn, to: Pfn) {
        self.epoch.begin_change();
        for (d, s) in self.words(to).iter().zip(self.words(from)) {
            d.store(s.load(Ordering::Relaxed), Ordering::Release);
        }
    }

    /// Whether a frame is all zeros.
    pub fn is_zero(&self, pfn: Pfn) -> bool {
        self.words(pfn)
            .iter()
            .all(|w| w.load(Ordering::Relaxed) == 0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn test_bytes_round_trip_at_every_alignment_and_length() {
        let m = PhysicalMemory::new(2).unwrap();
        let pfn = Pfn::new(1);
        let pattern: Vec<u8> = (0..PAGE_BYTES).map(|i| (i * 7 + 3) as u8).collect();
        m.write(pfn, 0, &pattern);
        for off in [0, 1, 5, 7, 8, 9, 4000, 4089, 4095] {
            for len in [0, 1, 2, 3, 7, 8, 9, 16, 17] {
                if off + len > PAGE_BYTES {
                    continue;
                }
                let mut out = vec![0u8; len];
                m.read(pfn, off, &mut out);
                assert_eq!(out, pattern[off..off + len], "off {off} len {len}");
                let new: Vec<u8> = (0..len).map(|i| 0xA0 ^ i as u8).collect();
                m.write(pfn, off, &new);
                let mut back = vec![0u8; len];
                m.read(pfn, off, &mut back);
                assert_eq!(back, new);
                // The neighbours are untouched.
                let mut whole = [0u8; PAGE_BYTES];
                m.read(pfn, 0, &mut whole);
                assert_eq!(whole[..off], pattern[..off]);
                assert_eq!(whole[off + len..], pattern[off + len..]);
                m.write(pfn, off, &pattern[off..off + len]);
            }
        }
        // Frame 0 was never written.
        assert!(m.is_zero(Pfn::new(0)));
    }

    #[test]
    fn test_load_value_is_little_endian_within_and_across_words() {
        let m = PhysicalMemory::new(1).unwrap();
        let pfn = Pfn::new(0);
        let pattern: Vec<u8> = (0..32u8).collect();
        m.write(pfn, 0, &pattern);
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
        let m = PhysicalMemory::new(2).unwrap();
        let e0 = m.epoch().stable().unwrap();
        m.fill(Pfn::new(0), &[9u8; PAGE_BYTES]);
        assert_eq!(
            m.epoch().stable(),
            None,
            "odd while the change is in progress"
        );
        m.epoch().end_change();
        let e1 = m.epoch().stable().unwrap();
        assert_ne!(e0, e1);
        m.copy(Pfn::new(0), Pfn::new(1));
        m.epoch().end_change();
        assert_eq!(m.frame(Pfn::new(1)), [9u8; PAGE_BYTES]);
        let e2 = m.epoch().stable().unwrap();
        // Zeroing a frame taken off a list ends no translation (issue 7/7).
        m.zero(Pfn::new(1));
        assert_eq!(m.epoch().stable(), Some(e2));
        assert!(m.is_zero(Pfn::new(1)));
        assert!(!m.is_zero(Pfn::new(0)));
    }

    /// A value store writes its bytes little-endian, whole words, parts of one word (the rest
    /// of the word kept) and values straddling two words alike.
    #[test]
    fn test_write_value_matches_a_byte_write() {
        let m = PhysicalMemory::new(2).unwrap();
        let (a, b) = (Pfn::new(0), Pfn::new(1));
        m.write(a, 0, &[0xEE; 64]);
        m.write(b, 0, &[0xEE; 64]);
        m.write_value(a, 8, 0x1122_3344_5566_7788u64.to_le_bytes());
        m.write(b, 8, &0x1122_3344_5566_7788u64.to_le_bytes());
        m.write_value(a, 17, 0xABCDu16.to_le_bytes());
        m.write(b, 17, &0xABCDu16.to_le_bytes());
        m.write_value(a, 29, 0x0102_0304u32.to_le_bytes());
        m.write(b, 29, &0x0102_0304u32.to_le_bytes());
        m.write_value(a, 4094, [7u8, 9]);
        m.write(b, 4094, &[7u8, 9]);
        assert_eq!(m.frame(a), m.frame(b));
        assert_eq!(
            m.load_value::<8>(a, 8),
            Some(0x1122_3344_5566_7788u64.to_le_bytes())
        );
        assert_eq!(m.load_value::<1>(a, 16), Some([0xEE]));
    }
}

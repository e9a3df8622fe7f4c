//! Physical memory: the frames' contents, stored contiguously.

use crate::addr::{Pfn, PAGE_BYTES};
use crate::store::PageBuf;

/// The bytes of every frame, one contiguous allocation.
#[derive(Debug)]
pub struct PhysicalMemory {
    bytes: Vec<u8>,
}

impl PhysicalMemory {
    /// `frames` zero-filled frames.
    pub(crate) fn new(frames: u32) -> Self {
        PhysicalMemory {
            bytes: vec![0; frames as usize * PAGE_BYTES],
        }
    }
    fn range(pfn: Pfn) -> std::ops::Range<usize> {
        let start = pfn.index() * PAGE_BYTES;
        start..start + PAGE_BYTES
    }
    /// The contents of a frame.
    pub fn frame(&self, pfn: Pfn) -> &PageBuf {
        self.bytes[Self::range(pfn)]
            .try_into()
            .expect("a frame is one page")
    }
    /// The contents of a frame, writable.
    pub(crate) fn frame_mut(&mut self, pfn: Pfn) -> &mut PageBuf {
        (&mut self.bytes[Self::range(pfn)])
            .try_into()
            .expect("a frame is one page")
    }
    /// Fills a frame with zeros.
    pub(crate) fn zero(&mut self, pfn: Pfn) {
        self.bytes[Self::range(pfn)].fill(0);
    }
    /// Copies one frame onto another.
    pub(crate) fn copy(&mut self, from: Pfn, to: Pfn) {
        self.bytes
            .copy_within(Self::range(from), to.index() * PAGE_BYTES);
    }
    /// Whether a frame is all zeros.
    pub fn is_zero(&self, pfn: Pfn) -> bool {
        self.bytes[Self::range(pfn)].iter().all(|&b| b == 0)
    }
}

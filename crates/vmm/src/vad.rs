//! Virtual address descriptors: the regions of an address space (nt_internals §7.1, §7.3).

use crate::addr::{
    PageCount, PageRange, Vpn, ALLOCATION_GRANULARITY, PAGE_SHIFT, USER_END, USER_MIN,
};
use crate::id::SegmentId;
use crate::protection::Protection;
use std::collections::BTreeMap;

/// What a region holds.
#[derive(Clone, Copy, PartialEq, Eq, Debug, Hash)]
pub enum VadKind {
    /// Private memory (`MEM_PRIVATE`). With `committed`, every page was committed when the
    /// region was allocated, so a zero PTE means demand-zero with the region's protection
    /// (NT's `MemCommit` VAD flag); otherwise a zero PTE means reserved.
    Private {
        /// All pages committed at allocation.
        committed: bool,
    },
    /// A view of a segment (`MEM_MAPPED`): page `i` of the region is prototype PTE
    /// `first_index + i` of `segment`.
    Mapped {
        /// The segment.
        segment: SegmentId,
        /// The prototype PTE index of the region's first page.
        first_index: u64,
    },
}

/// A region.
#[derive(Clone, Copy, PartialEq, Eq, Debug, Hash)]
pub struct Vad {
    /// First page.
    pub start: Vpn,
    /// One past the last page.
    pub end: Vpn,
    /// The protection the region was created (mapped or reserved) with.
    pub protection: Protection,
    /// What it holds.
    pub kind: VadKind,
    /// Commit charged to this region: committed private pages, or all pages of a
    /// copy-on-write view (nt_internals §1.9).
    pub commit_charge: PageCount,
}

impl Vad {
    /// The region's pages.
    pub fn range(&self) -> PageRange {
        PageRange::new(self.start, self.end).unwrap_or_else(|| unreachable_range(self.start))
    }
    /// Number of pages.
    pub fn pages(&self) -> u64 {
        self.end.raw() - self.start.raw()
    }
    /// Whether `vpn` lies in the region.
    pub fn contains(&self, vpn: Vpn) -> bool {
        vpn >= self.start && vpn < self.end
    }
}

fn unreachable_range(start: Vpn) -> PageRange {
    // Vads are built with start <= end; an empty range is the safe fallback.
    PageRange::new(start, start).expect("start <= start")
}

/// The regions of one address space, keyed by first page.
///
/// # Invariants
/// Regions do not overlap, lie inside `[USER_MIN, USER_END)`, and start on 64 KiB boundaries.
#[derive(Debug, Default)]
pub struct VadTree {
    map: BTreeMap<u64, Vad>,
}

const GRAN_PAGES: u64 = ALLOCATION_GRANULARITY >> PAGE_SHIFT;

impl VadTree {
    /// The region containing `vpn`.
    pub fn find(&self, vpn: Vpn) -> Option<&Vad> {
        self.map
            .range(..=vpn.raw())
            .next_back()
            .map(|(_, v)| v)
            .filter(|v| v.contains(vpn))
    }
    pub(crate) fn find_mut(&mut self, vpn: Vpn) -> Option<&mut Vad> {
        self.map
            .range_mut(..=vpn.raw())
            .next_back()
            .map(|(_, v)| v)
            .filter(|v| v.contains(vpn))
    }
    /// The first region that starts at or after `vpn`.
    pub fn next_at_or_after(&self, vpn: Vpn) -> Option<&Vad> {
        self.map.range(vpn.raw()..).next().map(|(_, v)| v)
    }
    /// Whether any region overlaps `range`.
    pub fn overlaps(&self, range: PageRange) -> bool {
        if range.is_empty() {
            return false;
        }
        if self.find(range.start()).is_some() {
            return true;
        }
        self.map
            .range(range.start().raw()..range.end().raw())
            .next()
            .is_some()
    }
    pub(crate) fn insert(&mut self, vad: Vad) {
        self.map.insert(vad.start.raw(), vad);
    }
    pub(crate) fn remove(&mut self, start: Vpn) -> Option<Vad> {
        self.map.remove(&start.raw())
    }
    /// All regions, in address order.
    pub fn iter(&self) -> impl Iterator<Item = &Vad> {
        self.map.values()
    }
    /// Number of regions.
    pub fn len(&self) -> usize {
        self.map.len()
    }
    /// Whether there are no regions.
    pub fn is_empty(&self) -> bool {
        self.map.is_empty()
    }

    /// Finds a free range of `pages` pages starting on a 64 KiB boundary: bottom-up first fit
    /// from `USER_MIN` (the documented deterministic policy of nt_internals §7.3 \[design\]), or
    /// top-down from the top of user space.
    pub fn find_free(&self, pages: u64, top_down: bool) -> Option<Vpn> {
        let lo = USER_MIN >> PAGE_SHIFT;
        let hi = USER_END >> PAGE_SHIFT;
        if pages == 0 || pages > hi - lo {
            return None;
        }
        if !top_down {
            let mut cand = lo;
            for v in self.map.values() {
                if v.start.raw() >= cand + pages {
                    return Some(Vpn::new(cand));
                }
                cand = cand.max(v.end.raw().div_ceil(GRAN_PAGES) * GRAN_PAGES);
            }
            (cand + pages <= hi).then(|| Vpn::new(cand))
        } else {
            let mut limit = hi;
            for v in self.map.values().rev() {
                let cand = limit.checked_sub(pages)? / GRAN_PAGES * GRAN_PAGES;
                if cand >= v.end.raw() && cand >= lo {
                    return Some(Vpn::new(cand));
                }
                limit = limit.min(v.start.raw());
            }
            let cand = limit.checked_sub(pages)? / GRAN_PAGES * GRAN_PAGES;
            (cand >= lo).then(|| Vpn::new(cand))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn vad(start: u64, pages: u64) -> Vad {
        Vad {
            start: Vpn::new(start),
            end: Vpn::new(start + pages),
            protection: Protection::READWRITE,
            kind: VadKind::Private { committed: true },
            commit_charge: PageCount::ZERO,
        }
    }

    #[test]
    fn test_bottom_up_first_fit_at_64k_granularity() {
        let mut t = VadTree::default();
        assert_eq!(t.find_free(1, false), Some(Vpn::new(0x10)));
        t.insert(vad(0x10, 2)); // a 2-page view still uses its whole 64 KiB block
        assert_eq!(t.find_free(1, false), Some(Vpn::new(0x20)));
        t.insert(vad(0x30, 16));
        assert_eq!(t.find_free(16, false), Some(Vpn::new(0x20)));
        assert_eq!(t.find_free(17, false), Some(Vpn::new(0x40)));
    }

    #[test]
    fn test_top_down_search() {
        let mut t = VadTree::default();
        let top = Vpn::new((USER_END >> PAGE_SHIFT) - 16);
        assert_eq!(t.find_free(16, true), Some(top));
        t.insert(vad(top.raw(), 16));
        assert_eq!(t.find_free(1, true), Some(Vpn::new(top.raw() - 16)));
    }

    #[test]
    fn test_find_and_overlap() {
        let mut t = VadTree::default();
        t.insert(vad(0x20, 4));
        assert!(t.find(Vpn::new(0x23)).is_some());
        assert!(t.find(Vpn::new(0x24)).is_none());
        assert!(t.overlaps(PageRange::new(Vpn::new(0x10), Vpn::new(0x21)).unwrap()));
        assert!(!t.overlaps(PageRange::new(Vpn::new(0x24), Vpn::new(0x30)).unwrap()));
        assert_eq!(t.find_free(u64::MAX, false), None);
    }
}

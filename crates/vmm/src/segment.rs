//! Segments: the prototype PTE table of one backing object (nt_internals §1.4–§1.5).
//!
//! A segment is either pagefile-backed (anonymous shared memory) or file-backed (a data file's
//! pages, read from and written to a [`crate::store::BackingStore`]). Its prototype PTEs are
//! kept in chunks of 512 allocated on first write: an entry of an unallocated chunk has the
//! segment's template value (demand-zero or not-committed for pagefile segments, subsection
//! form for files), so a 1 TiB segment costs almost nothing until touched. NT allocates a
//! pagefile segment's array whole and a file's per subsection; the lazy chunks are a stated
//! simplification (nt_internals §9.2) invisible to user mode.

use crate::addr::{PageCount, ProtoIndex};
use crate::dirty_bits::DirtyBits;
use crate::id::{SegmentId, StoreId};
use crate::leaf_table::LeafTable;
use crate::protection::Protection;
use crate::pte::ProtoPte;

/// Prototype PTEs per chunk.
pub const CHUNK_PTES: usize = 512;

/// 512 prototype PTEs and their dirty index: bit `i` is set if PTE `i`'s frame may be
/// modified (a superset, so that flushing visits only those).
#[derive(Debug)]
struct Chunk {
    ptes: [ProtoPte; CHUNK_PTES],
    modified: DirtyBits,
}

/// What backs a segment.
#[derive(Clone, Copy, PartialEq, Eq, Debug, Hash)]
pub enum SegmentKind {
    /// Pagefile-backed: evicted pages go to the pagefile; contents die with the segment.
    Pagefile,
    /// File-backed: page `i` is at byte `i × 4096` of the store.
    File {
        /// The file's store.
        store: StoreId,
    },
    /// An image (`SEC_IMAGE`, nt_internals §1.5): page `i` is read from the file as its
    /// [`ImagePage`] says (one subsection per PE section); the file is never written — a page
    /// once modified belongs to the pagefile (§4.6: image control areas are not written back).
    Image {
        /// The image file's store.
        store: StoreId,
    },
}

/// Where one page of an image comes from (the part of its PE section's subsection that
/// covers it, nt_internals §1.5) and the protection its section gives it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct ImagePage {
    /// Byte offset of the page's raw data in the file.
    pub file_offset: u64,
    /// Bytes of raw data (0 to 4096); the rest of the page reads as zero (facts F134).
    pub raw_len: u32,
    /// The page's protection, from its section's characteristics.
    pub protection: Protection,
}

/// A segment.
///
/// # Invariants
/// * `pfn_references` = number of prototype PTEs that are valid or in transition.
/// * `mapped` = number of mapped regions (VADs, in every address space) that reference it.
/// * `committed` pages of commit are charged to it (pagefile segments only).
/// * Each chunk's dirty index names every resident prototype PTE whose frame is modified
///   (invariant 8).
#[derive(Debug)]
pub struct Segment {
    pub(crate) id: SegmentId,
    pub(crate) kind: SegmentKind,
    pub(crate) pages: u64,
    pub(crate) protection: Protection,
    pub(crate) template: ProtoPte,
    chunks: LeafTable<Chunk>,
    pub(crate) committed: u64,
    pub(crate) pfn_references: u64,
    pub(crate) mapped: u64,
    pub(crate) parked: bool,
    pub(crate) no_modified_writing: bool,
    /// An image segment's page sources, one per prototype PTE (empty otherwise).
    pub(crate) image: Box<[ImagePage]>,
}

impl Segment {
    pub(crate) fn new(
        id: SegmentId,
        kind: SegmentKind,
        pages: u64,
        protection: Protection,
        template: ProtoPte,
    ) -> Self {
        Segment {
            id,
            kind,
            pages,
            protection,
            template,
            chunks: LeafTable::default(),
            committed: 0,
            pfn_references: 0,
            mapped: 0,
            parked: false,
            no_modified_writing: false,
            image: Box::default(),
        }
    }

    /// Whether the segment can be deleted: its owner has let it go (parked) and nothing holds
    /// it any more — no view maps it and no prototype PTE keeps a frame (valid or in
    /// transition). The vmm part of `MiCheckControlArea`'s test (nt_internals §6.2); such a
    /// segment goes on the deletion queue for its owner to delete.
    pub(crate) fn is_reapable(&self) -> bool {
        self.parked && self.mapped == 0 && self.pfn_references == 0
    }

    /// The number of prototype PTEs.
    pub(crate) fn page_count(&self) -> PageCount {
        PageCount::new(self.pages)
    }

    /// Whether `index` names one of the segment's prototype PTEs (it is below `pages`).
    pub(crate) fn holds(&self, index: ProtoIndex) -> bool {
        index.raw() < self.pages
    }

    /// Whether `[first, first + count)` lies inside the segment.
    pub(crate) fn holds_range(&self, first: ProtoIndex, count: PageCount) -> bool {
        first
            .checked_add(count)
            .is_some_and(|end| end.raw() <= self.pages)
    }

    /// The prototype PTE at `index` (the template past the allocated chunks). `index` must be
    /// below `pages`.
    pub(crate) fn get(&self, index: ProtoIndex) -> ProtoPte {
        let index = index.raw();
        match self.chunks.get(index / CHUNK_PTES as u64) {
            Some(c) => c.ptes[(index % CHUNK_PTES as u64) as usize],
            None => self.template,
        }
    }

    /// Sets the prototype PTE at `index`, allocating its chunk if needed.
    pub(crate) fn set(&mut self, index: ProtoIndex, pte: ProtoPte) {
        let index = index.raw();
        self.chunk(index).ptes[(index % CHUNK_PTES as u64) as usize] = pte;
    }

    fn chunk(&mut self, index: u64) -> &mut Chunk {
        let template = self.template;
        self.chunks
            .get_or_insert_with(index / CHUNK_PTES as u64, || {
                Box::new(Chunk {
                    ptes: [template; CHUNK_PTES],
                    modified: DirtyBits::default(),
                })
            })
    }

    /// Records in the dirty index that the frame of prototype PTE `index` may be modified.
    pub(crate) fn note_modified(&mut self, index: ProtoIndex) {
        let index = index.raw();
        let i = (index % CHUNK_PTES as u64) as usize;
        self.chunk(index).modified.set(i, true);
    }

    /// Whether the dirty index names `index`.
    pub(crate) fn maybe_modified(&self, index: ProtoIndex) -> bool {
        let index = index.raw();
        let i = (index % CHUNK_PTES as u64) as usize;
        self.chunks
            .get(index / CHUNK_PTES as u64)
            .is_some_and(|c| c.modified.get(i))
    }

    /// The indexes in `[first, end)` the dirty index names, taken out of it: the caller cleans
    /// every modified frame among them.
    pub(crate) fn take_modified(&mut self, first: ProtoIndex, end: ProtoIndex) -> Vec<ProtoIndex> {
        let (first, end) = (first.raw(), end.raw());
        let c = CHUNK_PTES as u64;
        let mut out = Vec::new();
        if first >= end {
            return Vec::new();
        }
        self.chunks
            .for_each_in_mut(first / c..=(end - 1) / c, |ci, chunk| {
                chunk.modified.take(ci * c, first, end, &mut out)
            });
        out.into_iter().map(ProtoIndex::new).collect()
    }

    /// The prototype PTEs in `[first, first + count)` that differ from the template, in order.
    pub(crate) fn non_template(
        &self,
        first: ProtoIndex,
        count: PageCount,
    ) -> Vec<(ProtoIndex, ProtoPte)> {
        let (first, count) = (first.raw(), count.raw());
        let end = first.saturating_add(count).min(self.pages);
        let mut out = Vec::new();
        let c = CHUNK_PTES as u64;
        for (ci, chunk) in self.chunks.range(first / c..end.div_ceil(c)) {
            // Only the part of the chunk inside the range.
            let base = ci * c;
            let lo = first.saturating_sub(base) as usize;
            let hi = (end - base).min(c) as usize;
            for (j, pte) in chunk.ptes[lo..hi].iter().enumerate() {
                if *pte != self.template {
                    out.push((ProtoIndex::new(base + (lo + j) as u64), *pte));
                }
            }
        }
        out
    }

    /// Indexes in `[first, first + count)` whose prototype PTE holds a frame.
    pub(crate) fn resident(
        &self,
        first: ProtoIndex,
        count: PageCount,
    ) -> Vec<(ProtoIndex, ProtoPte)> {
        self.non_template(first, count)
            .into_iter()
            .filter(|(_, p)| p.pfn().is_some())
            .collect()
    }

    /// Grows the segment to `pages` (new entries get the template).
    pub(crate) fn extend(&mut self, pages: u64) {
        self.pages = self.pages.max(pages);
    }

    /// Shrinks the segment to `pages`; entries past it are dropped.
    pub(crate) fn truncate(&mut self, pages: u64) {
        let c = CHUNK_PTES as u64;
        self.chunks.remove_from(pages.div_ceil(c));
        let template = self.template;
        if let Some(last) = self.chunks.get_mut(pages / c) {
            for e in last.ptes.iter_mut().skip((pages % c) as usize) {
                *e = template;
            }
            for i in (pages % c) as usize..CHUNK_PTES {
                last.modified.set(i, false);
            }
        }
        self.pages = pages.min(self.pages);
    }

    /// Checks the chunk table's own invariants.
    pub(crate) fn check_chunks(&self) -> Result<(), String> {
        self.chunks.check()
    }

    /// Bytes of prototype-PTE storage currently allocated (chunk payloads only).
    pub fn chunk_bytes(&self) -> usize {
        self.chunks.len() * std::mem::size_of::<Chunk>()
    }
}

/// A snapshot of a segment's state, for inspection.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SegmentInfo {
    /// The segment.
    pub id: SegmentId,
    /// What backs it.
    pub kind: SegmentKind,
    /// Number of prototype PTEs.
    pub pages: PageCount,
    /// The protection given at creation.
    pub protection: Protection,
    /// Commit charged to it.
    pub committed: PageCount,
    /// Prototype PTEs valid or in transition (`NumberOfPfnReferences`).
    pub pfn_references: u64,
    /// Mapped regions referencing it.
    pub mapped: u64,
    /// Whether its owner has let go of it (it is deleted once no page is resident).
    pub parked: bool,
    /// Whether its modified pages go to the modified-no-write list instead of being written.
    pub no_modified_writing: bool,
    /// Bytes of prototype PTE chunks allocated.
    pub chunk_bytes: usize,
}

impl Segment {
    pub(crate) fn info(&self) -> SegmentInfo {
        SegmentInfo {
            id: self.id,
            kind: self.kind,
            pages: self.page_count(),
            protection: self.protection,
            committed: PageCount::new(self.committed),
            pfn_references: self.pfn_references,
            mapped: self.mapped,
            parked: self.parked,
            no_modified_writing: self.no_modified_writing,
            chunk_bytes: self.chunk_bytes(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ix(i: u64) -> ProtoIndex {
        ProtoIndex::new(i)
    }

    /// A pagefile segment of `pages` demand-zero pages, and its template.
    fn demand_zero(pages: u64) -> (Segment, ProtoPte) {
        let dz = ProtoPte::DemandZero {
            protection: Protection::READWRITE,
        };
        let s = Segment::new(
            SegmentId::new(1),
            SegmentKind::Pagefile,
            pages,
            Protection::READWRITE,
            dz,
        );
        (s, dz)
    }

    #[test]
    fn test_untouched_entries_read_as_template_and_cost_nothing() {
        let (mut s, dz) = demand_zero(1 << 28);
        assert_eq!(s.get(ix((1 << 28) - 1)), dz);
        assert_eq!(s.chunk_bytes(), 0);
        s.set(ix(1 << 27), ProtoPte::Zero);
        assert_eq!(s.get(ix(1 << 27)), ProtoPte::Zero);
        assert_eq!(s.get(ix((1 << 27) + 1)), dz);
        assert_eq!(
            s.non_template(ix(0), PageCount::new(1 << 28)),
            vec![(ix(1 << 27), ProtoPte::Zero)]
        );
        assert_eq!(s.chunk_bytes(), std::mem::size_of::<Chunk>());
    }

    #[test]
    fn test_non_template_returns_exactly_the_range_and_truncate_frees_chunks() {
        let (mut s, _) = demand_zero(4096);
        let set = [0u64, 1, 511, 512, 513, 1023, 1024, 3000];
        for i in set {
            s.set(ix(i), ProtoPte::Zero);
        }
        for (first, count) in [
            (0, 1),
            (1, 511),
            (511, 2),
            (2, 1022),
            (513, 2000),
            (0, 4096),
        ] {
            let want: Vec<(ProtoIndex, ProtoPte)> = set
                .iter()
                .filter(|&&i| i >= first && i < first + count)
                .map(|&i| (ix(i), ProtoPte::Zero))
                .collect();
            assert_eq!(
                s.non_template(ix(first), PageCount::new(count)),
                want,
                "{first}+{count}"
            );
        }
        s.truncate(600);
        assert_eq!(s.chunk_bytes(), 2 * std::mem::size_of::<Chunk>());
        assert_eq!(
            s.non_template(ix(0), PageCount::new(4096)),
            [0, 1, 511, 512, 513]
                .map(|i| (ix(i), ProtoPte::Zero))
                .to_vec()
        );
    }
}

//! Control areas: one per backing object, with NT's counts, changed only through the
//! operations that change them in NT (nt_internals §1.3, §6.1), and the deletion rule of
//! `MiCheckControlArea` (§6.2).
//!
//! This module knows nothing of the executive's tables: `ControlArea::check` decides what
//! `MiCheckControlArea` does and does the machine's part; taking the control area out of the
//! tables is the caller's (`State::check_control_area`).

use crate::error::Result;
use crate::ids::{ControlAreaId, StreamId};
use ntmm_vmm::{SegmentId, Vmm};

/// A control area (`CONTROL_AREA`, §1.3).
///
/// # Invariants
/// * `mapped_views` = views (all processes) that reference it.
/// * `section_references` = section objects on it, plus one while the cache manager holds the
///   file cached.
/// * `user_references` = user section objects + views.
/// * `parked` iff views = sections = 0 (file-backed only: its pages are still cached).
///
/// The counts are private: they change only through the `add_*`/`remove_*` operations below,
/// each named after the NT operation that changes them (§6.1).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ControlArea {
    pub(crate) id: ControlAreaId,
    pub(crate) segment: SegmentId,
    pub(crate) stream: Option<StreamId>,
    /// `SEC_NOCACHE`: views get the no-cache modifier (F76).
    pub(crate) nocache: bool,
    /// An image control area (the file's `ImageSectionObject`, §1.6): its image's layout.
    pub(crate) image: Option<std::sync::Arc<ImageInfo>>,
    section_references: u32,
    mapped_views: u32,
    user_references: u32,
    parked: bool,
}

/// What an image control area keeps of its PE file (`SEGMENT.ImageInformation`, §1.4).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ImageInfo {
    /// The preferred base (`ImageBase`).
    pub image_base: u64,
    /// Pages of the image (`SizeOfImage`, page-rounded).
    pub pages: u64,
    /// Runs of pages with one protection: (first page, pages, protection), in order.
    pub runs: Vec<(u64, u64, ntmm_vmm::Protection)>,
}

/// A snapshot of a control area (`!ca` in WinDbg).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ControlAreaInfo {
    /// The control area.
    pub id: ControlAreaId,
    /// Its segment in the machine.
    pub segment: SegmentId,
    /// The file stream, for a data file or an image; `None` for pagefile-backed.
    pub stream: Option<StreamId>,
    /// An image control area (`ImageSectionObject`), not a data one.
    pub image: bool,
    /// `NumberOfSectionReferences`.
    pub section_references: u32,
    /// `NumberOfMappedViews`.
    pub mapped_views: u32,
    /// `NumberOfUserReferences`.
    pub user_references: u32,
    /// `NumberOfPfnReferences`: prototype PTEs valid or in transition.
    pub pfn_references: u64,
    /// On the unused-segment list (no section, no view, pages still cached).
    pub parked: bool,
}

/// What `MiCheckControlArea` decided (§6.2).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Disposition {
    /// Views or section references remain: nothing happens.
    Kept,
    /// Pagefile-backed: its segment is deleted (its contents are lost); the control area must
    /// leave the tables.
    SegmentDeleted,
    /// File-backed with no resident page: the caller deletes it (segment, `DataSectionObject`).
    DeleteFileControlArea,
    /// File-backed with pages still cached: parked on the unused-segment list.
    Parked,
}

/// One count down, never below zero (the invariants of §9.3 keep it above).
fn decrement(count: &mut u32) {
    debug_assert!(*count > 0, "control-area count below zero");
    *count = count.saturating_sub(1);
}

impl ControlArea {
    /// A new control area with no reference (`MiCreateDataFileMap` for a file stream,
    /// `MiCreatePagingFileMap` for the pagefile, §1.8): the first section on it adds the first.
    pub(crate) fn new(
        id: ControlAreaId,
        segment: SegmentId,
        stream: Option<StreamId>,
        nocache: bool,
    ) -> Self {
        ControlArea {
            id,
            segment,
            stream,
            nocache,
            image: None,
            section_references: 0,
            mapped_views: 0,
            user_references: 0,
            parked: false,
        }
    }

    /// A user section object was created on it (`MmCreateSection`): `NumberOfSectionReferences`
    /// and `NumberOfUserReferences` go up (§6.1).
    pub(crate) fn add_user_section_reference(&mut self) {
        self.section_references += 1;
        self.user_references += 1;
    }

    /// A user section object was deleted (`MiSectionDelete`): both counts go down (§6.1). The
    /// caller runs `MiCheckControlArea` next.
    pub(crate) fn remove_user_section_reference(&mut self) {
        decrement(&mut self.section_references);
        decrement(&mut self.user_references);
    }

    /// The cache manager's own section on the file (`CcInitializeCacheMap`, §8): a section
    /// reference without a user reference.
    pub(crate) fn add_cache_section_reference(&mut self) {
        self.section_references += 1;
    }

    /// The cache manager dropped its section (`CcUninitializeCacheMap`, §8). The caller runs
    /// `MiCheckControlArea` next.
    pub(crate) fn remove_cache_section_reference(&mut self) {
        decrement(&mut self.section_references);
    }

    /// A user view was mapped (`MiMapViewOfSection`, `MiCheckPurgeAndUpMapCount`):
    /// `NumberOfMappedViews` and `NumberOfUserReferences` go up (§6.1).
    pub(crate) fn add_mapped_view(&mut self) {
        self.mapped_views += 1;
        self.user_references += 1;
    }

    /// A user view was unmapped (`MiRemoveMappedView`): both counts go down (§6.1). The caller
    /// runs `MiCheckControlArea` next.
    pub(crate) fn remove_mapped_view(&mut self) {
        decrement(&mut self.mapped_views);
        decrement(&mut self.user_references);
    }

    /// The three counts.
    pub(crate) fn counts(&self) -> crate::event::Counts {
        crate::event::Counts {
            section_references: self.section_references,
            mapped_views: self.mapped_views,
            user_references: self.user_references,
        }
    }

    /// `NumberOfSectionReferences`.
    pub(crate) fn section_references(&self) -> u32 {
        self.section_references
    }

    /// `NumberOfMappedViews`.
    pub(crate) fn mapped_views(&self) -> u32 {
        self.mapped_views
    }

    /// `NumberOfUserReferences`.
    pub(crate) fn user_references(&self) -> u32 {
        self.user_references
    }

    /// Whether user sections or user views hold it (`MmCanFileBeTruncated` refuses then, §8).
    pub(crate) fn is_user_referenced(&self) -> bool {
        self.user_references > 0
    }

    /// On the unused-segment list.
    pub(crate) fn is_parked(&self) -> bool {
        self.parked
    }

    /// A new section on the file revives a parked control area (§6.2 point 4): it leaves the
    /// unused-segment list and its cached pages are reused through soft faults. Returns
    /// whether it was parked.
    pub(crate) fn revive(&mut self, vmm: &Vmm) -> Result<bool> {
        if self.parked {
            self.parked = false;
            vmm.set_segment_parked(self.segment, false)?;
            return Ok(true);
        }
        Ok(false)
    }

    /// `MiCheckControlArea` (§6.2), after a view or section reference went away. With no views
    /// and no section references, a pagefile-backed control area's segment is deleted at once
    /// (its contents are lost); a file-backed one is to be deleted if no page is resident, else
    /// it is parked on the unused-segment list, to be deleted when its last cached page leaves
    /// memory or revived by a new section on the file. The machine's part is done here; the
    /// returned [`Disposition`] tells the caller what to do with its tables.
    pub(crate) fn check(&mut self, vmm: &Vmm) -> Result<Disposition> {
        if self.mapped_views != 0 || self.section_references != 0 {
            return Ok(Disposition::Kept);
        }
        debug_assert_eq!(self.user_references, 0);
        // An image control area dies with its last section and view, like a pagefile-backed
        // one: its pages are either in the file or (modified shared pages) in the pagefile
        // (a stated simplification: NT may keep it cached on the unused-segment list).
        match self.stream.filter(|_| self.image.is_none()) {
            None => {
                vmm.delete_segment(self.segment)?;
                Ok(Disposition::SegmentDeleted)
            }
            Some(_) => {
                if vmm.segment_info(self.segment)?.pfn_references == 0 {
                    Ok(Disposition::DeleteFileControlArea)
                } else {
                    self.parked = true;
                    vmm.set_segment_parked(self.segment, true)?;
                    Ok(Disposition::Parked)
                }
            }
        }
    }

    /// Whether a parked control area may die now: its last cached page has left memory
    /// (`MiCheckForControlAreaDeletion`, §4.7).
    pub(crate) fn is_parked_without_pages(&self, vmm: &Vmm) -> Result<bool> {
        Ok(self.parked && vmm.segment_info(self.segment)?.pfn_references == 0)
    }

    /// Its snapshot.
    pub(crate) fn info(&self, vmm: &Vmm) -> ControlAreaInfo {
        ControlAreaInfo {
            id: self.id,
            segment: self.segment,
            stream: self.stream,
            image: self.image.is_some(),
            section_references: self.section_references,
            mapped_views: self.mapped_views,
            user_references: self.user_references,
            pfn_references: vmm
                .segment_info(self.segment)
                .map_or(0, |s| s.pfn_references),
            parked: self.parked,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ntmm_vmm::{PageCount, Protection, VmmConfig};

    /// §6.1: a section object counts a section and a user reference, the cache manager a
    /// section reference only, a view a mapped view and a user reference; `MiCheckControlArea`
    /// deletes a pagefile-backed control area only when views and sections are both gone (§6.2).
    #[test]
    fn test_counts_follow_the_operations_that_change_them_s6_1_s6_2() {
        let vmm = Vmm::new(VmmConfig::default()).unwrap();
        let seg = vmm
            .create_pagefile_segment(PageCount::new(1), Protection::READWRITE, false)
            .unwrap();
        let mut ca = ControlArea::new(ControlAreaId(1), seg, None, false);
        ca.add_user_section_reference();
        ca.add_cache_section_reference();
        ca.add_mapped_view();
        let counts = |c: &ControlArea| {
            (
                c.section_references(),
                c.mapped_views(),
                c.user_references(),
            )
        };
        assert_eq!(counts(&ca), (2, 1, 2));
        ca.remove_user_section_reference();
        ca.remove_cache_section_reference();
        assert_eq!(counts(&ca), (0, 1, 1));
        assert!(ca.is_user_referenced());
        assert_eq!(ca.check(&vmm).unwrap(), Disposition::Kept, "a view remains");
        ca.remove_mapped_view();
        assert_eq!(counts(&ca), (0, 0, 0));
        assert_eq!(ca.check(&vmm).unwrap(), Disposition::SegmentDeleted);
        assert!(vmm.segment_info(seg).is_err(), "the segment is gone");
    }
}

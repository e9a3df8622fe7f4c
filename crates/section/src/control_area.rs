//! Control areas: one per backing object, with NT's four counts, and the deletion rule of
//! `MiCheckControlArea` (nt_internals §1.3, §6.1–§6.2).

use crate::error::Result;
use crate::executive::State;
use crate::ids::{ControlAreaId, StreamId};
use ntmm_vmm::{SegmentId, Vmm};

/// A control area.
///
/// # Invariants
/// * `mapped_views` = views (all processes) that reference it.
/// * `section_references` = section objects on it, plus one while the cache manager holds the
///   file cached.
/// * `user_references` = user section objects + views.
/// * `parked` iff views = sections = 0 (file-backed only: its pages are still cached).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ControlArea {
    pub(crate) id: ControlAreaId,
    pub(crate) segment: SegmentId,
    pub(crate) stream: Option<StreamId>,
    pub(crate) section_references: u32,
    pub(crate) mapped_views: u32,
    pub(crate) user_references: u32,
    pub(crate) parked: bool,
    pub(crate) nocache: bool,
}

/// A snapshot of a control area (`!ca` in WinDbg).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ControlAreaInfo {
    /// The control area.
    pub id: ControlAreaId,
    /// Its segment in the machine.
    pub segment: SegmentId,
    /// The file stream, for a data file; `None` for pagefile-backed.
    pub stream: Option<StreamId>,
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

impl State {
    /// `MiCheckControlArea`: after a view or section reference went away. With no views and
    /// no section references, a pagefile-backed control area is deleted at once (its contents
    /// are lost); a file-backed one is deleted if no page is resident, else parked on the
    /// unused-segment list, to be deleted when its last cached page leaves memory or revived
    /// by a new section on the file.
    pub(crate) fn check_control_area(&mut self, vmm: &Vmm, id: ControlAreaId) -> Result<()> {
        let Some(ca) = self.control_areas.get_mut(&id) else {
            return Ok(());
        };
        if ca.mapped_views != 0 || ca.section_references != 0 {
            return Ok(());
        }
        debug_assert_eq!(ca.user_references, 0);
        match ca.stream {
            None => {
                vmm.delete_segment(ca.segment)?;
                self.control_areas.remove(&id);
                tracing::debug!(?id, "pagefile-backed control area deleted");
            }
            Some(_) => {
                if vmm.segment_info(ca.segment)?.pfn_references == 0 {
                    self.delete_file_control_area(vmm, id)?;
                } else {
                    ca.parked = true;
                    vmm.set_segment_parked(ca.segment, true)?;
                    tracing::debug!(?id, "file control area parked on the unused-segment list");
                }
            }
        }
        Ok(())
    }

    /// Deletes a file-backed control area with no resident page: the segment goes and the
    /// file's `DataSectionObject` is cleared.
    pub(crate) fn delete_file_control_area(&mut self, vmm: &Vmm, id: ControlAreaId) -> Result<()> {
        let Some(ca) = self.control_areas.remove(&id) else {
            return Ok(());
        };
        vmm.delete_segment(ca.segment)?;
        if let Some(s) = ca.stream.and_then(|s| self.streams.get_mut(&s)) {
            s.data_ca = None;
        }
        tracing::debug!(?id, "file control area deleted");
        Ok(())
    }

    /// The segment dereference thread: deletes the parked control areas whose last cached page
    /// has been reused (`MiCheckForControlAreaDeletion`, nt_internals §4.7).
    pub(crate) fn reap(&mut self, vmm: &Vmm) {
        for seg in vmm.take_segments_to_delete() {
            let found = self
                .control_areas
                .values()
                .find(|c| c.segment == seg && c.parked)
                .map(|c| c.id);
            if let Some(id) = found {
                if let Err(e) = self.delete_file_control_area(vmm, id) {
                    tracing::warn!(?id, %e, "parked control area could not be deleted");
                }
            }
        }
    }

    /// A control area's snapshot.
    pub(crate) fn control_area_info(
        &self,
        vmm: &Vmm,
        id: ControlAreaId,
    ) -> Option<ControlAreaInfo> {
        let ca = self.control_areas.get(&id)?;
        Some(ControlAreaInfo {
            id,
            segment: ca.segment,
            stream: ca.stream,
            section_references: ca.section_references,
            mapped_views: ca.mapped_views,
            user_references: ca.user_references,
            pfn_references: vmm.segment_info(ca.segment).map_or(0, |s| s.pfn_references),
            parked: ca.parked,
        })
    }
}

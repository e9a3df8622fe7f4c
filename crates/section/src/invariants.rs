//! The control-area rules of nt_internals §9.3, on top of the machine's own invariants.
//!
//! 1. Every control area's `NumberOfMappedViews` = the views that reference it, and equals its
//!    segment's mapped-region count.
//! 2. `NumberOfSectionReferences` = section objects on it + the cache manager's reference.
//! 3. `NumberOfUserReferences` = section objects + views.
//! 4. Parked iff no views and no section references; only file control areas park; the
//!    machine's segment agrees.
//! 5. A file's `DataSectionObject` names a control area iff that control area exists and names
//!    the file back.
//! 6. Every view record matches a mapped region of its segment; sections name live control
//!    areas.
//! 7. Every mapped region has its view record (so a view turned back into a placeholder,
//!    F72, leaves no record behind, and no placeholder overlaps a view).

use crate::state::State;
use ntmm_vmm::{InvariantViolation, VadKind, Vmm};

/// A violated invariant: the machine's, or a control-area rule (numbered as in the module
/// docs).
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum SectionInvariantViolation {
    /// A machine invariant.
    #[error(transparent)]
    Machine(#[from] InvariantViolation),
    /// A control-area rule.
    #[error("control-area rule {rule} violated: {detail}")]
    ControlArea {
        /// The rule's number.
        rule: u8,
        /// What was found.
        detail: String,
    },
}

fn fail<T>(rule: u8, detail: String) -> Result<T, SectionInvariantViolation> {
    Err(SectionInvariantViolation::ControlArea { rule, detail })
}

impl State {
    pub(crate) fn check_invariants(&self, vmm: &Vmm) -> Result<(), SectionInvariantViolation> {
        vmm.check_invariants()?;
        for (id, ca) in &self.control_areas {
            let views = self
                .views
                .values()
                .filter(|v| v.control_area == *id)
                .count() as u32;
            let sections = self
                .sections
                .values()
                .filter(|s| s.control_area == *id)
                .count() as u32;
            let cached =
                ca.stream
                    .and_then(|s| self.streams.get(&s))
                    .is_some_and(|s| s.cached && s.data_ca == Some(*id)) as u32;
            if ca.mapped_views() != views {
                return fail(
                    1,
                    format!(
                        "{id:?}: mapped views {} but {views} views",
                        ca.mapped_views()
                    ),
                );
            }
            let Ok(info) = vmm.segment_info(ca.segment) else {
                return fail(1, format!("{id:?}: segment {:?} is gone", ca.segment));
            };
            if info.mapped != u64::from(views) {
                return fail(
                    1,
                    format!(
                        "{id:?}: segment maps {} regions, {views} views",
                        info.mapped
                    ),
                );
            }
            if ca.section_references() != sections + cached {
                return fail(
                    2,
                    format!(
                        "{id:?}: section references {} but {sections} sections + {cached}",
                        ca.section_references()
                    ),
                );
            }
            if ca.user_references() != sections + views {
                return fail(
                    3,
                    format!(
                        "{id:?}: user references {} but {sections} + {views}",
                        ca.user_references()
                    ),
                );
            }
            let idle = ca.mapped_views() == 0 && ca.section_references() == 0;
            if ca.is_parked() != idle
                || (ca.is_parked() && ca.stream.is_none())
                || info.parked != ca.is_parked()
            {
                return fail(
                    4,
                    format!(
                        "{id:?}: parked {} (segment {}) with views {} sections {}",
                        ca.is_parked(),
                        info.parked,
                        ca.mapped_views(),
                        ca.section_references()
                    ),
                );
            }
            if let Some(s) = ca.stream {
                let back = self.streams.get(&s).and_then(|st| {
                    if ca.image.is_some() {
                        st.image_ca
                    } else {
                        st.data_ca
                    }
                });
                if back != Some(*id) {
                    return fail(5, format!("{id:?}: file {s:?} does not point back"));
                }
            }
        }
        for (sid, st) in &self.streams {
            if let Some(ca) = st.data_ca {
                if self.control_areas.get(&ca).and_then(|c| c.stream) != Some(*sid) {
                    return fail(5, format!("{sid:?}: DataSectionObject {ca:?} is stale"));
                }
            }
            if let Some(ca) = st.image_ca {
                let c = self.control_areas.get(&ca);
                if c.and_then(|c| c.stream) != Some(*sid) || c.is_some_and(|c| c.image.is_none()) {
                    return fail(5, format!("{sid:?}: ImageSectionObject {ca:?} is stale"));
                }
            }
        }
        for ((asid, base), rec) in &self.views {
            let ca = self.control_areas.get(&rec.control_area);
            let vad = vmm.region(*asid, ntmm_vmm::Va::new(*base)).ok().flatten();
            let ok = match (ca, vad) {
                (Some(ca), Some(v)) => {
                    v.start.base().raw() == *base
                        && v.pages() == rec.pages
                        && v.kind
                            == VadKind::Mapped {
                                segment: ca.segment,
                                first_index: rec.first_index,
                            }
                }
                _ => false,
            };
            if !ok {
                return fail(
                    6,
                    format!("view {asid:?}@{base:#x} does not match its region"),
                );
            }
        }
        for asid in &self.processes {
            for v in vmm.regions(*asid).unwrap_or_default() {
                if matches!(v.kind, VadKind::Mapped { .. })
                    && !self.views.contains_key(&(*asid, v.start.base().raw()))
                {
                    return fail(
                        7,
                        format!("{asid:?}: mapped region at {} has no view", v.start.base()),
                    );
                }
            }
        }
        for (id, s) in &self.sections {
            if !self.control_areas.contains_key(&s.control_area) {
                return fail(6, format!("{id:?} names a missing control area"));
            }
        }
        Ok(())
    }
}

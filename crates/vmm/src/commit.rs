//! Commit charge (nt_internals §1.9).
//!
//! The commit limit is `frames + (pagefile pages − 1)`: every physical frame plus every usable
//! pagefile slot (slot 0 is never used). NT subtracts memory the kernel keeps for itself; the
//! emulated kernel keeps none. Charges are taken where NT takes them: pagefile-backed
//! `SEC_COMMIT` segments at creation, `SEC_RESERVE` pages when committed, copy-on-write views at
//! map time, private pages when committed. Each charge is recorded on the object it belongs to
//! (segment or region), so that `check_invariants` can verify the total.

use crate::addr::PageCount;
use crate::error::{Result, VmmError};
use crate::id::AsId;
use crate::machine::Machine;

/// The machine's commit state.
///
/// # Invariants
/// `charged <= limit`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct CommitState {
    limit: u64,
    charged: u64,
    peak: u64,
}

impl CommitState {
    pub(crate) fn new(limit: u64) -> Self {
        CommitState {
            limit,
            charged: 0,
            peak: 0,
        }
    }
    /// The commit limit in pages.
    pub fn limit(&self) -> PageCount {
        PageCount::new(self.limit)
    }
    /// Pages charged.
    pub fn charged(&self) -> PageCount {
        PageCount::new(self.charged)
    }
    /// The highest charge seen.
    pub fn peak(&self) -> PageCount {
        PageCount::new(self.peak)
    }
    /// Pages still chargeable.
    pub fn available(&self) -> PageCount {
        PageCount::new(self.limit - self.charged)
    }
    /// Charges `pages`, or fails with the commitment limit and charges nothing.
    pub(crate) fn charge(&mut self, pages: u64) -> Result<()> {
        if pages > self.limit - self.charged {
            return Err(VmmError::CommitmentLimit {
                requested: PageCount::new(pages),
                available: self.available(),
            });
        }
        self.charged += pages;
        self.peak = self.peak.max(self.charged);
        tracing::trace!(pages, charged = self.charged, "commit charged");
        Ok(())
    }
    /// Returns `pages` of charge.
    pub(crate) fn release(&mut self, pages: u64) {
        debug_assert!(pages <= self.charged, "commit release underflow");
        self.charged -= pages.min(self.charged);
        tracing::trace!(pages, charged = self.charged, "commit released");
    }
}

/// One address space's commit charge: the pages charged to its private regions and
/// copy-on-write views (§1.9), which Windows reports as the process's `PrivateUsage` and
/// `PagefileUsage`, and the most it has been (`PeakPagefileUsage`). Pagefile-backed sections are
/// charged to the system, not to a process.
///
/// # Invariants
/// `charged` is the sum of the `commit_charge` of the address space's regions (checked by the
/// machine); `peak >= charged`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct ProcessCommit {
    charged: u64,
    peak: u64,
}

impl ProcessCommit {
    /// Pages charged to the process now.
    pub fn charged(&self) -> PageCount {
        PageCount::new(self.charged)
    }
    /// The most pages charged to it at once.
    pub fn peak(&self) -> PageCount {
        PageCount::new(self.peak)
    }
}

impl Machine {
    /// Charges `pages` of commit for a region of address space `asid` (a private commit or a
    /// copy-on-write view, §1.9): the machine's charge first (failing with the commitment limit
    /// and charging nothing), then the process's charge and its peak — the one place a process's
    /// commit grows.
    pub(crate) fn charge_process(&mut self, asid: AsId, pages: PageCount) -> Result<()> {
        let pages = pages.raw();
        self.commit.charge(pages)?;
        if let Some(space) = self.spaces.get_mut(&asid) {
            let c = &mut space.commit;
            c.charged += pages;
            c.peak = c.peak.max(c.charged);
        }
        Ok(())
    }

    /// Returns `pages` of a region's charge to the machine and to address space `asid`.
    pub(crate) fn release_process(&mut self, asid: AsId, pages: PageCount) {
        let pages = pages.raw();
        self.commit.release(pages);
        if let Some(space) = self.spaces.get_mut(&asid) {
            debug_assert!(pages <= space.commit.charged, "process commit underflow");
            space.commit.charged -= pages.min(space.commit.charged);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn test_charge_up_to_the_limit_then_fail_without_charging() {
        let mut c = CommitState::new(10);
        c.charge(7).unwrap();
        let err = c.charge(4).unwrap_err();
        assert_eq!(
            err,
            VmmError::CommitmentLimit {
                requested: PageCount::new(4),
                available: PageCount::new(3)
            }
        );
        assert_eq!(err.status(), crate::NtStatus::STATUS_COMMITMENT_LIMIT);
        assert_eq!(c.charged(), PageCount::new(7));
        c.charge(3).unwrap();
        c.release(10);
        assert_eq!(c.charged(), PageCount::ZERO);
        assert_eq!(c.peak(), PageCount::new(10));
    }
}

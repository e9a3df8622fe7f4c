//! Private memory: reserving, committing and decommitting the pages of a private region
//! (`NtAllocateVirtualMemory`, `NtFreeVirtualMemory` with `MEM_DECOMMIT`; nt_internals §1.9,
//! §7).

use crate::addr::{PageCount, Va, Vpn};
use crate::error::{Result, VmmError};
use crate::id::AsId;
use crate::machine::Machine;
use crate::protection::Protection;
use crate::pte::Pte;
use crate::region::Placement;
use crate::vad::{Vad, VadKind};

impl Machine {
    /// Reserves (and with `commit`, commits) a private region.
    pub(crate) fn allocate_private(
        &mut self,
        asid: AsId,
        pages: PageCount,
        placement: Placement,
        protection: Protection,
        commit: bool,
    ) -> Result<Va> {
        Self::check_private_protection(protection)?;
        let range = self.place(asid, pages, placement)?;
        let charge = if commit { pages } else { PageCount::ZERO };
        self.charge_process(asid, charge)?;
        let vad = Vad {
            start: range.start(),
            end: range.end(),
            protection,
            kind: VadKind::Private { committed: commit },
            commit_charge: charge,
            placeholder: false,
        };
        self.insert_region(asid, vad, placement)?;
        self.events.emit(crate::event::VmmEvent::PrivateAllocated {
            asid,
            base: range.start().base(),
            pages: pages.raw(),
            protection,
            committed: commit,
        });
        Ok(range.start().base())
    }

    pub(crate) fn check_private_protection(protection: Protection) -> Result<()> {
        if protection.is_copy_on_write()
            || protection == Protection::DECOMMIT
            || protection == Protection::ZERO
        {
            return Err(VmmError::InvalidProtection);
        }
        Ok(())
    }

    /// Commits pages of a private region (pages already committed get the new protection, as
    /// NT's `NtAllocateVirtualMemory` does). Returns the pages newly committed and charged.
    pub(crate) fn commit_private(
        &mut self,
        asid: AsId,
        start: Vpn,
        pages: PageCount,
        protection: Protection,
    ) -> Result<PageCount> {
        Self::check_private_protection(protection)?;
        let (vad, range) = self.region_for(asid, start, pages)?;
        if !matches!(vad.kind, VadKind::Private { .. }) {
            return Err(VmmError::WrongRegionKind(start.base()));
        }
        let space = self.space(asid)?;
        let mut fresh = Vec::new();
        let mut already = Vec::new();
        for vpn in range.iter() {
            if self.is_committed(&vad, space.page_table.get(vpn), vpn) {
                already.push(vpn);
            } else {
                fresh.push(vpn);
            }
        }
        let charge = PageCount::new(fresh.len() as u64);
        self.charge_process(asid, charge)?;
        let space = self.space_mut(asid)?;
        for &vpn in &fresh {
            space.page_table.set(vpn, Pte::DemandZero { protection });
        }
        if let Some(v) = space.vads.find_mut(start) {
            v.commit_charge = v.commit_charge.saturating_add(charge);
        }
        for vpn in already {
            self.protect_page(asid, vpn, protection);
        }
        Ok(charge)
    }

    /// Decommits pages of a private region, freeing their frames and slots. Returns the pages
    /// decommitted (and uncharged).
    pub(crate) fn decommit_private(
        &mut self,
        asid: AsId,
        start: Vpn,
        pages: PageCount,
    ) -> Result<PageCount> {
        let (vad, range) = self.region_for(asid, start, pages)?;
        let VadKind::Private { committed } = vad.kind else {
            return Err(VmmError::WrongRegionKind(start.base()));
        };
        let mut n = 0;
        for vpn in range.iter() {
            let pte = self.space(asid)?.page_table.get(vpn);
            if !self.is_committed(&vad, pte, vpn) {
                continue;
            }
            self.delete_pte(asid, vpn, pte);
            if committed {
                self.space_mut(asid)?.page_table.set(
                    vpn,
                    Pte::DemandZero {
                        protection: Protection::DECOMMIT,
                    },
                );
            }
            n += 1;
        }
        let n = PageCount::new(n);
        self.release_process(asid, n);
        if let Some(v) = self.space_mut(asid)?.vads.find_mut(start) {
            v.commit_charge = v.commit_charge.saturating_sub(n);
        }
        Ok(n)
    }
}

//! Changing the protection of committed pages (`NtProtectVirtualMemory`, nt_internals §7.5).

use crate::addr::{PageCount, Vpn};
use crate::error::{Result, VmmError};
use crate::id::AsId;
use crate::machine::Machine;
use crate::protection::Protection;
use crate::pte::{HardwarePte, OriginalPte, Pte};
use crate::vad::VadKind;

impl Machine {
    /// Changes the protection of pages of one region (nt_internals §7.5) and returns the first
    /// page's old protection. Every page must be committed. The caller has checked the
    /// compatibility rules of the section layer.
    pub(crate) fn protect(
        &mut self,
        asid: AsId,
        start: Vpn,
        pages: PageCount,
        protection: Protection,
    ) -> Result<Protection> {
        let old = self.protect_pages(asid, start, pages, protection)?;
        self.events.emit(crate::event::VmmEvent::ProtectionChanged {
            asid,
            base: start.base(),
            pages: pages.raw(),
            old,
            new: protection,
        });
        Ok(old)
    }

    /// [`Machine::protect`] as part of building something else (an image view's per-section
    /// protections): the same PTE changes, told as part of that operation, not as a
    /// protection change of its own.
    pub(crate) fn protect_pages(
        &mut self,
        asid: AsId,
        start: Vpn,
        pages: PageCount,
        protection: Protection,
    ) -> Result<Protection> {
        if protection == Protection::DECOMMIT || protection == Protection::ZERO {
            return Err(VmmError::InvalidProtection);
        }
        let (vad, range) = self.region_for(asid, start, pages)?;
        if let VadKind::Private { .. } = vad.kind {
            Self::check_private_protection(protection)?;
        }
        let space = self.space(asid)?;
        for vpn in range.iter() {
            if !self.is_committed(&vad, space.page_table.get(vpn), vpn) {
                return Err(VmmError::NotCommitted(vpn.base()));
            }
        }
        let (_, old) = self.page_state(asid, start)?;
        if protection.is_copy_on_write() {
            // Changing to write-copy charges commit for pages not already charged (§1.9); the
            // charge is kept per region, not per page (a stated simplification).
            let extra = pages.min(vad.range().len().saturating_sub(vad.commit_charge));
            self.charge_process(asid, extra)?;
            if let Some(v) = self.space_mut(asid)?.vads.find_mut(start) {
                v.commit_charge = v.commit_charge.saturating_add(extra);
            }
        }
        for vpn in range.iter() {
            self.protect_page(asid, vpn, protection);
        }
        Ok(old)
    }

    /// Applies a protection to one committed page (per-PTE rules of §7.5). Private copies in a
    /// view drop the "copy" part: they are already private.
    pub(crate) fn protect_page(&mut self, asid: AsId, vpn: Vpn, protection: Protection) {
        let Some(space) = self.spaces.get(&asid) else {
            return;
        };
        let pte = space.page_table.get(vpn);
        let private_page = match pte {
            Pte::Valid(h) => !self.pfn.entry(h.pfn).is_prototype(),
            Pte::Transition { .. } | Pte::Pagefile { .. } | Pte::DemandZero { .. } => true,
            _ => false,
        };
        let effective = if private_page {
            protection.without_copy()
        } else {
            protection
        };
        match pte {
            Pte::Valid(h) => {
                if h.dirty {
                    self.mark_modified(h.pfn);
                }
                if !effective.is_accessible() || effective.is_guard() {
                    // No-access and guard pages leave the working set.
                    self.trim_page(asid, vpn);
                    self.set_invalid_protection(asid, vpn, effective);
                    return;
                }
                if private_page {
                    let e = self.pfn.entry_mut(h.pfn);
                    e.set_original(match e.original() {
                        OriginalPte::Pagefile { slot, .. } => OriginalPte::Pagefile {
                            slot,
                            protection: effective,
                        },
                        _ => OriginalPte::DemandZero {
                            protection: effective,
                        },
                    });
                }
                if let Some(space) = self.spaces.get_mut(&asid) {
                    space.page_table.set(
                        vpn,
                        Pte::Valid(HardwarePte {
                            write: effective.is_writable(),
                            copy_on_write: effective.is_copy_on_write(),
                            dirty: false,
                            no_execute: !effective.is_executable(),
                            ..h
                        }),
                    );
                    space.ws.set_protection(vpn, effective);
                }
            }
            _ => self.set_invalid_protection(asid, vpn, effective),
        }
    }
}

//! Working-set trimming and memory pressure (nt_internals §4.5).

use crate::addr::Vpn;
use crate::error::{Result, VmmError};
use crate::id::AsId;
use crate::machine::Machine;
use crate::pfn::PageLocation;
use crate::pte::{Pte, PteRef};

impl Machine {
    /// Removes one valid PTE from its working set (`MiFreeWsle`/`MiTrimPte`): the dirty bit is
    /// captured into the PFN, a shared page's PTE returns to prototype form (the encoded pointer
    /// if this address space sees the prototype's own protection, else the lookup form with the
    /// per-view protection), a private page's PTE goes to transition, and the frame's share count
    /// is decremented. Returns whether a page was trimmed.
    pub(crate) fn trim_page(&mut self, asid: AsId, vpn: Vpn) -> bool {
        let Some(space) = self.spaces.get_mut(&asid) else {
            return false;
        };
        let Pte::Valid(h) = space.page_table.get(vpn) else {
            return false;
        };
        let protection = space
            .ws
            .remove(vpn)
            .map(|e| e.protection)
            .unwrap_or_default();
        if h.dirty {
            self.mark_modified(h.pfn);
        }
        let e = self.pfn.entry(h.pfn);
        let new = match e.pte() {
            Some(PteRef::Proto(proto)) => {
                if protection == e.original().protection() {
                    Pte::Prototype {
                        proto,
                        read_only: false,
                    }
                } else {
                    Pte::PrototypeLookup { protection }
                }
            }
            _ => Pte::Transition {
                pfn: h.pfn,
                protection,
            },
        };
        if let Some(space) = self.spaces.get_mut(&asid) {
            space.page_table.set(vpn, new);
        }
        self.events.emit(crate::event::VmmEvent::PageTrimmed {
            asid,
            va: vpn.base(),
            pfn: h.pfn,
            pte_before: Pte::Valid(h),
            pte_after: new,
        });
        self.decrement_share_count(h.pfn);
        self.counters.trims += 1;
        true
    }

    /// `MiTrimWorkingSet`: trims the oldest `count` pages (all if `None`) of a working set,
    /// each through [`Machine::trim_page`]. Returns pages trimmed.
    pub(crate) fn trim_working_set(&mut self, asid: AsId, count: Option<u64>) -> Result<u64> {
        let pages = self.space(asid)?.ws.pages();
        let n = count.map_or(pages.len(), |c| c.min(pages.len() as u64) as usize);
        let mut trimmed = 0;
        for vpn in pages.into_iter().take(n) {
            trimmed += u64::from(self.trim_page(asid, vpn));
        }
        Ok(trimmed)
    }

    /// Makes room for one more entry in a full working set by trimming its oldest page
    /// (`MiDoReplacement`).
    pub(crate) fn make_room(&mut self, asid: AsId) {
        while let Some(space) = self.spaces.get(&asid) {
            if !space.ws.is_full() {
                return;
            }
            let Some(oldest) = space.ws.oldest() else {
                return;
            };
            self.trim_page(asid, oldest);
        }
    }

    /// Makes at least `n` frames available (zeroed + free + standby) under memory pressure:
    /// first the writers turn modified pages into standby pages, then the largest working set
    /// (lowest id on ties) gives up its oldest page, and so on until enough frames are
    /// available. Fails only when every frame is pinned by modified pages that cannot be written
    /// and no working set has anything left to trim.
    pub(crate) fn ensure_available(&mut self, n: u64) -> Result<()> {
        let mut writers_tried = false;
        loop {
            if self.pfn.available() >= n {
                return Ok(());
            }
            if !writers_tried && self.pfn.list_len(PageLocation::Modified) > 0 {
                writers_tried = true;
                let report = self.run_writers_internal(crate::event::WriterTrigger::LowMemory);
                tracing::debug!(?report, "writers run under memory pressure");
                continue;
            }
            let victim = self
                .spaces
                .values()
                .filter(|s| !s.ws.is_empty())
                .max_by_key(|s| (s.ws.len(), std::cmp::Reverse(s.id)))
                .map(|s| (s.id, s.ws.oldest()));
            match victim {
                Some((asid, Some(vpn))) => {
                    self.trim_page(asid, vpn);
                    writers_tried = false;
                }
                _ => {
                    tracing::warn!("no frame can be made available");
                    return Err(VmmError::NoFreeFrame);
                }
            }
        }
    }
}

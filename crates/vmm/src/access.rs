//! Memory access by the emulated CPU: loads and stores of byte ranges and of 1/2/4/8-byte
//! values, page by page through the address space's page table.
//!
//! * A byte-range access (`read`/`write`) is performed page by page, copying whole page runs
//!   (never byte by byte). If a later page raises, the bytes already stored stay stored and the
//!   exception names the first byte of the page that failed.
//! * A value access (`read_value`/`write_value`) is one instruction: every page it touches is
//!   translated first, so if any page raises, nothing is stored (x86 semantics for a store that
//!   crosses a page boundary).

use crate::addr::{ByteCount, Pfn, Va, PAGE_BYTES};
use crate::error::{Result, VmmError};
use crate::id::AsId;
use crate::machine::Machine;
use crate::protection::Access;

/// Rounds a value access may retry when translating its second page trims its first.
const VALUE_ROUNDS: usize = 8;

impl Machine {
    /// Checks that `[va, va + len)` lies in user space.
    pub(crate) fn check_user_range(va: Va, len: u64) -> Result<()> {
        if len == 0 {
            return Ok(());
        }
        let last = va
            .raw()
            .checked_add(len - 1)
            .ok_or(VmmError::RangeOverflow)?;
        if !va.is_user() {
            return Err(VmmError::AddressOutOfRange(va));
        }
        if !Va::new(last).is_user() {
            return Err(VmmError::AddressOutOfRange(Va::new(last)));
        }
        Ok(())
    }

    /// The address `done` bytes into a byte-range access at `va`, which must be a user address:
    /// a range running out of user space raises at its first byte past the end, after the
    /// pages before it were accessed (page by page, as a CPU's string copy would).
    fn user_address_at(va: Va, done: usize) -> Result<Va> {
        let cur = va
            .checked_add(ByteCount::new(done as u64))
            .ok_or(VmmError::RangeOverflow)?;
        if !cur.is_user() {
            return Err(VmmError::AddressOutOfRange(cur));
        }
        Ok(cur)
    }

    /// Loads `buf.len()` bytes at `va`.
    pub(crate) fn read(&mut self, asid: AsId, va: Va, buf: &mut [u8]) -> Result<()> {
        self.space(asid)?;
        let mut done = 0usize;
        while done < buf.len() {
            let cur = Self::user_address_at(va, done)?;
            let off = cur.page_offset();
            let n = (PAGE_BYTES - off).min(buf.len() - done);
            let pfn = self.translate(asid, cur, Access::Read)?;
            self.memory
                .read(&self.memory_right, pfn, off, &mut buf[done..done + n]);
            done += n;
        }
        Ok(())
    }

    /// Stores `data` at `va`.
    pub(crate) fn write(&mut self, asid: AsId, va: Va, data: &[u8]) -> Result<()> {
        self.space(asid)?;
        let mut done = 0usize;
        while done < data.len() {
            let cur = Self::user_address_at(va, done)?;
            let off = cur.page_offset();
            let n = (PAGE_BYTES - off).min(data.len() - done);
            let pfn = self.translate(asid, cur, Access::Write)?;
            self.memory
                .write(&mut self.memory_right, pfn, off, &data[done..done + n]);
            done += n;
        }
        Ok(())
    }

    /// Translates every page of a value access of `len` (1..=8) bytes, so that all of them are
    /// valid at once. Returns the frames of the first and (if it crosses) second page.
    fn translate_value(
        &mut self,
        asid: AsId,
        va: Va,
        len: usize,
        access: Access,
    ) -> Result<(Pfn, Option<Pfn>)> {
        let space = self.space(asid)?;
        Self::check_user_range(va, len as u64)?;
        let crosses = va.page_offset() + len > PAGE_BYTES;
        if !crosses {
            // The one address-space lookup serves the TLB probe too; a miss walks the table.
            let hit = space
                .page_table
                .tlb_lookup(va.vpn(), access == Access::Write);
            return Ok((
                hit.map_or_else(|| self.resolve(asid, va, access), Ok)?,
                None,
            ));
        }
        let second = va
            .vpn()
            .base()
            .checked_add(ByteCount::new(crate::addr::PAGE_SIZE))
            .ok_or(VmmError::RangeOverflow)?;
        for _ in 0..VALUE_ROUNDS {
            let a = self.translate(asid, va, access)?;
            let b = self.translate(asid, second, access)?;
            // Translating the second page may have trimmed the first: retry until both hold.
            if let crate::pte::Pte::Valid(h) = self.space(asid)?.page_table.get(va.vpn()) {
                if h.pfn == a && (access == Access::Read || h.write) {
                    return Ok((a, Some(b)));
                }
            }
        }
        Err(VmmError::NoFreeFrame)
    }

    /// Loads a little-endian value of `N` bytes (1, 2, 4 or 8).
    pub(crate) fn read_value<const N: usize>(&mut self, asid: AsId, va: Va) -> Result<[u8; N]> {
        let (a, b) = self.translate_value(asid, va, N, Access::Read)?;
        let off = va.page_offset();
        let mut out = [0u8; N];
        let first = (PAGE_BYTES - off).min(N);
        self.memory
            .read(&self.memory_right, a, off, &mut out[..first]);
        if let Some(b) = b {
            self.memory
                .read(&self.memory_right, b, 0, &mut out[first..]);
        }
        Ok(out)
    }

    /// Stores a little-endian value of `N` bytes (1, 2, 4 or 8).
    pub(crate) fn write_value<const N: usize>(
        &mut self,
        asid: AsId,
        va: Va,
        bytes: [u8; N],
    ) -> Result<()> {
        let (a, b) = self.translate_value(asid, va, N, Access::Write)?;
        let off = va.page_offset();
        let Some(b) = b else {
            self.memory
                .write_value(&mut self.memory_right, a, off, bytes);
            return Ok(());
        };
        let first = (PAGE_BYTES - off).min(N);
        self.memory
            .write(&mut self.memory_right, a, off, &bytes[..first]);
        self.memory
            .write(&mut self.memory_right, b, 0, &bytes[first..]);
        Ok(())
    }
}

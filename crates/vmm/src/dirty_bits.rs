//! A dirty index of 512 pages: one bit per page table entry or prototype PTE, shared by the
//! page-table leaves and the prototype chunks (each a superset of its dirty or modified pages,
//! so that harvesting and flushing visit only candidates).

/// Bits for 512 entries.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(crate) struct DirtyBits([u64; 8]);

impl DirtyBits {
    /// Sets or clears entry `i` (< 512).
    pub(crate) fn set(&mut self, i: usize, on: bool) {
        let (w, b) = (i / 64, i % 64);
        if on {
            self.0[w] |= 1 << b;
        } else {
            self.0[w] &= !(1 << b);
        }
    }

    /// Whether entry `i` (< 512) is set.
    pub(crate) fn get(&self, i: usize) -> bool {
        self.0[i / 64] >> (i % 64) & 1 == 1
    }

    /// Clears and appends to `out` every set entry whose number `base + i` lies in
    /// `[start, end)`, in order.
    pub(crate) fn take(&mut self, base: u64, start: u64, end: u64, out: &mut Vec<u64>) {
        for w in 0..self.0.len() {
            let mut bits = self.0[w];
            while bits != 0 {
                let b = bits.trailing_zeros() as usize;
                bits &= bits - 1;
                let n = base + (w * 64 + b) as u64;
                if n >= start && n < end {
                    self.0[w] &= !(1 << b);
                    out.push(n);
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn test_take_clears_only_the_range_in_order() {
        let mut d = DirtyBits::default();
        for i in [0, 5, 63, 64, 200, 511] {
            d.set(i, true);
        }
        d.set(5, false);
        assert!(!d.get(5) && d.get(63));
        let mut out = Vec::new();
        d.take(1024, 1024 + 63, 1024 + 201, &mut out);
        assert_eq!(out, vec![1024 + 63, 1024 + 64, 1024 + 200]);
        assert!(d.get(0) && d.get(511) && !d.get(64));
        out.clear();
        d.take(1024, 0, u64::MAX, &mut out);
        assert_eq!(out, vec![1024, 1024 + 511]);
        assert_eq!(d, DirtyBits::default());
    }
}

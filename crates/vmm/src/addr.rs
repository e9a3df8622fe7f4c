//! Units: virtual addresses, page numbers, frame numbers, counts of pages and bytes.
//!
//! Every number with a unit has its own newtype with a private field, so that a page count can
//! never be passed where a byte count is expected. Arithmetic is explicit and checked
//! (`checked_add`, `checked_sub`); nothing here panics on any input.

use std::fmt;

/// Bytes in a page (F1: 4096 on x86/x64).
pub const PAGE_SIZE: u64 = 4096;
/// `PAGE_SIZE` as a `usize`, for slicing frame storage.
pub const PAGE_BYTES: usize = 4096;
/// log2 of [`PAGE_SIZE`].
pub const PAGE_SHIFT: u32 = 12;
/// Allocation granularity: views and reservations start on multiples of it (F1: 65536).
pub const ALLOCATION_GRANULARITY: u64 = 0x1_0000;
/// Lowest user address that can be allocated (`lpMinimumApplicationAddress`).
pub const USER_MIN: u64 = 0x1_0000;
/// Highest user address (`lpMaximumApplicationAddress` on x64: the last byte before the
/// 64 KiB guard region under the top of the 47-bit user space).
pub const USER_MAX: u64 = 0x7FFF_FFFE_FFFF;
/// One past the highest allocatable user address.
pub const USER_END: u64 = USER_MAX + 1;

/// A virtual address in an emulated address space.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
#[repr(transparent)]
pub struct Va(u64);

impl Va {
    /// Wraps a raw address. Any value is a representable address; [`Va::is_user`] says whether
    /// it lies in the user range.
    pub const fn new(raw: u64) -> Self {
        Va(raw)
    }
    /// The raw address.
    pub const fn raw(self) -> u64 {
        self.0
    }
    /// The page that contains this address.
    pub const fn vpn(self) -> Vpn {
        Vpn(self.0 >> PAGE_SHIFT)
    }
    /// Offset of this address within its page.
    pub const fn page_offset(self) -> usize {
        (self.0 & (PAGE_SIZE - 1)) as usize
    }
    /// Whether the address lies in `[USER_MIN, USER_MAX]`.
    pub const fn is_user(self) -> bool {
        self.0 >= USER_MIN && self.0 <= USER_MAX
    }
    /// `self + bytes`, or `None` on overflow.
    pub fn checked_add(self, bytes: ByteCount) -> Option<Va> {
        self.0.checked_add(bytes.0).map(Va)
    }
    /// Rounds down to a multiple of `alignment` (a power of two).
    pub const fn align_down(self, alignment: u64) -> Va {
        Va(self.0 & !(alignment - 1))
    }
    /// Whether the address is a multiple of `alignment` (a power of two).
    pub const fn is_aligned(self, alignment: u64) -> bool {
        self.0 & (alignment - 1) == 0
    }
}

impl fmt::Debug for Va {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "va:{:#x}", self.0)
    }
}
impl fmt::Display for Va {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:#x}", self.0)
    }
}

/// A virtual page number (`va >> 12`).
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
#[repr(transparent)]
pub struct Vpn(u64);

impl Vpn {
    /// Wraps a raw page number.
    pub const fn new(raw: u64) -> Self {
        Vpn(raw)
    }
    /// The raw page number.
    pub const fn raw(self) -> u64 {
        self.0
    }
    /// The address of the first byte of the page.
    pub const fn base(self) -> Va {
        Va(self.0 << PAGE_SHIFT)
    }
    /// `self + pages`, or `None` on overflow.
    pub fn checked_add(self, pages: PageCount) -> Option<Vpn> {
        self.0.checked_add(pages.0).map(Vpn)
    }
    /// Number of pages from `earlier` to `self`, or `None` if `earlier > self`.
    pub fn pages_since(self, earlier: Vpn) -> Option<PageCount> {
        self.0.checked_sub(earlier.0).map(PageCount)
    }
}

impl fmt::Debug for Vpn {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "vpn:{:#x}", self.0)
    }
}

/// A page frame number: the index of a 4 KiB frame of emulated physical memory.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
#[repr(transparent)]
pub struct Pfn(u32);

impl Pfn {
    /// Wraps a raw frame number. Whether it names an existing frame is checked by the machine.
    pub const fn new(raw: u32) -> Self {
        Pfn(raw)
    }
    /// The raw frame number.
    pub const fn raw(self) -> u32 {
        self.0
    }
    /// The frame number as an index into frame storage.
    pub const fn index(self) -> usize {
        self.0 as usize
    }
}

impl fmt::Debug for Pfn {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "pfn:{:#x}", self.0)
    }
}
impl fmt::Display for Pfn {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:#x}", self.0)
    }
}

/// A number of pages.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default, Debug)]
#[repr(transparent)]
pub struct PageCount(u64);

impl PageCount {
    /// Zero pages.
    pub const ZERO: PageCount = PageCount(0);
    /// Wraps a raw count.
    pub const fn new(raw: u64) -> Self {
        PageCount(raw)
    }
    /// The raw count.
    pub const fn raw(self) -> u64 {
        self.0
    }
    /// The number of bytes these pages hold, or `None` on overflow.
    pub fn bytes(self) -> Option<ByteCount> {
        self.0.checked_mul(PAGE_SIZE).map(ByteCount)
    }
    /// `self + other`, or `None` on overflow.
    pub fn checked_add(self, other: PageCount) -> Option<PageCount> {
        self.0.checked_add(other.0).map(PageCount)
    }
    /// `self - other`, or `None` if `other > self`.
    pub fn checked_sub(self, other: PageCount) -> Option<PageCount> {
        self.0.checked_sub(other.0).map(PageCount)
    }
    /// `self + other`, stopping at the largest count instead of overflowing.
    pub const fn saturating_add(self, other: PageCount) -> PageCount {
        PageCount(self.0.saturating_add(other.0))
    }
    /// `self - other`, stopping at zero.
    pub const fn saturating_sub(self, other: PageCount) -> PageCount {
        PageCount(self.0.saturating_sub(other.0))
    }
    /// Whether there are no pages.
    pub const fn is_zero(self) -> bool {
        self.0 == 0
    }
}

/// The index of a prototype PTE in its segment: the page number within the segment's backing
/// object (page `i` of a file is at byte `i × 4096`, nt_internals §1.4). A view's page `p` is
/// prototype PTE `first_index + p` ([`crate::vad::Vad::proto_at`]).
///
/// `Debug` and `Display` print the bare decimal number and `{:x}` the hexadecimal one, as the
/// `u64` it replaced did, so that transcripts and logs read the same.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
#[repr(transparent)]
pub struct ProtoIndex(u64);

impl ProtoIndex {
    /// The first prototype PTE of a segment.
    pub const ZERO: ProtoIndex = ProtoIndex(0);
    /// Wraps a raw index. Whether it lies inside a segment is checked by the machine.
    pub const fn new(raw: u64) -> Self {
        ProtoIndex(raw)
    }
    /// The raw index.
    pub const fn raw(self) -> u64 {
        self.0
    }
    /// The index `pages` further on, or `None` on overflow.
    pub fn checked_add(self, pages: PageCount) -> Option<ProtoIndex> {
        self.0.checked_add(pages.0).map(ProtoIndex)
    }
    /// The prototype PTE of the page holding byte `offset` of the segment's backing object.
    pub const fn of_byte(offset: u64) -> Self {
        ProtoIndex(offset >> PAGE_SHIFT)
    }
    /// The byte offset of this page in the segment's backing object (saturating: indexes of
    /// real segments lie far below the overflow).
    pub const fn byte_offset(self) -> u64 {
        self.0.saturating_mul(PAGE_SIZE)
    }
    /// Number of prototype PTEs from `earlier` to `self`, or `None` if `earlier > self`.
    pub fn pages_since(self, earlier: ProtoIndex) -> Option<PageCount> {
        self.0.checked_sub(earlier.0).map(PageCount)
    }
}

impl fmt::Debug for ProtoIndex {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&self.0, f)
    }
}
impl fmt::Display for ProtoIndex {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(&self.0, f)
    }
}
impl fmt::LowerHex for ProtoIndex {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::LowerHex::fmt(&self.0, f)
    }
}

/// A number of bytes.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default, Debug)]
#[repr(transparent)]
pub struct ByteCount(u64);

impl ByteCount {
    /// Wraps a raw count.
    pub const fn new(raw: u64) -> Self {
        ByteCount(raw)
    }
    /// The raw count.
    pub const fn raw(self) -> u64 {
        self.0
    }
    /// The number of pages needed to hold this many bytes (rounded up). Never overflows.
    pub const fn pages_rounded_up(self) -> PageCount {
        PageCount(self.0.div_ceil(PAGE_SIZE))
    }
    /// Rounds up to a multiple of `alignment` (a power of two), or `None` on overflow.
    pub fn checked_align_up(self, alignment: u64) -> Option<ByteCount> {
        self.0
            .checked_add(alignment - 1)
            .map(|v| ByteCount(v & !(alignment - 1)))
    }
}

/// A slot of the pagefile (a page-sized record). Slot 0 is never allocated, so that a zero
/// `PageFileHigh` can mean "demand-zero" (nt_internals §2.3 notes).
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
#[repr(transparent)]
pub struct Slot(u32);

impl Slot {
    /// Wraps a raw slot number.
    pub const fn new(raw: u32) -> Self {
        Slot(raw)
    }
    /// The raw slot number.
    pub const fn raw(self) -> u32 {
        self.0
    }
}

impl fmt::Debug for Slot {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "slot:{:#x}", self.0)
    }
}

/// A half-open range of virtual pages `[start, end)`.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub struct PageRange {
    start: Vpn,
    end: Vpn,
}

impl PageRange {
    /// The range `[start, end)`; `None` if `end < start`.
    pub fn new(start: Vpn, end: Vpn) -> Option<Self> {
        (start <= end).then_some(PageRange { start, end })
    }
    /// The pages covering the bytes `[va, va + len)`: rounded out to whole pages. `None` if the
    /// end overflows.
    pub fn covering(va: Va, len: ByteCount) -> Option<Self> {
        let end = va.raw().checked_add(len.raw())?;
        let end_vpn = end.checked_add(PAGE_SIZE - 1)? >> PAGE_SHIFT;
        Some(PageRange {
            start: va.vpn(),
            end: Vpn(end_vpn),
        })
    }
    /// First page.
    pub const fn start(self) -> Vpn {
        self.start
    }
    /// One past the last page.
    pub const fn end(self) -> Vpn {
        self.end
    }
    /// Number of pages.
    pub const fn len(self) -> PageCount {
        PageCount(self.end.0 - self.start.0)
    }
    /// Whether the range is empty.
    pub const fn is_empty(self) -> bool {
        self.end.0 == self.start.0
    }
    /// Whether `vpn` lies in the range.
    pub const fn contains(self, vpn: Vpn) -> bool {
        vpn.0 >= self.start.0 && vpn.0 < self.end.0
    }
    /// The pages of the range, in order.
    pub fn iter(self) -> impl Iterator<Item = Vpn> {
        (self.start.0..self.end.0).map(Vpn)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn test_va_page_split() {
        let va = Va::new(0x1_2345);
        assert_eq!(va.vpn(), Vpn::new(0x12));
        assert_eq!(va.page_offset(), 0x345);
        assert_eq!(va.vpn().base(), Va::new(0x1_2000));
    }

    #[test]
    fn test_user_range_bounds() {
        assert!(!Va::new(0xFFFF).is_user());
        assert!(Va::new(USER_MIN).is_user());
        assert!(Va::new(USER_MAX).is_user());
        assert!(!Va::new(USER_END).is_user());
    }

    #[test]
    fn test_byte_count_rounding() {
        assert_eq!(ByteCount::new(0).pages_rounded_up(), PageCount::new(0));
        assert_eq!(ByteCount::new(1).pages_rounded_up(), PageCount::new(1));
        assert_eq!(ByteCount::new(4096).pages_rounded_up(), PageCount::new(1));
        assert_eq!(ByteCount::new(u64::MAX).pages_rounded_up().raw(), 1 << 52);
        assert_eq!(
            ByteCount::new(5).checked_align_up(ALLOCATION_GRANULARITY),
            Some(ByteCount::new(0x10000))
        );
        assert_eq!(ByteCount::new(u64::MAX).checked_align_up(PAGE_SIZE), None);
    }

    /// A prototype PTE index prints as the bare number it replaced (transcripts show
    /// `seg#1[0x3]`), counts in pages, and never overflows.
    #[test]
    fn test_proto_index_prints_bare_and_counts_pages() {
        let i = ProtoIndex::new(19);
        assert_eq!(format!("{i} {i:?} {i:#x}"), "19 19 0x13");
        assert_eq!(i.checked_add(PageCount::new(2)), Some(ProtoIndex::new(21)));
        assert_eq!(
            ProtoIndex::new(u64::MAX).checked_add(PageCount::new(1)),
            None
        );
        assert_eq!(i.pages_since(ProtoIndex::new(16)), Some(PageCount::new(3)));
        assert_eq!(ProtoIndex::new(16).pages_since(i), None);
        assert_eq!(ProtoIndex::of_byte(0x3fff), ProtoIndex::new(3));
        assert_eq!(ProtoIndex::new(3).byte_offset(), 0x3000);
        assert_eq!(ProtoIndex::new(u64::MAX).byte_offset(), u64::MAX);
    }

    #[test]
    fn test_page_count_saturates() {
        let max = PageCount::new(u64::MAX);
        assert_eq!(max.saturating_add(PageCount::new(1)), max);
        assert_eq!(
            PageCount::new(2).saturating_sub(PageCount::new(3)),
            PageCount::ZERO
        );
        assert_eq!(
            PageCount::new(5).saturating_sub(PageCount::new(3)),
            PageCount::new(2)
        );
        assert!(PageCount::ZERO.is_zero() && !PageCount::new(1).is_zero());
    }

    #[test]
    fn test_page_range_covering_rounds_out() {
        let r = PageRange::covering(Va::new(0x1fff), ByteCount::new(2)).unwrap();
        assert_eq!((r.start(), r.end()), (Vpn::new(1), Vpn::new(3)));
        assert_eq!(
            PageRange::covering(Va::new(u64::MAX), ByteCount::new(2)),
            None
        );
        assert!(PageRange::new(Vpn::new(2), Vpn::new(1)).is_none());
    }

    proptest! {
        /// Two small steps are one combined step (x86_64's forward-induction property).
        #[test]
        fn prop_vpn_add_associative(v in 0u64..1 << 40, a in 0u64..1 << 20, b in 0u64..1 << 20) {
            let vpn = Vpn::new(v);
            let two = vpn.checked_add(PageCount::new(a)).and_then(|x| x.checked_add(PageCount::new(b)));
            prop_assert_eq!(two, vpn.checked_add(PageCount::new(a + b)));
        }
    }
}

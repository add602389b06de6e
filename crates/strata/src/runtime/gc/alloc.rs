//! Allocation in the GC heap: the blocks objects are bumped through, the
//! window compiled code shares, the collection trigger, and the start
//! bitmap every allocation marks (see the module documentation of
//! `runtime::gc`).

use super::layout::{self, ARRAY_LEN, HEADER};
use super::{array_header, struct_header, GcHeap, Header, Kind, EXTERN_TYPE};
use crate::runtime::memory::{LinearMemory, PAGE_SIZE};
use crate::runtime::vm::VMGcWindow;
use crate::types::{MemoryType, SharedTypeIndex};
use crate::Trap;

/// The least allocation between two collections triggered by pressure:
/// a collection's cost is marking what is live (the sweep visits live
/// objects only), so collecting a small heap more often than this costs
/// more time than the memory it saves is worth.
const MIN_PRESSURE: u64 = 4 << 20;

/// How many bytes the heap grows by at once (unless an object needs
/// more): enough that compiled code rarely calls the runtime to bump the
/// heap's end, little enough that a small program's heap stays small.
const BLOCK: u64 = 256 << 10;

impl GcHeap {
    /// Where compiled code finds the allocation window; its address never
    /// changes.
    pub(crate) fn window_ptr(&self) -> *mut VMGcWindow {
        self.window.as_ptr()
    }

    /// Sets the window to `cur..end` (with the start bitmap's address,
    /// which growing the heap may change).
    fn set_window(&mut self, cur: u32, end: u32) {
        let starts = self.starts.as_mut_ptr();
        self.window.set(VMGcWindow { cur, end, starts });
    }

    /// Whether an object starts at `r` (a reference a root or a field
    /// holds is checked so before the collector reads its header).
    pub(crate) fn is_start(&self, r: u32) -> bool {
        let i = (r / 8) as usize;
        self.starts
            .get(i / 64)
            .is_some_and(|w| w & (1 << (i % 64)) != 0)
    }

    /// Records that an object starts at `r`.
    fn set_start(&mut self, r: u32) {
        let i = (r / 8) as usize;
        if let Some(w) = self.starts.get_mut(i / 64) {
            *w |= 1 << (i % 64);
        }
    }

    /// Bytes allocated since the last collection, by the runtime and by
    /// compiled code.
    fn allocated(&self) -> u64 {
        self.allocated_since + u64::from(self.window.get().cur - self.counted)
    }

    /// How many bytes may be allocated between two collections.
    fn budget(&self) -> u64 {
        self.live_after.max(MIN_PRESSURE)
    }

    /// Whether an allocation should collect first: in stress mode always,
    /// otherwise once the bytes allocated since the last collection exceed
    /// what it left live (and at least [`MIN_PRESSURE`]), so collection
    /// work stays proportional to allocation.
    pub(crate) fn pressure(&self) -> bool {
        self.stress || self.allocated() >= self.budget()
    }

    /// The heap's end: bytes in use, live or free (what it committed).
    pub(crate) fn end(&self) -> u64 {
        self.next
    }

    /// Publishes how far compiled code may bump: to the current block's
    /// end, but not past the collection trigger (so that the allocation
    /// after it reaches the runtime, which collects). Nothing in stress
    /// mode, where every allocation collects. The window's bytes are not
    /// zeroed: compiled code writes every field of what it allocates.
    fn publish(&mut self) {
        let cur = self.window.get().cur;
        let mut end = cur;
        if !self.stress {
            let room = self.budget().saturating_sub(self.allocated());
            end = (u64::from(cur) + room).min(u64::from(self.cur_end)) as u32 & !7;
        }
        self.set_window(cur, end);
    }

    /// Marks what is left of the current block free in the heap, so that
    /// the heap can be walked object by object, and leaves the block: the
    /// sweep lists it again.
    fn seal(&mut self) {
        let cur = self.window.get().cur;
        if cur < self.cur_end {
            self.write_free(cur, self.cur_end - cur);
        }
        self.cur_end = cur;
        self.clean = cur;
        self.set_window(cur, cur);
    }

    /// Makes `at..end` the block to bump through, the bytes from `at` to
    /// `clean` known to be zero; what was left of the previous block
    /// becomes a free block in the heap.
    fn start_block(&mut self, at: u32, end: u32, clean: u32) {
        self.seal();
        self.allocated_since = self.allocated();
        self.counted = at;
        self.cur_end = end;
        self.clean = clean;
        self.set_window(at, at);
    }

    /// Takes `size` bytes from the free blocks: from the current block,
    /// else from one of the next few blocks that fits (see the module
    /// documentation); `None` when none of those fits.
    fn take_free(&mut self, size: u32) -> Option<u32> {
        /// How many blocks ahead a request looks for one that fits.
        const LOOK_AHEAD: usize = 8;
        if self.cur_end - self.window.get().cur < size {
            let ahead = self.free.len().min(self.free_next + LOOK_AHEAD);
            let i = (self.free_next..ahead).find(|&i| self.free[i].1 >= size)?;
            self.use_block(i);
        }
        Some(self.bump_block(size))
    }

    /// Takes `size` bytes from any free block that fits (when the heap's
    /// end has no room).
    fn take_free_any(&mut self, size: u32) -> Option<u32> {
        let i = (self.free_next..self.free.len()).find(|&i| self.free[i].1 >= size)?;
        self.use_block(i);
        Some(self.bump_block(size))
    }

    /// Makes free block `i` (not taken yet) the current one.
    fn use_block(&mut self, i: usize) {
        self.free.swap(i, self.free_next);
        let (at, len) = self.free[self.free_next];
        self.free_next += 1;
        // A free block holds old objects' bytes.
        self.start_block(at, at + len, at);
    }

    /// Takes `size` bytes (which fit) from the current block, zeroed
    /// beyond the header the caller writes.
    fn bump_block(&mut self, size: u32) -> u32 {
        let at = self.window.get().cur;
        let end = at + size;
        if end > self.clean {
            let from = self.clean.max(at);
            self.bytes_mut(from, (end - from) as usize).fill(0);
            self.clean = end;
        }
        self.set_window(end, end);
        at
    }

    /// Marks the `size` bytes at `at` as a free block in the heap.
    fn write_free(&mut self, at: u32, size: u32) {
        super::free_block(self.bytes_mut(at, 8), 0, size as usize);
    }

    /// Forgets the free blocks (the sweep lists them again).
    pub(crate) fn clear_free(&mut self) {
        self.free.clear();
        self.free_next = 0;
        self.cur_end = 0;
        self.clean = 0;
        self.counted = 0;
        self.set_window(0, 0);
    }

    /// Records the `size` bytes at `at` as a free block (as the sweep
    /// does, in address order).
    #[cfg(test)]
    fn make_free(&mut self, at: u32, size: u32) {
        self.write_free(at, size);
        self.free.push((at, size));
    }

    /// Reserves the heap's address range if not done yet; returns its
    /// base, which never changes after.
    pub(crate) fn reserve(&mut self) -> Result<*mut u8, Trap> {
        let max_pages = self.max.div_ceil(PAGE_SIZE);
        let mem = match &mut self.mem {
            Some(mem) => mem,
            None => {
                let ty = MemoryType::new(0, Some(max_pages as u32));
                let mem = LinearMemory::new(&ty, None).map_err(|_| Trap::GcHeapOutOfMemory)?;
                self.mem.insert(mem)
            }
        };
        Ok(mem.base())
    }

    /// Allocates an object of `size` bytes (a multiple of 8) with its
    /// header, zeroed after it; returns its offset.
    fn alloc(&mut self, ty: u32, header: Header, size: u32) -> Result<u32, Trap> {
        let at = match self.take_free(size) {
            Some(at) => at,
            // No room at the end (the limit, or no memory): any free block
            // that fits will do.
            None => match self.grow_block(size) {
                Ok(()) => self.bump_block(size),
                Err(trap) => self.take_free_any(size).ok_or(trap)?,
            },
        };
        self.write(at, 4, u128::from(ty));
        self.write(at + 4, 4, u128::from(header.0));
        self.set_start(at);
        self.publish();
        Ok(at)
    }

    /// Makes a new block of at least `size` bytes at the heap's end (up
    /// to [`BLOCK`] bytes, within the limit) the current one.
    fn grow_block(&mut self, size: u32) -> Result<(), Trap> {
        let start = self.next;
        if start + u64::from(size) > self.max {
            return Err(Trap::GcHeapOutOfMemory);
        }
        let end = (start + u64::from(size).max(BLOCK)).min(self.max) & !7;
        self.reserve()?;
        let Some(mem) = &mut self.mem else {
            unreachable!("reserved above")
        };
        let have = mem.len() as u64;
        if end > have {
            let pages = end.div_ceil(PAGE_SIZE) - have / PAGE_SIZE;
            mem.grow(pages).ok_or(Trap::GcHeapOutOfMemory)?;
        }
        self.next = end;
        // The start bitmap covers the new block (and may move).
        self.starts.resize((end / 8 / 64 + 1) as usize, 0);
        // Fresh pages are zero, so above the high-water mark the block is
        // zero already; below it, a tail the sweep gave back holds old
        // bytes, zeroed as objects take them.
        let clean = if start < self.high { start } else { end };
        self.high = self.high.max(end);
        self.start_block(start as u32, end as u32, clean as u32);
        Ok(())
    }

    /// Allocates a struct of type `ty` whose layout has `size` bytes.
    pub(crate) fn alloc_struct(&mut self, ty: SharedTypeIndex, size: u32) -> Result<u32, Trap> {
        self.alloc(ty.bits(), Header(struct_header(size)), size)
    }

    /// Allocates an array of type `ty` with `len` zeroed elements of
    /// `elem` bytes.
    pub(crate) fn alloc_array(
        &mut self,
        ty: SharedTypeIndex,
        elem: u8,
        len: u32,
    ) -> Result<u32, Trap> {
        let size = layout::array_size(elem, len).ok_or(Trap::AllocationTooLarge)?;
        let at = self.alloc(ty.bits(), Header(array_header(elem)), size)?;
        self.write(at + ARRAY_LEN, 4, u128::from(len));
        Ok(at)
    }

    /// Allocates an exception of the tag with store index `tag` carrying
    /// `payload` (cells, in the tag type's parameter layout).
    pub(crate) fn alloc_exn(&mut self, tag: u32, payload: &[u64]) -> Result<u32, Trap> {
        let size = payload
            .len()
            .checked_mul(8)
            .and_then(|b| u32::try_from(b + HEADER as usize).ok())
            .filter(|&s| s < 1 << 27)
            .ok_or(Trap::AllocationTooLarge)?;
        let at = self.alloc(tag, Header::new(Kind::Exn, size, 1), size)?;
        for (i, &cell) in payload.iter().enumerate() {
            self.write(at + HEADER + 8 * i as u32, 8, u128::from(cell));
        }
        Ok(at)
    }

    /// Allocates the object of a host reference: the cell (index + 1) of
    /// its host value in the store's `HostValues`.
    pub(crate) fn alloc_host_ref(&mut self, host: u64) -> Result<u32, Trap> {
        let at = self.alloc(EXTERN_TYPE, Header::new(Kind::Extern, 16, 1), 16)?;
        self.write(at + HEADER, 8, u128::from(host));
        Ok(at)
    }

    /// Sets the host value cell of host reference `r` (just allocated).
    pub(crate) fn set_host(&mut self, r: u32, host: u64) {
        self.write(r + HEADER, 8, u128::from(host));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_limit_and_huge_arrays_trap() {
        let mut heap = GcHeap::new(64);
        assert_eq!(
            heap.alloc_array(SharedTypeIndex(0), 8, u32::MAX),
            Err(Trap::AllocationTooLarge)
        );
        assert_eq!(
            heap.alloc_struct(SharedTypeIndex(0), 56).map(|_| ()),
            Ok(())
        );
        assert_eq!(
            heap.alloc_struct(SharedTypeIndex(0), 8),
            Err(Trap::GcHeapOutOfMemory)
        );
    }

    #[test]
    fn free_blocks_are_bumped_through_and_stay_walkable() {
        // Eight objects of 16 bytes from 8 on; the sweep freed the first
        // two, then three from 56 on.
        let mut heap = GcHeap::new(136);
        for _ in 0..8 {
            heap.alloc_struct(SharedTypeIndex(1), 16).unwrap();
        }
        heap.write(8 + 8, 8, 0xdead);
        heap.make_free(8, 32);
        heap.make_free(56, 48);
        // 24 bytes from the first block, zeroed.
        let a = heap.alloc_struct(SharedTypeIndex(2), 24).unwrap();
        assert_eq!((a, heap.read(a + 8, 8)), (8, 0));
        // 32 bytes do not fit what is left of it (8), the next block
        // does; what is left of the first is a free block, so the heap
        // stays walkable; walking skips the rest of the current one.
        assert_eq!(heap.alloc_struct(SharedTypeIndex(2), 32), Ok(56));
        assert_eq!((heap.header(32).kind(), heap.size_of(32)), (Kind::Free, 8));
        assert_eq!(
            heap.objects().collect::<Vec<_>>(),
            [8, 32, 40, 56, 104, 120]
        );
        assert_eq!(heap.alloc_struct(SharedTypeIndex(2), 16), Ok(88));
        assert_eq!(
            heap.objects().collect::<Vec<_>>(),
            [8, 32, 40, 56, 88, 104, 120]
        );
        // The end is full (136) and no block is left.
        assert_eq!(
            heap.alloc_struct(SharedTypeIndex(2), 8),
            Err(Trap::GcHeapOutOfMemory)
        );
    }

    #[test]
    fn the_window_stops_at_the_collection_trigger_and_seals_to_a_free_block() {
        // Takes the whole window as compiled code would: one struct.
        fn bump_all(heap: &mut GcHeap) {
            let w = heap.window.get();
            heap.write(w.cur, 4, 1);
            heap.write(w.cur + 4, 4, u128::from(struct_header(w.end - w.cur)));
            heap.set_window(w.end, w.end);
        }
        let mut heap = GcHeap::new(4 * MIN_PRESSURE);
        let a = heap.alloc_struct(SharedTypeIndex(1), 16).unwrap();
        // Compiled code may bump up to the window's end: the heap grew by
        // a block of BLOCK bytes.
        let w = heap.window.get();
        assert_eq!((w.cur, w.end), (a + 16, 8 + BLOCK as u32));
        // What compiled code bumps counts towards the trigger.
        bump_all(&mut heap);
        assert_eq!(heap.allocated(), BLOCK);
        assert!(!heap.pressure());
        // A window never reaches past the trigger (MIN_PRESSURE bytes).
        while !heap.pressure() {
            heap.alloc_struct(SharedTypeIndex(1), 16).unwrap();
            bump_all(&mut heap);
        }
        assert_eq!(heap.allocated(), MIN_PRESSURE);
        // Sealing marks the rest of the block free, so a walk sees it.
        let b = heap.alloc_struct(SharedTypeIndex(1), 16).unwrap();
        assert_eq!(heap.window.get().cur, heap.window.get().end);
        heap.seal();
        let rest = b + 16;
        assert_eq!(heap.header(rest).kind(), Kind::Free);
        assert_eq!(heap.objects().last(), Some(rest));
        assert_eq!(u64::from(rest + heap.size_of(rest)), heap.end());
    }

    #[test]
    fn stress_mode_publishes_no_window() {
        let mut heap = GcHeap::with_stress(1 << 20, true);
        heap.alloc_struct(SharedTypeIndex(1), 16).unwrap();
        let w = heap.window.get();
        assert_eq!(w.cur, w.end);
    }

    #[test]
    fn a_block_beyond_the_look_ahead_is_found_when_the_end_is_full() {
        let mut heap = GcHeap::new(8 + 20 * 16);
        for _ in 0..20 {
            heap.alloc_struct(SharedTypeIndex(1), 16).unwrap();
        }
        // Nine blocks of 16 bytes, then one of 32.
        for i in (0..18).step_by(2) {
            heap.make_free(8 + i * 16, 16);
        }
        heap.make_free(8 + 18 * 16, 32);
        assert_eq!(heap.alloc_struct(SharedTypeIndex(2), 32), Ok(296));
        // The small blocks passed over are all still there for small
        // objects (in some order), then nothing is.
        let mut got: Vec<u32> = (0..9)
            .map(|_| heap.alloc_struct(SharedTypeIndex(2), 16).unwrap())
            .collect();
        got.sort_unstable();
        let want: Vec<u32> = (0..18).step_by(2).map(|i| 8 + i * 16).collect();
        assert_eq!(got, want);
        assert!(heap.alloc_struct(SharedTypeIndex(2), 16).is_err());
    }
}

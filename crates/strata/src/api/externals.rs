//! Memories, tables, globals and the `Extern` that names any of them, a
//! function or a tag: the handles a host uses to reach into a store.
//!
//! A handle used with a store it does not belong to is rejected the same
//! way everywhere (see [`Store`](crate::Store)): methods that return a
//! `Result` fail with "object used with the wrong store", and the others
//! panic with that message.

use crate::runtime::memory::PAGE_SIZE;
use crate::runtime::store::{ExportItem, GlobalEntity, MemoryEntity, StoreInner, TableEntity};
use crate::types::{ExternType, GlobalType, MemoryType, Mutability, TableType, ValType};
use crate::SharedMemory;
use crate::{AsContext, AsContextMut, Func, Tag, Trap, Val};
use anyhow::{bail, Result};
use wasmparser::WasmFeatures;

/// Anything an instance can import or export.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Extern {
    /// A function.
    Func(Func),
    /// A global.
    Global(Global),
    /// A table.
    Table(Table),
    /// A linear memory.
    Memory(Memory),
    /// An exception tag.
    Tag(Tag),
    /// A shared linear memory (threads proposal), which belongs to the
    /// engine rather than to a store.
    SharedMemory(SharedMemory),
}

impl Extern {
    /// The function, if this is one.
    pub fn into_func(self) -> Option<Func> {
        match self {
            Extern::Func(f) => Some(f),
            _ => None,
        }
    }
    /// The global, if this is one.
    pub fn into_global(self) -> Option<Global> {
        match self {
            Extern::Global(g) => Some(g),
            _ => None,
        }
    }
    /// The table, if this is one.
    pub fn into_table(self) -> Option<Table> {
        match self {
            Extern::Table(t) => Some(t),
            _ => None,
        }
    }
    /// The memory, if this is one.
    pub fn into_memory(self) -> Option<Memory> {
        match self {
            Extern::Memory(m) => Some(m),
            _ => None,
        }
    }
    /// The tag, if this is one.
    pub fn into_tag(self) -> Option<Tag> {
        match self {
            Extern::Tag(t) => Some(t),
            _ => None,
        }
    }
    /// The shared memory, if this is one.
    pub fn into_shared_memory(self) -> Option<SharedMemory> {
        match self {
            Extern::SharedMemory(m) => Some(m),
            _ => None,
        }
    }
    /// The type of the item.
    ///
    /// # Panics
    /// When the item belongs to another store.
    pub fn ty(&self, store: impl AsContext) -> ExternType {
        match self {
            Extern::Func(f) => ExternType::Func(f.ty(&store)),
            Extern::Global(g) => ExternType::Global(g.ty(&store)),
            Extern::Table(t) => ExternType::Table(t.ty(&store)),
            Extern::Memory(m) => ExternType::Memory(m.ty(&store)),
            Extern::Tag(t) => ExternType::Tag(t.ty(&store)),
            Extern::SharedMemory(m) => ExternType::Memory(m.ty()),
        }
    }
    /// The handle of an instance's export `item` in `store`: a memory the
    /// store shares with others is an `Extern::SharedMemory`.
    pub(crate) fn from_item(store: &StoreInner, item: ExportItem) -> Extern {
        let store_id = store.id;
        match item {
            ExportItem::Func(index) => Extern::Func(Func::from_index(store_id, index)),
            ExportItem::Table(index) => Extern::Table(Table { store_id, index }),
            ExportItem::Memory(index) => match store.memories[index as usize].mem.shared() {
                Some(shared) => Extern::SharedMemory(SharedMemory::from_inner(
                    store.engine.clone(),
                    shared.clone(),
                )),
                None => Extern::Memory(Memory { store_id, index }),
            },
            ExportItem::Global(index) => Extern::Global(Global { store_id, index }),
            ExportItem::Tag(index) => Extern::Tag(Tag { store_id, index }),
        }
    }

    /// The store the item belongs to; `None` for a shared memory, which
    /// any store of its engine may use.
    pub(crate) fn store_id(&self) -> Option<u64> {
        Some(match self {
            Extern::Func(f) => f.store_id,
            Extern::Global(g) => g.store_id,
            Extern::Table(t) => t.store_id,
            Extern::Memory(m) => m.store_id,
            Extern::Tag(t) => t.store_id,
            Extern::SharedMemory(_) => return None,
        })
    }
}

impl From<Func> for Extern {
    fn from(f: Func) -> Extern {
        Extern::Func(f)
    }
}
impl From<Global> for Extern {
    fn from(g: Global) -> Extern {
        Extern::Global(g)
    }
}
impl From<Table> for Extern {
    fn from(t: Table) -> Extern {
        Extern::Table(t)
    }
}
impl From<Memory> for Extern {
    fn from(m: Memory) -> Extern {
        Extern::Memory(m)
    }
}
impl From<Tag> for Extern {
    fn from(t: Tag) -> Extern {
        Extern::Tag(t)
    }
}
impl From<SharedMemory> for Extern {
    fn from(m: SharedMemory) -> Extern {
        Extern::SharedMemory(m)
    }
}

/// A linear memory owned by a store.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Memory {
    pub(crate) store_id: u64,
    pub(crate) index: u32,
}

impl Memory {
    /// Creates a memory of the given type. A 64-bit memory needs
    /// `Config::wasm_memory64`, a shared one `Config::wasm_threads`, one
    /// with 1-byte pages `Config::wasm_custom_page_sizes`.
    pub fn new(mut store: impl AsContextMut, ty: MemoryType) -> Result<Memory> {
        let store = store.as_context_mut();
        let features = store.engine().config().features;
        if ty.is_64() && !features.contains(WasmFeatures::MEMORY64) {
            bail!("a 64-bit memory needs `Config::wasm_memory64`");
        }
        if ty.is_shared() {
            // A store memory is only ever used by its store, which is what
            // lets `Memory::data` hand out slices; shared ones belong to
            // the engine (wasmtime's wording).
            bail!("shared memories must be created through `SharedMemory`");
        }
        match ty.page_size_log2() {
            crate::types::DEFAULT_PAGE_SIZE_LOG2 => {}
            0 if features.contains(WasmFeatures::CUSTOM_PAGE_SIZES) => {}
            0 => bail!("a memory with 1-byte pages needs `Config::wasm_custom_page_sizes`"),
            log2 => bail!("a page size of 2^{log2} bytes is not supported (only 1 and 65536)"),
        }
        store.check_counts(0, 1, 0)?;
        let index = store.new_memory(ty, None)?;
        Ok(Memory {
            store_id: store.inner.id,
            index,
        })
    }

    /// The memory's entity; panics when it belongs to another store.
    fn entity<'a, T: 'a>(&self, store: &'a crate::Store<T>) -> &'a MemoryEntity {
        store.inner.assert_owner(self.store_id);
        &store.inner.memories[self.index as usize]
    }

    /// The memory's type, with its current size as the minimum.
    ///
    /// # Panics
    /// When the memory belongs to another store.
    pub fn ty(&self, store: impl AsContext) -> MemoryType {
        let e = self.entity(store.as_context());
        e.ty.with_minimum(e.mem.pages())
    }

    /// The memory's contents.
    ///
    /// # Panics
    /// When the memory belongs to another store.
    pub fn data<'a, T: 'a>(&self, store: impl Into<StoreRef<'a, T>>) -> &'a [u8] {
        let store = store.into().0;
        self.entity(store).mem.owned().map_or(&[], |m| m.data())
    }

    /// The memory's contents, writable.
    ///
    /// # Panics
    /// When the memory belongs to another store.
    pub fn data_mut<'a, T: 'a>(&self, store: impl Into<StoreMut<'a, T>>) -> &'a mut [u8] {
        let store = store.into().0;
        store.inner.assert_owner(self.store_id);
        // A `Memory` never names a shared memory (those are
        // `SharedMemory`s), so this is the store's own memory.
        match store.inner.memories[self.index as usize].mem.owned_mut() {
            Some(m) => m.data_mut(),
            None => &mut [],
        }
    }

    /// The current size in bytes.
    ///
    /// # Panics
    /// When the memory belongs to another store.
    pub fn data_size(&self, store: impl AsContext) -> usize {
        self.entity(store.as_context()).mem.len()
    }

    /// The current size in pages.
    ///
    /// # Panics
    /// When the memory belongs to another store.
    pub fn size(&self, store: impl AsContext) -> u64 {
        self.entity(store.as_context()).mem.pages()
    }

    /// Grows by `delta` pages and returns the previous size in pages.
    pub fn grow(&self, mut store: impl AsContextMut, delta: u64) -> Result<u64> {
        let store = store.as_context_mut();
        store.inner.check_owner(self.store_id)?;
        match store.grow_memory(self.index, delta)? {
            Some(old) => Ok(old),
            None => bail!("failed to grow memory by {delta} pages"),
        }
    }

    /// Copies `buffer.len()` bytes out of memory starting at `offset`.
    pub fn read(&self, store: impl AsContext, offset: usize, buffer: &mut [u8]) -> Result<()> {
        let store = store.as_context();
        store.inner.check_owner(self.store_id)?;
        if !store.inner.memories[self.index as usize]
            .mem
            .read(offset, buffer)
        {
            return Err(Trap::MemoryOutOfBounds.into());
        }
        Ok(())
    }

    /// Copies `buffer` into memory starting at `offset`.
    pub fn write(&self, mut store: impl AsContextMut, offset: usize, buffer: &[u8]) -> Result<()> {
        let store = store.as_context_mut();
        store.inner.check_owner(self.store_id)?;
        if !store.inner.memories[self.index as usize]
            .mem
            .write(offset, buffer)
        {
            return Err(Trap::MemoryOutOfBounds.into());
        }
        Ok(())
    }
}

/// Shared access to a store for the lifetime `'a`; lets
/// [`Memory::data`] return a slice that borrows the store.
pub struct StoreRef<'a, T>(&'a crate::Store<T>);
/// Exclusive access to a store for the lifetime `'a`.
pub struct StoreMut<'a, T>(&'a mut crate::Store<T>);

impl<'a, T> From<&'a crate::Store<T>> for StoreRef<'a, T> {
    fn from(s: &'a crate::Store<T>) -> Self {
        StoreRef(s)
    }
}
impl<'a, T> From<&'a mut crate::Store<T>> for StoreRef<'a, T> {
    fn from(s: &'a mut crate::Store<T>) -> Self {
        StoreRef(s)
    }
}
impl<'a, T> From<&'a crate::Caller<'_, T>> for StoreRef<'a, T> {
    fn from(c: &'a crate::Caller<'_, T>) -> Self {
        StoreRef(c.store)
    }
}
impl<'a, T> From<&'a mut crate::Caller<'_, T>> for StoreRef<'a, T> {
    fn from(c: &'a mut crate::Caller<'_, T>) -> Self {
        StoreRef(c.store)
    }
}
impl<'a, T> From<&'a mut crate::Store<T>> for StoreMut<'a, T> {
    fn from(s: &'a mut crate::Store<T>) -> Self {
        StoreMut(s)
    }
}
impl<'a, T> From<&'a mut crate::Caller<'_, T>> for StoreMut<'a, T> {
    fn from(c: &'a mut crate::Caller<'_, T>) -> Self {
        StoreMut(c.store)
    }
}

/// A table of references owned by a store.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Table {
    pub(crate) store_id: u64,
    pub(crate) index: u32,
}

impl Table {
    /// Creates a table of the given type, every element set to `init`. A
    /// table indexed with `i64` needs `Config::wasm_memory64`.
    pub fn new(mut store: impl AsContextMut, ty: TableType, init: Val) -> Result<Table> {
        let store = store.as_context_mut();
        let features = store.engine().config().features;
        if ty.is_64() && !features.contains(WasmFeatures::MEMORY64) {
            bail!("a table indexed with i64 needs `Config::wasm_memory64`");
        }
        let element = ValType::Ref(ty.element());
        init.check_ty(&store.inner, &element, "table initial value")?;
        let raw = init.to_bits(&store.inner)? as u64;
        store.check_counts(0, 0, 1)?;
        let index = store.new_table(ty, raw)?;
        Ok(Table {
            store_id: store.inner.id,
            index,
        })
    }

    /// The table's entity; panics when it belongs to another store.
    fn entity<'a, T: 'a>(&self, store: &'a crate::Store<T>) -> &'a TableEntity {
        store.inner.assert_owner(self.store_id);
        &store.inner.tables[self.index as usize]
    }

    /// The table's type, with its current size as the minimum.
    ///
    /// # Panics
    /// When the table belongs to another store.
    pub fn ty(&self, store: impl AsContext) -> TableType {
        let e = self.entity(store.as_context());
        e.ty.with_minimum(e.elements.len() as u64)
    }

    /// The current size in elements.
    ///
    /// # Panics
    /// When the table belongs to another store.
    pub fn size(&self, store: impl AsContext) -> u64 {
        self.entity(store.as_context()).elements.len() as u64
    }

    /// The element at `index`, or `None` when out of bounds.
    ///
    /// # Panics
    /// When the table belongs to another store.
    pub fn get(&self, store: impl AsContext, index: u64) -> Option<Val> {
        let store = store.as_context();
        let e = self.entity(store);
        let raw = *e.elements.get(usize::try_from(index).ok()?)?;
        Some(Val::from_ref_cell(raw, e.ty.element(), &store.inner))
    }

    /// Writes the element at `index`.
    pub fn set(&self, mut store: impl AsContextMut, index: u64, val: Val) -> Result<()> {
        let inner = &mut store.as_context_mut().inner;
        inner.check_owner(self.store_id)?;
        let elem_ty = ValType::Ref(inner.tables[self.index as usize].ty.element());
        val.check_ty(inner, &elem_ty, "table element")?;
        let raw = val.to_bits(inner)? as u64;
        let slot = usize::try_from(index)
            .ok()
            .and_then(|i| inner.tables[self.index as usize].elements.get_mut(i))
            .ok_or(Trap::TableOutOfBounds)?;
        *slot = raw;
        Ok(())
    }

    /// Grows by `delta` elements set to `init`; returns the previous size.
    pub fn grow(&self, mut store: impl AsContextMut, delta: u64, init: Val) -> Result<u64> {
        let store = store.as_context_mut();
        store.inner.check_owner(self.store_id)?;
        let elem_ty = ValType::Ref(store.inner.tables[self.index as usize].ty.element());
        init.check_ty(&store.inner, &elem_ty, "table element")?;
        let raw = init.to_bits(&store.inner)? as u64;
        match store.grow_table(self.index, delta, raw)? {
            Some(old) => Ok(old),
            None => bail!("failed to grow table by {delta}"),
        }
    }
}

/// A global variable owned by a store.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Global {
    pub(crate) store_id: u64,
    pub(crate) index: u32,
}

impl Global {
    /// Creates a global of the given type holding `val`.
    pub fn new(mut store: impl AsContextMut, ty: GlobalType, val: Val) -> Result<Global> {
        let inner = &mut store.as_context_mut().inner;
        val.check_ty(inner, &ty.content(), "global value")?;
        let value = val.to_bits(inner)?;
        inner.globals.push(GlobalEntity::new(ty, value));
        Ok(Global {
            store_id: inner.id,
            index: inner.globals.len() as u32 - 1,
        })
    }

    /// The global's type.
    ///
    /// # Panics
    /// When the global belongs to another store.
    pub fn ty(&self, store: impl AsContext) -> GlobalType {
        let store = store.as_context();
        store.inner.assert_owner(self.store_id);
        store.inner.globals[self.index as usize].ty
    }

    /// The current value.
    ///
    /// # Panics
    /// When the global belongs to another store.
    pub fn get(&self, store: impl AsContext) -> Val {
        let store = store.as_context();
        store.inner.assert_owner(self.store_id);
        let g = &store.inner.globals[self.index as usize];
        Val::from_bits(g.get(), g.ty.content(), &store.inner)
    }

    /// Writes a mutable global.
    pub fn set(&self, mut store: impl AsContextMut, val: Val) -> Result<()> {
        let inner = &mut store.as_context_mut().inner;
        inner.check_owner(self.store_id)?;
        let ty = inner.globals[self.index as usize].ty;
        if ty.mutability() != Mutability::Var {
            bail!("cannot set an immutable global");
        }
        val.check_ty(inner, &ty.content(), "global value")?;
        let bits = val.to_bits(inner)?;
        inner.globals[self.index as usize].set(bits);
        Ok(())
    }
}

/// Bytes per page, for hosts sizing buffers.
pub const WASM_PAGE_SIZE: u64 = PAGE_SIZE;

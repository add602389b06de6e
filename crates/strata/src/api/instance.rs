//! Instantiation: resolving imports, allocating a module's memories, tables,
//! globals and functions in a store, initialising segments and running the
//! start function.

use crate::module::{ElemMode, EntityIndex, Import, ModuleInfo};
use crate::runtime::store::{
    ExportItem, FuncEntity, FuncKind, GlobalEntity, InstanceEntity, StoreInner, TagEntity,
    WRONG_STORE,
};
use crate::runtime::vm::{InstanceParts, InstanceVm, VmCtxPtr};
use crate::types::{Mutability, TagType, ValType};
use crate::{
    AsContext, AsContextMut, Extern, Func, Global, Memory, Module, SharedMemory, Store, Table, Tag,
    Trap,
};
use crate::{TypedFunc, WasmParams};
use anyhow::{anyhow, bail, Result};
use std::collections::HashMap;
use std::sync::Arc;

/// An instantiated module: its exports live in a store.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Instance {
    pub(crate) store_id: u64,
    pub(crate) index: u32,
}

impl Instance {
    /// Instantiates `module` with `imports` given in the order of
    /// [`Module::imports`].
    pub fn new<T>(
        mut store: impl AsContextMut<Data = T>,
        module: &Module,
        imports: &[Extern],
    ) -> Result<Instance> {
        let store = store.as_context_mut();
        // Constant expressions hold the objects they allocate in Rust
        // vectors until the instance owns them: no collection until then.
        store.inner.activations.inhibit(true);
        let built = instantiate(store, module, imports);
        store.inner.activations.inhibit(false);
        let (instance, start) = built?;
        if let Some(func) = start {
            super::coredump::invoke(store, func, &mut [])?;
        }
        Ok(instance)
    }

    /// The export called `name`.
    ///
    /// # Panics
    /// When the instance belongs to another store.
    pub fn get_export(&self, store: impl AsContext, name: &str) -> Option<Extern> {
        let store = store.as_context();
        store.inner.assert_owner(self.store_id);
        let item = *store.inner.instances[self.index as usize]
            .exports
            .get(name)?;
        Some(Extern::from_item(&store.inner, item))
    }

    /// All exports, in the module's order.
    ///
    /// # Panics
    /// When the instance belongs to another store.
    pub fn exports<'a, T: 'a>(&self, store: &'a Store<T>) -> Vec<(&'a str, Extern)> {
        store.inner.assert_owner(self.store_id);
        let instance = &store.inner.instances[self.index as usize];
        instance
            .module
            .exports
            .iter()
            .filter_map(|(name, _)| {
                let item = *instance.exports.get(name)?;
                Some((name.as_str(), Extern::from_item(&store.inner, item)))
            })
            .collect()
    }

    /// The exported function called `name`.
    ///
    /// # Panics
    /// When the instance belongs to another store.
    pub fn get_func(&self, store: impl AsContext, name: &str) -> Option<Func> {
        self.get_export(store, name)?.into_func()
    }

    /// The exported function called `name`, with its signature checked;
    /// fails when there is none, when the signature differs, or when the
    /// instance belongs to another store.
    pub fn get_typed_func<Params: WasmParams, Results: WasmParams>(
        &self,
        store: impl AsContext,
        name: &str,
    ) -> Result<TypedFunc<Params, Results>> {
        let store = store.as_context();
        store.inner.check_owner(self.store_id)?;
        let func = self
            .get_func(store, name)
            .ok_or_else(|| anyhow!("failed to find function export `{name}`"))?;
        func.typed(store)
    }

    /// The exported memory called `name`.
    ///
    /// # Panics
    /// When the instance belongs to another store.
    pub fn get_memory(&self, store: impl AsContext, name: &str) -> Option<Memory> {
        self.get_export(store, name)?.into_memory()
    }

    /// The exported shared memory called `name` (a memory the instance
    /// defines or imports as shared; [`Instance::get_memory`] does not
    /// return those).
    ///
    /// # Panics
    /// When the instance belongs to another store.
    pub fn get_shared_memory(&self, store: impl AsContext, name: &str) -> Option<SharedMemory> {
        self.get_export(store, name)?.into_shared_memory()
    }

    /// The exported global called `name`.
    ///
    /// # Panics
    /// When the instance belongs to another store.
    pub fn get_global(&self, store: impl AsContext, name: &str) -> Option<Global> {
        self.get_export(store, name)?.into_global()
    }

    /// The exported table called `name`.
    ///
    /// # Panics
    /// When the instance belongs to another store.
    pub fn get_table(&self, store: impl AsContext, name: &str) -> Option<Table> {
        self.get_export(store, name)?.into_table()
    }

    /// The exported tag called `name`.
    ///
    /// # Panics
    /// When the instance belongs to another store.
    pub fn get_tag(&self, store: impl AsContext, name: &str) -> Option<Tag> {
        self.get_export(store, name)?.into_tag()
    }
}

impl crate::FrameInfo {
    /// The instance the function belongs to.
    pub fn instance(&self) -> Instance {
        Instance {
            store_id: self.store_id,
            index: self.instance,
        }
    }
}

/// Whether `item` may be given for `import` of module `m`: the item's type
/// must match the import's (WebAssembly's import subtyping: a function whose
/// type is the expected one or declares it as a supertype, a global of a
/// subtype (equal when mutable), tables and memories with the same element
/// type, index width, sharing and page size and limits within the expected
/// ones).
pub(crate) fn import_matches(
    store: &StoreInner,
    m: &ModuleInfo,
    import: &Import,
    item: &Extern,
) -> bool {
    fn limits(amin: u64, amax: Option<u64>, emin: u64, emax: Option<u64>) -> bool {
        amin >= emin
            && match (amax, emax) {
                (_, None) => true,
                (Some(a), Some(e)) => a <= e,
                (None, Some(_)) => false,
            }
    }
    if item.store_id().is_some_and(|id| id != store.id) {
        return false;
    }
    let types = store.engine.types();
    match (import.kind, item.clone()) {
        (EntityIndex::Func(f), Extern::Func(func)) => {
            let expected = m.type_id(m.funcs[f as usize]);
            let actual = store.funcs[func.index as usize].type_id;
            match import.exact {
                true => actual == expected,
                false => types.is_subtype(actual, expected),
            }
        }
        (EntityIndex::Global(g), Extern::Global(global)) => {
            let (a, e) = (
                store.globals[global.index as usize].ty,
                m.globals[g as usize],
            );
            a.mutability() == e.mutability()
                && types.val_subtype(a.content(), e.content())
                && (a.mutability() == Mutability::Const
                    || types.val_subtype(e.content(), a.content()))
        }
        (EntityIndex::Table(t), Extern::Table(table)) => {
            let entity = &store.tables[table.index as usize];
            let (a, e) = (entity.ty, m.tables[t as usize]);
            let ae = ValType::Ref(a.element());
            let ee = ValType::Ref(e.element());
            types.val_subtype(ae, ee)
                && types.val_subtype(ee, ae)
                && a.is_64() == e.is_64()
                && limits(
                    entity.elements.len() as u64,
                    a.maximum(),
                    e.minimum(),
                    e.maximum(),
                )
        }
        (EntityIndex::Memory(i), Extern::Memory(memory)) => {
            let entity = &store.memories[memory.index as usize];
            let (a, e) = (entity.ty, m.memories[i as usize]);
            a.is_64() == e.is_64()
                && a.is_shared() == e.is_shared()
                && a.page_size_log2() == e.page_size_log2()
                && limits(entity.mem.pages(), a.maximum(), e.minimum(), e.maximum())
        }
        // Exceptions flow both ways (thrown with the tag's parameters,
        // caught as them), so a tag's type must match exactly.
        (EntityIndex::Tag(t), Extern::Tag(tag)) => {
            let expected = m.type_id(m.tags[t as usize]);
            let actual = store.tags[tag.index as usize].type_id;
            types.is_subtype(actual, expected) && types.is_subtype(expected, actual)
        }
        (EntityIndex::Memory(i), Extern::SharedMemory(shared)) => {
            let (a, e) = (shared.ty(), m.memories[i as usize]);
            crate::Engine::same(shared.engine(), &store.engine)
                && a.is_64() == e.is_64()
                && e.is_shared()
                && a.page_size_log2() == e.page_size_log2()
                && limits(a.minimum(), a.maximum(), e.minimum(), e.maximum())
        }
        _ => false,
    }
}

/// Builds an instance of `module`; returns it and its start function (a
/// store index), which the caller runs.
fn instantiate<T>(
    store: &mut Store<T>,
    module: &Module,
    imports: &[Extern],
) -> Result<(Instance, Option<u32>)> {
    let m = &module.inner;
    if !crate::Engine::same(&m.engine, &store.inner.engine) {
        bail!("cannot instantiate a module in a store of another engine");
    }
    if imports.len() != m.imports.len() {
        bail!(
            "expected {} imports, found {}",
            m.imports.len(),
            imports.len()
        );
    }
    let store_id = store.inner.id;
    let instance_index = store.inner.instances.len() as u32;
    // Index spaces as store indices; the `InstanceEntity` and its
    // `VMContext` are built once everything is allocated.
    let mut funcs: Vec<u32> = Vec::with_capacity(m.funcs.len());
    let mut tables: Vec<u32> = Vec::with_capacity(m.tables.len());
    let mut memories: Vec<u32> = Vec::with_capacity(m.memories.len());
    let mut globals: Vec<u32> = Vec::with_capacity(m.globals.len());
    let mut tags: Vec<u32> = Vec::with_capacity(m.tags.len());

    for (import, item) in m.imports.iter().zip(imports) {
        if item.store_id().is_some_and(|id| id != store_id) {
            bail!(
                "{WRONG_STORE}: import `{}::{}` belongs to another store",
                import.module,
                import.name
            );
        }
        if !import_matches(&store.inner, m, import, item) {
            let expected = m.entity_type(import.kind);
            let actual = item.ty(&*store);
            bail!(
                "incompatible import type for `{}::{}`: expected {expected}, found {actual}",
                import.module,
                import.name
            );
        }
        match item {
            Extern::Func(f) => funcs.push(f.index),
            Extern::Table(t) => tables.push(t.index),
            Extern::Memory(mem) => memories.push(mem.index),
            Extern::SharedMemory(shared) => memories.push(store.import_shared_memory(shared)),
            Extern::Global(g) => globals.push(g.index),
            Extern::Tag(t) => tags.push(t.index),
        }
    }

    let defined_tables = &m.tables[m.num_imported_tables as usize..];
    let defined_memories = &m.memories[m.num_imported_memories as usize..];
    store.check_counts(1, defined_memories.len(), defined_tables.len())?;
    for ty in defined_tables {
        tables.push(store.new_table(*ty, 0)?);
    }
    // Defined memories start as their copy-on-write image where the
    // module has one; the segments it covers are skipped below.
    let images = m.memory_images();
    for (i, ty) in defined_memories.iter().enumerate() {
        memories.push(store.new_memory(*ty, images.memory(i))?);
    }
    let inner = &mut store.inner;
    // Compiled code addresses objects from the heap's base, which it reads
    // once per function: the heap must exist before the module's code
    // runs, not only at the first allocation.
    if m.types.iter().any(|t| t.layout.is_some()) {
        inner.reserve_gc_heap()?;
    }
    for &type_index in &m.tags[m.num_imported_tags as usize..] {
        let ty = &m.types[type_index as usize];
        let func = ty
            .func
            .clone()
            .unwrap_or_else(|| unreachable!("validated: tags have function types"));
        inner.tags.push(TagEntity {
            type_id: ty.index,
            ty: TagType::new((*func).clone()),
        });
        tags.push(inner.tags.len() as u32 - 1);
    }
    for i in 0..m.bodies.len() {
        let index = m.num_imported_funcs + i as u32;
        let type_index = m.funcs[index as usize] as usize;
        let ty = &m.types[type_index];
        let f = inner.push_func(FuncEntity {
            type_id: ty.index,
            ty: ty
                .func
                .clone()
                .unwrap_or_else(|| unreachable!("validated: functions have function types")),
            kind: FuncKind::Wasm {
                instance: instance_index,
                index,
                vmctx: VmCtxPtr(std::ptr::null()),
            },
        });
        funcs.push(f);
    }
    let func_ref = |funcs: &[u32], f: u32| funcs[f as usize] as u64 + 1;
    for (i, init) in m.global_inits.iter().enumerate() {
        let ty = m.globals[m.num_imported_globals as usize + i];
        let value = init.eval(
            &|g| inner.globals[globals[g as usize] as usize].get(),
            &|f| func_ref(&funcs, f),
            &mut |op, stack| crate::runtime::gc::eval_const(&mut inner.gc, &m.types, op, stack),
        )?;
        inner.globals.push(GlobalEntity::new(ty, value));
        globals.push(inner.globals.len() as u32 - 1);
    }
    // Tables with an initialiser (typed function references) start out
    // filled with its value.
    for (i, init) in m.table_inits.iter().enumerate() {
        let Some(init) = init else { continue };
        let value = init.eval(
            &|g| inner.globals[globals[g as usize] as usize].get(),
            &|f| func_ref(&funcs, f),
            &mut |op, stack| crate::runtime::gc::eval_const(&mut inner.gc, &m.types, op, stack),
        )? as u64;
        let table = &mut inner.tables[tables[m.num_imported_tables as usize + i] as usize];
        table.elements.fill(value);
        table.sync();
    }
    #[cfg(strata_jit)]
    let builtins: *const () = if module.code.jit.is_some() || module.code.tier_up.is_some() {
        std::ptr::addr_of!(crate::jit::BUILTINS).cast()
    } else {
        std::ptr::null()
    };
    #[cfg(not(strata_jit))]
    let builtins: *const () = std::ptr::null();
    let vm = InstanceVm::new(
        instance_index,
        inner.limits.as_ptr(),
        InstanceParts {
            memories: memories
                .iter()
                .map(|&i| inner.memories[i as usize].mem.vm_ptr())
                .collect(),
            globals: globals
                .iter()
                .map(|&i| inner.globals[i as usize].value.as_ptr())
                .collect(),
            tables: tables
                .iter()
                .map(|&i| inner.tables[i as usize].vm.as_ptr().cast_const())
                .collect(),
            func_refs: funcs
                .iter()
                .map(|&f| inner.func_refs[f as usize].as_ptr().cast_const())
                .collect(),
            funcs,
            type_ids: m.types.iter().map(|t| t.index.bits()).collect(),
            builtins,
        },
    );
    for (i, &f) in vm.funcs()[m.num_imported_funcs as usize..]
        .iter()
        .enumerate()
    {
        if let FuncKind::Wasm { vmctx, .. } = &mut inner.funcs[f as usize].kind {
            *vmctx = VmCtxPtr(vm.vmctx());
        }
        let entry = &inner.func_refs[f as usize];
        let mut func_ref = entry.get();
        func_ref.vmctx = vm.vmctx();
        #[cfg(strata_jit)]
        if let Some(jit) = module
            .code
            .jit
            .as_ref()
            .and_then(|j| j.downcast_ref::<crate::jit::CompiledModule>())
        {
            // Functions the JIT left to the interpreter have no native code.
            func_ref.native = jit.native(i);
            func_ref.array_call = jit.trampoline(i);
        }
        #[cfg(not(strata_jit))]
        let _ = i;
        entry.set(func_ref);
    }
    let mut inst = InstanceEntity {
        module: Arc::clone(&module.inner),
        code: module.code.clone(),
        vm,
        tables,
        memories,
        globals,
        tags,
        exports: HashMap::new(),
        elems: Vec::new(),
        data_dropped: vec![false; m.datas.len()],
        synced: 0,
    };
    for (name, index) in &m.exports {
        let item = match *index {
            EntityIndex::Func(i) => ExportItem::Func(inst.vm.funcs()[i as usize]),
            EntityIndex::Table(i) => ExportItem::Table(inst.tables[i as usize]),
            EntityIndex::Memory(i) => ExportItem::Memory(inst.memories[i as usize]),
            EntityIndex::Global(i) => ExportItem::Global(inst.globals[i as usize]),
            EntityIndex::Tag(i) => ExportItem::Tag(inst.tags[i as usize]),
        };
        inst.exports.insert(name.clone(), item);
    }
    for elem in &m.elems {
        let mut items = Vec::with_capacity(elem.items.len());
        for item in &elem.items {
            items.push(item.eval(
                &|g| inner.globals[inst.globals[g as usize] as usize].get(),
                &|f| func_ref(inst.vm.funcs(), f),
                &mut |op, stack| crate::runtime::gc::eval_const(&mut inner.gc, &m.types, op, stack),
            )? as u64);
        }
        inst.elems.push(items.into());
    }
    inner.instances.push(inst);
    let instance = Instance {
        store_id,
        index: instance_index,
    };

    // Segment initialisation follows the 2.0 semantics: segments apply in
    // order, and a segment that does not fit traps after the earlier ones
    // took effect.
    for (i, elem) in m.elems.iter().enumerate() {
        match &elem.mode {
            ElemMode::Active { table, offset } => {
                let inst = &inner.instances[instance_index as usize];
                let offset = offset.eval(
                    &|g| inner.globals[inst.globals[g as usize] as usize].get(),
                    &|f| func_ref(inst.vm.funcs(), f),
                    &mut |op, stack| {
                        crate::runtime::gc::eval_const(&mut inner.gc, &m.types, op, stack)
                    },
                )? as u64;
                // The offset is a cell: an i32 zero-extended, or a table64's
                // i64, never truncated.
                let table = inst.tables[*table as usize];
                let items = Arc::clone(&inst.elems[i]);
                crate::runtime::ops::table_init(
                    inner,
                    table,
                    offset,
                    &items,
                    0,
                    items.len() as u64,
                )?;
                inner.instances[instance_index as usize].elems[i] = Arc::new([]);
            }
            ElemMode::Declared => {
                inner.instances[instance_index as usize].elems[i] = Arc::new([]);
            }
            ElemMode::Passive => {}
        }
    }
    for (i, data) in m.datas.iter().enumerate() {
        if images.covers(i) {
            inner.instances[instance_index as usize].data_dropped[i] = true;
            continue;
        }
        if let Some((memory, offset)) = &data.active {
            let inst = &inner.instances[instance_index as usize];
            let offset = offset.eval(
                &|g| inner.globals[inst.globals[g as usize] as usize].get(),
                &|f| func_ref(inst.vm.funcs(), f),
                &mut |op, stack| crate::runtime::gc::eval_const(&mut inner.gc, &m.types, op, stack),
            )? as u64;
            // An i32 offset is zero-extended in its cell; a memory64 offset
            // is 64-bit and must not be truncated.
            // Written through raw pointers: the memory may be shared with
            // other threads already running.
            let mem = &inner.memories[inst.memories[*memory as usize] as usize].mem;
            let len = data.bytes.len() as u64;
            let range = crate::runtime::ops::range(offset, len, mem.len())
                .ok_or(Trap::MemoryOutOfBounds)?;
            if !mem.write(range.start, &data.bytes) {
                return Err(Trap::MemoryOutOfBounds.into());
            }
            inner.instances[instance_index as usize].data_dropped[i] = true;
        }
    }
    let start = m
        .start
        .map(|start| inner.instances[instance_index as usize].vm.funcs()[start as usize]);
    Ok((instance, start))
}

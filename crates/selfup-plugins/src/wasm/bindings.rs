//! Host bindings of the `selfup:plugin` world (wit/plugin.wit).

wasmtime::component::bindgen!({
    path: "../../wit",
    world: "plugin",
    exports: { default: async },
});

//! The imports a plugin may use: WASI preview 2 without any network
//! interface. A component importing `wasi:sockets` or `wasi:http` does not
//! link, so a plugin cannot reach the network at all (outgoing HTTP with an
//! allow-list is a later addition).

use wasmtime::component::{HasData, Linker, ResourceTable};
use wasmtime_wasi::WasiView;
use wasmtime_wasi::cli::{WasiCli, WasiCliView};
use wasmtime_wasi::clocks::{WasiClocks, WasiClocksView};
use wasmtime_wasi::filesystem::{WasiFilesystem, WasiFilesystemView};
use wasmtime_wasi::p2::bindings::{cli, clocks, filesystem, random};
use wasmtime_wasi::random::{WasiRandom, WasiRandomView};

use super::limits::InstanceState;

/// Interface prefixes that give network access and are never linked.
pub(crate) const NETWORK_INTERFACES: [&str; 2] = ["wasi:sockets/", "wasi:http/"];

struct HasIo;

impl HasData for HasIo {
    type Data<'a> = &'a mut ResourceTable;
}

/// Builds the linker every plugin is instantiated with.
pub(crate) fn plugin_linker(engine: &wasmtime::Engine) -> wasmtime::Result<Linker<InstanceState>> {
    let mut linker = Linker::new(engine);
    let l = &mut linker;
    wasmtime_wasi_io::bindings::wasi::io::error::add_to_linker::<InstanceState, HasIo>(l, |t| {
        t.ctx().table
    })?;
    wasmtime_wasi_io::bindings::wasi::io::poll::add_to_linker::<InstanceState, HasIo>(l, |t| {
        t.ctx().table
    })?;
    wasmtime_wasi_io::bindings::wasi::io::streams::add_to_linker::<InstanceState, HasIo>(l, |t| {
        t.ctx().table
    })?;
    clocks::wall_clock::add_to_linker::<InstanceState, WasiClocks>(l, InstanceState::clocks)?;
    clocks::monotonic_clock::add_to_linker::<InstanceState, WasiClocks>(l, InstanceState::clocks)?;
    filesystem::types::add_to_linker::<InstanceState, WasiFilesystem>(
        l,
        InstanceState::filesystem,
    )?;
    filesystem::preopens::add_to_linker::<InstanceState, WasiFilesystem>(
        l,
        InstanceState::filesystem,
    )?;
    random::random::add_to_linker::<InstanceState, WasiRandom>(l, InstanceState::random)?;
    random::insecure::add_to_linker::<InstanceState, WasiRandom>(l, InstanceState::random)?;
    random::insecure_seed::add_to_linker::<InstanceState, WasiRandom>(l, InstanceState::random)?;
    cli::exit::add_to_linker::<InstanceState, WasiCli>(l, InstanceState::cli)?;
    cli::environment::add_to_linker::<InstanceState, WasiCli>(l, InstanceState::cli)?;
    cli::stdin::add_to_linker::<InstanceState, WasiCli>(l, InstanceState::cli)?;
    cli::stdout::add_to_linker::<InstanceState, WasiCli>(l, InstanceState::cli)?;
    cli::stderr::add_to_linker::<InstanceState, WasiCli>(l, InstanceState::cli)?;
    cli::terminal_input::add_to_linker::<InstanceState, WasiCli>(l, InstanceState::cli)?;
    cli::terminal_output::add_to_linker::<InstanceState, WasiCli>(l, InstanceState::cli)?;
    cli::terminal_stdin::add_to_linker::<InstanceState, WasiCli>(l, InstanceState::cli)?;
    cli::terminal_stdout::add_to_linker::<InstanceState, WasiCli>(l, InstanceState::cli)?;
    cli::terminal_stderr::add_to_linker::<InstanceState, WasiCli>(l, InstanceState::cli)?;
    Ok(linker)
}

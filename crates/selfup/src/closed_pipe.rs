//! `selfup … | head` ends quietly. Rust ignores SIGPIPE (so that selfup
//! survives a plugin process or a client that goes away), which makes
//! `println!` panic once the reader of stdout has gone. A panic for exactly
//! that ends the process with 141, the status a shell shows for a command
//! SIGPIPE stopped, and prints nothing; every other panic is reported as
//! before.

/// What the standard library's print macros panic with on a closed pipe.
const CLOSED_STDOUT: &str = "failed printing to stdout: Broken pipe";

/// The exit status of a process stopped by SIGPIPE, as shells show it.
const SIGPIPE_STATUS: i32 = 128 + 13;

/// Installs the panic hook (once, at start).
pub fn exit_quietly_on_closed_stdout() {
    let default = std::panic::take_hook();
    std::panic::set_hook(Box::new(move |info| {
        let message = info
            .payload()
            .downcast_ref::<String>()
            .map(String::as_str)
            .or_else(|| info.payload().downcast_ref::<&str>().copied())
            .unwrap_or("");
        if message.starts_with(CLOSED_STDOUT) {
            std::process::exit(SIGPIPE_STATUS);
        }
        default(info);
    }));
}

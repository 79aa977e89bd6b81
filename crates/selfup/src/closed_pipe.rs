//! `selfup … | head` ends quietly. Rust ignores SIGPIPE (so that selfup
//! survives a plugin process or a client that goes away), which makes
//! `println!` panic once the reader of stdout has gone. A panic for exactly
//! that ends the process with 141, the status a shell shows for a command
//! SIGPIPE stopped, and prints nothing; every other panic is reported as
//! before.

/// What the standard library's print macros panic with on a closed pipe:
/// this prefix, then the OS error (`Broken pipe (os error 32)` on Unix,
/// `… (os error 232)` on Windows).
const FAILED_PRINT: &str = "failed printing to stdout: ";

/// Whether `message` is a print macro's panic on a closed pipe.
fn is_closed_stdout(message: &str) -> bool {
    message
        .strip_prefix(FAILED_PRINT)
        .is_some_and(|rest| rest.starts_with("Broken pipe") || rest.contains("(os error 232)"))
}

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
        if is_closed_stdout(message) {
            std::process::exit(SIGPIPE_STATUS);
        }
        default(info);
    }));
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_a_closed_stdout_is_recognised() {
        assert!(is_closed_stdout(
            "failed printing to stdout: Broken pipe (os error 32)"
        ));
        assert!(is_closed_stdout(
            "failed printing to stdout: The pipe is being closed. (os error 232)"
        ));
        assert!(!is_closed_stdout(
            "failed printing to stdout: No space left on device (os error 28)"
        ));
        assert!(!is_closed_stdout("index out of bounds"));
    }
}

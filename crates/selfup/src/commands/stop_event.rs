//! Windows: a named event through which another program asks a running
//! `selfup serve`, `run` or `mcp` to stop cleanly — what SIGTERM is on
//! Unix. Console events (Ctrl-C, Ctrl-Break) reach only the programs that
//! share the sender's console; a supervisor, a script or a test without one
//! sets `Local\selfup-stop-<pid>` instead (the session's namespace, so only
//! programs of the same logon session can).

use std::future::Future;

use windows_sys::Win32::Foundation::{CloseHandle, HANDLE, WAIT_OBJECT_0};
use windows_sys::Win32::System::Threading::{CreateEventW, INFINITE, WaitForSingleObject};

/// The event's name for the process `pid`.
pub fn name(pid: u32) -> String {
    format!("Local\\selfup-stop-{pid}")
}

/// An event handle, owned (closed on drop) and handed to the waiting thread.
struct Event(HANDLE);

// SAFETY: an event handle is a kernel object reference, usable from any
// thread; only the waiting thread uses (and closes) it.
unsafe impl Send for Event {}

impl Event {
    /// Blocks until the event is set; false if waiting failed.
    fn wait(&self) -> bool {
        // SAFETY: a valid event handle, owned by `self`.
        unsafe { WaitForSingleObject(self.0, INFINITE) == WAIT_OBJECT_0 }
    }
}

impl Drop for Event {
    fn drop(&mut self) {
        // SAFETY: the handle came from CreateEventW and is closed once.
        unsafe { CloseHandle(self.0) };
    }
}

/// Creates this process's stop event now (so it exists before the caller
/// announces that it runs) and returns a future that resolves once the
/// event is set. If the event cannot be created the future never resolves
/// and the other ways to stop still work.
pub fn stop_requested() -> impl Future<Output = ()> + Send + 'static {
    let wide: Vec<u16> = name(std::process::id())
        .encode_utf16()
        .chain(std::iter::once(0))
        .collect();
    // SAFETY: default security, manual reset, initially unset, and a
    // NUL-terminated name that outlives the call.
    let handle = unsafe { CreateEventW(std::ptr::null(), 1, 0, wide.as_ptr()) };
    let (tx, rx) = tokio::sync::oneshot::channel::<()>();
    if !handle.is_null() {
        let event = Event(handle);
        // A plain thread, not the runtime's blocking pool: it may wait for
        // the whole life of the process, and the runtime must not wait for
        // it when it shuts down.
        let spawned = std::thread::Builder::new()
            .name("stop-event".into())
            .spawn(move || {
                if event.wait() {
                    let _ = tx.send(());
                }
            });
        if spawned.is_err() {
            tracing::warn!("cannot start the thread that waits for the stop event");
        }
    } else {
        tracing::warn!(
            error = %std::io::Error::last_os_error(),
            "cannot create the stop event; stop selfup with Ctrl-C or Ctrl-Break"
        );
    }
    async move {
        if rx.await.is_err() {
            std::future::pending::<()>().await;
        }
    }
}

//! The service's Event Log source: registered in the Application log
//! under the service's name (`HKLM\SYSTEM\CurrentControlSet\Services\
//! EventLog\Application\<name>`) by `selfup service install`, removed by
//! `uninstall`, and written with `ReportEventW` while the service runs
//! (errors, and the service's start and stop).
//!
//! The message file is .NET Framework's `EventLogMessages.dll` (part of
//! Windows 10), whose every message id is the text `%1`, so each event
//! shows selfup's own message as it is: that is what .NET's
//! `EventLog.CreateEventSource` registers too.

/// Where event sources of the Application log are registered (under
/// `HKEY_LOCAL_MACHINE`).
pub const APPLICATION_SOURCES: &str = r"SYSTEM\CurrentControlSet\Services\EventLog\Application";

/// The message file registered for the source (an expandable string).
pub const MESSAGE_FILE: &str =
    r"%SystemRoot%\Microsoft.NET\Framework64\v4.0.30319\EventLogMessages.dll";

/// Errors, warnings and information (`TypesSupported`).
pub const TYPES_SUPPORTED: u32 = 0x7;

/// The event ids selfup writes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Event {
    /// An error logged while the service runs.
    Error = 1,
    /// The service started.
    Started = 100,
    /// The service stopped.
    Stopped = 101,
}

/// The registry key (under `HKEY_LOCAL_MACHINE`) of the source `name`.
pub fn source_key(name: &str) -> String {
    format!(r"{APPLICATION_SOURCES}\{name}")
}

#[cfg(windows)]
mod system {
    use std::io;

    use windows_sys::Win32::Foundation::HANDLE;
    use windows_sys::Win32::System::EventLog::{
        DeregisterEventSource, EVENTLOG_ERROR_TYPE, EVENTLOG_INFORMATION_TYPE,
        RegisterEventSourceW, ReportEventW,
    };

    use super::{Event, MESSAGE_FILE, TYPES_SUPPORTED, source_key};
    use crate::windows::registry::RegistryError;

    /// `HRESULT_FROM_WIN32(ERROR_FILE_NOT_FOUND)`.
    const NOT_FOUND: i32 = 0x8007_0002_u32 as i32;

    fn wide(text: &str) -> Vec<u16> {
        text.encode_utf16().chain(Some(0)).collect()
    }

    /// Registers the source `name` in the Application log.
    pub fn register_source(name: &str) -> Result<(), RegistryError> {
        let key = source_key(name);
        let fail = |action: &'static str, e: windows_registry::Result<()>| {
            e.map_err(|e| RegistryError::Write {
                action,
                key: key.clone(),
                detail: e.to_string(),
            })
        };
        let k = windows_registry::LOCAL_MACHINE
            .create(&key)
            .map_err(|e| RegistryError::Write {
                action: "create",
                key: key.clone(),
                detail: e.to_string(),
            })?;
        fail(
            "write",
            k.set_expand_string("EventMessageFile", MESSAGE_FILE),
        )?;
        fail("write", k.set_u32("TypesSupported", TYPES_SUPPORTED))
    }

    /// Removes the source `name`; whether it was registered.
    pub fn remove_source(name: &str) -> Result<bool, RegistryError> {
        let key = source_key(name);
        match windows_registry::LOCAL_MACHINE.remove_tree(&key) {
            Ok(()) => Ok(true),
            Err(e) if e.code().0 == NOT_FOUND => Ok(false),
            Err(e) => Err(RegistryError::Write {
                action: "remove",
                key,
                detail: e.to_string(),
            }),
        }
    }

    /// A handle for writing events under one source.
    pub struct EventLog {
        handle: HANDLE,
    }

    // SAFETY: an event source handle may be used from any thread
    // (ReportEventW is thread-safe), and it is only closed on drop.
    unsafe impl Send for EventLog {}
    // SAFETY: as above; `report` takes `&self` and Windows serialises writes.
    unsafe impl Sync for EventLog {}

    impl EventLog {
        /// Opens the source `name` for writing.
        pub fn open(name: &str) -> io::Result<Self> {
            let name = wide(name);
            // SAFETY: `name` is NUL-terminated and outlives the call.
            let handle = unsafe { RegisterEventSourceW(std::ptr::null(), name.as_ptr()) };
            if handle.is_null() {
                return Err(io::Error::last_os_error());
            }
            Ok(Self { handle })
        }

        /// Writes `message` as `event`.
        pub fn report(&self, event: Event, message: &str) -> io::Result<()> {
            let kind = match event {
                Event::Error => EVENTLOG_ERROR_TYPE,
                Event::Started | Event::Stopped => EVENTLOG_INFORMATION_TYPE,
            };
            // An event string is at most 31 839 characters.
            let message: String = message.chars().take(31_000).collect();
            let text = wide(&message);
            let strings = [text.as_ptr()];
            // SAFETY: one NUL-terminated string, alive for the call; no SID,
            // no raw data.
            let ok = unsafe {
                ReportEventW(
                    self.handle,
                    kind,
                    0,
                    event as u32,
                    std::ptr::null_mut(),
                    1,
                    0,
                    strings.as_ptr(),
                    std::ptr::null(),
                )
            };
            if ok == 0 {
                return Err(io::Error::last_os_error());
            }
            Ok(())
        }
    }

    impl Drop for EventLog {
        fn drop(&mut self) {
            // SAFETY: the handle came from RegisterEventSourceW and is closed once.
            unsafe { DeregisterEventSource(self.handle) };
        }
    }
}

#[cfg(windows)]
pub use system::{EventLog, register_source, remove_source};

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_source_lives_in_the_application_log_under_the_service_name() {
        assert_eq!(
            source_key("OpenClawSelfUpgradingLoop"),
            r"SYSTEM\CurrentControlSet\Services\EventLog\Application\OpenClawSelfUpgradingLoop"
        );
    }

    /// Writing through a source works (under Wine the events are accepted
    /// and not kept; reading them back is not possible there).
    #[cfg(windows)]
    #[test]
    fn events_can_be_written() {
        let log = EventLog::open("selfup-unit-test").expect("open the event source");
        log.report(Event::Error, "selfup unit test: an error event")
            .expect("report");
        log.report(Event::Started, "selfup unit test: started")
            .expect("report");
    }
}

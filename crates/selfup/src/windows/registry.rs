//! The installation's entries under `HKLM\SOFTWARE\OpenClaw`: where
//! selfup.exe is (`InstallPath`), its `Version`, the `InstallDate`, the
//! data directory (`DataPath`), the configuration file (`ConfigFile`) and
//! the service's name (`ServiceName`). `selfup service install` writes
//! them, `uninstall` removes them, and selfup reads them at start to find
//! the installation when no `--home` is given.
//!
//! The seed's service keeps them in `SOFTWARE\OpenClaw\SelfUpgradingLoop`;
//! a service installed under another name (a second instance, or a test)
//! keeps its own in `SOFTWARE\OpenClaw\<name>`, so it never touches the
//! seed's.

use std::path::PathBuf;

use selfup_core::config::WindowsServiceConfig;

/// The parent of every installation's key (under `HKEY_LOCAL_MACHINE`).
pub const VENDOR_KEY: &str = r"SOFTWARE\OpenClaw";

/// The seed's key (under `HKEY_LOCAL_MACHINE`): the default installation.
pub const DEFAULT_KEY: &str = r"SOFTWARE\OpenClaw\SelfUpgradingLoop";

/// The key (under `HKEY_LOCAL_MACHINE`) of the service named `service_name`.
pub fn installation_key(service_name: &str) -> String {
    if service_name == WindowsServiceConfig::default().name {
        DEFAULT_KEY.to_owned()
    } else {
        format!(r"{VENDOR_KEY}\{service_name}")
    }
}

/// `InstallDate` as the seed writes it: `yyyy-MM-dd HH:mm:ss` (local time).
pub fn format_install_date(date: [u16; 6]) -> String {
    let [year, month, day, hour, minute, second] = date;
    format!("{year:04}-{month:02}-{day:02} {hour:02}:{minute:02}:{second:02}")
}

/// One installation's registry entries.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Installation {
    /// The directory selfup.exe is installed in.
    pub install_path: PathBuf,
    /// selfup's version.
    pub version: String,
    /// When it was installed (`yyyy-MM-dd HH:mm:ss`, local time).
    pub install_date: String,
    /// The service's data directory (its selfup home).
    pub data_path: PathBuf,
    /// The configuration file the service runs with, if any.
    pub config_file: Option<PathBuf>,
    /// The service's name.
    pub service_name: String,
}

/// Reading or writing the registry failed.
#[derive(Debug, thiserror::Error)]
pub enum RegistryError {
    /// A key or value could not be written or removed.
    #[error(
        "cannot {action} HKEY_LOCAL_MACHINE\\{key}: {detail} (run as Administrator: only administrators may change HKEY_LOCAL_MACHINE)"
    )]
    Write {
        /// What was being done.
        action: &'static str,
        /// The key.
        key: String,
        /// Windows' message.
        detail: String,
    },
    /// A key or value could not be read.
    #[error(
        "cannot read {value} in HKEY_LOCAL_MACHINE\\{key}: {detail} (reinstall with `selfup service install` to write it again)"
    )]
    Read {
        /// The key.
        key: String,
        /// The value.
        value: &'static str,
        /// Windows' message.
        detail: String,
    },
}

#[cfg(windows)]
mod system {
    use std::path::{Path, PathBuf};

    use windows_registry::Key;

    use super::{Installation, RegistryError, VENDOR_KEY};

    /// `HRESULT_FROM_WIN32(ERROR_FILE_NOT_FOUND)`: no such key or value.
    const NOT_FOUND: i32 = 0x8007_0002_u32 as i32;

    fn text(path: &Path) -> String {
        path.display().to_string()
    }

    impl Installation {
        /// The local time now, as `InstallDate` takes it.
        pub fn now() -> String {
            // SAFETY: GetLocalTime only fills the structure it is given.
            let t = unsafe {
                let mut t = std::mem::zeroed::<windows_sys::Win32::Foundation::SYSTEMTIME>();
                windows_sys::Win32::System::SystemInformation::GetLocalTime(&mut t);
                t
            };
            super::format_install_date([t.wYear, t.wMonth, t.wDay, t.wHour, t.wMinute, t.wSecond])
        }

        /// Writes the entries to `key` under `root` (created if missing).
        pub fn write(&self, root: &Key, key: &str) -> Result<(), RegistryError> {
            let fail = |e: windows_registry::Result<()>| {
                e.map_err(|e| RegistryError::Write {
                    action: "write",
                    key: key.to_owned(),
                    detail: e.to_string(),
                })
            };
            let k = root.create(key).map_err(|e| RegistryError::Write {
                action: "create",
                key: key.to_owned(),
                detail: e.to_string(),
            })?;
            fail(k.set_string("InstallPath", text(&self.install_path)))?;
            fail(k.set_string("Version", &self.version))?;
            fail(k.set_string("InstallDate", &self.install_date))?;
            fail(k.set_string("DataPath", text(&self.data_path)))?;
            fail(k.set_string("ServiceName", &self.service_name))?;
            match &self.config_file {
                Some(file) => fail(k.set_string("ConfigFile", text(file)))?,
                None => match k.remove_value("ConfigFile") {
                    Err(e) if e.code().0 != NOT_FOUND => fail(Err(e))?,
                    _ => {}
                },
            }
            Ok(())
        }

        /// The entries in `key` under `root`, or `None` when the key does
        /// not exist.
        pub fn read(root: &Key, key: &str) -> Result<Option<Self>, RegistryError> {
            let k = match root.open(key) {
                Ok(k) => k,
                Err(e) if e.code().0 == NOT_FOUND => return Ok(None),
                Err(e) => {
                    return Err(RegistryError::Read {
                        key: key.to_owned(),
                        value: "the key",
                        detail: e.to_string(),
                    });
                }
            };
            let get = |value: &'static str| {
                k.get_string(value).map_err(|e| RegistryError::Read {
                    key: key.to_owned(),
                    value,
                    detail: e.to_string(),
                })
            };
            let config_file = match k.get_string("ConfigFile") {
                Ok(file) => Some(PathBuf::from(file)),
                Err(e) if e.code().0 == NOT_FOUND => None,
                Err(e) => {
                    return Err(RegistryError::Read {
                        key: key.to_owned(),
                        value: "ConfigFile",
                        detail: e.to_string(),
                    });
                }
            };
            Ok(Some(Self {
                install_path: PathBuf::from(get("InstallPath")?),
                version: get("Version")?,
                install_date: get("InstallDate")?,
                data_path: PathBuf::from(get("DataPath")?),
                config_file,
                service_name: get("ServiceName")?,
            }))
        }

        /// Removes `key` under `root` with everything in it, and the vendor
        /// key when nothing else is left in it. Whether `key` existed.
        pub fn remove(root: &Key, key: &str) -> Result<bool, RegistryError> {
            let removed = match root.remove_tree(key) {
                Ok(()) => true,
                Err(e) if e.code().0 == NOT_FOUND => false,
                Err(e) => {
                    return Err(RegistryError::Write {
                        action: "remove",
                        key: key.to_owned(),
                        detail: e.to_string(),
                    });
                }
            };
            if let Ok(vendor) = root.open(VENDOR_KEY) {
                let empty = vendor.keys().is_ok_and(|mut k| k.next().is_none())
                    && vendor.values().is_ok_and(|mut v| v.next().is_none());
                drop(vendor);
                if empty {
                    // Another installation may have written to it meanwhile;
                    // leaving an empty key behind is harmless.
                    let _ = root.remove_tree(VENDOR_KEY);
                }
            }
            Ok(removed)
        }
    }

    /// The default installation (the seed's key), if there is one that
    /// can be read.
    pub fn default_installation() -> Option<Installation> {
        Installation::read(windows_registry::LOCAL_MACHINE, super::DEFAULT_KEY)
            .ok()
            .flatten()
    }
}

#[cfg(windows)]
pub use system::default_installation;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_seed_service_uses_the_seed_key_and_others_their_own() {
        assert_eq!(
            installation_key("OpenClawSelfUpgradingLoop"),
            r"SOFTWARE\OpenClaw\SelfUpgradingLoop"
        );
        assert_eq!(
            installation_key("SelfupTest42"),
            r"SOFTWARE\OpenClaw\SelfupTest42"
        );
    }

    #[test]
    fn the_install_date_has_the_seed_format() {
        assert_eq!(
            format_install_date([2025, 3, 7, 9, 5, 0]),
            "2025-03-07 09:05:00"
        );
    }

    /// Writes, reads and removes an installation under HKEY_CURRENT_USER
    /// (the same code as HKEY_LOCAL_MACHINE, without needing an
    /// administrator).
    #[cfg(windows)]
    #[test]
    fn an_installation_round_trips_through_the_registry_and_is_removed() {
        let root = windows_registry::CURRENT_USER;
        let key = format!(r"{VENDOR_KEY}\selfup-unit-{}", std::process::id());
        let installation = Installation {
            install_path: PathBuf::from(r"C:\Program Files\OpenClaw\SelfUpgradingLoop"),
            version: "1.2.3".into(),
            install_date: Installation::now(),
            data_path: PathBuf::from(r"C:\ProgramData\OpenClaw\SelfUpgradingLoop"),
            config_file: Some(PathBuf::from(r"C:\Program Files\OpenClaw\config.yaml")),
            service_name: "SelfupUnit".into(),
        };
        installation.write(root, &key).expect("write");
        assert_eq!(
            Installation::read(root, &key).expect("read"),
            Some(installation.clone())
        );
        let without_config = Installation {
            config_file: None,
            ..installation
        };
        without_config.write(root, &key).expect("rewrite");
        assert_eq!(
            Installation::read(root, &key).expect("read"),
            Some(without_config)
        );
        assert!(Installation::remove(root, &key).expect("remove"));
        assert_eq!(Installation::read(root, &key).expect("read"), None);
        assert!(!Installation::remove(root, &key).expect("remove again"));
    }
}

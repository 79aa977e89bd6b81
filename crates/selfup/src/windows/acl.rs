//! The data directory's permissions: full control for LocalSystem (the
//! account the service runs as) and the Administrators group, inherited by
//! everything below, and nothing inherited from above (so the Users'
//! access `ProgramData` grants does not reach selfup's database, logs and
//! plugins).

use std::io;
use std::path::Path;
use std::ptr::{null, null_mut};

use windows_sys::Win32::Foundation::{ERROR_SUCCESS, LocalFree};
use windows_sys::Win32::Security::Authorization::{
    ConvertSecurityDescriptorToStringSecurityDescriptorW,
    ConvertStringSecurityDescriptorToSecurityDescriptorW, GetNamedSecurityInfoW, SDDL_REVISION_1,
    SE_FILE_OBJECT, SetNamedSecurityInfoW,
};
use windows_sys::Win32::Security::{
    ACL, DACL_SECURITY_INFORMATION, GetSecurityDescriptorDacl, PROTECTED_DACL_SECURITY_INFORMATION,
    PSECURITY_DESCRIPTOR,
};

/// The data directory's DACL in SDDL: protected (`P`), auto-inherited
/// (`AI`); allow (`A`) file-all (`FA`) to objects and containers below
/// (`OICI`) for LocalSystem (`SY`) and the built-in Administrators (`BA`).
pub const DATA_DACL: &str = "D:PAI(A;OICI;FA;;;SY)(A;OICI;FA;;;BA)";

fn wide(text: &str) -> Vec<u16> {
    text.encode_utf16().chain(Some(0)).collect()
}

fn wide_path(path: &Path) -> Vec<u16> {
    use std::os::windows::ffi::OsStrExt;
    path.as_os_str().encode_wide().chain(Some(0)).collect()
}

/// A security descriptor Windows allocated with `LocalAlloc`.
struct LocalDescriptor(PSECURITY_DESCRIPTOR);

impl Drop for LocalDescriptor {
    fn drop(&mut self) {
        // SAFETY: the descriptor was allocated by Windows for us, freed once.
        unsafe { LocalFree(self.0) };
    }
}

/// Gives `path` (a directory) the [`DATA_DACL`]; its contents inherit it.
pub fn restrict_to_system_and_administrators(path: &Path) -> io::Result<()> {
    let sddl = wide(DATA_DACL);
    let mut descriptor: PSECURITY_DESCRIPTOR = null_mut();
    // SAFETY: a NUL-terminated SDDL string; Windows allocates the descriptor.
    if unsafe {
        ConvertStringSecurityDescriptorToSecurityDescriptorW(
            sddl.as_ptr(),
            SDDL_REVISION_1,
            &mut descriptor,
            null_mut(),
        )
    } == 0
    {
        return Err(io::Error::last_os_error());
    }
    let descriptor = LocalDescriptor(descriptor);
    let (mut present, mut defaulted) = (0, 0);
    let mut dacl: *mut ACL = null_mut();
    // SAFETY: a valid descriptor; the DACL pointer points into it.
    if unsafe { GetSecurityDescriptorDacl(descriptor.0, &mut present, &mut dacl, &mut defaulted) }
        == 0
    {
        return Err(io::Error::last_os_error());
    }
    let name = wide_path(path);
    // SAFETY: a NUL-terminated path; the DACL lives in `descriptor`, alive
    // for the call. Only the DACL is set (owner, group and SACL unchanged).
    let status = unsafe {
        SetNamedSecurityInfoW(
            name.as_ptr(),
            SE_FILE_OBJECT,
            DACL_SECURITY_INFORMATION | PROTECTED_DACL_SECURITY_INFORMATION,
            null_mut(),
            null_mut(),
            dacl,
            null(),
        )
    };
    if status != ERROR_SUCCESS {
        return Err(io::Error::from_raw_os_error(status as i32));
    }
    Ok(())
}

/// The DACL of `path` in SDDL (`D:…`).
pub fn dacl_sddl(path: &Path) -> io::Result<String> {
    let name = wide_path(path);
    let mut descriptor: PSECURITY_DESCRIPTOR = null_mut();
    // SAFETY: a NUL-terminated path; Windows allocates the descriptor.
    let status = unsafe {
        GetNamedSecurityInfoW(
            name.as_ptr(),
            SE_FILE_OBJECT,
            DACL_SECURITY_INFORMATION,
            null_mut(),
            null_mut(),
            null_mut(),
            null_mut(),
            &mut descriptor,
        )
    };
    if status != ERROR_SUCCESS {
        return Err(io::Error::from_raw_os_error(status as i32));
    }
    let descriptor = LocalDescriptor(descriptor);
    let mut text: *mut u16 = null_mut();
    let mut len = 0u32;
    // SAFETY: a valid descriptor; Windows allocates the string.
    if unsafe {
        ConvertSecurityDescriptorToStringSecurityDescriptorW(
            descriptor.0,
            SDDL_REVISION_1,
            DACL_SECURITY_INFORMATION,
            &mut text,
            &mut len,
        )
    } == 0
    {
        return Err(io::Error::last_os_error());
    }
    let text = LocalDescriptor(text.cast());
    // SAFETY: `len` characters (with the NUL) at the string Windows allocated.
    let chars = unsafe { std::slice::from_raw_parts(text.0.cast::<u16>(), len as usize) };
    Ok(String::from_utf16_lossy(chars)
        .trim_end_matches('\0')
        .to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Wine keeps no DACLs on files (it maps them to Unix permission bits
    /// and makes one up when asked), so there only setting and reading
    /// are checked, not what is read back.
    fn under_wine() -> bool {
        windows_registry::LOCAL_MACHINE
            .open(r"Software\Wine")
            .is_ok()
    }

    #[test]
    fn the_data_directory_gets_system_and_administrators_full_control_only() {
        let dir = tempfile::tempdir().expect("tempdir");
        restrict_to_system_and_administrators(dir.path()).expect("set the DACL");
        let sddl = dacl_sddl(dir.path()).expect("read the DACL");
        assert!(sddl.starts_with("D:"), "{sddl}");
        if under_wine() {
            return;
        }
        assert!(sddl.starts_with("D:P"), "protected: {sddl}");
        assert!(sddl.contains("(A;OICI;FA;;;SY)"), "{sddl}");
        assert!(sddl.contains("(A;OICI;FA;;;BA)"), "{sddl}");
        assert_eq!(sddl.matches('(').count(), 2, "nothing else: {sddl}");
    }
}

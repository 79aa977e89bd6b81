//! Writing a new file only its owner may read (a secret key): never over
//! an existing file; mode 0600 on Unix, on Windows a protected DACL that
//! grants the user who runs selfup alone full control, set on the handle
//! before a byte is written (the handle is not shared meanwhile, so nobody
//! else can open the file while it still has the directory's permissions).

use std::path::Path;

/// Creates `path` (failing if it exists) readable and writable by its
/// owner only, and writes `bytes` to it.
pub fn write_new_private(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    use std::io::Write;
    let mut file = create_private(path)?;
    file.write_all(bytes)?;
    file.sync_all()
}

#[cfg(unix)]
fn create_private(path: &Path) -> std::io::Result<std::fs::File> {
    use std::os::unix::fs::OpenOptionsExt;
    std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(path)
}

/// The DACL in SDDL for the user `sid`: protected (`P`, nothing
/// inherited), allow (`A`) full file access (`FA`) to that user alone.
#[cfg(windows)]
pub fn owner_only_dacl(sid: &str) -> String {
    format!("D:P(A;;FA;;;{sid})")
}

#[cfg(windows)]
fn create_private(path: &Path) -> std::io::Result<std::fs::File> {
    use std::os::windows::fs::OpenOptionsExt;
    use std::os::windows::io::AsRawHandle;
    use std::ptr::null_mut;

    use windows_sys::Win32::Foundation::{ERROR_SUCCESS, GENERIC_WRITE};
    use windows_sys::Win32::Security::Authorization::{
        ConvertStringSecurityDescriptorToSecurityDescriptorW, SDDL_REVISION_1, SE_FILE_OBJECT,
        SetSecurityInfo,
    };
    use windows_sys::Win32::Security::{
        ACL, DACL_SECURITY_INFORMATION, GetSecurityDescriptorDacl,
        PROTECTED_DACL_SECURITY_INFORMATION,
    };
    use windows_sys::Win32::Storage::FileSystem::WRITE_DAC;

    let sddl: Vec<u16> = owner_only_dacl(&windows::current_user_sid()?)
        .encode_utf16()
        .chain(Some(0))
        .collect();
    let file = std::fs::OpenOptions::new()
        .write(true)
        .access_mode(GENERIC_WRITE | WRITE_DAC)
        .create_new(true)
        .share_mode(0)
        .open(path)?;
    let mut descriptor = null_mut();
    // SAFETY: a NUL-terminated SDDL string; Windows allocates the
    // descriptor, which `Local` frees.
    if unsafe {
        ConvertStringSecurityDescriptorToSecurityDescriptorW(
            sddl.as_ptr(),
            SDDL_REVISION_1,
            &mut descriptor,
            null_mut(),
        )
    } == 0
    {
        return Err(std::io::Error::last_os_error());
    }
    let descriptor = windows::Local(descriptor);
    let (mut present, mut defaulted) = (0, 0);
    let mut dacl: *mut ACL = null_mut();
    // SAFETY: a valid descriptor; the DACL pointer points into it.
    if unsafe { GetSecurityDescriptorDacl(descriptor.0, &mut present, &mut dacl, &mut defaulted) }
        == 0
    {
        return Err(std::io::Error::last_os_error());
    }
    // SAFETY: the file's handle, opened with WRITE_DAC; the DACL lives in
    // `descriptor`, alive for the call. Only the DACL is set.
    let status = unsafe {
        SetSecurityInfo(
            file.as_raw_handle(),
            SE_FILE_OBJECT,
            DACL_SECURITY_INFORMATION | PROTECTED_DACL_SECURITY_INFORMATION,
            null_mut(),
            null_mut(),
            dacl,
            std::ptr::null(),
        )
    };
    if status != ERROR_SUCCESS {
        return Err(std::io::Error::from_raw_os_error(status as i32));
    }
    Ok(file)
}

/// The calling user's SID, and memory Windows allocates.
#[cfg(windows)]
mod windows {
    use std::ffi::c_void;
    use std::ptr::null_mut;

    use windows_sys::Win32::Foundation::{
        CloseHandle, ERROR_INSUFFICIENT_BUFFER, GetLastError, HANDLE, LocalFree,
    };
    use windows_sys::Win32::Security::Authorization::ConvertSidToStringSidW;
    use windows_sys::Win32::Security::{GetTokenInformation, TOKEN_QUERY, TOKEN_USER, TokenUser};
    use windows_sys::Win32::System::Threading::{GetCurrentProcess, OpenProcessToken};

    /// Memory Windows allocated with `LocalAlloc`, freed on drop.
    pub struct Local(pub *mut c_void);

    impl Drop for Local {
        fn drop(&mut self) {
            // SAFETY: allocated by Windows for us, freed once.
            unsafe { LocalFree(self.0) };
        }
    }

    /// A handle, closed on drop.
    struct Handle(HANDLE);

    impl Drop for Handle {
        fn drop(&mut self) {
            // SAFETY: a handle we opened, closed once.
            unsafe { CloseHandle(self.0) };
        }
    }

    /// The SID of the user this process runs as, as a string (`S-1-5-21-…`).
    pub fn current_user_sid() -> std::io::Result<String> {
        let last = std::io::Error::last_os_error;
        let mut token = null_mut();
        // SAFETY: the current process's pseudo handle; Windows fills `token`.
        if unsafe { OpenProcessToken(GetCurrentProcess(), TOKEN_QUERY, &mut token) } == 0 {
            return Err(last());
        }
        let token = Handle(token);
        let mut len = 0u32;
        // SAFETY: asks for the size only (no buffer).
        let sized = unsafe { GetTokenInformation(token.0, TokenUser, null_mut(), 0, &mut len) };
        // SAFETY: reads this thread's last error.
        if sized == 0 && unsafe { GetLastError() } != ERROR_INSUFFICIENT_BUFFER {
            return Err(last());
        }
        // u64s: TOKEN_USER holds pointers, so the buffer is aligned for them.
        let mut buffer = vec![0u64; (len as usize).div_ceil(8)];
        // SAFETY: a buffer of at least `len` bytes, which Windows fills.
        if unsafe {
            GetTokenInformation(
                token.0,
                TokenUser,
                buffer.as_mut_ptr().cast(),
                len,
                &mut len,
            )
        } == 0
        {
            return Err(last());
        }
        // SAFETY: Windows wrote a TOKEN_USER at the start of the buffer.
        let sid = unsafe { (*buffer.as_ptr().cast::<TOKEN_USER>()).User.Sid };
        let mut text = null_mut();
        // SAFETY: the SID lives in `buffer`; Windows allocates the string.
        if unsafe { ConvertSidToStringSidW(sid, &mut text) } == 0 {
            return Err(last());
        }
        let text = Local(text.cast());
        let chars = text.0.cast::<u16>();
        // SAFETY: a NUL-terminated string Windows allocated; read up to the NUL.
        let len = (0..).take_while(|&i| unsafe { *chars.add(i) } != 0).count();
        // SAFETY: `len` characters before the NUL.
        Ok(String::from_utf16_lossy(unsafe {
            std::slice::from_raw_parts(chars, len)
        }))
    }
}

#[cfg(not(any(unix, windows)))]
fn create_private(path: &Path) -> std::io::Result<std::fs::File> {
    std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .open(path)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[cfg(windows)]
    fn under_wine() -> bool {
        windows_registry::LOCAL_MACHINE
            .open(r"Software\Wine")
            .is_ok()
    }

    #[test]
    fn a_private_file_is_new_and_its_owners_alone() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("secret.key");
        write_new_private(&path, b"secret").expect("write");
        assert_eq!(std::fs::read(&path).expect("read back"), b"secret");
        let again = write_new_private(&path, b"other").expect_err("never overwritten");
        assert_eq!(again.kind(), std::io::ErrorKind::AlreadyExists);
        assert_eq!(std::fs::read(&path).expect("unchanged"), b"secret");
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(&path).expect("meta").permissions().mode();
            assert_eq!(mode & 0o777, 0o600);
        }
        #[cfg(windows)]
        {
            let user = windows::current_user_sid().expect("the user's SID");
            let sddl = crate::windows::acl::dacl_sddl(&path).expect("the DACL");
            // Wine keeps no DACL on files (it makes one up from the Unix
            // mode when asked), so there only setting it is checked.
            if !under_wine() {
                assert_eq!(sddl, owner_only_dacl(&user));
            }
        }
    }
}

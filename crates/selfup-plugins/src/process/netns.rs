//! A network namespace of its own for a process plugin (Linux).
//!
//! The child enters it between `fork` and `exec`. With `CAP_SYS_ADMIN`
//! that is `unshare(CLONE_NEWNET)`; without it, `unshare(CLONE_NEWUSER |
//! CLONE_NEWNET)` (unprivileged user namespaces), after which the child
//! writes its own `/proc/self/setgroups` (`deny`), `uid_map` and
//! `gid_map`, mapping only selfup's effective user and group to
//! themselves — the one mapping a process may write for itself (it makes
//! itself dumpable first, or `/proc/self` would belong to root). The
//! process keeps its identity; the capabilities the new user namespace
//! gives it end at `exec` (its user is not root there).
//!
//! Which of the two works (or neither: user namespaces off, a seccomp
//! filter, a container without the privilege) is found out once per
//! selfup process, by a forked child that tries and exits.

use std::ffi::CStr;
use std::io;
use std::sync::OnceLock;

/// How a child enters a network namespace of its own.
#[derive(Debug)]
pub(crate) struct NetNamespace {
    /// The identity maps to write after a new user namespace; `None` when
    /// selfup may create a network namespace by itself.
    user: Option<IdMaps>,
}

/// The contents of `uid_map` and `gid_map`, formatted in the parent.
#[derive(Debug)]
struct IdMaps {
    uid_map: Vec<u8>,
    gid_map: Vec<u8>,
}

/// Which way into a network namespace works on this system.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Entry {
    /// `unshare(CLONE_NEWNET)` alone.
    Privileged,
    /// A user namespace first.
    User,
}

impl NetNamespace {
    /// How this process's children get a network namespace, or `None`
    /// when they cannot (checked once, then remembered).
    pub(crate) fn available() -> Option<Self> {
        static ENTRY: OnceLock<Option<Entry>> = OnceLock::new();
        let entry = (*ENTRY.get_or_init(probe))?;
        Some(Self::new(entry))
    }

    fn new(entry: Entry) -> Self {
        let user = (entry == Entry::User).then(|| {
            // SAFETY: geteuid and getegid cannot fail.
            let (uid, gid) = unsafe { (libc::geteuid(), libc::getegid()) };
            IdMaps {
                uid_map: format!("{uid} {uid} 1\n").into_bytes(),
                gid_map: format!("{gid} {gid} 1\n").into_bytes(),
            }
        });
        Self { user }
    }

    /// Moves the calling process into a new network namespace. Runs in the
    /// child between `fork` and `exec`: only async-signal-safe system
    /// calls, no allocation.
    pub(crate) fn enter(&self) -> io::Result<()> {
        let Some(maps) = &self.user else {
            return unshare(libc::CLONE_NEWNET);
        };
        unshare(libc::CLONE_NEWUSER | libc::CLONE_NEWNET)?;
        // /proc/self of a process that is not dumpable (after a setuid,
        // or made so) belongs to root, and the maps could not be written.
        // `exec` decides dumpability afresh.
        // SAFETY: prctl with integer arguments only.
        if unsafe { libc::prctl(libc::PR_SET_DUMPABLE, 1, 0, 0, 0) } != 0 {
            return Err(io::Error::last_os_error());
        }
        write_file(c"/proc/self/setgroups", b"deny")?;
        write_file(c"/proc/self/uid_map", &maps.uid_map)?;
        write_file(c"/proc/self/gid_map", &maps.gid_map)
    }
}

fn unshare(flags: libc::c_int) -> io::Result<()> {
    // SAFETY: unshare takes integer flags only.
    if unsafe { libc::unshare(flags) } == 0 {
        Ok(())
    } else {
        Err(io::Error::last_os_error())
    }
}

/// Writes `data` to `path` in one `write` (how `/proc` maps must be
/// written). Async-signal-safe.
fn write_file(path: &CStr, data: &[u8]) -> io::Result<()> {
    // SAFETY: a NUL-terminated path; the fd is closed below.
    let fd = unsafe { libc::open(path.as_ptr(), libc::O_WRONLY | libc::O_CLOEXEC) };
    if fd < 0 {
        return Err(io::Error::last_os_error());
    }
    // SAFETY: `data` is valid for `data.len()` bytes.
    let written = unsafe { libc::write(fd, data.as_ptr().cast(), data.len()) };
    let error = io::Error::last_os_error();
    // SAFETY: closing the fd opened above.
    unsafe { libc::close(fd) };
    match usize::try_from(written) {
        Ok(n) if n == data.len() => Ok(()),
        Ok(_) => Err(io::Error::from_raw_os_error(libc::EIO)),
        Err(_) => Err(error),
    }
}

/// Tries both ways in a forked child, which exits at once: 0 for
/// privileged, 2 for a user namespace, 1 for neither.
fn probe() -> Option<Entry> {
    let privileged = NetNamespace::new(Entry::Privileged);
    let user = NetNamespace::new(Entry::User);
    // SAFETY: the child only makes async-signal-safe system calls
    // (unshare, open, write, close) and leaves with _exit.
    let pid = unsafe { libc::fork() };
    if pid == 0 {
        let code = if privileged.enter().is_ok() {
            0
        } else if user.enter().is_ok() {
            2
        } else {
            1
        };
        // SAFETY: ends the forked child without running the parent's
        // exit handlers.
        unsafe { libc::_exit(code) };
    }
    if pid < 0 {
        tracing::warn!(error = %io::Error::last_os_error(), "cannot fork to check for network namespaces");
        return None;
    }
    let mut status = 0;
    loop {
        // SAFETY: waits for the child forked above.
        let rc = unsafe { libc::waitpid(pid, &mut status, 0) };
        if rc == pid {
            break;
        }
        let error = io::Error::last_os_error();
        if rc < 0 && error.kind() != io::ErrorKind::Interrupted {
            tracing::warn!(%error, "cannot wait for the network namespace check");
            return None;
        }
    }
    let entry = match (libc::WIFEXITED(status), libc::WEXITSTATUS(status)) {
        (true, 0) => Some(Entry::Privileged),
        (true, 2) => Some(Entry::User),
        _ => None,
    };
    if entry.is_none() {
        tracing::warn!(
            "this system cannot give a process a network namespace of its own; process plugins without allowed_network_hosts fall back to landlock"
        );
    }
    entry
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A forked child that drops to `nobody` takes the unprivileged way,
    /// and then has no network and the same identity.
    #[test]
    fn an_unprivileged_process_gets_a_network_namespace_through_a_user_namespace() {
        // SAFETY: geteuid cannot fail.
        if unsafe { libc::geteuid() } != 0 {
            eprintln!("not root: cannot drop to another user to test the unprivileged way");
            return;
        }
        // SAFETY: the child makes only async-signal-safe calls before _exit.
        let pid = unsafe { libc::fork() };
        if pid == 0 {
            // SAFETY: as above; every failure exits with its own code.
            unsafe {
                if libc::setgroups(0, std::ptr::null()) != 0
                    || libc::setgid(65534) != 0
                    || libc::setuid(65534) != 0
                {
                    libc::_exit(10);
                }
                if NetNamespace::new(Entry::Privileged).enter().is_ok() {
                    libc::_exit(11);
                }
                if NetNamespace::new(Entry::User).enter().is_err() {
                    // Unprivileged user namespaces are off here.
                    libc::_exit(12);
                }
                if libc::geteuid() != 65534 || libc::getegid() != 65534 {
                    libc::_exit(13);
                }
                let fd = libc::socket(libc::AF_INET, libc::SOCK_STREAM, 0);
                let addr = libc::sockaddr_in {
                    sin_family: libc::AF_INET as libc::sa_family_t,
                    sin_port: 80u16.to_be(),
                    sin_addr: libc::in_addr {
                        s_addr: u32::from_be_bytes([127, 0, 0, 1]).to_be(),
                    },
                    sin_zero: [0; 8],
                };
                let rc = libc::connect(
                    fd,
                    (&raw const addr).cast(),
                    std::mem::size_of_val(&addr) as libc::socklen_t,
                );
                let unreachable =
                    rc != 0 && io::Error::last_os_error().raw_os_error() == Some(libc::ENETUNREACH);
                libc::_exit(if unreachable { 0 } else { 14 });
            }
        }
        assert!(pid > 0, "fork failed");
        let mut status = 0;
        // SAFETY: waits for the child forked above.
        assert_eq!(unsafe { libc::waitpid(pid, &mut status, 0) }, pid);
        assert!(libc::WIFEXITED(status), "child status {status}");
        match libc::WEXITSTATUS(status) {
            0 => {}
            12 => eprintln!("unprivileged user namespaces are off on this system"),
            code => panic!("the unprivileged way failed at step {code}"),
        }
    }
}

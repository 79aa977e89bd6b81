//! OS limits of a process plugin, and what a started process runs under.
//!
//! On Linux they are prepared in the parent and applied in the child
//! between `fork` and `exec`: `RLIMIT_AS` from `resource_limits.max_memory_mb`,
//! `RLIMIT_CPU` (CPU seconds over the process's life, from the host's
//! configuration; a process past it is killed by the kernel and started
//! again), `RLIMIT_NOFILE` from `max_file_descriptors`, `PR_SET_NO_NEW_PRIVS`,
//! and — when the kernel has landlock and `sandbox_enabled` is true — a
//! landlock ruleset (best effort up to ABI 5): read and execute under the package directory, the
//! interpreter's prefixes and the system directories (`/usr`, `/lib`,
//! `/lib64`, `/bin`, `/etc`, `/proc`); read and write under the plugin's
//! private data directory and its `allowed_file_paths`, and on `/dev/null`,
//! `/dev/zero` and `/dev/urandom`.
//! Everything else in the file system is out of reach.
//!
//! The ruleset is built in the parent (that allocates); the child only
//! makes async-signal-safe system calls. No parent-death signal: Linux
//! sends it when the *thread* that forked exits, which a runtime's pool
//! threads do; a server whose selfup died sees its stdin close instead.
//!
//! On Windows the process runs in a job object of its own (see
//! `process/job.rs`), which [`JobLimits`] describes.

use serde::Serialize;

/// Whether landlock confines the process.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case", tag = "state")]
pub enum LandlockStatus {
    /// Enforced, at this ABI version of the kernel.
    Enforced {
        /// The kernel's landlock ABI version.
        abi: i32,
    },
    /// The kernel has no landlock (or it is disabled).
    Unsupported,
    /// The manifest turned the sandbox off (`sandbox_enabled: false`).
    Disabled,
}

/// The limits a started process runs under, for health reports and logs.
/// Serialized as the platform's own record (no tag).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(untagged)]
pub enum AppliedLimits {
    /// Linux: resource limits, no new privileges, landlock.
    Linux(LinuxLimits),
    /// Windows: the job object the process runs in.
    Windows(JobLimits),
}

/// The limits of a process on Linux.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct LinuxLimits {
    /// `RLIMIT_AS`, in bytes.
    pub address_space_bytes: u64,
    /// `RLIMIT_CPU` (soft), in seconds.
    pub cpu_seconds: u64,
    /// `RLIMIT_NOFILE`.
    pub open_files: u64,
    /// Whether `PR_SET_NO_NEW_PRIVS` is set.
    pub no_new_privs: bool,
    /// The landlock confinement.
    pub landlock: LandlockStatus,
}

/// The job object a process runs in on Windows: the limits selfup set on
/// it. Every process the server starts is in the same job.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct JobLimits {
    /// `JOB_OBJECT_LIMIT_KILL_ON_JOB_CLOSE`: the whole process tree ends
    /// when selfup closes the job (or exits).
    pub kill_on_job_close: bool,
    /// `JOB_OBJECT_LIMIT_DIE_ON_UNHANDLED_EXCEPTION`: a crash ends the
    /// process at once (no error-reporting dialog keeps it alive).
    pub die_on_unhandled_exception: bool,
    /// `JOB_OBJECT_LIMIT_PROCESS_MEMORY`: committed memory of each process
    /// in the job, in bytes (`max_memory_mb`).
    pub process_memory_bytes: u64,
    /// `JOB_OBJECT_LIMIT_ACTIVE_PROCESS`: processes alive in the job at
    /// once, the server included.
    pub active_processes: u32,
    /// `JOB_OBJECT_LIMIT_PROCESS_TIME`: user-mode CPU seconds of each
    /// process over its life.
    pub cpu_seconds: u64,
    /// The hard CPU rate cap from `max_cpu_percent`.
    pub cpu_rate: CpuRateStatus,
    /// Whether the file system is confined: always `false` — a job object
    /// limits resources, not what the process may open; the process can
    /// reach whatever selfup's account can.
    pub file_system_confined: bool,
}

/// Whether the job's CPU rate is capped.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case", tag = "state")]
pub enum CpuRateStatus {
    /// A hard cap (`JOB_OBJECT_CPU_RATE_CONTROL_HARD_CAP`).
    Enforced {
        /// The job's `CpuRate`: hundredths of a percent of all the
        /// machine's processors (`max_cpu_percent` of one processor).
        cpu_rate: u32,
    },
    /// The system refused CPU rate control (Windows before 8, or Wine);
    /// the process runs without the cap.
    Unsupported {
        /// The Windows error code of the refusal.
        error: i32,
    },
}

#[cfg(target_os = "linux")]
pub(crate) use linux::prepare;

#[cfg(target_os = "linux")]
mod linux {
    use std::os::fd::{AsRawFd, OwnedFd};
    use std::path::{Path, PathBuf};

    use landlock::{
        ABI, Access, AccessFs, Ruleset, RulesetAttr, RulesetCreatedAttr, path_beneath_rules,
    };
    use selfup_core::manifest::PluginManifest;

    use super::{AppliedLimits, LandlockStatus, LinuxLimits};
    use crate::process::ProcessError;

    /// System directories every process may read and execute from.
    const SYSTEM_READ: [&str; 6] = ["/usr", "/lib", "/lib64", "/bin", "/etc", "/proc"];

    /// Device files every process may read and write.
    const DEVICES: [&str; 3] = ["/dev/null", "/dev/zero", "/dev/urandom"];

    /// What the child applies to itself before `exec`.
    #[derive(Debug)]
    pub(crate) struct ChildLimits {
        address_space: u64,
        cpu_seconds: u64,
        open_files: u64,
        ruleset: Option<OwnedFd>,
    }

    /// Prepares the limits for one start of `manifest`'s process.
    pub(crate) fn prepare(
        manifest: &PluginManifest,
        package_dir: &Path,
        data_dir: &Path,
        interpreter_prefixes: &[PathBuf],
        cpu_seconds: u64,
    ) -> Result<(ChildLimits, AppliedLimits), ProcessError> {
        let limits = &manifest.resource_limits;
        let address_space = limits.max_memory_mb.saturating_mul(1024 * 1024);
        let (ruleset, landlock) = if manifest.security_profile.sandbox_enabled {
            let mut read: Vec<PathBuf> = SYSTEM_READ.iter().map(PathBuf::from).collect();
            read.push(package_dir.to_path_buf());
            read.extend(interpreter_prefixes.iter().cloned());
            let mut write: Vec<PathBuf> = DEVICES.iter().map(PathBuf::from).collect();
            write.push(data_dir.to_path_buf());
            for path in &manifest.security_profile.allowed_file_paths {
                let path = Path::new(path);
                write.push(if path.is_absolute() {
                    path.to_path_buf()
                } else {
                    data_dir.join(path)
                });
            }
            ruleset(read, write)?
        } else {
            (None, LandlockStatus::Disabled)
        };
        let applied = AppliedLimits::Linux(LinuxLimits {
            address_space_bytes: address_space,
            cpu_seconds,
            open_files: limits.max_file_descriptors,
            no_new_privs: true,
            landlock,
        });
        Ok((
            ChildLimits {
                address_space,
                cpu_seconds,
                open_files: limits.max_file_descriptors,
                ruleset,
            },
            applied,
        ))
    }

    /// The kernel's landlock ABI version, or `None` without landlock.
    fn kernel_abi() -> Option<i32> {
        // SAFETY: landlock_create_ruleset(NULL, 0, LANDLOCK_CREATE_RULESET_VERSION)
        // only returns a number; it reads no memory.
        let v = unsafe {
            libc::syscall(
                libc::SYS_landlock_create_ruleset,
                std::ptr::null::<u8>(),
                0usize,
                1u32,
            )
        };
        (v > 0).then_some(v as i32)
    }

    fn ruleset(
        read: Vec<PathBuf>,
        write: Vec<PathBuf>,
    ) -> Result<(Option<OwnedFd>, LandlockStatus), ProcessError> {
        let Some(abi_version) = kernel_abi() else {
            return Ok((None, LandlockStatus::Unsupported));
        };
        let abi = ABI::V5;
        let sandbox = |e: &dyn std::fmt::Display| ProcessError::Sandbox(e.to_string());
        let existing = |paths: Vec<PathBuf>| -> Vec<PathBuf> {
            paths.into_iter().filter(|p| p.exists()).collect()
        };
        let created = Ruleset::default()
            .handle_access(AccessFs::from_all(abi))
            .map_err(|e| sandbox(&e))?
            .create()
            .map_err(|e| sandbox(&e))?
            .add_rules(path_beneath_rules(existing(read), AccessFs::from_read(abi)))
            .map_err(|e| sandbox(&e))?
            .add_rules(path_beneath_rules(existing(write), AccessFs::from_all(abi)))
            .map_err(|e| sandbox(&e))?;
        let fd: Option<OwnedFd> = created.into();
        Ok(match fd {
            Some(fd) => (Some(fd), LandlockStatus::Enforced { abi: abi_version }),
            None => (None, LandlockStatus::Unsupported),
        })
    }

    impl ChildLimits {
        /// Applies the limits to the calling process. Runs in the child
        /// between `fork` and `exec`: only async-signal-safe system calls,
        /// no allocation.
        pub(crate) fn apply_in_child(&self) -> std::io::Result<()> {
            let check = |rc: libc::c_long| {
                if rc < 0 {
                    Err(std::io::Error::last_os_error())
                } else {
                    Ok(())
                }
            };
            let set = |resource, soft: u64, hard: u64| {
                let limit = libc::rlimit {
                    rlim_cur: soft as libc::rlim_t,
                    rlim_max: hard as libc::rlim_t,
                };
                // SAFETY: setrlimit reads the struct we pass.
                check(unsafe { libc::setrlimit(resource, &limit) } as libc::c_long)
            };
            set(libc::RLIMIT_AS, self.address_space, self.address_space)?;
            set(
                libc::RLIMIT_CPU,
                self.cpu_seconds,
                self.cpu_seconds.saturating_add(5),
            )?;
            set(libc::RLIMIT_NOFILE, self.open_files, self.open_files)?;
            // SAFETY: prctl with integer arguments only.
            check(unsafe { libc::prctl(libc::PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) } as libc::c_long)?;
            if let Some(fd) = &self.ruleset {
                // SAFETY: landlock_restrict_self(fd, 0) on a ruleset fd we own.
                check(unsafe {
                    libc::syscall(libc::SYS_landlock_restrict_self, fd.as_raw_fd(), 0u32)
                })?;
            }
            Ok(())
        }
    }
}

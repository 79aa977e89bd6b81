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
//! The network, when `sandbox_enabled` is true (see [`NetworkStatus`]):
//! with no `allowed_network_hosts` the process gets a network namespace of
//! its own (`unshare(CLONE_NEWNET)`; without the privilege for that, a
//! user namespace first, mapping only selfup's own user and group), whose
//! one interface is a loopback that is down: nothing to connect to, not
//! even `127.0.0.1`. Where namespaces cannot be made (checked once per
//! selfup process, in a short-lived forked child), landlock (ABI 4 or
//! later) refuses every TCP bind and connect instead. When every allowed
//! host names a port (`host:port`), landlock lets TCP connect only to
//! those ports — to any host: host names are not filtered. Otherwise the
//! network is open. A start never fails for want of a mechanism; the
//! health report says which one applied.
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
    /// How the network is restricted.
    pub network: NetworkStatus,
}

/// How a process's network is restricted. Serialized as a string:
/// `"namespace"`, `"landlock_tcp"`, `"landlock_tcp_ports"` or `"none"`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum NetworkStatus {
    /// A network namespace of its own (Linux): no interface but a loopback
    /// that is down, so no connection and no listening socket reaches
    /// anything outside it.
    Namespace,
    /// Landlock refuses every TCP `bind` and `connect` (Linux, landlock
    /// ABI 4 or later). UDP and other socket types are not restricted.
    LandlockTcp,
    /// Landlock allows TCP `connect` only to the ports named in
    /// `allowed_network_hosts` and refuses TCP `bind`. The host part is
    /// not enforced: any address on those ports is reachable. UDP and
    /// other socket types are not restricted.
    LandlockTcpPorts,
    /// The network is not restricted: the sandbox is off, the allowed
    /// hosts do not all name a port, no mechanism is available, or
    /// (Windows) a job object does not limit the network.
    None,
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
    /// How the network is restricted: always [`NetworkStatus::None`] — a
    /// job object does not limit the network.
    pub network: NetworkStatus,
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
        ABI, Access, AccessFs, AccessNet, NetPort, Ruleset, RulesetAttr, RulesetCreatedAttr,
        path_beneath_rules,
    };
    use selfup_core::manifest::PluginManifest;

    use super::{AppliedLimits, LandlockStatus, LinuxLimits, NetworkStatus};
    use crate::process::ProcessError;
    use crate::process::netns::NetNamespace;

    /// System directories every process may read and execute from.
    const SYSTEM_READ: [&str; 6] = ["/usr", "/lib", "/lib64", "/bin", "/etc", "/proc"];

    /// Device files every process may read and write.
    const DEVICES: [&str; 3] = ["/dev/null", "/dev/zero", "/dev/urandom"];

    /// The first landlock ABI that restricts TCP bind and connect.
    const LANDLOCK_NET_ABI: i32 = 4;

    /// What the child applies to itself before `exec`.
    #[derive(Debug)]
    pub(crate) struct ChildLimits {
        address_space: u64,
        cpu_seconds: u64,
        open_files: u64,
        namespace: Option<NetNamespace>,
        ruleset: Option<OwnedFd>,
    }

    /// How the network is to be restricted, before the ruleset is made.
    enum NetworkPlan {
        /// A network namespace of its own.
        Namespace(NetNamespace),
        /// Landlock: TCP connect only to these ports (none: no TCP at all).
        Landlock(Vec<u16>),
        /// Not restricted.
        Open,
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
        let security = &manifest.security_profile;
        let address_space = limits.max_memory_mb.saturating_mul(1024 * 1024);
        let abi = kernel_abi();
        let plan = if security.sandbox_enabled {
            network_plan(&security.allowed_network_hosts, abi)
        } else {
            NetworkPlan::Open
        };
        let (namespace, net_ports, mut network) = match plan {
            NetworkPlan::Namespace(ns) => (Some(ns), None, NetworkStatus::Namespace),
            NetworkPlan::Landlock(ports) => {
                let status = if ports.is_empty() {
                    NetworkStatus::LandlockTcp
                } else {
                    NetworkStatus::LandlockTcpPorts
                };
                (None, Some(ports), status)
            }
            NetworkPlan::Open => (None, None, NetworkStatus::None),
        };
        let (ruleset, landlock) = if security.sandbox_enabled {
            let mut read: Vec<PathBuf> = SYSTEM_READ.iter().map(PathBuf::from).collect();
            read.push(package_dir.to_path_buf());
            read.extend(interpreter_prefixes.iter().cloned());
            let mut write: Vec<PathBuf> = DEVICES.iter().map(PathBuf::from).collect();
            write.push(data_dir.to_path_buf());
            for path in &security.allowed_file_paths {
                let path = Path::new(path);
                write.push(if path.is_absolute() {
                    path.to_path_buf()
                } else {
                    data_dir.join(path)
                });
            }
            ruleset(abi, read, write, net_ports.as_deref())?
        } else {
            (None, LandlockStatus::Disabled)
        };
        if net_ports.is_some() && ruleset.is_none() {
            network = NetworkStatus::None;
        }
        if network == NetworkStatus::None && security.sandbox_enabled {
            tracing::warn!(
                plugin = %manifest.name,
                "the process plugin's network is not restricted"
            );
        }
        let applied = AppliedLimits::Linux(LinuxLimits {
            address_space_bytes: address_space,
            cpu_seconds,
            open_files: limits.max_file_descriptors,
            no_new_privs: true,
            landlock,
            network,
        });
        Ok((
            ChildLimits {
                address_space,
                cpu_seconds,
                open_files: limits.max_file_descriptors,
                namespace,
                ruleset,
            },
            applied,
        ))
    }

    /// How to restrict the network of a process that may reach
    /// `allowed_hosts`, on a kernel with landlock `abi`.
    fn network_plan(allowed_hosts: &[String], abi: Option<i32>) -> NetworkPlan {
        let landlock_net = abi.is_some_and(|abi| abi >= LANDLOCK_NET_ABI);
        if allowed_hosts.is_empty() {
            if let Some(ns) = NetNamespace::available() {
                return NetworkPlan::Namespace(ns);
            }
            return if landlock_net {
                NetworkPlan::Landlock(Vec::new())
            } else {
                NetworkPlan::Open
            };
        }
        match allowed_hosts
            .iter()
            .map(|host| host_port(host))
            .collect::<Option<Vec<u16>>>()
        {
            Some(mut ports) if landlock_net => {
                ports.sort_unstable();
                ports.dedup();
                NetworkPlan::Landlock(ports)
            }
            _ => NetworkPlan::Open,
        }
    }

    /// The port of a `host:port` entry (`[v6 address]:port` too), or
    /// `None` for a host without one. Port 0 is not a port.
    pub(super) fn host_port(entry: &str) -> Option<u16> {
        let (host, port) = entry.rsplit_once(':')?;
        let host_ok = if let Some(inner) = host.strip_prefix('[') {
            inner.strip_suffix(']').is_some_and(|h| !h.is_empty())
        } else {
            !host.is_empty() && !host.contains(':')
        };
        let port: u16 = port.parse().ok()?;
        (host_ok && port != 0).then_some(port)
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

    /// The landlock ruleset: file access, and with `net_ports` TCP bind
    /// refused and TCP connect allowed only to those ports. Only called
    /// with `net_ports` on a kernel with landlock ABI 4 or later.
    fn ruleset(
        abi_version: Option<i32>,
        read: Vec<PathBuf>,
        write: Vec<PathBuf>,
        net_ports: Option<&[u16]>,
    ) -> Result<(Option<OwnedFd>, LandlockStatus), ProcessError> {
        let Some(abi_version) = abi_version else {
            return Ok((None, LandlockStatus::Unsupported));
        };
        let abi = ABI::V5;
        let sandbox = |e: &dyn std::fmt::Display| ProcessError::Sandbox(e.to_string());
        let existing = |paths: Vec<PathBuf>| -> Vec<PathBuf> {
            paths.into_iter().filter(|p| p.exists()).collect()
        };
        let mut ruleset = Ruleset::default()
            .handle_access(AccessFs::from_all(abi))
            .map_err(|e| sandbox(&e))?;
        if net_ports.is_some() {
            ruleset = ruleset
                .handle_access(AccessNet::from_all(abi))
                .map_err(|e| sandbox(&e))?;
        }
        let connect_rules = net_ports.unwrap_or_default().iter().map(|&port| {
            Ok::<_, landlock::RulesetError>(NetPort::new(port, AccessNet::ConnectTcp))
        });
        let created = ruleset
            .create()
            .map_err(|e| sandbox(&e))?
            .add_rules(path_beneath_rules(existing(read), AccessFs::from_read(abi)))
            .map_err(|e| sandbox(&e))?
            .add_rules(path_beneath_rules(existing(write), AccessFs::from_all(abi)))
            .map_err(|e| sandbox(&e))?
            .add_rules(connect_rules)
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
            // First: it writes /proc/self maps, which landlock would refuse
            // and a low RLIMIT_NOFILE could prevent.
            if let Some(namespace) = &self.namespace {
                namespace.enter()?;
            }
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

#[cfg(all(test, target_os = "linux"))]
mod tests {
    use super::linux::host_port;

    #[test]
    fn only_entries_with_a_port_name_one() {
        assert_eq!(host_port("api.example.com:443"), Some(443));
        assert_eq!(host_port("127.0.0.1:8080"), Some(8080));
        assert_eq!(host_port("[::1]:53"), Some(53));
        for entry in [
            "api.example.com",
            "::1",
            "[::1]",
            ":443",
            "host:0",
            "host:65536",
            "host:https",
            "[]:1",
        ] {
            assert_eq!(host_port(entry), None, "{entry}");
        }
    }
}

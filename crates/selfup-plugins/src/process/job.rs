//! Windows: a plugin process in a job object of its own.
//!
//! [`spawn`] creates the job and sets its limits, starts the process
//! suspended (`CREATE_SUSPENDED`, and `CREATE_NO_WINDOW` so a service
//! opens no console), assigns it to the job and only then resumes its one
//! thread — found with a Toolhelp32 thread snapshot, the documented way to
//! reach a thread the standard library does not hand out — so nothing the
//! process does runs outside the job, and every process it starts is in
//! the job too (no breakaway is allowed).
//!
//! The limits: `JOB_OBJECT_LIMIT_KILL_ON_JOB_CLOSE` (closing selfup's
//! handle, or selfup exiting, ends the whole tree),
//! `JOB_OBJECT_LIMIT_DIE_ON_UNHANDLED_EXCEPTION`,
//! `JOB_OBJECT_LIMIT_PROCESS_MEMORY` (committed memory per process, from
//! `max_memory_mb`), `JOB_OBJECT_LIMIT_ACTIVE_PROCESS` (the host's
//! `max_processes`), `JOB_OBJECT_LIMIT_PROCESS_TIME` (user-mode CPU
//! seconds per process life, from the host's configuration) and a hard
//! CPU rate cap (`max_cpu_percent` of one processor, as a share of all of
//! them). The cap is best effort: a system without CPU rate control
//! (before Windows 8, or Wine) runs the process without it, and the
//! applied limits say so. A job object does not confine the file system.

use std::io;
use std::os::windows::io::{AsRawHandle, FromRawHandle, OwnedHandle};

use tokio::process::{Child, ChildStdin, ChildStdout, Command};
use windows_sys::Win32::Foundation::{FILETIME, INVALID_HANDLE_VALUE, WAIT_OBJECT_0};
use windows_sys::Win32::System::Diagnostics::ToolHelp::{
    CreateToolhelp32Snapshot, TH32CS_SNAPTHREAD, THREADENTRY32, Thread32First, Thread32Next,
};
use windows_sys::Win32::System::JobObjects::{
    AssignProcessToJobObject, CreateJobObjectW, JOB_OBJECT_CPU_RATE_CONTROL_ENABLE,
    JOB_OBJECT_CPU_RATE_CONTROL_HARD_CAP, JOB_OBJECT_LIMIT_ACTIVE_PROCESS,
    JOB_OBJECT_LIMIT_DIE_ON_UNHANDLED_EXCEPTION, JOB_OBJECT_LIMIT_KILL_ON_JOB_CLOSE,
    JOB_OBJECT_LIMIT_PROCESS_MEMORY, JOB_OBJECT_LIMIT_PROCESS_TIME,
    JOBOBJECT_CPU_RATE_CONTROL_INFORMATION, JOBOBJECT_EXTENDED_LIMIT_INFORMATION,
    JobObjectCpuRateControlInformation, JobObjectExtendedLimitInformation, SetInformationJobObject,
    TerminateJobObject,
};
use windows_sys::Win32::System::ProcessStatus::{K32GetProcessMemoryInfo, PROCESS_MEMORY_COUNTERS};
use windows_sys::Win32::System::Threading::{
    ALL_PROCESSOR_GROUPS, CREATE_NO_WINDOW, CREATE_SUSPENDED, GetActiveProcessorCount,
    GetProcessTimes, OpenThread, ResumeThread, THREAD_SUSPEND_RESUME, WaitForSingleObject,
};

use super::ProcessError;
use super::limits::{CpuRateStatus, JobLimits, NetworkStatus};

/// The exit code of processes ended by [`JobProcess::terminate`].
const TERMINATED: u32 = 1;

/// What the job allows, from the manifest and the host's configuration.
#[derive(Debug, Clone, Copy)]
pub(crate) struct JobSettings {
    /// Committed memory per process, in bytes.
    pub process_memory_bytes: u64,
    /// Processes alive in the job at once.
    pub active_processes: u32,
    /// User-mode CPU seconds per process life.
    pub cpu_seconds: u64,
    /// Share of one processor, in percent.
    pub max_cpu_percent: f64,
}

/// A started plugin process and the job it runs in. Dropping it ends the
/// process tree (the job is closed with `KILL_ON_JOB_CLOSE`).
#[derive(Debug)]
pub(crate) struct JobProcess {
    job: OwnedHandle,
    child: Child,
}

/// A process [`spawn`] started: the process, its pipes, the limits set.
pub(crate) struct Spawned {
    /// The process and its job.
    pub process: JobProcess,
    /// The server's standard input.
    pub stdin: ChildStdin,
    /// The server's standard output.
    pub stdout: ChildStdout,
    /// The limits the job was given.
    pub limits: JobLimits,
}

/// Starts `command` (program, arguments, environment and directory set)
/// in a new job with `settings`, its standard input and output piped and
/// its standard error discarded.
pub(crate) fn spawn(mut command: Command, settings: JobSettings) -> Result<Spawned, ProcessError> {
    let (job, limits) = create_job(settings)?;
    command
        .creation_flags(CREATE_SUSPENDED | CREATE_NO_WINDOW)
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::null())
        .kill_on_drop(true);
    let program = std::path::PathBuf::from(command.as_std().get_program());
    let mut child = command.spawn().map_err(|source| ProcessError::Spawn {
        program: program.clone(),
        source,
    })?;
    let sandbox = |what: &str, e: io::Error| ProcessError::Sandbox(format!("{what}: {e}"));
    let Some(handle) = child.raw_handle() else {
        return Err(ProcessError::Sandbox(
            "the process was gone before it could be put in its job".into(),
        ));
    };
    // SAFETY: both handles are valid and owned for the call.
    if unsafe { AssignProcessToJobObject(job.as_raw_handle(), handle) } == 0 {
        let e = io::Error::last_os_error();
        let _ = child.start_kill();
        return Err(sandbox("AssignProcessToJobObject", e));
    }
    let mut process = JobProcess { job, child };
    let Some(pid) = process.child.id() else {
        return Err(ProcessError::Sandbox(
            "the process has no id after it was put in its job".into(),
        ));
    };
    // Dropping `process` on error ends the suspended process with its job.
    resume_threads(pid).map_err(|e| sandbox("cannot resume the process", e))?;
    let (Some(stdin), Some(stdout)) = (process.child.stdin.take(), process.child.stdout.take())
    else {
        return Err(ProcessError::Sandbox(
            "the process's standard input or output was not piped".into(),
        ));
    };
    Ok(Spawned {
        process,
        stdin,
        stdout,
        limits,
    })
}

/// A new job with `settings`' limits, and the limits as applied.
fn create_job(settings: JobSettings) -> Result<(OwnedHandle, JobLimits), ProcessError> {
    let failed = |what: &str| {
        ProcessError::Sandbox(format!(
            "{what} failed: {}; selfup needs job objects to run process plugins on Windows",
            io::Error::last_os_error()
        ))
    };
    // SAFETY: no security attributes and no name: both may be null.
    let raw = unsafe { CreateJobObjectW(std::ptr::null(), std::ptr::null()) };
    if raw.is_null() {
        return Err(failed("CreateJobObjectW"));
    }
    // SAFETY: a fresh handle that nothing else owns.
    let job = unsafe { OwnedHandle::from_raw_handle(raw) };
    let mut info = JOBOBJECT_EXTENDED_LIMIT_INFORMATION::default();
    info.BasicLimitInformation.LimitFlags = JOB_OBJECT_LIMIT_KILL_ON_JOB_CLOSE
        | JOB_OBJECT_LIMIT_DIE_ON_UNHANDLED_EXCEPTION
        | JOB_OBJECT_LIMIT_PROCESS_MEMORY
        | JOB_OBJECT_LIMIT_ACTIVE_PROCESS
        | JOB_OBJECT_LIMIT_PROCESS_TIME;
    info.ProcessMemoryLimit = usize::try_from(settings.process_memory_bytes).unwrap_or(usize::MAX);
    info.BasicLimitInformation.ActiveProcessLimit = settings.active_processes.max(1);
    // In 100-nanosecond units.
    info.BasicLimitInformation.PerProcessUserTimeLimit = i64::try_from(settings.cpu_seconds)
        .unwrap_or(i64::MAX / 10_000_000)
        .saturating_mul(10_000_000);
    // SAFETY: the struct is the documented one for this class, with its size.
    let set = unsafe {
        SetInformationJobObject(
            job.as_raw_handle(),
            JobObjectExtendedLimitInformation,
            (&raw const info).cast(),
            size_of_u32::<JOBOBJECT_EXTENDED_LIMIT_INFORMATION>(),
        )
    };
    if set == 0 {
        return Err(failed("SetInformationJobObject (limits)"));
    }
    let cpu_rate = cpu_rate(settings.max_cpu_percent, processors());
    let mut rate = JOBOBJECT_CPU_RATE_CONTROL_INFORMATION {
        ControlFlags: JOB_OBJECT_CPU_RATE_CONTROL_ENABLE | JOB_OBJECT_CPU_RATE_CONTROL_HARD_CAP,
        ..Default::default()
    };
    rate.Anonymous.CpuRate = cpu_rate;
    // SAFETY: the struct is the documented one for this class, with its size.
    let capped = unsafe {
        SetInformationJobObject(
            job.as_raw_handle(),
            JobObjectCpuRateControlInformation,
            (&raw const rate).cast(),
            size_of_u32::<JOBOBJECT_CPU_RATE_CONTROL_INFORMATION>(),
        )
    };
    let cpu_rate = if capped == 0 {
        let error = io::Error::last_os_error();
        tracing::warn!(%error, "this system has no job CPU rate control: the plugin process runs without its max_cpu_percent cap");
        CpuRateStatus::Unsupported {
            error: error.raw_os_error().unwrap_or(0),
        }
    } else {
        CpuRateStatus::Enforced { cpu_rate }
    };
    let limits = JobLimits {
        kill_on_job_close: true,
        die_on_unhandled_exception: true,
        process_memory_bytes: settings.process_memory_bytes,
        active_processes: info.BasicLimitInformation.ActiveProcessLimit,
        cpu_seconds: settings.cpu_seconds,
        cpu_rate,
        file_system_confined: false,
        network: NetworkStatus::None,
    };
    Ok((job, limits))
}

/// The job's `CpuRate` for `percent` of one of `processors`: hundredths
/// of a percent of all of them, at least 1.
fn cpu_rate(percent: f64, processors: u32) -> u32 {
    let rate = (percent * 100.0 / f64::from(processors.max(1))).round();
    // In range before the cast: 1..=10000.
    rate.clamp(1.0, 10_000.0) as u32
}

/// The machine's logical processors, in all processor groups.
fn processors() -> u32 {
    // SAFETY: no pointers; 0 on failure.
    let n = unsafe { GetActiveProcessorCount(ALL_PROCESSOR_GROUPS) };
    if n > 0 {
        n
    } else {
        std::thread::available_parallelism().map_or(1, |n| n.get() as u32)
    }
}

fn size_of_u32<T>() -> u32 {
    u32::try_from(std::mem::size_of::<T>()).unwrap_or(u32::MAX)
}

/// Resumes the suspended threads of process `pid` (a process started with
/// `CREATE_SUSPENDED` has one).
fn resume_threads(pid: u32) -> io::Result<()> {
    // SAFETY: no pointers; INVALID_HANDLE_VALUE on failure.
    let raw = unsafe { CreateToolhelp32Snapshot(TH32CS_SNAPTHREAD, 0) };
    if raw == INVALID_HANDLE_VALUE {
        return Err(io::Error::last_os_error());
    }
    // SAFETY: a fresh handle that nothing else owns.
    let snapshot = unsafe { OwnedHandle::from_raw_handle(raw) };
    let mut entry = THREADENTRY32 {
        dwSize: size_of_u32::<THREADENTRY32>(),
        ..Default::default()
    };
    let mut resumed = 0;
    // SAFETY: `entry` is a THREADENTRY32 with its size set, as required.
    let mut more = unsafe { Thread32First(snapshot.as_raw_handle(), &mut entry) } != 0;
    while more {
        if entry.th32OwnerProcessID == pid {
            // SAFETY: no pointers; null on failure.
            let thread = unsafe { OpenThread(THREAD_SUSPEND_RESUME, 0, entry.th32ThreadID) };
            if thread.is_null() {
                return Err(io::Error::last_os_error());
            }
            // SAFETY: a fresh handle that nothing else owns.
            let thread = unsafe { OwnedHandle::from_raw_handle(thread) };
            // SAFETY: a valid thread handle with THREAD_SUSPEND_RESUME.
            if unsafe { ResumeThread(thread.as_raw_handle()) } == u32::MAX {
                return Err(io::Error::last_os_error());
            }
            resumed += 1;
        }
        // SAFETY: as for Thread32First.
        more = unsafe { Thread32Next(snapshot.as_raw_handle(), &mut entry) } != 0;
    }
    if resumed == 0 {
        return Err(io::Error::other(format!(
            "no thread of process {pid} was found to resume"
        )));
    }
    Ok(())
}

impl JobProcess {
    /// The server process's id.
    pub(crate) fn pid(&self) -> u32 {
        self.child.id().unwrap_or(0)
    }

    /// Whether the server process has exited (its children may live on,
    /// holding its standard output open).
    pub(crate) fn has_exited(&self) -> bool {
        let Some(handle) = self.child.raw_handle() else {
            return true;
        };
        // SAFETY: a valid process handle; a zero timeout only polls.
        unsafe { WaitForSingleObject(handle, 0) == WAIT_OBJECT_0 }
    }

    /// Ends every process in the job (the server and all it started).
    pub(crate) fn terminate(&self) {
        // SAFETY: a valid job handle we own.
        unsafe {
            TerminateJobObject(self.job.as_raw_handle(), TERMINATED);
        }
    }

    /// The server process's user and kernel CPU time so far, in microseconds.
    pub(crate) fn cpu_us(&self) -> u64 {
        let Some(handle) = self.child.raw_handle() else {
            return 0;
        };
        let mut times = [FILETIME::default(); 4];
        let [created, exited, kernel, user] = &mut times;
        // SAFETY: a valid process handle and four FILETIMEs to fill.
        if unsafe { GetProcessTimes(handle, created, exited, kernel, user) } == 0 {
            return 0;
        }
        let ticks = |t: &FILETIME| (u64::from(t.dwHighDateTime) << 32) | u64::from(t.dwLowDateTime);
        (ticks(kernel) + ticks(user)) / 10
    }

    /// The server process's peak working set, in bytes.
    pub(crate) fn peak_memory_bytes(&self) -> u64 {
        let Some(handle) = self.child.raw_handle() else {
            return 0;
        };
        let mut counters = PROCESS_MEMORY_COUNTERS {
            cb: size_of_u32::<PROCESS_MEMORY_COUNTERS>(),
            ..Default::default()
        };
        // SAFETY: a valid process handle and a struct with its size set.
        if unsafe { K32GetProcessMemoryInfo(handle, &mut counters, counters.cb) } == 0 {
            return 0;
        }
        counters.PeakWorkingSetSize as u64
    }
}

#[cfg(test)]
mod tests {
    use super::cpu_rate;

    #[test]
    fn the_cpu_rate_is_a_share_of_all_processors() {
        assert_eq!(cpu_rate(50.0, 1), 5000);
        assert_eq!(cpu_rate(50.0, 4), 1250);
        assert_eq!(cpu_rate(100.0, 2), 5000);
        assert_eq!(cpu_rate(0.001, 64), 1);
        assert_eq!(cpu_rate(100.0, 0), 10_000);
    }
}

//! Logging: stderr always; for `selfup run` and `selfup serve` also the
//! configured `logging.file` (relative paths from the home), rotated by size
//! as the seed asks: past `logging.max_size_mb` the file becomes `FILE.1`,
//! `FILE.1` becomes `FILE.2`, … and only `logging.backup_count` of them are
//! kept. `SELFUP_LOG` overrides `logging.level`. The seed's Python `format`
//! is not used: lines are tracing's (time, level, target, message).
//! Running as a Windows service, errors also go to an [`ErrorSink`] (the
//! Event Log).

use std::fs::{File, OpenOptions};
use std::io::{self, Write};
use std::path::{Path, PathBuf};
use std::sync::Mutex;

use selfup_core::config::{LogLevel, LoggingConfig};
use tracing::field::{Field, Visit};
use tracing_subscriber::Layer;
use tracing_subscriber::layer::SubscriberExt;
use tracing_subscriber::util::SubscriberInitExt;

/// A log file that rotates when it would grow past its limit.
pub struct RotatingFile {
    path: PathBuf,
    max_bytes: u64,
    backups: u32,
    file: Option<File>,
    size: u64,
}

impl RotatingFile {
    /// Opens (appending to) `path`, creating its directory.
    pub fn open(path: &Path, max_bytes: u64, backups: u32) -> io::Result<Self> {
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir)?;
        }
        let file = OpenOptions::new().create(true).append(true).open(path)?;
        let size = file.metadata()?.len();
        Ok(Self {
            path: path.to_owned(),
            max_bytes: max_bytes.max(1),
            backups,
            file: Some(file),
            size,
        })
    }

    /// `FILE.n`.
    fn backup(&self, n: u32) -> PathBuf {
        let mut name = self.path.as_os_str().to_owned();
        name.push(format!(".{n}"));
        PathBuf::from(name)
    }

    /// Shifts the backups up by one (dropping the oldest), moves the file to
    /// `FILE.1` (or deletes it when no backups are kept), and starts anew.
    fn rotate(&mut self) -> io::Result<()> {
        self.file = None; // closed before it is renamed (Windows needs that)
        if self.backups == 0 {
            std::fs::remove_file(&self.path)?;
        } else {
            let _ = std::fs::remove_file(self.backup(self.backups));
            for n in (1..self.backups).rev() {
                let from = self.backup(n);
                if from.exists() {
                    std::fs::rename(&from, self.backup(n + 1))?;
                }
            }
            std::fs::rename(&self.path, self.backup(1))?;
        }
        self.file = Some(
            OpenOptions::new()
                .create(true)
                .append(true)
                .open(&self.path)?,
        );
        self.size = 0;
        Ok(())
    }
}

impl Write for RotatingFile {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        if self.size > 0 && self.size + buf.len() as u64 > self.max_bytes {
            self.rotate()?;
        }
        let file = match &mut self.file {
            Some(f) => f,
            None => return Err(io::Error::other("the log file is closed")),
        };
        let n = file.write(buf)?;
        self.size += n as u64;
        Ok(n)
    }

    fn flush(&mut self) -> io::Result<()> {
        match &mut self.file {
            Some(f) => f.flush(),
            None => Ok(()),
        }
    }
}

/// Where a long-running command writes its log file.
pub struct FileLog {
    /// The file.
    pub path: PathBuf,
    /// `logging.max_size_mb` in bytes.
    pub max_bytes: u64,
    /// `logging.backup_count`.
    pub backups: u32,
    /// `logging.level`.
    pub level: LogLevel,
}

impl FileLog {
    /// The file log `config` describes, relative paths from `home`.
    pub fn from_config(config: &LoggingConfig, home: &Path) -> Self {
        let file = Path::new(&config.file);
        Self {
            path: if file.is_absolute() {
                file.to_owned()
            } else {
                home.join(file)
            },
            max_bytes: u64::from(config.max_size_mb.max(1)) * 1024 * 1024,
            backups: config.backup_count,
            level: config.level,
        }
    }
}

/// The filter directive of a level.
fn directive(level: LogLevel) -> &'static str {
    match level {
        LogLevel::Debug => "debug",
        LogLevel::Info => "info",
        LogLevel::Warning => "warn",
        LogLevel::Error | LogLevel::Critical => "error",
    }
}

/// Where error events go besides stderr and the file: called with the
/// event's message and fields as one line (`message key=value …`).
pub type ErrorSink = Box<dyn Fn(&str) + Send + Sync>;

/// A layer that hands every ERROR event to an [`ErrorSink`].
struct ForwardErrors {
    sink: ErrorSink,
}

impl<S: tracing::Subscriber> Layer<S> for ForwardErrors {
    fn on_event(&self, event: &tracing::Event<'_>, _: tracing_subscriber::layer::Context<'_, S>) {
        if *event.metadata().level() == tracing::Level::ERROR {
            let mut line = OneLine::default();
            event.record(&mut line);
            (self.sink)(&line.text);
        }
    }
}

/// An event as one line: the message, then `key=value` for each field.
#[derive(Default)]
struct OneLine {
    text: String,
}

impl Visit for OneLine {
    fn record_debug(&mut self, field: &Field, value: &dyn std::fmt::Debug) {
        let part = if field.name() == "message" {
            format!("{value:?}")
        } else {
            format!("{}={value:?}", field.name())
        };
        if !self.text.is_empty() {
            self.text.push(' ');
        }
        self.text.push_str(&part);
    }

    fn record_str(&mut self, field: &Field, value: &str) {
        if field.name() == "message" {
            self.record_debug(field, &format_args!("{value}"));
        } else {
            self.record_debug(field, &value);
        }
    }
}

/// Installs the global subscriber: stderr at `default` (or `SELFUP_LOG`),
/// plus `file` when given, plus `errors` for ERROR events when given. A
/// file that cannot be opened is reported on stderr (and to `errors`) and
/// left out; selfup runs on.
pub fn init(default: &str, file: Option<FileLog>, errors: Option<ErrorSink>) {
    let ansi = std::io::IsTerminal::is_terminal(&std::io::stderr())
        && std::env::var_os("NO_COLOR").is_none();
    let filter = |fallback: &str| {
        tracing_subscriber::EnvFilter::try_from_env("SELFUP_LOG")
            .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new(fallback))
    };
    let (default, file_layer) = match file {
        Some(log) => {
            let level = format!("{},rmcp=warn", directive(log.level));
            match RotatingFile::open(&log.path, log.max_bytes, log.backups) {
                Ok(writer) => (
                    level.clone(),
                    Some(
                        tracing_subscriber::fmt::layer()
                            .with_writer(Mutex::new(writer))
                            .with_ansi(false)
                            .with_filter(filter(&level)),
                    ),
                ),
                Err(e) => {
                    let message = format!(
                        "cannot open the log file {} ({e}); logging to stderr only \
                         (logging.file in the configuration)",
                        log.path.display()
                    );
                    eprintln!("warning: {message}");
                    if let Some(sink) = &errors {
                        sink(&message);
                    }
                    (level, None)
                }
            }
        }
        None => (default.to_owned(), None),
    };
    let stderr = tracing_subscriber::fmt::layer()
        .with_writer(std::io::stderr)
        .with_ansi(ansi)
        .with_filter(filter(&default));
    let _ = tracing_subscriber::registry()
        .with(stderr)
        .with(file_layer)
        .with(errors.map(|sink| ForwardErrors { sink }))
        .try_init();
}

#[cfg(test)]
mod tests {
    use super::*;

    fn read(path: &Path) -> String {
        std::fs::read_to_string(path).unwrap_or_default()
    }

    #[test]
    fn the_file_rotates_past_its_limit_and_keeps_the_backups_asked_for() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("logs").join("selfup.log");
        let mut log = RotatingFile::open(&path, 10, 2).expect("open");
        for line in ["aaaaaaaa\n", "bbbbbbbb\n", "cccccccc\n", "dddddddd\n"] {
            log.write_all(line.as_bytes()).expect("write");
        }
        log.flush().expect("flush");
        assert_eq!(read(&path), "dddddddd\n");
        assert_eq!(read(&log.backup(1)), "cccccccc\n");
        assert_eq!(read(&log.backup(2)), "bbbbbbbb\n");
        assert!(!log.backup(3).exists(), "only two backups are kept");
    }

    #[test]
    fn no_backups_means_the_file_starts_over() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("selfup.log");
        let mut log = RotatingFile::open(&path, 10, 0).expect("open");
        log.write_all(b"aaaaaaaa\n").expect("write");
        log.write_all(b"bbbbbbbb\n").expect("write");
        assert_eq!(read(&path), "bbbbbbbb\n");
        assert!(!log.backup(1).exists());
    }

    #[test]
    fn reopening_appends_and_counts_what_is_there() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("selfup.log");
        std::fs::write(&path, "12345678\n").expect("seed");
        let mut log = RotatingFile::open(&path, 12, 1).expect("open");
        log.write_all(b"abc\n").expect("write");
        assert_eq!(read(&log.backup(1)), "12345678\n", "9 + 4 > 12 rotates");
        assert_eq!(read(&path), "abc\n");
    }

    #[test]
    fn only_error_events_reach_the_error_sink_as_one_line() {
        use std::sync::Arc;
        let seen = Arc::new(Mutex::new(Vec::<String>::new()));
        let sink: ErrorSink = {
            let seen = seen.clone();
            Box::new(move |line| seen.lock().expect("lock").push(line.to_owned()))
        };
        let subscriber = tracing_subscriber::registry().with(ForwardErrors { sink });
        tracing::subscriber::with_default(subscriber, || {
            tracing::info!("not an error");
            tracing::warn!(port = 8787, "not an error either");
            tracing::error!(error = "address in use", port = 8787, "cannot listen");
        });
        let seen = seen.lock().expect("lock");
        assert_eq!(
            *seen,
            ["cannot listen error=\"address in use\" port=8787"],
            "{seen:?}"
        );
    }

    #[test]
    fn relative_files_live_in_the_home() {
        let config = LoggingConfig::default();
        let log = FileLog::from_config(&config, Path::new("/srv/selfup"));
        assert!(
            log.path.starts_with("/srv/selfup"),
            "{}",
            log.path.display()
        );
        assert_eq!(log.max_bytes, 100 * 1024 * 1024);
        assert_eq!(log.backups, 10);
    }
}

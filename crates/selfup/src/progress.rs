//! A spinner on stderr for `selfup cycle`: the step the cycle is in, and a
//! bar while the code scan parses files. Only when stderr is a terminal;
//! it clears itself when the cycle ends, leaving the printed changes.

use std::io::IsTerminal;
use std::time::Duration;

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use selfup_discovery::code::Progress;
use selfup_loop::progress::CycleProgress;

/// How often the spinner turns.
const TICK: Duration = Duration::from_millis(120);

/// The spinner (see the module documentation).
pub struct CycleSpinner {
    bar: ProgressBar,
    spinner: Option<ProgressStyle>,
    files: Option<ProgressStyle>,
}

impl CycleSpinner {
    /// A spinner, or `None` when stderr is not a terminal.
    pub fn on_terminal() -> Option<Self> {
        std::io::stderr().is_terminal().then(Self::new)
    }

    fn new() -> Self {
        let bar = ProgressBar::with_draw_target(None, ProgressDrawTarget::stderr());
        let spinner = ProgressStyle::with_template("{spinner} {msg} {elapsed}").ok();
        let files = ProgressStyle::with_template("{msg} {bar:30} {pos}/{len} files {elapsed}").ok();
        if let Some(style) = &spinner {
            bar.set_style(style.clone());
        }
        bar.enable_steady_tick(TICK);
        Self {
            bar,
            spinner,
            files,
        }
    }

    /// Clears the spinner (before the results are printed).
    pub fn finish(&self) {
        self.bar.finish_and_clear();
    }
}

impl Progress for CycleSpinner {
    fn start(&self, files: u64) {
        if let Some(style) = &self.files {
            self.bar.set_style(style.clone());
        }
        self.bar.set_length(files);
        self.bar.set_position(0);
        self.bar.set_message("parsing");
    }

    fn advance(&self, n: u64) {
        self.bar.inc(n);
    }

    fn finish(&self) {
        if let Some(style) = &self.spinner {
            self.bar.set_style(style.clone());
        }
        self.bar.set_message("grouping clones");
    }
}

impl CycleProgress for CycleSpinner {
    fn step(&self, what: &str) {
        self.bar.set_message(what.to_owned());
    }
}

impl Drop for CycleSpinner {
    fn drop(&mut self) {
        self.bar.finish_and_clear();
    }
}

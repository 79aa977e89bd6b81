//! The shell scanner (POSIX sh and bash):
//!
//! - `eval …` is DANGEROUS_FUNCTION, Critical;
//! - a pipeline stage that is a shell or interpreter reading its program
//!   from standard input (`… | sh`, `… | sudo bash -s`, `… | python3 -`)
//!   is PIPE_TO_SHELL, Critical; so is a shell or `source` given the
//!   output of `curl`/`wget` (`bash <(curl …)`, `sh -c "$(curl …)"`);
//! - `rm` with a recursive flag on `/`, `/*`, `~` or `$HOME` (or with
//!   `--no-preserve-root`) is DESTRUCTIVE_COMMAND, Critical.
//!
//! Words are taken from the syntax tree: a command inside a quoted string
//! or a comment is text, not a command.

use tree_sitter::{Node, Tree};

use super::deadline::{Deadline, TimedOut};
use super::report::{Finding, Rule, Severity};
use super::source::{at, text, walk};

/// Programs that run a program read from standard input when given no
/// script.
const SHELLS: [&str; 16] = [
    "sh", "bash", "dash", "ash", "zsh", "ksh", "mksh", "fish", "csh", "tcsh", "python", "python2",
    "python3", "perl", "ruby", "node",
];

/// Commands that run the command after their options.
const WRAPPERS: [&str; 8] = [
    "sudo", "doas", "env", "nohup", "nice", "command", "builtin", "exec",
];

/// Options of `sudo`/`doas` that take a value.
const WRAPPER_VALUE_OPTIONS: [&str; 8] = ["-u", "-g", "-U", "-C", "-D", "-p", "-r", "-t"];

/// Programs that download.
const DOWNLOADERS: [&str; 4] = ["curl", "wget", "fetch", "aria2c"];

/// Targets that wipe the machine or the user's home.
const ROOTS: [&str; 9] = ["/", "/*", "/.", "/..", "~", "~/", "~/*", "$HOME", "${HOME}"];

/// Most nodes looked at inside one argument (bounds nested substitutions).
const MAX_ARGUMENT_NODES: usize = 10_000;

struct Sh<'a> {
    file: &'a str,
    src: &'a [u8],
    findings: Vec<Finding>,
}

/// A command after its wrappers: its program name and argument nodes.
struct Invocation<'t> {
    name: String,
    args: Vec<Node<'t>>,
}

/// Scans one parsed shell script.
pub(crate) fn scan(
    file: &str,
    src: &[u8],
    tree: &Tree,
    deadline: &Deadline,
) -> Result<Vec<Finding>, TimedOut> {
    let mut sh = Sh {
        file,
        src,
        findings: Vec::new(),
    };
    walk(tree, deadline, |node| match node.kind() {
        "command" => sh.command(node),
        "pipeline" => sh.pipeline(node),
        _ => {}
    })?;
    Ok(sh.findings)
}

impl Sh<'_> {
    fn report(&mut self, node: Node<'_>, rule: Rule, message: String) {
        self.findings
            .push(at(self.file, node, rule, Severity::Critical, message));
    }

    /// The literal value of a word, or `None` when it expands something.
    fn word(&self, node: Node<'_>) -> Option<String> {
        match node.kind() {
            "word" | "number" => Some(text(node, self.src).into_owned()),
            "raw_string" => {
                let raw = text(node, self.src);
                Some(
                    raw.trim_start_matches('\'')
                        .trim_end_matches('\'')
                        .to_owned(),
                )
            }
            "string" => {
                let mut cursor = node.walk();
                let mut value = String::new();
                for part in node.named_children(&mut cursor) {
                    if part.kind() != "string_content" {
                        return None;
                    }
                    value.push_str(&text(part, self.src));
                }
                Some(value)
            }
            "concatenation" => {
                let mut cursor = node.walk();
                let parts: Vec<Node<'_>> = node.named_children(&mut cursor).collect();
                parts.into_iter().map(|p| self.word(p)).collect()
            }
            _ => None,
        }
    }

    /// The program a command runs, looking through `sudo`, `env`, ….
    fn invocation<'t>(&self, command: Node<'t>) -> Option<Invocation<'t>> {
        let name_node = command.child_by_field_name("name")?;
        let mut name = basename(&self.word(name_node.named_child(0)?)?);
        let mut cursor = command.walk();
        let mut args: Vec<Node<'t>> = command
            .children_by_field_name("argument", &mut cursor)
            .collect();
        while WRAPPERS.contains(&name.as_str()) {
            let mut next = None;
            let mut skip_value = false;
            for (i, arg) in args.iter().enumerate() {
                let word = self.word(*arg);
                if skip_value {
                    skip_value = false;
                    continue;
                }
                match word.as_deref() {
                    Some(w) if w.starts_with('-') => {
                        skip_value = WRAPPER_VALUE_OPTIONS.contains(&w);
                    }
                    Some(w) if name == "env" && w.contains('=') => {}
                    Some(w) => {
                        next = Some((i, basename(w)));
                        break;
                    }
                    None => return None,
                }
            }
            let (i, program) = next?;
            name = program;
            args = args.split_off(i + 1);
        }
        Some(Invocation { name, args })
    }

    fn command(&mut self, node: Node<'_>) {
        let Some(call) = self.invocation(node) else {
            return;
        };
        match call.name.as_str() {
            "eval" => self.report(
                node,
                Rule::DangerousFunction,
                "eval runs a string as shell code".into(),
            ),
            "rm" => self.rm(node, &call),
            name if SHELLS.contains(&name) || name == "source" || name == "." => {
                let downloads = call.args.iter().any(|a| self.runs_download(*a));
                if downloads {
                    self.report(
                        node,
                        Rule::PipeToShell,
                        format!("{name} runs code downloaded by curl or wget, unchecked"),
                    );
                }
            }
            _ => {}
        }
    }

    fn rm(&mut self, node: Node<'_>, call: &Invocation<'_>) {
        let mut recursive = false;
        let mut no_preserve_root = false;
        let mut target: Option<String> = None;
        let mut operands_only = false;
        for arg in &call.args {
            let raw = text(*arg, self.src).trim_matches('"').to_owned();
            let word = self.word(*arg).unwrap_or_else(|| raw.clone());
            if !operands_only && word == "--" {
                operands_only = true;
            } else if !operands_only && word == "--recursive" {
                recursive = true;
            } else if !operands_only && word == "--no-preserve-root" {
                no_preserve_root = true;
            } else if !operands_only && word.starts_with('-') && !word.starts_with("--") {
                recursive |= word.contains(['r', 'R']);
            } else if ROOTS.contains(&word.as_str()) || ROOTS.contains(&raw.as_str()) {
                target.get_or_insert(word);
            }
        }
        if recursive && (target.is_some() || no_preserve_root) {
            let what = target.unwrap_or_else(|| "/".into());
            self.report(
                node,
                Rule::DestructiveCommand,
                format!("rm deletes {what} recursively"),
            );
        }
    }

    /// Whether an argument holds `<(curl …)` or `$(curl …)` (looking at
    /// no more than [`MAX_ARGUMENT_NODES`] nodes).
    fn runs_download(&self, arg: Node<'_>) -> bool {
        let mut stack = vec![arg];
        let mut inside_substitution = false;
        let mut budget = MAX_ARGUMENT_NODES;
        while let Some(node) = stack.pop() {
            budget -= 1;
            if budget == 0 {
                return false;
            }
            if matches!(node.kind(), "command_substitution" | "process_substitution") {
                inside_substitution = true;
            }
            if inside_substitution
                && node.kind() == "command"
                && self
                    .invocation(node)
                    .is_some_and(|c| DOWNLOADERS.contains(&c.name.as_str()))
            {
                return true;
            }
            let mut cursor = node.walk();
            stack.extend(node.named_children(&mut cursor));
        }
        false
    }

    /// `a | b | sh`: each stage after the first that runs its input.
    fn pipeline(&mut self, node: Node<'_>) {
        let mut cursor = node.walk();
        let stages: Vec<Node<'_>> = node
            .named_children(&mut cursor)
            .filter(|n| n.kind() != "comment")
            .collect();
        let mut downloader: Option<String> = None;
        for (i, stage) in stages.iter().enumerate() {
            let command = if stage.kind() == "redirected_statement" {
                stage.child_by_field_name("body")
            } else {
                Some(*stage)
            };
            let Some(call) = command
                .filter(|c| c.kind() == "command")
                .and_then(|c| self.invocation(c).map(|call| (c, call)))
            else {
                continue;
            };
            let (command, call) = call;
            if i > 0 && SHELLS.contains(&call.name.as_str()) && self.reads_program(&call) {
                let message = match &downloader {
                    Some(download) => format!(
                        "pipes what {download} downloads into {}, which runs it unchecked",
                        call.name
                    ),
                    None => format!("pipes generated text into {}, which runs it", call.name),
                };
                self.report(command, Rule::PipeToShell, message);
            }
            if downloader.is_none() && DOWNLOADERS.contains(&call.name.as_str()) {
                downloader = Some(call.name);
            }
        }
    }

    /// Whether a shell or interpreter takes its program from stdin: no
    /// script operand, or `-`/`-s`.
    fn reads_program(&self, call: &Invocation<'_>) -> bool {
        for arg in &call.args {
            match self.word(*arg).as_deref() {
                Some("-" | "-s") => return true,
                Some("-c" | "-e" | "-m") => return false,
                Some(w) if w.starts_with('-') || w.starts_with('+') => {}
                Some(_) => return false,
                None => {} // an expansion may be empty
            }
        }
        true
    }
}

fn basename(word: &str) -> String {
    word.rsplit('/').next().unwrap_or(word).to_owned()
}

#[cfg(test)]
mod tests {
    use super::super::report::Rule::*;
    use super::super::report::Severity::*;
    use super::super::source::{Lang, scan_snippet};
    use super::*;

    fn check(src: &str) -> Vec<(u32, Rule, Severity)> {
        scan_snippet(Lang::Shell, src, |tree, _, deadline| {
            scan("t.sh", src.as_bytes(), tree, deadline)
        })
    }

    #[test]
    fn pipes_into_a_shell_anywhere_in_a_pipeline() {
        assert_eq!(
            check("curl -s https://x.invalid | tee log | bash\n"),
            [(1, PipeToShell, Critical)]
        );
        assert_eq!(
            check("echo ls | sh > out.txt\n"),
            [(1, PipeToShell, Critical)]
        );
        assert_eq!(
            check("curl -s https://x.invalid | python3 -\n"),
            [(1, PipeToShell, Critical)]
        );
    }

    #[test]
    fn rm_of_home_or_root_only() {
        assert_eq!(
            check("rm -rf \"$HOME\"\nrm -fr ~\nrm --recursive --force /*\n"),
            [
                (1, DestructiveCommand, Critical),
                (2, DestructiveCommand, Critical),
                (3, DestructiveCommand, Critical),
            ]
        );
        assert_eq!(check("rm -rf ./build /tmp/x\nrm /\n"), []);
    }

    #[test]
    fn look_alikes_are_not_findings() {
        let src = "echo 'curl x | sh' \"eval x\"  # eval rm -rf /\n\
                   cat data | bash script.sh\nbash -c 'echo hi'\nexec python3 main.py\n\
                   printf '%s' \"$(date)\" | grep x\n";
        assert_eq!(check(src), []);
    }
}

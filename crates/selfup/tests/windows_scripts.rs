//! scripts/windows/*.ps1, checked without PowerShell (which this machine
//! does not have): each parses with tree-sitter's PowerShell grammar
//! without an error, uses no variable it never sets, and does what the
//! seed's install, uninstall and diagnostic steps ask, through the selfup
//! commands that do the work (tested in windows_service.rs).

use std::collections::BTreeSet;
use std::path::PathBuf;

fn script(name: &str) -> String {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../scripts/windows")
        .join(name);
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

fn parse(text: &str) -> tree_sitter::Tree {
    let mut parser = tree_sitter::Parser::new();
    parser
        .set_language(&tree_sitter_powershell::LANGUAGE.into())
        .expect("the PowerShell grammar loads");
    parser.parse(text, None).expect("a tree")
}

/// Every ERROR or MISSING node, as `line:column text`.
fn syntax_errors(node: tree_sitter::Node, text: &str, out: &mut Vec<String>) {
    if node.is_error() || node.is_missing() {
        let at = node.start_position();
        let snippet: String = text[node.byte_range()].chars().take(60).collect();
        out.push(format!("{}:{} {snippet:?}", at.row + 1, at.column + 1));
    }
    let mut cursor = node.walk();
    for child in node.children(&mut cursor) {
        syntax_errors(child, text, out);
    }
}

/// A variable's name as PowerShell compares it: no `$`/`@`, no braces,
/// lower case.
fn name(variable: &str) -> String {
    variable
        .trim_start_matches(['$', '@'])
        .trim_start_matches('{')
        .trim_end_matches('}')
        .to_lowercase()
}

/// Variables set (parameters, `foreach` variables, assignment targets) and
/// variables read, with their lines.
fn variables(
    node: tree_sitter::Node,
    text: &str,
    defining: bool,
    set: &mut BTreeSet<String>,
    read: &mut Vec<(String, usize)>,
) {
    if node.kind() == "variable" {
        let name = name(&text[node.byte_range()]);
        if defining {
            set.insert(name);
        } else {
            read.push((name, node.start_position().row + 1));
        }
        return;
    }
    let mut cursor = node.walk();
    let mut first_variable = true;
    for child in node.children(&mut cursor) {
        let defines = defining
            || node.kind() == "left_assignment_expression"
            || (matches!(node.kind(), "script_parameter" | "foreach_statement")
                && child.kind() == "variable"
                && std::mem::take(&mut first_variable));
        variables(child, text, defines, set, read);
    }
}

/// PowerShell's own variables the scripts use.
const AUTOMATIC: &[&str] = &["_", "null", "true", "false", "lastexitcode", "psscriptroot"];

fn check(name_of_script: &str) -> String {
    let text = script(name_of_script);
    let tree = parse(&text);
    let mut errors = Vec::new();
    syntax_errors(tree.root_node(), &text, &mut errors);
    assert!(errors.is_empty(), "{name_of_script}: {errors:#?}");
    let (mut set, mut read) = (BTreeSet::new(), Vec::new());
    variables(tree.root_node(), &text, false, &mut set, &mut read);
    let unset: Vec<_> = read
        .iter()
        .filter(|(v, _)| !v.contains(':') && !set.contains(v) && !AUTOMATIC.contains(&v.as_str()))
        .collect();
    assert!(
        unset.is_empty(),
        "{name_of_script} reads variables it never sets: {unset:?}"
    );
    text
}

#[test]
fn the_checks_find_syntax_errors_and_unset_variables() {
    let broken = "function F([string]$a) {\n  Write-Output $a\n}}\n$x = @(1, 2\n";
    let mut errors = Vec::new();
    syntax_errors(parse(broken).root_node(), broken, &mut errors);
    assert!(!errors.is_empty(), "an unbalanced brace is an error");

    let typo = "param([string]$InstallPath)\n$exe = Join-Path $InstalPath 'selfup.exe'\nforeach ($f in $files) { $f }\n";
    let (mut set, mut read) = (BTreeSet::new(), Vec::new());
    variables(parse(typo).root_node(), typo, false, &mut set, &mut read);
    let unset: BTreeSet<_> = read
        .iter()
        .map(|(v, _)| v.as_str())
        .filter(|v| !set.contains(*v))
        .collect();
    assert_eq!(unset, BTreeSet::from(["instalpath", "files"]));
}

#[test]
fn install_checks_for_an_administrator_and_lets_selfup_install_the_service() {
    let text = check("install.ps1");
    for expected in [
        "IsInRole([Security.Principal.WindowsBuiltInRole]::Administrator)",
        "Copy-Item -LiteralPath $Exe -Destination $installedExe",
        "Copy-Item -LiteralPath $Config -Destination $installedConfig",
        "& $installedExe config check $installedConfig",
        r#"$installArgs = @("--config", $installedConfig, "service", "install")"#,
        r#"$installArgs += "--no-start""#,
        "& $installedExe @installArgs",
        "service status",
        r#"config\default.yaml"#,
    ] {
        assert!(text.contains(expected), "install.ps1 lacks {expected:?}");
    }
}

#[test]
fn uninstall_lets_selfup_remove_the_service_and_keeps_the_data_unless_asked() {
    let text = check("uninstall.ps1");
    for expected in [
        "IsInRole([Security.Principal.WindowsBuiltInRole]::Administrator)",
        r"HKLM:\SOFTWARE\OpenClaw\SelfUpgradingLoop",
        "[switch]$RemoveData",
        "& $exe @configArgs service uninstall",
        "if ($RemoveData) {",
        "Remove-Item -LiteralPath $dataPath -Recurse -Force",
    ] {
        assert!(text.contains(expected), "uninstall.ps1 lacks {expected:?}");
    }
}

#[test]
fn diagnostic_runs_the_seed_commands_and_selfup_doctor() {
    let text = check("diagnostic.ps1");
    for expected in [
        "Get-Service -Name $serviceName",
        r#"logs\self_upgrading_loop.log"#,
        "Get-Content -LiteralPath $log -Tail $Tail",
        r#"Get-ChildItem -LiteralPath (Join-Path $dataPath "registry")"#,
        "Get-EventLog -LogName Application -Source $serviceName -Newest $Events",
        "& $exe @selfupArgs service status",
        "& $exe @selfupArgs doctor",
        "Restart-Service $serviceName",
    ] {
        assert!(text.contains(expected), "diagnostic.ps1 lacks {expected:?}");
    }
}

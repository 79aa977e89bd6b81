<#
.SYNOPSIS
    Installs the OpenClaw Self-Upgrading Loop (selfup) as a Windows service.
    Run as Administrator.

.DESCRIPTION
    Copies selfup.exe and the configuration to -InstallPath, checks the
    configuration, then runs `selfup.exe service install`, which does the rest
    (and is tested): it creates the data directory (windows.paths.base,
    C:\ProgramData\OpenClaw\SelfUpgradingLoop by default, with plugins,
    registry, snapshots and logs) with permissions for LocalSystem, the
    account the service runs as, and the Administrators only; registers the
    Event Log source and the service OpenClawSelfUpgradingLoop (automatic
    start); writes HKLM\SOFTWARE\OpenClaw\SelfUpgradingLoop (InstallPath,
    Version, InstallDate, DataPath, ConfigFile, ServiceName); and starts it.

    Running it again upgrades: the service is stopped, selfup.exe replaced,
    the service updated and started. An existing config.yaml in -InstallPath
    is kept unless -ReplaceConfig is given.

.EXAMPLE
    PS> .\install.ps1
    PS> .\install.ps1 -Exe .\target\x86_64-pc-windows-gnu\release\selfup.exe -NoStart
#>
param(
    # Where selfup.exe and config.yaml are installed.
    [string]$InstallPath = (Join-Path $env:ProgramFiles "OpenClaw\SelfUpgradingLoop"),
    # The selfup.exe to install (default: beside this script, else the
    # repository's release build).
    [string]$Exe = "",
    # The configuration to install (default: config.yaml beside this script,
    # else the repository's config\default.yaml).
    [string]$Config = "",
    # Replace an existing config.yaml in -InstallPath.
    [switch]$ReplaceConfig,
    # Register the service but do not start it.
    [switch]$NoStart
)

# Cmdlets that must not fail carry -ErrorAction Stop; a global "Stop" would
# also turn selfup's own messages on stderr into terminating errors.

function Find-First([string[]]$Candidates) {
    foreach ($candidate in $Candidates) {
        if ($candidate -and (Test-Path -LiteralPath $candidate -PathType Leaf)) {
            return (Resolve-Path -LiteralPath $candidate).Path
        }
    }
    return $null
}

# Administrator check.
$principal = New-Object Security.Principal.WindowsPrincipal([Security.Principal.WindowsIdentity]::GetCurrent())
if (-not $principal.IsInRole([Security.Principal.WindowsBuiltInRole]::Administrator)) {
    Write-Error "This script must be run as Administrator (right-click PowerShell, Run as administrator)."
    exit 1
}

$repo = Join-Path $PSScriptRoot "..\.."
if (-not $Exe) {
    $Exe = Find-First @(
        (Join-Path $PSScriptRoot "selfup.exe"),
        (Join-Path $repo "target\release\selfup.exe"),
        (Join-Path $repo "target\x86_64-pc-windows-gnu\release\selfup.exe")
    )
}
if (-not $Exe -or -not (Test-Path -LiteralPath $Exe -PathType Leaf)) {
    Write-Error "selfup.exe not found: build it (cargo build --release -p selfup) or pass -Exe PATH."
    exit 1
}
if (-not $Config) {
    $Config = Find-First @(
        (Join-Path $PSScriptRoot "config.yaml"),
        (Join-Path $repo "config\default.yaml")
    )
}
if (-not $Config -or -not (Test-Path -LiteralPath $Config -PathType Leaf)) {
    Write-Error "No configuration found: pass -Config PATH (config\default.yaml in the repository is the default one)."
    exit 1
}

Write-Host "Installing OpenClaw Self-Upgrading Loop..." -ForegroundColor Green

# An installed service is stopped first, so selfup.exe can be replaced.
$installedExe = Join-Path $InstallPath "selfup.exe"
$installedConfig = Join-Path $InstallPath "config.yaml"
if (Test-Path -LiteralPath $installedExe -PathType Leaf) {
    $stopArgs = @()
    if (Test-Path -LiteralPath $installedConfig -PathType Leaf) {
        $stopArgs = @("--config", $installedConfig)
    }
    & $installedExe @stopArgs service stop 2>$null | Out-Null
}

# Installation directory and files.
New-Item -ItemType Directory -Force -Path $InstallPath -ErrorAction Stop | Out-Null
Write-Host "Installation directory: $InstallPath"
Copy-Item -LiteralPath $Exe -Destination $installedExe -Force -ErrorAction Stop
Write-Host "Copied $Exe"
if ($ReplaceConfig -or -not (Test-Path -LiteralPath $installedConfig -PathType Leaf)) {
    Copy-Item -LiteralPath $Config -Destination $installedConfig -Force -ErrorAction Stop
    Write-Host "Copied $Config to $installedConfig"
} else {
    Write-Host "Kept the existing $installedConfig (-ReplaceConfig replaces it)"
}

& $installedExe config check $installedConfig
if ($LASTEXITCODE -ne 0) {
    Write-Error "The configuration $installedConfig is not valid (see above); fix it and run this script again."
    exit 2
}

# Data directories and their permissions, Event Log source, service,
# registry entries, start: all done by selfup.
$installArgs = @("--config", $installedConfig, "service", "install")
if ($NoStart) {
    $installArgs += "--no-start"
}
& $installedExe @installArgs
if ($LASTEXITCODE -ne 0) {
    Write-Error "selfup service install failed (exit code $LASTEXITCODE; see above)."
    exit $LASTEXITCODE
}

& $installedExe --config $installedConfig service status
Write-Host "Installation complete!" -ForegroundColor Green
Write-Host "Diagnose with: $(Join-Path $PSScriptRoot 'diagnostic.ps1')"

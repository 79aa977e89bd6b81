<#
.SYNOPSIS
    Removes the OpenClaw Self-Upgrading Loop (selfup) Windows service.
    Run as Administrator.

.DESCRIPTION
    Runs `selfup.exe service uninstall`, which stops the service (selfup
    finishes its current store transaction first), removes it, its Event Log
    source and HKLM\SOFTWARE\OpenClaw\SelfUpgradingLoop; then deletes the
    installation directory. The data directory (database, plugins, logs) is
    kept unless -RemoveData is given.

.EXAMPLE
    PS> .\uninstall.ps1
    PS> .\uninstall.ps1 -RemoveData
#>
param(
    # Where selfup.exe is installed (default: the registry's InstallPath).
    [string]$InstallPath = "",
    # Also delete the data directory (the registry's DataPath).
    [switch]$RemoveData
)

# Cmdlets that must not fail carry -ErrorAction Stop; a global "Stop" would
# also turn selfup's own messages on stderr into terminating errors.

$principal = New-Object Security.Principal.WindowsPrincipal([Security.Principal.WindowsIdentity]::GetCurrent())
if (-not $principal.IsInRole([Security.Principal.WindowsBuiltInRole]::Administrator)) {
    Write-Error "This script must be run as Administrator (right-click PowerShell, Run as administrator)."
    exit 1
}

# What was installed, from the registry (read before selfup removes it).
$regPath = "HKLM:\SOFTWARE\OpenClaw\SelfUpgradingLoop"
$installed = Get-ItemProperty -Path $regPath -ErrorAction SilentlyContinue
if (-not $InstallPath) {
    if ($installed -and $installed.InstallPath) {
        $InstallPath = $installed.InstallPath
    } else {
        $InstallPath = Join-Path $env:ProgramFiles "OpenClaw\SelfUpgradingLoop"
    }
}
$dataPath = Join-Path $env:ProgramData "OpenClaw\SelfUpgradingLoop"
if ($installed -and $installed.DataPath) {
    $dataPath = $installed.DataPath
}
$configFile = Join-Path $InstallPath "config.yaml"
if ($installed -and $installed.ConfigFile) {
    $configFile = $installed.ConfigFile
}
$serviceName = "OpenClawSelfUpgradingLoop"
if ($installed -and $installed.ServiceName) {
    $serviceName = $installed.ServiceName
}

Write-Host "Uninstalling OpenClaw Self-Upgrading Loop..." -ForegroundColor Green
$exe = Join-Path $InstallPath "selfup.exe"
if (Test-Path -LiteralPath $exe -PathType Leaf) {
    $configArgs = @()
    if (Test-Path -LiteralPath $configFile -PathType Leaf) {
        $configArgs = @("--config", $configFile)
    }
    & $exe @configArgs service uninstall
    if ($LASTEXITCODE -ne 0) {
        Write-Error "selfup service uninstall failed (exit code $LASTEXITCODE; see above)."
        exit $LASTEXITCODE
    }
} else {
    # No selfup.exe to ask: remove what install created by hand.
    Write-Warning "$exe is missing; removing the service $serviceName with sc.exe"
    $service = Get-Service -Name $serviceName -ErrorAction SilentlyContinue
    if ($service) {
        if ($service.Status -ne "Stopped") {
            Stop-Service -Name $serviceName -Force -ErrorAction Stop
        }
        sc.exe delete $serviceName | Out-Null
    }
    Remove-Item -Path "HKLM:\SYSTEM\CurrentControlSet\Services\EventLog\Application\$serviceName" -Recurse -ErrorAction SilentlyContinue
    Remove-Item -Path $regPath -Recurse -ErrorAction SilentlyContinue
}

if (Test-Path -LiteralPath $InstallPath) {
    Remove-Item -LiteralPath $InstallPath -Recurse -Force -ErrorAction Stop
    Write-Host "Removed $InstallPath"
}

if ($RemoveData) {
    if (Test-Path -LiteralPath $dataPath) {
        Remove-Item -LiteralPath $dataPath -Recurse -Force -ErrorAction Stop
        Write-Host "Removed the data in $dataPath"
    }
} else {
    Write-Host "Kept the data in $dataPath (-RemoveData deletes it)"
}
Write-Host "Uninstall complete." -ForegroundColor Green

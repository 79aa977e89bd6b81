<#
.SYNOPSIS
    Diagnoses the OpenClaw Self-Upgrading Loop (selfup) Windows service.

.DESCRIPTION
    Prints the service's state, the installation's registry entries, the end
    of the log file, the data directory and the plugin registry, the service's
    events in the Application log, `selfup service status` and `selfup doctor`
    (which checks the gateway, the store, the plugins, recent rollbacks, disk
    space and the logs, and says what to do about each problem). The data
    directory is readable by Administrators only: run it elevated to see
    everything.

.EXAMPLE
    PS> .\diagnostic.ps1
    PS> .\diagnostic.ps1 -Tail 300 *> selfup-diagnostic.txt
#>
param(
    # How many lines of the log file to show.
    [int]$Tail = 100,
    # How many events to show.
    [int]$Events = 20
)

# Everything goes to the output stream, in order, so `> FILE` keeps it all.
function Section([string]$Title) {
    Write-Output ""
    Write-Output "== $Title =="
}

$principal = New-Object Security.Principal.WindowsPrincipal([Security.Principal.WindowsIdentity]::GetCurrent())
if (-not $principal.IsInRole([Security.Principal.WindowsBuiltInRole]::Administrator)) {
    Write-Warning "Not running as Administrator: the data directory and the service's details may be unreadable."
}

$regPath = "HKLM:\SOFTWARE\OpenClaw\SelfUpgradingLoop"
$installed = Get-ItemProperty -Path $regPath -ErrorAction SilentlyContinue
$serviceName = "OpenClawSelfUpgradingLoop"
$dataPath = Join-Path $env:ProgramData "OpenClaw\SelfUpgradingLoop"
$exe = Join-Path $env:ProgramFiles "OpenClaw\SelfUpgradingLoop\selfup.exe"
$selfupArgs = @()
if ($installed) {
    if ($installed.ServiceName) { $serviceName = $installed.ServiceName }
    if ($installed.DataPath) { $dataPath = $installed.DataPath }
    if ($installed.InstallPath) { $exe = Join-Path $installed.InstallPath "selfup.exe" }
    $selfupArgs = @("--home", $dataPath)
    if ($installed.ConfigFile) { $selfupArgs += @("--config", $installed.ConfigFile) }
}

Section "Service"
Get-Service -Name $serviceName -ErrorAction SilentlyContinue | Format-List Name, DisplayName, Status, StartType
if (-not (Get-Service -Name $serviceName -ErrorAction SilentlyContinue)) {
    Write-Output "The service $serviceName is not installed (install.ps1 installs it)."
}

Section "Registry ($regPath)"
if ($installed) {
    $installed | Format-List InstallPath, Version, InstallDate, DataPath, ConfigFile, ServiceName
} else {
    Write-Output "No registry entries: selfup is not installed as a service."
}

Section "Recent logs"
$log = Join-Path $dataPath "logs\self_upgrading_loop.log"
if (Test-Path -LiteralPath $log) {
    Get-Content -LiteralPath $log -Tail $Tail
} else {
    Write-Output "No log file at $log (logging.file in the configuration says where; selfup doctor shows it)."
}

Section "Data directory and plugin registry ($dataPath)"
Get-ChildItem -LiteralPath $dataPath -ErrorAction SilentlyContinue | Format-Table Mode, LastWriteTime, Length, Name
Get-ChildItem -LiteralPath (Join-Path $dataPath "registry") -ErrorAction SilentlyContinue
(Get-Acl -LiteralPath $dataPath -ErrorAction SilentlyContinue).Access | Format-Table IdentityReference, FileSystemRights, AccessControlType, IsInherited
if (Test-Path -LiteralPath $exe -PathType Leaf) {
    # The plugin registry itself is the store's (selfup.db).
    & $exe @selfupArgs plugin list
}

Section "Event Log (Application, source $serviceName)"
try {
    if (Get-Command Get-EventLog -ErrorAction SilentlyContinue) {
        Get-EventLog -LogName Application -Source $serviceName -Newest $Events -ErrorAction Stop |
            Format-Table TimeGenerated, EntryType, EventID, Message -Wrap
    } else {
        Get-WinEvent -FilterHashtable @{ LogName = "Application"; ProviderName = $serviceName } -MaxEvents $Events -ErrorAction Stop |
            Format-Table TimeCreated, LevelDisplayName, Id, Message -Wrap
    }
} catch {
    Write-Output "No events from $serviceName ($($_.Exception.Message))"
}

if (Test-Path -LiteralPath $exe -PathType Leaf) {
    Section "selfup service status"
    & $exe @selfupArgs service status

    Section "selfup doctor"
    & $exe @selfupArgs doctor
    $doctorExit = $LASTEXITCODE
    Write-Output ""
    Write-Output "Restart the service with: Restart-Service $serviceName"
    exit $doctorExit
} else {
    Write-Output "selfup.exe not found at ${exe}; cannot run selfup doctor."
    exit 2
}

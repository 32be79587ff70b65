# Nesting prerequisites (seed: "Conditions préalables"), each with a passing and a failing case.

# Configuration version 8.0 or later: 7.0 is refused, 8.0 accepted, Update-VMVersion fixes 7.0.
New-VM -Name Old -Version 7.0 | Out-Null
New-VM -Name Eight -Version 8.0 | Out-Null
Set-VMProcessor -VMName Old -ExposeVirtualizationExtensions $true
Set-VMProcessor -VMName Eight -ExposeVirtualizationExtensions $true
Update-VMVersion -Name Old -Force
Get-VM Old | Select-Object Name, Version
Set-VMProcessor -VMName Old -ExposeVirtualizationExtensions $true
Get-VMProcessor -VMName Old, Eight | Format-Table VMName, ExposeVirtualizationExtensions

# An unsupported version is refused at creation.
New-VM -Name Future -Version 11.0

# Only while Off: Running refuses, and the refusal leaves the setting as it was.
Set-NestvisorVMBootImage -VMName Eight -Path $env:NESTVISOR_TEST_KERNEL
Start-VM -Name Eight
Set-VMProcessor -VMName Eight -ExposeVirtualizationExtensions $false
(Get-VMProcessor -VMName Eight).ExposeVirtualizationExtensions
Stop-VM -Name Eight -Force
Set-VMProcessor -VMName Eight -ExposeVirtualizationExtensions $false
(Get-VMProcessor -VMName Eight).ExposeVirtualizationExtensions

# Intel VT-x with EPT: an AMD host, a VT-x host without EPT and one without VT-x are refused.
New-VM -Name N | Out-Null
Set-NestvisorHost -CpuProfile AmdSvm
Set-VMProcessor -VMName N -ExposeVirtualizationExtensions $true
Get-NestvisorNestedVirtStatus | Format-Table Check, Status, Message
Set-NestvisorHost -CpuProfile IntelVtxNoEpt
Set-VMProcessor -VMName N -ExposeVirtualizationExtensions $true
Set-NestvisorHost -CpuProfile IntelNoVtx
Set-VMProcessor -VMName N -ExposeVirtualizationExtensions $true

# A VM that already exposes the extensions cannot start where the host cannot expose them.
Set-NestvisorVMBootImage -VMName Old -Path $env:NESTVISOR_TEST_KERNEL
Start-VM -Name Old
Get-VM -Name Old | Select-Object Name, State
# ... and starts once nesting is turned off, or on an Intel VT-x + EPT host.
Set-VMProcessor -VMName Old -ExposeVirtualizationExtensions $false
Start-VM -Name Old -Passthru | Select-Object Name, State
Stop-VM -Name Old -TurnOff
Set-NestvisorHost -CpuProfile IntelVtxEpt
Set-VMProcessor -VMName Old -ExposeVirtualizationExtensions $true
Start-VM -Name Old -Passthru | Select-Object Name, State
Stop-VM -Name Old -TurnOff

# Readiness, item by item, as Microsoft's Get-NestedVirtStatus script reports it.
Set-VMMemory -VMName N -DynamicMemoryEnabled $true
Set-TestVMSaved -VMName N
Get-NestvisorNestedVirtStatus -VMName N | Where-Object Status -ne OK | Format-Table Check, Status, Message
Get-NestvisorNestedVirtStatus -VMName Old | Where-Object Status -ne OK | Format-Table Check, Status, Message

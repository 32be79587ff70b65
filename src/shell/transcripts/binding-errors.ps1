# Bad input: each a PowerShell-style error naming the culprit, and no change to the inventory.
New-VM -Name A -MemoryStartupBytes 2GB | Out-Null
$before = Get-VM | ConvertTo-Json -Compress

Nonexistent-Cmdlet -Name A
Get-VM -Nmae A
New-VM -N B
New-VM -Name B -MemoryStartupBytes lots
New-VM -Name B -Generation 3
Set-VMProcessor -VMName A -ExposeVirtualizationExtensions "yes"
Set-VMProcessor -VMName A -Count
Set-VMProcessor -ExposeVirtualizationExtensions $true
New-NetNat -Name OnlyName
Get-VM -Name A -Name B
Get-VMProcessor A B
Set-VMProcessor -VMName Ghost -ExposeVirtualizationExtensions $true
Remove-VM -Name Ghost -Force
New-VM -Name A
New-VM -Name "bad/name"
Get-VMSwitch -Name NoSwitch
Start-VM -Name A
# None of the above changed anything:
$before -eq (Get-VM | ConvertTo-Json -Compress)

# Parameter prefixes that are unambiguous bind; aliases too.
Set-VMProcessor -VMN A -Exp $false -Cou 2
Get-VM -VMName A | Format-Table Name, ProcessorCount

# Illegal state: a running VM cannot be removed, renamed processors cannot change.
Set-NestvisorVMBootImage A -Path $env:NESTVISOR_TEST_KERNEL
Start-VM A
Remove-VM -Name A -Force
Set-VM -Name A -ProcessorCount 1
Start-VM A
Stop-VM A -TurnOff
Stop-VM A

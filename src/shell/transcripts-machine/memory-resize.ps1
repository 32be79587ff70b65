# Runtime resize of a running VM with static memory and no hypervisor inside: shrinking goes
# through the guest's balloon, growing past the boot size is memory hot-add; the guest says so.
New-VM -Name R -MemoryStartupBytes 64MB | Out-Null
Set-NestvisorVMBootImage -VMName R -Path $env:NESTVISOR_BALLOON_KERNEL
Start-VM -Name R
Wait-TestSerial -VMName R -Pattern "balloon: at target: assigned 64 MiB, balloon 0 MiB"
Set-VMMemory -VMName R -StartupBytes 32MB
Wait-TestSerial -VMName R -Pattern "balloon: at target: assigned 32 MiB, balloon 32 MiB"
Get-VM -Name R | Select-Object Name, State, @{Name="MemoryAssigned(M)"; Expression={ $_.MemoryAssigned / 1MB }}
Set-VMMemory -VMName R -StartupBytes 128MB
Wait-TestSerial -VMName R -Pattern "balloon: at target: assigned 128 MiB, balloon 0 MiB"
Get-VM -Name R | Select-Object Name, State, @{Name="MemoryAssigned(M)"; Expression={ $_.MemoryAssigned / 1MB }}
Get-TestSerial -VMName R -Pattern "balloon:"
Stop-VM -Name R -TurnOff

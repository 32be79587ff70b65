# A hypervisor inside the VM (minivisor: VMXON, an L2 guest that prints and halts, then it
# stays in VMX operation). seed: "la machine virtuelle doit être désactivée pour ajuster sa
# mémoire. Cela signifie que même si la mémoire dynamique est activée, la quantité de mémoire
# ne varie pas."
New-VM -Name L1 -MemoryStartupBytes 64MB | Out-Null
Set-VMProcessor -VMName L1 -ExposeVirtualizationExtensions $true
Set-NestvisorVMBootImage -VMName L1 -Path $env:NESTVISOR_MINIVISOR -CommandLine "stay"
Start-VM -Name L1
Wait-TestSerial -VMName L1 -Pattern "minivisor: staying in VMX operation"
Get-TestSerial -VMName L1 -Pattern "[L2]"; Get-TestSerial -VMName L1 -Pattern "L2 halted"
Get-VM -Name L1 | Select-Object Name, State, NestedHypervisorRunning, @{Name="MemoryAssigned(M)"; Expression={ $_.MemoryAssigned / 1MB }}
# A runtime resize fails with the seed's reason, and nothing changes.
Set-VMMemory -VMName L1 -StartupBytes 128MB
Get-VM -Name L1 | Select-Object Name, @{Name="MemoryAssigned(M)"; Expression={ $_.MemoryAssigned / 1MB }}, @{Name="MemoryStartup(M)"; Expression={ $_.MemoryStartup / 1MB }}
Stop-VM -Name L1 -TurnOff

# With dynamic memory and a guest demand far below what it has, the amount still does not vary.
Set-VMMemory -VMName L1 -DynamicMemoryEnabled $true -MinimumBytes 32MB -MaximumBytes 128MB
Start-VM -Name L1
Wait-TestSerial -VMName L1 -Pattern "minivisor: staying in VMX operation"
Set-TestGuestMemoryDemand -VMName L1 -Bytes 8MB
Wait-TestBalance -VMName L1 -Ticks 3
Get-VM -Name L1 | Select-Object Name, NestedHypervisorRunning, DynamicMemoryEnabled, @{Name="MemoryAssigned(M)"; Expression={ $_.MemoryAssigned / 1MB }}
Set-VMMemory -VMName L1 -MaximumBytes 256MB
Stop-VM -Name L1 -TurnOff

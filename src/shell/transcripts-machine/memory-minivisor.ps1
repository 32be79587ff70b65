# Dynamic memory with minivisor as the guest (docs/minivisor.md "Dynamic memory"): its balloon
# driver (guests/lib/balloon.c) gives the host the RAM minivisor does not use for itself or L2.
# Without exposed extensions minivisor reports VT-x missing and, with "stay", serves the balloon;
# the host then moves its memory between Minimum and Maximum: demand + Buffer, and less under
# host pressure, never below Minimum.
New-VM -Name L1 -MemoryStartupBytes 64MB | Out-Null
Set-NestvisorVMBootImage -VMName L1 -Path $env:NESTVISOR_MINIVISOR -CommandLine "stay"
Set-VMMemory -VMName L1 -DynamicMemoryEnabled $true -MinimumBytes 32MB -MaximumBytes 128MB -Buffer 20
Start-VM -Name L1
Wait-TestSerial -VMName L1 -Pattern "minivisor: staying up without VT-x (serving the balloon)"
# minivisor uses its first 16 MiB: demand 16 MB, + 20% is below Minimum, so it goes to Minimum.
Wait-TestMemory -VMName L1 -AssignedBytes 32MB
Wait-TestSerial -VMName L1 -Pattern "minivisor: balloon: at target: assigned 32 MiB, balloon 32 MiB"
Get-VM -Name L1 | Select-Object Name, State, NestedHypervisorRunning, @{Name="MemoryAssigned(M)"; Expression={ $_.MemoryAssigned / 1MB }}, @{Name="MemoryDemand(M)"; Expression={ $_.MemoryDemand / 1MB }}

# A 1000% buffer wants 176 MB: it gets Maximum (the balloon deflates, then RAM is hot-added).
Set-VMMemory -VMName L1 -Buffer 1000
Wait-TestMemory -VMName L1 -AssignedBytes 128MB
Wait-TestSerial -VMName L1 -Pattern "minivisor: balloon: at target: assigned 128 MiB, balloon 0 MiB"
Get-VM -Name L1 | Select-Object Name, @{Name="MemoryAssigned(M)"; Expression={ $_.MemoryAssigned / 1MB }}

# Host pressure: a host with 16 MB for its VMs. L1 gives its buffer, then down to Minimum.
Set-TestHostMemory -Bytes 16MB
Wait-TestMemory -VMName L1 -AssignedBytes 32MB
Wait-TestSerial -VMName L1 -Pattern "minivisor: balloon: at target: assigned 32 MiB, balloon 96 MiB"
Get-VM -Name L1 | Select-Object Name, @{Name="MemoryAssigned(M)"; Expression={ $_.MemoryAssigned / 1MB }}, @{Name="MemoryMinimum(M)"; Expression={ $_.MemoryMinimum / 1MB }}
Set-TestHostMemory -Bytes 16GB
Wait-TestMemory -VMName L1 -AssignedBytes 128MB
Wait-TestSerial -VMName L1 -Pattern "minivisor: balloon: at target: assigned 128 MiB, balloon 0 MiB"
Get-TestSerial -VMName L1 -Pattern "minivisor: balloon:"
Stop-VM -Name L1 -TurnOff

# The same guest with nesting exposed and L2 running (l2idle): minivisor is in VMX operation,
# so the amount does not vary — not with a lower demand, not under the same pressure — and a
# runtime change fails with the seed's reason.
New-VM -Name N -MemoryStartupBytes 64MB | Out-Null
Set-VMProcessor -VMName N -ExposeVirtualizationExtensions $true
Set-NestvisorVMBootImage -VMName N -Path $env:NESTVISOR_MINIVISOR -CommandLine "stay l2idle l2ip=192.168.100.2/24"
Set-VMMemory -VMName N -DynamicMemoryEnabled $true -MinimumBytes 32MB -MaximumBytes 128MB -Buffer 20
Start-VM -Name N
Wait-TestSerial -VMName N -Pattern "minivisor: balloon: at target: assigned 64 MiB, balloon 0 MiB"
Set-TestHostMemory -Bytes 16MB
Wait-TestBalance -VMName N -Ticks 3
Get-VM -Name N | Select-Object Name, State, NestedHypervisorRunning, @{Name="MemoryAssigned(M)"; Expression={ $_.MemoryAssigned / 1MB }}, @{Name="MemoryDemand(M)"; Expression={ $_.MemoryDemand / 1MB }}
Set-VMMemory -VMName N -MaximumBytes 256MB
Set-TestHostMemory -Bytes 16GB
Set-VMMemory -VMName N -Buffer 1000
Wait-TestBalance -VMName N -Ticks 3
Get-VM -Name N | Select-Object Name, @{Name="MemoryAssigned(M)"; Expression={ $_.MemoryAssigned / 1MB }}
Get-TestSerial -VMName N -Pattern "minivisor: balloon:"
Get-TestSerial -VMName N -Pattern "[L2]"
Stop-VM -Name N -TurnOff

# Dynamic memory on a real machine (seed: "Mémoire dynamique et redimensionnement de la
# mémoire d'exécution"). The balloon kernel's virtio-balloon driver reports what it uses;
# it starts with 64 MB and a 96 MiB workload, so the host grows it (deflate, then hot-add)
# until demand + 20% fits: 8 MiB of kernel + 96 MiB of work = 104 MiB, x1.2 -> 126 MB.
New-VM -Name D -MemoryStartupBytes 64MB | Out-Null
Set-NestvisorVMBootImage -VMName D -Path $env:NESTVISOR_BALLOON_KERNEL -CommandLine "work=96"
Set-VMMemory -VMName D -DynamicMemoryEnabled $true -MinimumBytes 64MB -MaximumBytes 256MB -Buffer 20
Start-VM -Name D
Wait-TestSerial -VMName D -Pattern "balloon: work: holding 96 MiB"
Wait-TestMemory -VMName D -AssignedBytes 126MB
Get-VM -Name D | Select-Object Name, State, DynamicMemoryEnabled, @{Name="MemoryAssigned(M)"; Expression={ $_.MemoryAssigned / 1MB }}, @{Name="MemoryDemand(M)"; Expression={ $_.MemoryDemand / 1MB }}
Wait-TestSerial -VMName D -Pattern "balloon: at target: assigned 126 MiB"

# A lower maximum applies at once: the guest gives memory back through its balloon.
Stop-VM -Name D -TurnOff
Set-VMMemory -VMName D -MaximumBytes 96MB
Start-VM -Name D
Wait-TestMemory -VMName D -AssignedBytes 96MB
Get-VM -Name D | Select-Object Name, @{Name="MemoryAssigned(M)"; Expression={ $_.MemoryAssigned / 1MB }}, @{Name="MemoryMaximum(M)"; Expression={ $_.MemoryMaximum / 1MB }}
Stop-VM -Name D -TurnOff

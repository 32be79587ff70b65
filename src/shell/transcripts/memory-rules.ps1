# Memory rules: Hyper-V's usual ones, and the seed's "Mémoire dynamique et redimensionnement
# de la mémoire d'exécution" while a hypervisor runs inside the VM.
New-VM -Name M -MemoryStartupBytes 2GB | Out-Null

# Multiples of 2 MB.
Set-VMMemory -VMName M -StartupBytes 1025MB
Set-VMMemory -VMName M -StartupBytes 1026MB
New-VM -Name Odd -MemoryStartupBytes 1001MB

# Within the host's memory.
Set-VMMemory -VMName M -StartupBytes 64GB

# Minimum <= Startup <= Maximum, with dynamic memory.
Set-VMMemory -VMName M -DynamicMemoryEnabled $true -MinimumBytes 2GB -MaximumBytes 4GB
Set-VMMemory -VMName M -DynamicMemoryEnabled $true -MinimumBytes 512MB -MaximumBytes 1GB
Set-VMMemory -VMName M -DynamicMemoryEnabled $true -MinimumBytes 512MB -MaximumBytes 4GB
Get-VMMemory -VMName M

# Buffer 5-2000, Priority 0-100.
Set-VMMemory -VMName M -Buffer 4
Set-VMMemory -VMName M -Buffer 2001
Set-VMMemory -VMName M -Priority 101
Set-VMMemory -VMName M -Buffer 50 -Priority 80
Get-VMMemory -VMName M | Format-List VMName, Buffer, Priority

# Running without a nested hypervisor: static memory can be resized at run time...
Set-VMMemory -VMName M -DynamicMemoryEnabled $false
Set-NestvisorVMBootImage -VMName M -Path $env:NESTVISOR_TEST_KERNEL
Start-VM -Name M
Set-VMMemory -VMName M -StartupBytes 3GB
Get-VM -Name M | Format-Table Name, State, MemoryAssigned
# ... but dynamic memory cannot be switched on or off while it runs.
Set-VMMemory -VMName M -DynamicMemoryEnabled $true

# With a hypervisor running inside (the guest executed VMXON), memory cannot change at all.
Set-TestGuestVmx -VMName M -On $true
Set-VMMemory -VMName M -StartupBytes 4GB
Set-VM -Name M -MemoryStartupBytes 4GB
Get-VM -Name M | Format-Table Name, MemoryAssigned, NestedHypervisorRunning
Stop-VM -Name M -TurnOff

# Once Off, the VM's memory can be adjusted again.
Set-VMMemory -VMName M -StartupBytes 4GB
Get-VMMemory -VMName M

# Dynamic memory follows the guest's demand (plus the buffer) within min and max...
Set-VMMemory -VMName M -DynamicMemoryEnabled $true -MinimumBytes 1GB -StartupBytes 2GB -MaximumBytes 8GB -Buffer 20
Start-VM -Name M
Set-TestGuestMemoryDemand -VMName M -Bytes 5GB
Get-VM -Name M | Select-Object Name, @{Name="MemoryAssigned(M)"; Expression={ $_.MemoryAssigned / 1MB }}
# ... but while a hypervisor runs inside, the amount does not vary even with dynamic memory.
Set-TestGuestVmx -VMName M -On $true
Set-TestGuestMemoryDemand -VMName M -Bytes 1GB
Get-VM -Name M | Select-Object Name, @{Name="MemoryAssigned(M)"; Expression={ $_.MemoryAssigned / 1MB }}
Set-VMMemory -VMName M -MaximumBytes 16GB
Set-TestGuestVmx -VMName M -On $false
Set-TestGuestMemoryDemand -VMName M -Bytes 1GB
Get-VM -Name M | Select-Object Name, @{Name="MemoryAssigned(M)"; Expression={ $_.MemoryAssigned / 1MB }}
Stop-VM -Name M -TurnOff

# Switch-port counters and packet captures (Nestvisor's cmdlets), seed "Usurpation des adresses MAC".
# The guests here are the test's: Send-TestGuestFrame makes a VM's NIC send Ethernet frames.
New-VMSwitch -Name Lab -SwitchType Private | Out-Null
New-VM -Name L1 -SwitchName Lab | Out-Null
New-VM -Name B -SwitchName Lab | Out-Null
Set-NestvisorVMBootImage -VMName L1, B -Path $env:NESTVISOR_TEST_KERNEL

# No VM runs: no VM port, no counters.
Get-NestvisorSwitchPortStatistics
Start-VM -Name L1, B

# Frames from the adapter's own MAC get through; frames from an L2 guest's MAC are dropped
# at L1's port while MacAddressSpoofing is Off.
$cap = Start-NestvisorCapture -SwitchName Lab -Path "$env:NESTVISOR_TEST_DIR/lab.pcap"
$cap | Format-Table Id, SwitchName, VMName, Frames, Running
$l1 = Start-NestvisorCapture -SwitchName Lab -VMName L1 -Path "$env:NESTVISOR_TEST_DIR/l1.pcap"
Send-TestGuestFrame -VMName L1 -Count 2
Send-TestGuestFrame -VMName L1 -SourceMac 00-15-5D-00-00-A2 -Count 3
Get-NestvisorSwitchPortStatistics -SwitchName Lab
Get-VMNetworkAdapter -VMName L1 | Format-Table VMName, MacAddressSpoofing, MacAddressSpoofingDrops

# With spoofing On the same frames are delivered.
Get-VMNetworkAdapter -VMName L1 | Set-VMNetworkAdapter -MacAddressSpoofing On
Send-TestGuestFrame -VMName L1 -SourceMac 00-15-5D-00-00-A2 -Count 3
Get-NestvisorSwitchPortStatistics -VMName L1 | Format-List *
Get-NestvisorSwitchPortStatistics -VMName B | Format-Table PortName, ReceivedFrames, DroppedMacAddressSpoofing

# The whole-switch capture holds what the switch accepted (2 + 3); L1's port capture also
# holds the 3 frames it dropped.
Stop-NestvisorCapture -Id $cap.Id | Format-Table Id, SwitchName, VMName, Frames, Running
$l1 | Stop-NestvisorCapture | Format-Table Id, SwitchName, VMName, Frames, Running
Stop-NestvisorCapture

# Errors.
Get-NestvisorSwitchPortStatistics -SwitchName Nowhere
Get-NestvisorSwitchPortStatistics -VMName Nobody
Start-NestvisorCapture -SwitchName Nowhere -Path x.pcap
Stop-VM -Name B -Force
Start-NestvisorCapture -SwitchName Lab -VMName B -Path "$env:NESTVISOR_TEST_DIR/b.pcap"
Start-NestvisorCapture -SwitchName Lab -Path /nonexistent-nestvisor-dir/x.pcap
$c = Start-NestvisorCapture -SwitchName Lab -Path "$env:NESTVISOR_TEST_DIR/again.pcap"
Start-NestvisorCapture -SwitchName Lab -Path "$env:NESTVISOR_TEST_DIR/twice.pcap"
Stop-NestvisorCapture -Id 99
Stop-NestvisorCapture -Id $c.Id | Select-Object -ExpandProperty Frames
Get-Command -Module Nestvisor

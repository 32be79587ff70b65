# NetNat static mappings (Add-/Get-/Remove-NetNatStaticMapping) and NetNat's live counters
# (Get-NestvisorNatStatistics), seed "Traduction d'adresses réseau (NAT)".
New-VMSwitch -Name VmNAT -SwitchType Internal | Out-Null
New-NetNat -Name LocalNAT -InternalIPInterfaceAddressPrefix "192.168.100.0/24" | Out-Null

# No vNIC address in the prefix yet: the NAT is configured but does not run.
Get-NestvisorNatStatistics
Get-NetAdapter "vEthernet (VmNat)" | New-NetIPAddress -IPAddress 192.168.100.1 -AddressFamily IPv4 -PrefixLength 24 | Out-Null

# Hyper-V's example; Nestvisor listens on 127.0.0.1:ExternalPort.
Add-NetNatStaticMapping -NatName LocalNAT -Protocol TCP -ExternalIPAddress 0.0.0.0 -ExternalPort 48321 -InternalIPAddress 192.168.100.2 -InternalPort 80
Add-NetNatStaticMapping -NatName LocalNAT -Protocol TCP -ExternalIPAddress 127.0.0.1 -ExternalPort 48322 -InternalIPAddress 192.168.100.3 -InternalPort 22 | Format-Table StaticMappingID, ExternalPort, InternalIPAddress, InternalPort
Get-NetNatStaticMapping | Format-Table StaticMappingID, NatName, Protocol, ExternalIPAddress, ExternalPort, InternalIPAddress, InternalPort, Active
Get-NetNatStaticMapping -NatName LocalNAT -StaticMappingID 1 | Select-Object -ExpandProperty InternalIPAddress
Get-NestvisorNatStatistics -Name LocalNAT | Format-List *

# Errors: no such NAT, address outside the prefix, duplicate external port, ports out of
# range, an unknown protocol, UDP, an external address other than loopback or any.
Add-NetNatStaticMapping -NatName Nowhere -Protocol TCP -ExternalIPAddress 0.0.0.0 -ExternalPort 48323 -InternalIPAddress 192.168.100.2 -InternalPort 80
Add-NetNatStaticMapping -NatName LocalNAT -Protocol TCP -ExternalIPAddress 0.0.0.0 -ExternalPort 48323 -InternalIPAddress 10.0.0.2 -InternalPort 80
Add-NetNatStaticMapping -NatName LocalNAT -Protocol TCP -ExternalIPAddress 0.0.0.0 -ExternalPort 48321 -InternalIPAddress 192.168.100.4 -InternalPort 8080
Add-NetNatStaticMapping -NatName LocalNAT -Protocol TCP -ExternalIPAddress 0.0.0.0 -ExternalPort 70000 -InternalIPAddress 192.168.100.2 -InternalPort 80
Add-NetNatStaticMapping -NatName LocalNAT -Protocol TCP -ExternalIPAddress 0.0.0.0 -ExternalPort 48323 -InternalIPAddress 192.168.100.2 -InternalPort 0
Add-NetNatStaticMapping -NatName LocalNAT -Protocol ICMP -ExternalIPAddress 0.0.0.0 -ExternalPort 48323 -InternalIPAddress 192.168.100.2 -InternalPort 80
Add-NetNatStaticMapping -NatName LocalNAT -Protocol UDP -ExternalIPAddress 0.0.0.0 -ExternalPort 48323 -InternalIPAddress 192.168.100.2 -InternalPort 53
Add-NetNatStaticMapping -NatName LocalNAT -Protocol TCP -ExternalIPAddress 10.1.2.3 -ExternalPort 48323 -InternalIPAddress 192.168.100.2 -InternalPort 80
Add-NetNatStaticMapping -NatName LocalNAT -Protocol TCP -ExternalIPAddress 0.0.0.0 -ExternalPort 48323 -InternalIPAddress 192.168.100.2
Get-NetNatStaticMapping -StaticMappingID 7
Remove-NetNatStaticMapping -StaticMappingID 7 -Confirm:$false
Get-NestvisorNatStatistics -Name Nowhere

# Removing: by id, then through the pipeline.
Remove-NetNatStaticMapping -StaticMappingID 0 -Confirm:$false
Get-NetNatStaticMapping | Format-Table StaticMappingID, ExternalPort
Get-NetNatStaticMapping -NatName LocalNAT | Remove-NetNatStaticMapping -Confirm:$false
Get-NetNatStaticMapping
(Get-NestvisorNatStatistics).StaticMappings

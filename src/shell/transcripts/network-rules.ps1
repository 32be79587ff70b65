# Networking rules (seed: "Options de mise en réseau").
New-VMSwitch -Name Lab -SwitchType Internal | Out-Null
New-VMSwitch -Name Iso -SwitchType Private | Out-Null

# Switch names are unique; External comes from -NetAdapterName, not -SwitchType.
New-VMSwitch -Name Lab -SwitchType Private
New-VMSwitch -Name Ext -SwitchType External
New-VMSwitch -Name Ext -NetAdapterName Ethernet -AllowManagementOS $false
New-VMSwitch -Name Ext2 -NetAdapterName Ethernet
Get-VMSwitch

# An Internal switch gives the host "vEthernet (NAME)", a Hyper-V Virtual Ethernet Adapter.
Get-NetAdapter | Format-Table Name, InterfaceDescription, ifIndex

# MAC addresses come from Hyper-V's pool 00-15-5D; a static one must be a valid unicast MAC.
New-VM -Name A -SwitchName Lab | Out-Null
Add-VMNetworkAdapter -VMName A -Name Second -SwitchName Iso -Passthru
Add-VMNetworkAdapter -VMName A -Name Bad -StaticMacAddress 01155D000001
Set-VMNetworkAdapter -VMName A -Name Second -StaticMacAddress 00-15-5D-AB-CD-EF
Get-VMNetworkAdapter -VMName A | Format-Table Name, SwitchName, MacAddress, DynamicMacAddressEnabled

# MAC address spoofing On and Off again.
Set-VMNetworkAdapter -VMName A -Name Second -MacAddressSpoofing On
Get-VMNetworkAdapter -VMName A | Where-Object MacAddressSpoofing -eq On | Select-Object -ExpandProperty Name
Get-VMNetworkAdapter -VMName A | Set-VMNetworkAdapter -MacAddressSpoofing Off
(Get-VMNetworkAdapter -VMName A).MacAddressSpoofing

# A switch in use cannot be removed; once disconnected it can.
Remove-VMSwitch -Name Lab -Force
Disconnect-VMNetworkAdapter -VMName A -Name "Network Adapter"
Remove-VMSwitch -Name Lab -Force
Get-NetAdapter -Name "vEthernet (Lab)"
Connect-VMNetworkAdapter -VMName A -Name "Network Adapter" -SwitchName Iso
Get-VMNetworkAdapter -VMName A | Format-Table Name, SwitchName

# IP addresses: valid for their prefix, unique.
New-VMSwitch -Name VmNAT -SwitchType Internal | Out-Null
New-NetIPAddress -InterfaceAlias "vEthernet (VmNAT)" -IPAddress 192.168.100.0 -PrefixLength 24
New-NetIPAddress -InterfaceAlias "vEthernet (VmNAT)" -IPAddress 192.168.100.255 -PrefixLength 24
New-NetIPAddress -InterfaceAlias "vEthernet (VmNAT)" -IPAddress 192.168.300.1 -PrefixLength 24
New-NetIPAddress -InterfaceAlias "vEthernet (VmNAT)" -IPAddress 192.168.100.1 -PrefixLength 24 | Out-Null
New-NetIPAddress -InterfaceAlias "vEthernet (VmNAT)" -IPAddress 192.168.100.1 -PrefixLength 24
New-NetIPAddress -InterfaceAlias Ethernet -IPAddress 192.168.100.2 -PrefixLength 24 -DefaultGateway 10.0.0.1
New-NetIPAddress -InterfaceAlias "No Such" -IPAddress 10.1.1.1 -PrefixLength 24
Get-NetIPAddress | Format-Table IPAddress, InterfaceAlias, PrefixLength

# NetNat: prefixes may not overlap.
New-NetNat -Name LocalNAT -InternalIPInterfaceAddressPrefix 192.168.100.0/24 | Out-Null
New-NetNat -Name Wide -InternalIPInterfaceAddressPrefix 192.168.0.0/16
New-NetNat -Name Inner -InternalIPInterfaceAddressPrefix 192.168.100.128/25
New-NetNat -Name Sloppy -InternalIPInterfaceAddressPrefix 10.0.0.1/24
New-NetNat -Name LocalNAT -InternalIPInterfaceAddressPrefix 10.0.0.0/24
New-NetNat -Name Other -InternalIPInterfaceAddressPrefix 192.168.101.0/24 | Out-Null
Get-NetNat | Format-Table Name, InternalIPInterfaceAddressPrefix
Remove-NetNat -Name Other -Confirm:$false
Get-NetNat | Select-Object -ExpandProperty Name

# DNS client server addresses, with the cmdlet and with netsh.
Set-DnsClientServerAddress -InterfaceAlias Ethernet -ServerAddresses 1.1.1.1, 9.9.9.9
Set-DnsClientServerAddress -InterfaceAlias Ethernet -ServerAddresses nonsense
netsh interface ip add dnsserver "Ethernet" address=8.8.8.8 index=1
netsh interface ip add dnsserver "Ethernet" address=8.8.8.8
$LASTEXITCODE
netsh interface ip add dnsserver "Nowhere" address=8.8.4.4
netsh interface ip add dnsserver "Ethernet" address=not.an.ip
netsh interface ip show config
(Get-DnsClientServerAddress -InterfaceAlias Ethernet -AddressFamily IPv4).ServerAddresses
Set-DnsClientServerAddress -InterfaceAlias Ethernet -ResetServerAddresses
Get-DnsClientServerAddress -InterfaceAlias Ethernet -AddressFamily IPv4

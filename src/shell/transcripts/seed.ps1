# The seed document "Exécuter Hyper-V dans une machine virtuelle avec la virtualisation
# imbriquée", section by section; its commands are copied byte for byte (en dashes and curly
# quotes included), with <VMName> = L1 and <my DNS server> = 192.168.100.1.

# Conditions préalables: the host CPU (Intel, VT-x, EPT) and version 8.0 or later.
Get-VMHost | Format-List CpuVendor, VtxSupported, EptSupported, NestedVirtualizationSupported
Get-VMHostSupportedVersion -Default

# Configurer la virtualisation imbriquée, step 1: create a VM.
New-VM -Name L1 -MemoryStartupBytes 4GB -Generation 2
Set-NestvisorVMBootImage -VMName L1 -Path $env:NESTVISOR_TEST_KERNEL -CommandLine "console=ttyS0"

# Step 2: while the VM is Off, expose the virtualization extensions.
Set-VMProcessor -VMName L1 -ExposeVirtualizationExtensions $true
(Get-VMProcessor -VMName L1).ExposeVirtualizationExtensions

# Step 3: start the VM.
Start-VM -Name L1
Get-VM -Name L1 | Select-Object Name, State

# While it runs, the setting cannot change (the document says: only while Off).
Set-VMProcessor -VMName L1 -ExposeVirtualizationExtensions $false

# Désactiver la virtualisation imbriquée: on a stopped VM.
Stop-VM -Name L1 -TurnOff
Set-VMProcessor -VMName L1 -ExposeVirtualizationExtensions $false
(Get-VMProcessor -VMName L1).ExposeVirtualizationExtensions
Set-VMProcessor -VMName L1 -ExposeVirtualizationExtensions $true

# Mémoire dynamique: while a hypervisor runs in the VM, its memory cannot change.
Start-VM -Name L1
Set-TestGuestVmx -VMName L1 -On $true
Set-VMMemory -VMName L1 -StartupBytes 6GB
Set-TestGuestVmx -VMName L1 -On $false
Set-VMMemory -VMName L1 -StartupBytes 6GB
Get-VMMemory -VMName L1
Stop-VM -Name L1 -TurnOff

# Usurpation des adresses MAC
Get-VMNetworkAdapter -VMName L1 | Set-VMNetworkAdapter -MacAddressSpoofing On
Get-VMNetworkAdapter -VMName L1 | Select-Object VMName, Name, MacAddressSpoofing

# Traduction d'adresses réseau (NAT)
New-VMSwitch -Name VmNAT -SwitchType Internal
New-NetNat –Name LocalNAT –InternalIPInterfaceAddressPrefix “192.168.100.0/24”
Get-NetAdapter "vEthernet (VmNat)" | New-NetIPAddress -IPAddress 192.168.100.1 -AddressFamily IPv4 -PrefixLength 24
Get-NetAdapter "Ethernet" | New-NetIPAddress -IPAddress 192.168.100.2 -DefaultGateway 192.168.100.1 -AddressFamily IPv4 -PrefixLength 24
Netsh interface ip add dnsserver “Ethernet” address=192.168.100.1
Get-NetAdapter
Get-DnsClientServerAddress -InterfaceAlias Ethernet -AddressFamily IPv4
Get-NetIPAddress | Format-Table IPAddress, InterfaceAlias, PrefixLength

# Readiness, item by item.
Get-NestvisorNestedVirtStatus -VMName L1

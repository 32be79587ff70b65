# The PowerShell subset: variables, strings, numbers, arrays, operators, pipelines, blocks.
$name = 'L1'   # a comment
<# a block
   comment #>
$size = 4GB; $size / 1MB
"double: $name, sub: $($size / 1GB) GB, escaped: `$name, tab:`t|"
'single: $name'
"it's ""quoted"""
@'
here-string: $name stays literal
'@
@"
here-string: $name expands
"@
$list = 1, 2, 3
$list.Count
$list[-1]
$list -contains 2
3 -in $list
'Nested' -like 'Nest*'
'Nested' -match '^N(es)t'
$Matches[1]
-not $true
!$false
(1 -lt 2) -and (2 -gt 3)
(1 -lt 2) -or (2 -gt 3)
'a' -ne 'A'
'{0}-{1}' -f 'x', 7
New-VM -Name $name `
  -MemoryStartupBytes $size `
  -Generation 2 | Out-Null
New-VM -Name L2 -MemoryStartupBytes 2GB | Out-Null
$vm = Get-VM -Name $name
$vm.State
$vm.Name.ToUpper()
(Get-VM).Name
(Get-VMProcessor -VMName L1).ExposeVirtualizationExtensions
Get-VM | Where-Object { $_.MemoryStartup -gt 3GB } | ForEach-Object { "big: $($_.Name)" }
Get-VM | Where-Object Name -like 'L*' | Sort-Object MemoryStartup | Select-Object -ExpandProperty Name
Get-VM | Sort-Object Name -Descending | Select-Object -First 1 Name, Generation
Get-VM | ForEach-Object Name
Get-VM | Measure-Object | Select-Object -ExpandProperty Count
Get-VMMemory L1 | Select-Object VMName, Startup | ConvertTo-Json
$text = Get-VM L2 | Format-List Name, State | Out-String
$text.Length -gt 0
foreach ($n in 'L1', 'L2') { "vm $n" }
if ((Get-VM L1).Generation -eq 2) { 'gen2' } elseif ($true) { 'never' } else { 'no' }
$h = @{ Name = 'x'; Size = 2 }
$h.Size
Set-VMProcessor –VMName L1 –ExposeVirtualizationExtensions $true -WhatIf
(Get-VMProcessor -VMName L1).ExposeVirtualizationExtensions
Get-VM -Name Missing -ErrorAction SilentlyContinue
$?
$Error[0].FullyQualifiedErrorId
Get-VM -Name L1 2>$null | Select-Object -ExpandProperty Name
Get-Command -Noun VMProcessor
Get-Help Set-VMProcessor -Examples
try { Get-VM -Name Missing -ErrorAction Stop; 'unreached' } catch { "caught: $($_.FullyQualifiedErrorId)" } finally { 'cleanup' }
try {
  throw 'boom'
}
catch [System.Exception] {
  "caught: $($_.Exception)"
}
Get-VM -Name Missing -ErrorAction Stop
'never printed'

/**
 * VM configuration versions this host supports (Get-VMHostSupportedVersion). seed:
 * "Configuration de machine virtuelle version 8.0 ou ultérieure" — nesting needs ≥ 8.0.
 */
export interface SupportedVersion { name: string; version: string; isDefault: boolean }

export const SUPPORTED_VERSIONS: readonly SupportedVersion[] = [
  { name: 'Microsoft Windows Server 2012 R2/Windows 8.1', version: '5.0', isDefault: false },
  { name: 'Microsoft Windows 10 1507/Windows Server 2016 Technical Preview 3', version: '6.2', isDefault: false },
  { name: 'Microsoft Windows 10 1511/Windows Server 2016 Technical Preview 4', version: '7.0', isDefault: false },
  { name: 'Microsoft Windows Server 2016 Technical Preview 5', version: '7.1', isDefault: false },
  { name: 'Microsoft Windows Server 2016/Windows 10 Anniversary Update', version: '8.0', isDefault: false },
  { name: 'Microsoft Windows 10 Creators Update', version: '8.1', isDefault: false },
  { name: 'Microsoft Windows 10 Fall Creators Update', version: '8.2', isDefault: false },
  { name: 'Microsoft Windows 10 April 2018 Update', version: '8.3', isDefault: false },
  { name: 'Microsoft Windows Server 2019/Windows 10 October 2018 Update', version: '9.0', isDefault: false },
  { name: 'Microsoft Windows 10 May 2019 Update/Windows Server 1903', version: '9.1', isDefault: false },
  { name: 'Microsoft Windows 10 November 2019 Update/Windows Server 1909', version: '9.2', isDefault: false },
  { name: 'Microsoft Windows 10 May 2020 Update/Windows Server 2004', version: '9.3', isDefault: false },
  { name: 'Microsoft Windows Server 2022', version: '10.0', isDefault: true },
];

export const DEFAULT_VERSION = '10.0';
export const NESTING_MIN_VERSION = '8.0';

export function compareVersions(a: string, b: string): number {
  const [am, an] = a.split('.').map(Number);
  const [bm, bn] = b.split('.').map(Number);
  return am !== bm ? am - bm : (an ?? 0) - (bn ?? 0);
}

export function isSupportedVersion(v: string): boolean {
  return SUPPORTED_VERSIONS.some((s) => s.version === v);
}

/**
 * Host CPU profiles: which processor Nestvisor emulates for its VMs. seed: "Conditions
 * préalables — Processeur Intel avec la technologie VT-x et EPT -- l'imbrication est
 * actuellement exclusivement Intel." The AMD and no-EPT profiles exist so that the refusal
 * paths of that prerequisite can be exercised.
 */
export interface CpuProfile {
  readonly name: string;
  readonly vendor: 'GenuineIntel' | 'AuthenticAMD';
  readonly model: string;
  /** Intel VT-x (VMX) available to expose. */
  readonly vtx: boolean;
  /** Extended Page Tables available to expose. */
  readonly ept: boolean;
}

export const CPU_PROFILES: readonly CpuProfile[] = [
  { name: 'IntelVtxEpt', vendor: 'GenuineIntel', model: 'Nestvisor Virtual Intel x86-64 (VT-x, EPT)', vtx: true, ept: true },
  { name: 'IntelVtxNoEpt', vendor: 'GenuineIntel', model: 'Nestvisor Virtual Intel x86-64 (VT-x, no EPT)', vtx: true, ept: false },
  { name: 'IntelNoVtx', vendor: 'GenuineIntel', model: 'Nestvisor Virtual Intel x86-64 (no VT-x)', vtx: false, ept: false },
  { name: 'AmdSvm', vendor: 'AuthenticAMD', model: 'Nestvisor Virtual AMD x86-64 (AMD-V)', vtx: false, ept: false },
];

export const DEFAULT_CPU_PROFILE = 'IntelVtxEpt';

export function findCpuProfile(name: string): CpuProfile | undefined {
  return CPU_PROFILES.find((p) => p.name.toLowerCase() === name.toLowerCase());
}

/**
 * Why nesting is impossible on this profile, in the user's words, or null when it is
 * possible. The seed's prerequisite has three parts: Intel, VT-x, EPT.
 */
export function nestingUnsupportedReason(p: CpuProfile): string | null {
  if (p.vendor !== 'GenuineIntel') {
    return `The host processor is ${p.vendor} (${p.model}); nested virtualization requires an Intel processor with VT-x and EPT.`;
  }
  if (!p.vtx) return `The host processor (${p.model}) does not offer Intel VT-x.`;
  if (!p.ept) return `The host processor (${p.model}) offers VT-x without EPT; nested virtualization requires EPT.`;
  return null;
}

/**
 * CPU profiles by name, for `nestvisor run --cpu` (QEMU's `-cpu MODEL,+feat,-feat` in
 * miniature): a profile name, optionally followed by `,-FEATURE` to remove a feature the
 * profile has or `,+FEATURE` to add one back that Nestvisor implements. Only features the
 * emulator implements can be named, so a profile never advertises what is not there
 * (profile.ts's rule). kvm-unit-tests' [xapic] configuration is `nestvisor-intel,-x2apic`.
 */
import {
  CpuProfile, defaultProfile, amdProfile, F1C_X2APIC, F1C_TSCDL, F1C_PCID, F1C_MOVBE, F1C_POPCNT, F1C_XSAVE, F1C_CX16,
  F1C_SSE3, F1C_SSSE3, F1C_SSE41, F1C_SSE42, F1C_AES, F1C_PCLMUL, F1C_AVX, F1C_FMA, F1C_F16C, F7B_AVX2, F7B_BMI1, F7B_BMI2,
  F7B_FSGSBASE, F7B_TSC_ADJUST, F7B_SMEP, F7B_SMAP, F7B_INVPCID, F7B_ERMS, F7B_CLFLUSHOPT, F7B_CLWB, F7C_UMIP, F7C_RDPID,
  FXD_RDTSCP, FXD_PAGE1G, FXD_NX,
} from './profile.js';

type Field = 'leaf1Ecx' | 'leaf7Ebx' | 'leaf7Ecx' | 'ext1Edx';

/** Feature names as QEMU and Linux's /proc/cpuinfo spell them. */
const FEATURES: Record<string, [Field, number]> = {
  'x2apic': ['leaf1Ecx', F1C_X2APIC],
  'tsc-deadline': ['leaf1Ecx', F1C_TSCDL],
  'pcid': ['leaf1Ecx', F1C_PCID],
  'movbe': ['leaf1Ecx', F1C_MOVBE],
  'popcnt': ['leaf1Ecx', F1C_POPCNT],
  'xsave': ['leaf1Ecx', F1C_XSAVE],
  'cx16': ['leaf1Ecx', F1C_CX16],
  'pni': ['leaf1Ecx', F1C_SSE3],
  'sse3': ['leaf1Ecx', F1C_SSE3],
  'ssse3': ['leaf1Ecx', F1C_SSSE3],
  'sse4.1': ['leaf1Ecx', F1C_SSE41],
  'sse4.2': ['leaf1Ecx', F1C_SSE42],
  'aes': ['leaf1Ecx', F1C_AES],
  'pclmulqdq': ['leaf1Ecx', F1C_PCLMUL],
  'avx': ['leaf1Ecx', F1C_AVX],
  'fma': ['leaf1Ecx', F1C_FMA],
  'f16c': ['leaf1Ecx', F1C_F16C],
  'avx2': ['leaf7Ebx', F7B_AVX2],
  'bmi1': ['leaf7Ebx', F7B_BMI1],
  'bmi2': ['leaf7Ebx', F7B_BMI2],
  'fsgsbase': ['leaf7Ebx', F7B_FSGSBASE],
  'tsc-adjust': ['leaf7Ebx', F7B_TSC_ADJUST],
  'smep': ['leaf7Ebx', F7B_SMEP],
  'smap': ['leaf7Ebx', F7B_SMAP],
  'invpcid': ['leaf7Ebx', F7B_INVPCID],
  'erms': ['leaf7Ebx', F7B_ERMS],
  'clflushopt': ['leaf7Ebx', F7B_CLFLUSHOPT],
  'clwb': ['leaf7Ebx', F7B_CLWB],
  'umip': ['leaf7Ecx', F7C_UMIP],
  'rdpid': ['leaf7Ecx', F7C_RDPID],
  'rdtscp': ['ext1Edx', FXD_RDTSCP],
  'pdpe1gb': ['ext1Edx', FXD_PAGE1G],
  'nx': ['ext1Edx', FXD_NX],
};

const PROFILES: Record<string, () => CpuProfile> = {
  'nestvisor-intel': defaultProfile,
  // kvm-unit-tests' [syscall] configuration (QEMU: -cpu Opteron_G1,vendor=AuthenticAMD)
  'nestvisor-amd': amdProfile,
};

export const PROFILE_NAMES = Object.keys(PROFILES);
export const FEATURE_NAMES = Object.keys(FEATURES);

/** A --cpu value that names no profile or feature. */
export class CpuSpecError extends Error {}

/** Parses "nestvisor-intel", "nestvisor-intel,-x2apic,-tsc-deadline", "nestvisor-intel,phys-bits=46". */
export function profileFromSpec(spec: string): CpuProfile {
  const [name, ...mods] = spec.split(',').map((s) => s.trim());
  const make = PROFILES[name ?? ''];
  if (!make) throw new CpuSpecError(`unknown CPU profile '${name ?? ''}' (known: ${PROFILE_NAMES.join(', ')})`);
  const base = make();
  const p: { -readonly [K in keyof CpuProfile]: CpuProfile[K] } = { ...base };
  for (const m of mods) {
    // QEMU's phys-bits=N: MAXPHYADDR (CPUID 80000008h EAX[7:0]); the walkers and the VMX
    // checks read it from the profile. 36..52 as on real parts.
    const pb = /^phys-bits=(\d+)$/.exec(m);
    if (pb) {
      const n = Number(pb[1]);
      if (n < 36 || n > 52) throw new CpuSpecError(`phys-bits=${n} is out of range (36 to 52)`);
      p.physAddrBits = n;
      continue;
    }
    const sign = m[0], feat = m.slice(1);
    const f = FEATURES[feat];
    if ((sign !== '+' && sign !== '-') || !f) {
      throw new CpuSpecError(`bad CPU feature '${m}' (use +NAME or -NAME; known: ${FEATURE_NAMES.join(', ')})`);
    }
    const [field, bit] = f;
    if (sign === '-') p[field] = p[field] & ~bit;
    else if ((base[field] & bit) !== 0) p[field] = p[field] | bit;
    else throw new CpuSpecError(`CPU feature '${feat}' is not implemented by profile '${name}'`);
  }
  // Features that need another (SDM Vol. 1 §14.3: AVX state lives in XSAVE component 2; AVX2,
  // FMA and F16C are VEX instructions the AVX check gates): removing XSAVE removes AVX, and
  // removing AVX removes what builds on it, so `-avx` is a whole pre-AVX CPU.
  if ((p.leaf1Ecx & F1C_XSAVE) === 0) p.leaf1Ecx = p.leaf1Ecx & ~F1C_AVX;
  if ((p.leaf1Ecx & F1C_AVX) === 0) { p.leaf1Ecx = p.leaf1Ecx & ~(F1C_FMA | F1C_F16C); p.leaf7Ebx = p.leaf7Ebx & ~F7B_AVX2; }
  if (mods.length > 0) p.name = spec;
  return p;
}

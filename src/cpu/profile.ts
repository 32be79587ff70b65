/**
 * The CPU profile: every CPUID leaf and model-specific constant comes from here, never
 * from constants scattered through the CPU (issue 2). A profile advertises only what the
 * emulator implements; features are added here in the same commit that implements them.
 */

/** CPUID.1:EDX bits (SDM Vol. 2A Table 3-11). */
export const F1D_FPU = 1 << 0, F1D_VME = 1 << 1, F1D_DE = 1 << 2, F1D_PSE = 1 << 3, F1D_TSC = 1 << 4;
export const F1D_MSR = 1 << 5, F1D_PAE = 1 << 6, F1D_MCE = 1 << 7, F1D_CX8 = 1 << 8, F1D_APIC = 1 << 9;
export const F1D_SEP = 1 << 11, F1D_MTRR = 1 << 12, F1D_PGE = 1 << 13, F1D_MCA = 1 << 14, F1D_CMOV = 1 << 15;
export const F1D_PAT = 1 << 16, F1D_PSE36 = 1 << 17, F1D_CLFSH = 1 << 19, F1D_MMX = 1 << 23;
export const F1D_FXSR = 1 << 24, F1D_SSE = 1 << 25, F1D_SSE2 = 1 << 26;
/** CPUID.1:ECX bits (SDM Vol. 2A Table 3-10). */
export const F1C_SSE3 = 1 << 0, F1C_PCLMUL = 1 << 1, F1C_MONITOR = 1 << 3, F1C_VMX = 1 << 5;
export const F1C_SSSE3 = 1 << 9, F1C_CX16 = 1 << 13, F1C_PCID = 1 << 17, F1C_SSE41 = 1 << 19;
export const F1C_SSE42 = 1 << 20, F1C_X2APIC = 1 << 21, F1C_MOVBE = 1 << 22, F1C_POPCNT = 1 << 23;
export const F1C_TSCDL = 1 << 24, F1C_AES = 1 << 25, F1C_XSAVE = 1 << 26, F1C_OSXSAVE = 1 << 27;
export const F1C_RDRAND = 1 << 30, F1C_HYPERVISOR = 1 << 31;
/** AVX-era CPUID.1:ECX bits (src/cpu/avx/, issue 4): in the shipped profiles since the AVX families were audited complete. */
export const F1C_FMA = 1 << 12, F1C_AVX = 1 << 28, F1C_F16C = 1 << 29;
/** CPUID.(7,0):EBX / ECX / EDX bits. */
export const F7B_FSGSBASE = 1 << 0, F7B_TSC_ADJUST = 1 << 1, F7B_BMI1 = 1 << 3, F7B_SMEP = 1 << 7;
export const F7B_BMI2 = 1 << 8, F7B_ERMS = 1 << 9, F7B_INVPCID = 1 << 10, F7B_SMAP = 1 << 20;
export const F7B_CLFLUSHOPT = 1 << 23, F7B_CLWB = 1 << 24;
/** CPUID.(7,0):EBX.AVX2 (src/cpu/avx/). */
export const F7B_AVX2 = 1 << 5;
export const F7C_UMIP = 1 << 2, F7C_RDPID = 1 << 22;
export const F7D_SPEC_CTRL = 1 << 26, F7D_STIBP = 1 << 27, F7D_ARCH_CAP = 1 << 29, F7D_SSBD = 1 << 31;
/** CPUID.80000001h:EDX / ECX. */
export const FXD_SYSCALL = 1 << 11, FXD_NX = 1 << 20, FXD_PAGE1G = 1 << 26, FXD_RDTSCP = 1 << 27, FXD_LM = 1 << 29;
export const FXC_LAHF = 1 << 0, FXC_ABM = 1 << 5, FXC_PREFETCHW = 1 << 8;

/** CPUID.(EAX=0DH,ECX=1):EAX bits (SDM Vol. 1 §13.2). */
export const XD1_XSAVEOPT = 1 << 0, XD1_XSAVEC = 1 << 1, XD1_XGETBV1 = 1 << 2, XD1_XSAVES = 1 << 3;
/** The XSAVE extensions implemented (src/cpu/fpu/fxsave.ts), XSAVES/XRSTORS with IA32_XSS included. */
export const XSAVE_SUB1_EAX = XD1_XSAVEOPT | XD1_XSAVEC | XD1_XGETBV1 | XD1_XSAVES;
/** IA32_XSS (SDM Vol. 1 §13.3): supervisor state components enabled for XSAVES/XRSTORS. */
export const MSR_IA32_XSS = 0xda0;
/**
 * IA32_XSS bits that may be set, also CPUID (0DH,1):ECX/EDX: none — no supervisor state
 * component (PT, PASID, CET, HDC, UINTR, LBR, HWP) is implemented.
 */
export const XSS_SUPPORTED = 0;
/** Size of an XSAVE area holding components 0 (x87) and 1 (SSE): legacy region + header. */
export const XSAVE_LEGACY_SIZE = 576;
/**
 * XSAVE component 2 (AVX: YMM_Hi128 of YMM0-15): offset 576 and size 256 in the standard
 * format, CPUID.(0DH,2) EAX/EBX (SDM Vol. 1 §13.4.3, §13.5.3); in the compacted format it
 * also starts at 576 when present (first component after the header, no 64-byte alignment
 * needed: CPUID.(0DH,2):ECX[1] = 0).
 */
export const XSAVE_AVX_OFFSET = 576, XSAVE_AVX_SIZE = 256;

/**
 * XCR0 bits the profile supports: x87 and SSE state when it has XSAVE, AVX state (bit 2)
 * when it also advertises AVX (SDM Vol. 1 §13.3).
 */
export function xcr0Supported(p: CpuProfile): number {
  if ((p.leaf1Ecx & F1C_XSAVE) === 0) return 1;
  return (p.leaf1Ecx & F1C_AVX) !== 0 ? 7 : 3;
}

/** Bytes of a standard-format XSAVE area (and of a compacted one) for the XCR0 bits in `mask`. */
export function xsaveSize(mask: number): number {
  return (mask & 4) !== 0 ? XSAVE_AVX_OFFSET + XSAVE_AVX_SIZE : XSAVE_LEGACY_SIZE;
}

/**
 * The profile with AVX advertised (CPUID.1:ECX.AVX, XCR0 bit 2, CPUID leaf 0DH sub-leaf 2).
 * The shipped profiles have it (and AVX2/FMA/F16C/BMI1/BMI2) since the VEX completeness
 * audit (avx/isa-audit.test.ts); tests that need a CPU without it use withoutAvx().
 */
export function withAvx(p: CpuProfile): CpuProfile {
  return { ...p, name: p.name + '+avx', leaf1Ecx: p.leaf1Ecx | F1C_AVX };
}

/**
 * The profile with BMI1 and BMI2 advertised (CPUID.(7,0):EBX bits 3 and 8: the VEX-encoded
 * GPR instructions of avx/bmi.ts, and TZCNT with BMI1). On in the shipped profiles.
 */
export function withBmi(p: CpuProfile): CpuProfile {
  return { ...p, name: p.name + '+bmi', leaf7Ebx: p.leaf7Ebx | F7B_BMI1 | F7B_BMI2 };
}

/**
 * The profile with the AVX2-generation vector set advertised: AVX, AVX2, FMA and F16C
 * (CPUID.1:ECX bits 28, 12, 29; CPUID.(7,0):EBX bit 5). On in the shipped profiles.
 */
export function withAvx2Fma(p: CpuProfile): CpuProfile {
  const a = withAvx(p);
  return { ...a, name: p.name + '+avx2+fma', leaf1Ecx: a.leaf1Ecx | F1C_FMA | F1C_F16C, leaf7Ebx: a.leaf7Ebx | F7B_AVX2 };
}

/**
 * The profile without the VEX vector set: AVX, AVX2, FMA and F16C off (CPUID.1:ECX bits 28,
 * 12, 29; CPUID.(7,0):EBX bit 5), so XCR0 bit 2 cannot be set and every VEX vector
 * instruction is #UD — a pre-Sandy Bridge CPU's view, for tests of the "#UD without AVX"
 * paths and old-CPU guests (`--cpu nestvisor-intel,-avx`). BMI1/BMI2 stay (withoutBmi).
 */
export function withoutAvx(p: CpuProfile): CpuProfile {
  return { ...p, name: p.name + '-avx', leaf1Ecx: p.leaf1Ecx & ~(F1C_AVX | F1C_FMA | F1C_F16C), leaf7Ebx: p.leaf7Ebx & ~F7B_AVX2 };
}

/** The profile without BMI1 and BMI2 (CPUID.(7,0):EBX bits 3 and 8): the BMI instructions #UD. */
export function withoutBmi(p: CpuProfile): CpuProfile {
  return { ...p, name: p.name + '-bmi', leaf7Ebx: p.leaf7Ebx & ~(F7B_BMI1 | F7B_BMI2) };
}

export interface CpuProfile {
  readonly name: string;
  readonly vendor: string;           // 12 characters, e.g. "GenuineIntel"
  readonly brand: string;            // up to 48 characters
  readonly family: number;
  readonly model: number;
  readonly stepping: number;
  readonly maxLeaf: number;
  readonly maxExtLeaf: number;
  readonly leaf1Ecx: number;
  readonly leaf1Edx: number;
  readonly leaf7Ebx: number;
  readonly leaf7Ecx: number;
  readonly leaf7Edx: number;
  readonly ext1Ecx: number;
  readonly ext1Edx: number;
  readonly physAddrBits: number;
  readonly linearAddrBits: number;
  /** Nominal TSC frequency in Hz (virtual time drives the TSC from this). */
  readonly tscHz: number;
  /** Whether this host profile has VT-x and EPT to expose (Hyper-V's nesting prerequisite). */
  readonly hasVmx: boolean;
  readonly hasEpt: boolean;
}

/**
 * A modern Intel core, restricted to what Nestvisor implements today. FPU/SSE bits are
 * absent until the x87/SSE issue lands them (issue 4): advertising them now would be a lie.
 */
export function defaultProfile(): CpuProfile {
  return {
    name: 'nestvisor-intel',
    vendor: 'GenuineIntel',
    brand: 'Nestvisor Virtual Intel(R) Core(TM) CPU',
    family: 6,
    model: 0x55,
    stepping: 4,
    maxLeaf: 0xd,
    maxExtLeaf: 0x80000008,
    // x2APIC, TSC-deadline and APIC exist only on a board with a local APIC (src/devices/lapic.ts):
    // cpuidLeaf() clears them for a bare CPU, and APIC follows IA32_APIC_BASE.EN.
    // SSE3 (with the x87's FISTTP), SSSE3, SSE4.1, SSE4.2, AES and PCLMULQDQ: src/cpu/sse/ (issue 4);
    // MONITOR/MWAIT: src/cpu/monitor.ts (AMD defines the same bit, APM Vol. 3 E.3.2).
    // AVX, FMA, F16C (and AVX2, BMI1, BMI2 in leaf 7): src/cpu/avx/, every VEX encoding
    // objdump knows for them runs (avx/isa-audit.test.ts); XCR0 bit 2 follows F1C_AVX.
    leaf1Ecx: F1C_MONITOR | F1C_CX16 | F1C_PCID | F1C_X2APIC | F1C_POPCNT | F1C_MOVBE | F1C_TSCDL | F1C_HYPERVISOR | F1C_XSAVE |
      F1C_SSE3 | F1C_SSSE3 | F1C_SSE41 | F1C_SSE42 | F1C_AES | F1C_PCLMUL | F1C_AVX | F1C_FMA | F1C_F16C,
    // FPU (src/cpu/fpu/x87*.ts), SSE and SSE2 (src/cpu/sse/) are complete (issue 4); VME with
    // CR4.VME/PVI: src/cpu/ops/vme.ts (SDM Vol. 3A §20.3-§20.4).
    leaf1Edx: F1D_FPU | F1D_VME | F1D_DE | F1D_PSE | F1D_TSC | F1D_MSR | F1D_PAE | F1D_CX8 | F1D_APIC | F1D_SEP | F1D_MTRR | F1D_PGE |
      F1D_CMOV | F1D_PAT | F1D_PSE36 | F1D_CLFSH | F1D_FXSR | F1D_MMX | F1D_SSE | F1D_SSE2,
    leaf7Ebx: F7B_FSGSBASE | F7B_TSC_ADJUST | F7B_SMEP | F7B_ERMS | F7B_INVPCID | F7B_SMAP | F7B_CLFLUSHOPT | F7B_CLWB |
      F7B_AVX2 | F7B_BMI1 | F7B_BMI2,
    leaf7Ecx: F7C_UMIP | F7C_RDPID,
    // IA32_SPEC_CTRL (IBRS/IBPB, STIBP, SSBD) and IA32_ARCH_CAPABILITIES, as a modern core reports
    leaf7Edx: F7D_SPEC_CTRL | F7D_STIBP | F7D_ARCH_CAP | F7D_SSBD,
    ext1Ecx: FXC_LAHF | FXC_ABM,
    ext1Edx: FXD_SYSCALL | FXD_NX | FXD_PAGE1G | FXD_RDTSCP | FXD_LM,
    physAddrBits: 39,
    linearAddrBits: 48,
    tscHz: 2_000_000_000,
    hasVmx: true,
    hasEpt: true,
  };
}

export const VENDOR_INTEL = 'GenuineIntel', VENDOR_AMD = 'AuthenticAMD';

/** Whether the profile is an AMD CPU: behaviour that differs by vendor is keyed on this. */
export function isAmd(p: CpuProfile): boolean {
  return p.vendor === VENDOR_AMD;
}

/**
 * CPUID.80000001h:EDX bits that AMD defines as copies of CPUID.1:EDX (AMD APM Vol. 3,
 * Appendix E.4.2, Fn8000_0001_EDX): FPU VME DE PSE TSC MSR PAE MCE CX8 APIC, MTRR PGE MCA
 * CMOV PAT PSE36, MMX FXSR. Intel leaves them zero (SDM Vol. 2A CPUID, leaf 80000001H).
 */
export const AMD_EXT1_MIRROR = 0x3ff | (0x3f << 12) | F1D_MMX | F1D_FXSR;

/**
 * An AMD EPYC (Zen 3, family 19h model 01h) restricted, like the Intel profile, to what
 * Nestvisor implements. It has what Zen 3 has of the Intel profile's features (PCID and
 * INVPCID arrived with Zen 3) and drops the Intel-only ones: TSC-deadline, IA32_TSC_ADJUST,
 * the leaf-7 EDX speculation-control bits (AMD enumerates those in 80000008h:EBX) and
 * IA32_ARCH_CAPABILITIES. No AMD-V: CPUID.80000001h:ECX.SVM stays 0 (SVM is not emulated)
 * and VMX is never exposed. What the CPU does differently for it is keyed on isAmd():
 * SYSCALL/SYSRET outside 64-bit mode and SYSENTER/SYSEXIT in long mode (ops/syscall.ts),
 * the CPUID vendor conventions below and the Intel-only MSRs (msr.ts).
 * Derived from defaultProfile() so x87/SSE bits land in both profiles together (AVX, AVX2,
 * FMA, F16C, BMI1 and BMI2 included: Zen 3 has them all, AMD APM Vol. 3 E.3.2, E.3.6).
 */
export function amdProfile(): CpuProfile {
  const intel = defaultProfile();
  return {
    ...intel,
    name: 'nestvisor-amd',
    vendor: VENDOR_AMD,
    brand: 'Nestvisor Virtual AMD EPYC Processor',
    family: 0x19,
    model: 0x01,
    stepping: 1,
    leaf1Ecx: intel.leaf1Ecx & ~F1C_TSCDL,
    leaf7Ebx: intel.leaf7Ebx & ~F7B_TSC_ADJUST,
    leaf7Edx: 0,
    ext1Edx: intel.ext1Edx | (intel.leaf1Edx & AMD_EXT1_MIRROR),
    physAddrBits: 48,
    hasVmx: false,
    hasEpt: false,
  };
}

/** CPUID.1:EAX (and the reset value of EDX): stepping, model, family with their extensions. */
export function cpuidSignature(p: CpuProfile): number {
  const fam = p.family, model = p.model;
  return (p.stepping & 0xf) | ((model & 0xf) << 4) | ((fam > 0xf ? 0xf : fam) << 8) |
    (((model >> 4) & 0xf) << 16) | ((fam > 0xf ? fam - 0xf : 0) << 20);
}

function str4(s: string, i: number): number {
  return (s.charCodeAt(i) | (s.charCodeAt(i + 1) << 8) | (s.charCodeAt(i + 2) << 16) | (s.charCodeAt(i + 3) << 24)) | 0;
}

/**
 * CPUID as the profile answers it (SDM Vol. 2A CPUID). `out` receives EAX, EBX, ECX, EDX.
 * `dyn` carries the bits that depend on live state (OSXSAVE, APIC id, VMX exposure).
 */
export function cpuidLeaf(p: CpuProfile, leaf: number, sub: number, dyn: { exposeVmx: boolean; apicId: number; cr4Osxsave: boolean; hasLapic?: boolean; apicEnabled?: boolean; xcr0?: number }, out: Int32Array): void {
  leaf >>>= 0;
  out[0] = out[1] = out[2] = out[3] = 0;
  const amd = isAmd(p);
  if (leaf >= 0x80000000) {
    if (leaf > p.maxExtLeaf) {
      // AMD APM Vol. 3, CPUID: a function above the highest one returns zeros.
      if (amd) return;
      leaf = p.maxLeaf; // Intel: out-of-range returns the highest basic leaf
    } else {
      switch (leaf) {
        case 0x80000000:
          out[0] = p.maxExtLeaf;
          // AMD repeats the vendor string here (APM Vol. 3 E.4.1, Fn8000_0000); Intel: reserved
          if (amd) { out[1] = str4(p.vendor, 0); out[3] = str4(p.vendor, 4); out[2] = str4(p.vendor, 8); }
          return;
        case 0x80000001:
          out[2] = p.ext1Ecx; out[3] = p.ext1Edx;
          if (amd) {
            // AMD APM Vol. 3 E.4.2: EAX is the family/model/stepping signature, and the
            // mirrored APIC bit follows IA32_APIC_BASE.EN like CPUID.1:EDX.APIC
            out[0] = cpuidSignature(p);
            if (!dyn.apicEnabled) out[3] &= ~F1D_APIC;
          }
          return;
        case 0x80000002: case 0x80000003: case 0x80000004: {
          const b = (p.brand + '\0'.repeat(48)).slice(0, 48);
          const o = (leaf - 0x80000002) * 16;
          for (let i = 0; i < 4; i++) out[i] = str4(b, o + i * 4);
          return;
        }
        case 0x80000005: // AMD L1 caches: 32K 8-way 64-byte D and I (APM Vol. 3 E.4.4); Intel: reserved
          if (amd) { out[2] = (32 << 24) | (8 << 16) | (1 << 8) | 64; out[3] = out[2]; }
          return;
        // 256K L2, 8-way (encoding 6 in both vendors' tables), 64-byte lines
        case 0x80000006: out[2] = (256 << 16) | (6 << 12) | 64; return;
        case 0x80000007: out[3] = 1 << 8; return; // invariant TSC: virtual time keeps it constant
        case 0x80000008: out[0] = p.physAddrBits | (p.linearAddrBits << 8); return;
        default: return;
      }
    }
  }
  if (leaf > p.maxLeaf) {
    if (amd) return; // AMD APM Vol. 3, CPUID: zeros above the highest standard function
    leaf = p.maxLeaf;
  }
  switch (leaf) {
    case 0:
      out[0] = p.maxLeaf; out[1] = str4(p.vendor, 0); out[3] = str4(p.vendor, 4); out[2] = str4(p.vendor, 8);
      return;
    case 1: {
      out[0] = cpuidSignature(p);
      out[1] = (dyn.apicId << 24) | (1 << 16) | (8 << 8); // CLFLUSH line 8*8=64 bytes
      let ecx = p.leaf1Ecx & ~F1C_VMX & ~F1C_OSXSAVE;
      if (dyn.exposeVmx && p.hasVmx) ecx |= F1C_VMX;
      if (dyn.cr4Osxsave && (p.leaf1Ecx & F1C_XSAVE)) ecx |= F1C_OSXSAVE;
      // SDM Vol. 3A §10.4.3: CPUID.1:EDX.APIC reads 0 while IA32_APIC_BASE.EN is clear
      if (!dyn.hasLapic) ecx &= ~(F1C_X2APIC | F1C_TSCDL);
      out[2] = ecx; out[3] = dyn.apicEnabled ? p.leaf1Edx : p.leaf1Edx & ~F1D_APIC;
      return;
    }
    case 5: // MONITOR/MWAIT (SDM Vol. 2A CPUID leaf 05H): 64-byte lines, ECX bits 0-1
      // (enumeration of extensions, interrupts as break events); no C-state sub-states listed
      if ((p.leaf1Ecx & F1C_MONITOR) !== 0) { out[0] = 64; out[1] = 64; out[2] = 3; }
      return;
    case 7:
      if (sub === 0) { out[0] = 0; out[1] = p.leaf7Ebx; out[2] = p.leaf7Ecx; out[3] = p.leaf7Edx; }
      return;
    case 0xd: // XSAVE state enumeration (SDM Vol. 2A CPUID, leaf 0DH)
      if ((p.leaf1Ecx & F1C_XSAVE) === 0) return;
      // components 0 and 1 live in the legacy region (576 bytes with the header); AVX adds
      // 256 at 576. Sub-leaf 0: EBX = size for the XCR0 now enabled, ECX = for every
      // supported bit (SDM Vol. 2A CPUID leaf 0DH)
      if (sub === 0) { out[0] = xcr0Supported(p); out[1] = xsaveSize(dyn.xcr0 ?? 1); out[2] = xsaveSize(xcr0Supported(p)); }
      // sub-leaf 1: EBX = compacted size for XCR0 | IA32_XSS, ECX/EDX = the IA32_XSS bits supported
      else if (sub === 1) { out[0] = XSAVE_SUB1_EAX; out[1] = xsaveSize(dyn.xcr0 ?? 1); out[2] = XSS_SUPPORTED; out[3] = 0; }
      // sub-leaf 2: the AVX component's size and standard-format offset; ECX = 0 (user
      // state, no 64-byte alignment in the compacted format)
      else if (sub === 2 && (xcr0Supported(p) & 4) !== 0) { out[0] = XSAVE_AVX_SIZE; out[1] = XSAVE_AVX_OFFSET; }
      return;
    case 0xb: // x2APIC topology: one thread per core, one core per package for now
      if (sub === 0) { out[0] = 0; out[1] = 1; out[2] = 0x100; out[3] = dyn.apicId; }
      else if (sub === 1) { out[0] = 0; out[1] = 1; out[2] = 0x201; out[3] = dyn.apicId; }
      else { out[2] = sub & 0xff; out[3] = dyn.apicId; }
      return;
    default:
      return;
  }
}

/**
 * Test support of the AVX families: a test CPU whose profile advertises AVX (and AVX2 when
 * asked), with CR4.OSFXSR/OSXMMEXCPT/OSXSAVE set and XCR0 = 7 (x87, SSE, AVX state), as an
 * OS that enables AVX leaves it; YMM registers as hex strings. Test-only: may allocate.
 */
import { makeCpu, type Mode, type TestCpu } from '../testing.js';
import { withAvx, withoutAvx, withoutBmi, F7B_AVX2, F7B_BMI1, F7B_BMI2, F1C_FMA, F1C_F16C, type CpuProfile } from '../profile.js';
import { CR4_OSFXSR, CR4_OSXMMEXCPT, CR4_OSXSAVE } from '../regs.js';

export interface AvxOptions { avx2?: boolean; fma?: boolean; f16c?: boolean; bmi?: boolean }

/**
 * The profile with AVX and exactly the asked extensions on: the shipped profiles advertise
 * all of them, so the base's AVX2/FMA/F16C/BMI bits are cleared first (withoutAvx,
 * withoutBmi) and the "#UD without AVX2" cases keep a CPU that lacks them.
 */
export function avxProfile(base: CpuProfile, o: AvxOptions = {}): CpuProfile {
  const p = withAvx(withoutBmi(withoutAvx(base)));
  return {
    ...p,
    leaf1Ecx: p.leaf1Ecx | (o.fma ? F1C_FMA : 0) | (o.f16c ? F1C_F16C : 0),
    leaf7Ebx: p.leaf7Ebx | (o.avx2 ? F7B_AVX2 : 0) | (o.bmi ? F7B_BMI1 | F7B_BMI2 : 0),
  };
}

/** makeCpu with AVX advertised and enabled (CR4.OSXSAVE, XCR0 = 7). */
export function makeAvxCpu(mode: Mode = 'long64', o: AvxOptions = { avx2: true }): TestCpu {
  const t = makeCpu(mode);
  (t.cpu as unknown as { profile: CpuProfile }).profile = avxProfile(t.cpu.profile, o);
  t.cpu.cr4 |= CR4_OSFXSR | CR4_OSXMMEXCPT | CR4_OSXSAVE;
  t.cpu.xcr0 = 7;
  return t;
}

const hx = (v: number): string => (v >>> 0).toString(16).padStart(8, '0');

/** YMMn as 64 hex digits, most significant first (bits 255:0). */
export function ymmHex(t: TestCpu, n: number): string {
  const x = t.cpu.fpu.xmm, h = t.cpu.fpu.ymmh, o = n << 2;
  return hx(h[o + 3]!) + hx(h[o + 2]!) + hx(h[o + 1]!) + hx(h[o]!) + hx(x[o + 3]!) + hx(x[o + 2]!) + hx(x[o + 1]!) + hx(x[o]!);
}

/** Sets YMMn from up to 64 hex digits (most significant first; left-padded with zeros). */
export function setYmm(t: TestCpu, n: number, s: string): void {
  const p = s.replace(/[\s_]/g, '').padStart(64, '0');
  const x = t.cpu.fpu.xmm, h = t.cpu.fpu.ymmh, o = n << 2;
  for (let i = 0; i < 4; i++) {
    h[o + i] = parseInt(p.slice(24 - 8 * i, 32 - 8 * i), 16) | 0;
    x[o + i] = parseInt(p.slice(56 - 8 * i, 64 - 8 * i), 16) | 0;
  }
}

/** Hex text, most significant byte first, as little-endian bytes (to load at an address). */
export function hexBytes(s: string): Uint8Array {
  const out = new Uint8Array(s.length / 2);
  for (let i = 0; i < out.length; i++) out[i] = parseInt(s.slice(s.length - 2 * i - 2, s.length - 2 * i), 16);
  return out;
}

/** The n bytes at a guest-physical address as hex text, most significant (addr + n - 1) first. */
export function memHex(t: TestCpu, addr: number, n: number): string {
  let s = '';
  for (let i = n - 1; i >= 0; i--) s += t.mem.ram[addr + i]!.toString(16).padStart(2, '0');
  return s;
}

/** Float32 lanes as a 64-digit hex string (lane 0 last, i.e. least significant). */
export function f32Hex(...v: number[]): string {
  const f = new Float32Array(8), u = new Uint32Array(f.buffer);
  v.forEach((x, i) => { f[i] = x; });
  let s = '';
  for (let i = 7; i >= 0; i--) s += hx(u[i]!);
  return s;
}

/** Float64 lanes as a 64-digit hex string. */
export function f64Hex(...v: number[]): string {
  const f = new Float64Array(4), u = new Uint32Array(f.buffer);
  v.forEach((x, i) => { f[i] = x; });
  let s = '';
  for (let i = 7; i >= 0; i--) s += hx(u[i]!);
  return s;
}

/**
 * Floating-point and vector register state (SDM Vol. 1 §8.1 x87 FPU, §9.2 MMX, §10.2 SSE,
 * §10.2.3 MXCSR): the x87 data registers as 80-bit values, the x87 control/status/tag
 * words and last-instruction pointers, the 16 XMM registers and MXCSR.
 *
 * Layout of an x87 register (physical order R0..R7, not stack order):
 *   mant[2i]   bits 31:0 of the 64-bit significand (bit 63 is the explicit integer bit J)
 *   mant[2i+1] bits 63:32
 *   se[i]      bit 15 sign, bits 14:0 biased exponent (bias 16383)
 * MMX register MMi aliases the significand of Ri (SDM Vol. 1 §9.2.1).
 *
 * Tags use the full 2-bit encoding of FTW (SDM Vol. 1 §8.1.7): 0 valid, 1 zero,
 * 2 special (NaN, infinity, denormal, unsupported), 3 empty.
 *
 * XMM register n is xmm[4n..4n+3] (dword 0 least significant); the typed views share the
 * buffer so lane access needs no copies. The host is little-endian like the guest.
 */
export const TAG_VALID = 0, TAG_ZERO = 1, TAG_SPECIAL = 2, TAG_EMPTY = 3;

/** MXCSR fields (SDM Vol. 1 §10.2.3, Figure 10-3). */
export const MX_IE = 1, MX_DE = 2, MX_ZE = 4, MX_OE = 8, MX_UE = 16, MX_PE = 32, MX_DAZ = 64;
export const MX_IM = 1 << 7, MX_DM = 1 << 8, MX_ZM = 1 << 9, MX_OM = 1 << 10, MX_UM = 1 << 11, MX_PM = 1 << 12;
export const MX_RC_SHIFT = 13, MX_FTZ = 1 << 15;
/** MXCSR_MASK as FXSAVE reports it: every defined bit, DAZ included (SDM Vol. 1 §11.6.6). */
export const MXCSR_MASK = 0xffff;
/**
 * MXCSR_MASK of the nestvisor-amd profile: also bit 17, MM (AMD's misaligned-exception mask,
 * AMD APM Vol. 1 "MXCSR Register"), as this host (Zen 4) reports it in FXSAVE and accepts in
 * LDMXCSR/FXRSTOR/XRSTOR (measured: fpu/xsave-diff.test.ts, sse/sse-diff-specs.ts LDMXCSR).
 * With MM = 1 misaligned 16-byte SSE operands no longer raise #GP except for the explicitly
 * aligned moves (sse/common.ts checkAlign16).
 */
export const MXCSR_MASK_AMD = 0x2ffff;
export const MXCSR_DEFAULT = 0x1f80;

/** FCW after FINIT/FNINIT (SDM Vol. 1 §8.1.5); FCW at power-up is 0040H (Vol. 3A Table 9-1). */
export const FCW_INIT = 0x037f;

export class FpuState {
  readonly mant = new Int32Array(16);
  readonly se = new Uint16Array(8);
  /** Control word. */
  fcw = 0x40;
  /** Status word without TOP (bits 13:11 are kept in `top`). */
  fsw = 0;
  top = 0;
  readonly tag = new Uint8Array(8);
  /** Last x87 opcode (11 bits), instruction and data pointers (lo/hi halves, selectors). */
  fop = 0;
  fipLo = 0; fipHi = 0; fcs = 0;
  fdpLo = 0; fdpHi = 0; fds = 0;

  readonly xmm = new Int32Array(64);
  readonly xmmU8 = new Uint8Array(this.xmm.buffer);
  readonly xmmU16 = new Uint16Array(this.xmm.buffer);
  readonly xmmF32 = new Float32Array(this.xmm.buffer);
  readonly xmmF64 = new Float64Array(this.xmm.buffer);
  mxcsr = MXCSR_DEFAULT;
  /**
   * AVX state (XSAVE component 2, SDM Vol. 1 §14.1, §13.5.3): bits 255:128 of YMMn are
   * ymmh[4n..4n+3] (dword 0 = bits 159:128); bits 127:0 are xmm above. Legacy SSE
   * instructions leave ymmh alone; VEX.128 instructions zero the destination's (avx/).
   * Zero at power-up and RESET (Vol. 3A Table 9-1), follows XMM otherwise.
   */
  readonly ymmh = new Int32Array(64);
  /**
   * Bit n: XMMn was written by an SSE/AVX instruction since XRSTOR/FXRSTOR last loaded or
   * initialized the XMM registers. This host (Zen 4) then reports XINUSE[1] = 1 even if every
   * XMM register is zero (MOVAPS of a zero register, ADDSS giving +0), but not after a zeroing
   * idiom (PXOR/XORPS/XORPD xmm, same xmm; VPXOR/VXORPS/VXORPD with all three the same) or
   * VZEROALL, and XRSTOR of zeros leaves it 0: it tracks registers, not values
   * (fpu/xsave-diff.test.ts). Set by the SSE/AVX availability checks (sse/common.ts,
   * avx/common.ts) for ModRM.reg, the destination of most forms: an approximation where
   * the destination is ModRM.rm.
   */
  sseTouched = 0;
  /**
   * XSAVEOPT's modified optimization (SDM Vol. 1 §13.9): bit i = XMODIFIED[i], component i
   * was (possibly) modified since the last XRSTOR, set by the x87, MMX, SSE and AVX entry
   * checks; `xrLin`/`xrCpl` = XRSTOR_INFO of the last standard-form XRSTOR (linear address,
   * CPL), xrLin = -1 when there is none.
   */
  xmod = 7;
  xrLin = -1;
  xrCpl = 0;

  constructor() { this.reset(); }

  /** Power-up state (SDM Vol. 3A §9.1.1, Table 9-1): FCW 0040H, FTW 5555H, MXCSR 1F80H. */
  reset(): void {
    this.mant.fill(0); this.se.fill(0);
    this.fcw = 0x40; this.fsw = 0; this.top = 0;
    this.tag.fill(TAG_ZERO);
    this.fop = 0; this.fipLo = this.fipHi = this.fcs = 0; this.fdpLo = this.fdpHi = this.fds = 0;
    this.xmm.fill(0);
    this.ymmh.fill(0);
    this.mxcsr = MXCSR_DEFAULT;
    this.sseTouched = 0;
    this.xmod = 7; this.xrLin = -1;
  }

  /** The x87 initial configuration of FNINIT and of XRSTOR's init (SDM Vol. 1 §13.6). */
  initX87(): void {
    this.fcw = FCW_INIT; this.fsw = 0; this.top = 0;
    this.tag.fill(TAG_EMPTY);
    this.fop = 0; this.fipLo = this.fipHi = this.fcs = 0; this.fdpLo = this.fdpHi = this.fds = 0;
  }

  /** Status word with TOP merged in. */
  getFsw(): number { return (this.fsw & ~0x3800) | (this.top << 11); }
  setFsw(v: number): void { this.fsw = v & 0xffff & ~0x3800; this.top = (v >> 11) & 7; }

  /** Full tag word: two bits per physical register. */
  getFtw(): number {
    let w = 0;
    for (let i = 7; i >= 0; i--) w = (w << 2) | this.tag[i]!;
    return w;
  }
  setFtw(v: number): void { for (let i = 0; i < 8; i++) this.tag[i] = (v >> (2 * i)) & 3; }

  /** Abridged tag byte of FXSAVE: bit i set when Ri is not empty (SDM Vol. 1 §10.5.1.1). */
  getAbridgedFtw(): number {
    let w = 0;
    for (let i = 0; i < 8; i++) if (this.tag[i] !== TAG_EMPTY) w |= 1 << i;
    return w;
  }
  /** FXRSTOR's reconstruction of the full tags from the abridged byte and the contents. */
  setAbridgedFtw(v: number): void {
    for (let i = 0; i < 8; i++) this.tag[i] = (v & (1 << i)) !== 0 ? this.classify(i) : TAG_EMPTY;
  }

  /** Tag a register's contents would get (SDM Vol. 1 §8.1.7). */
  classify(i: number): number {
    const e = this.se[i]! & 0x7fff, lo = this.mant[2 * i]!, hi = this.mant[2 * i + 1]!;
    if (e === 0x7fff) return TAG_SPECIAL;
    if (e === 0) return lo === 0 && hi === 0 ? TAG_ZERO : TAG_SPECIAL;
    return hi < 0 ? TAG_VALID : TAG_SPECIAL; // J bit clear: unnormal
  }

  /** MMX instructions make TOS 0 and every tag valid (SDM Vol. 1 §9.5.1). */
  enterMmx(): void { this.top = 0; this.tag.fill(TAG_VALID); }

  /** Writes MMi: the significand gets the value and sign/exponent become all ones (§9.5.1). */
  setMm(i: number, lo: number, hi: number): void {
    this.mant[2 * i] = lo; this.mant[2 * i + 1] = hi; this.se[i] = 0xffff;
  }

  /** XINUSE bit 0: x87 state differs from its initial configuration (SDM Vol. 1 §13.6). */
  x87InUse(): boolean {
    if (this.fcw !== FCW_INIT || this.getFsw() !== 0 || this.fop !== 0) return true;
    if ((this.fipLo | this.fipHi | this.fdpLo | this.fdpHi | this.fcs | this.fds) !== 0) return true;
    for (let i = 0; i < 8; i++) {
      if (this.tag[i] !== TAG_EMPTY) return true;
      if ((this.mant[2 * i]! | this.mant[2 * i + 1]! | this.se[i]!) !== 0) return true;
    }
    return false;
  }
  /** XINUSE bit 2: the upper halves of the YMM registers are not all zero (SDM Vol. 1 §13.6). */
  avxInUse(): boolean {
    for (let i = 0; i < 64; i++) if (this.ymmh[i] !== 0) return true;
    return false;
  }
  /**
   * XINUSE bit 1: XMM registers not all zero. MXCSR is not part of it (SDM Vol. 1 §13.6: XINUSE[1]
   * pertains only to the XMM registers; the host agrees, fpu/xsave-diff.test.ts).
   */
  sseInUse(): boolean {
    if (this.sseTouched !== 0) return true;
    for (let i = 0; i < 64; i++) if (this.xmm[i] !== 0) return true;
    return false;
  }
}

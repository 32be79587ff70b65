/**
 * INVEPT and INVVPID (SDM Vol. 3C §30.3), after the system family decoded ModRM:
 *   66 0F 38 80 /r  INVEPT  r64/r32 (type), m128 {EPTP, reserved}
 *   66 0F 38 81 /r  INVVPID r64/r32 (type), m128 {VPID in bits 15:0, 63:16 reserved; linear address}
 * #UD unless the capability MSRs allow EPT / VPID (SDM: "IA32_VMX_PROCBASED_CTLS2[33]/[37]
 * = 0"); a type that IA32_VMX_EPT_VPID_CAP does not list, or a bad descriptor, is
 * VMfail(28). In non-root operation both exit (reasons 50 and 53).
 *
 * The software TLB caches only the current context and is not tagged with EPTPs or VPIDs,
 * so every successful INVEPT/INVVPID flushes it entirely, which meets each type's minimum
 * (single-context, all-context, individual-address, single-context-retaining-globals).
 */
import type { Cpu } from '../cpu.js';
import { VM, CR0_PE, EFER_LMA } from '../regs.js';
import { vmxCaps, PROC2_EPT, PROC2_VPID } from './capabilities.js';
import { vmFail, vmSucceed, VMX_ERR } from './instructions.js';
import { interceptVmxInstruction } from './intercepts.js';
import { EXIT } from './vmexit.js';
import { eptpOk, U64 } from './entry-checks.js';

const eptp = new U64();

/** IA32_VMX_EPT_VPID_CAP bits for the types (Appendix A.10): low dword INVEPT, high dword INVVPID. */
const INVEPT_SINGLE = 1 << 25, INVEPT_ALL = 1 << 26;
const INVVPID_ADDR = 1 << 8, INVVPID_SINGLE = 1 << 9, INVVPID_ALL = 1 << 10, INVVPID_SINGLE_GLOBALS = 1 << 11;

/** Shared #UD/exit/#GP checks; returns the type operand, or -1 when it is above 2^31. */
function common(cpu: Cpu, allowed: boolean, reason: number): number {
  if (!cpu.pfx66 || cpu.mod === 3 || cpu.lock || !cpu.exposeVmx || !allowed) return cpu.ud();
  const st = cpu.vmx;
  if (!st.inVmx || (cpu.cr0 & CR0_PE) === 0 || (cpu.flags & VM) !== 0) return cpu.ud();
  if ((cpu.efer & EFER_LMA) !== 0 && !cpu.code64) return cpu.ud();
  if (st.nonRoot) interceptVmxInstruction(cpu, reason, true);
  if (cpu.cpl !== 0) return cpu.gp(0);
  const lo = cpu.r[cpu.reg << 1]!, hi = cpu.code64 ? cpu.r[(cpu.reg << 1) + 1]! : 0;
  return hi !== 0 || lo < 0 ? -1 : lo;
}

export function invept(cpu: Cpu): void {
  const caps = vmxCaps(cpu);
  const type = common(cpu, (caps.proc21 & PROC2_EPT) !== 0, EXIT.INVEPT);
  const lin = cpu.eaLin(16, false);
  const eLo = cpu.rd32(lin), eHi = cpu.rd32(lin + 4);
  cpu.rd64(lin + 8);
  const ok = (type === 1 && (caps.eptCap & INVEPT_SINGLE) !== 0) || (type === 2 && (caps.eptCap & INVEPT_ALL) !== 0);
  if (!ok) { vmFail(cpu, cpu.vmx, VMX_ERR.INVALID_INVEPT_INVVPID_OPERAND); return; }
  // single-context: the EPTP must pass the VM-entry EPTP checks (SDM "INVEPT" Operation)
  eptp.lo = eLo; eptp.hi = eHi;
  if (type === 1 && !eptpOk(eptp, caps)) {
    vmFail(cpu, cpu.vmx, VMX_ERR.INVALID_INVEPT_INVVPID_OPERAND);
    return;
  }
  cpu.flushTlb();
  vmSucceed(cpu);
}

export function invvpid(cpu: Cpu): void {
  const caps = vmxCaps(cpu);
  const type = common(cpu, (caps.proc21 & PROC2_VPID) !== 0, EXIT.INVVPID);
  const lin = cpu.eaLin(16, false);
  const d0 = cpu.rd32(lin), d1 = cpu.rd32(lin + 4);
  const aLo = cpu.rd32(lin + 8), aHi = cpu.rd32(lin + 12);
  const cap = caps.vpidCap;
  const bit = type === 0 ? INVVPID_ADDR : type === 1 ? INVVPID_SINGLE : type === 2 ? INVVPID_ALL : type === 3 ? INVVPID_SINGLE_GLOBALS : 0;
  const vpid = d0 & 0xffff;
  const bad = bit === 0 || (cap & bit) === 0 || (d0 & ~0xffff) !== 0 || d1 !== 0 ||
    (type !== 2 && vpid === 0) || (type === 0 && !canonical(aHi, caps.linearAddrBits));
  void aLo;
  if (bad) { vmFail(cpu, cpu.vmx, VMX_ERR.INVALID_INVEPT_INVVPID_OPERAND); return; }
  cpu.flushTlb();
  vmSucceed(cpu);
}

function canonical(hi: number, bits: number): boolean { const s = hi >> (bits - 33); return s === 0 || s === -1; }

/**
 * The VMCS as ONE table (STYLE habit 3): every field of SDM Vol. 3C Appendix B as
 * {encoding, name, width, offset}. VMREAD/VMWRITE, VM entry and VM exit all go through it.
 *
 * Encodings (SDM Vol. 3C §24.11.2, Table 24-21): bit 0 access type (0 full, 1 high: the
 * upper 32 bits of a 64-bit field), bits 9:1 index, bits 11:10 type (0 control, 1 VM-exit
 * information = read-only data, 2 guest state, 3 host state), bit 12 reserved (0), bits
 * 14:13 width (0 16-bit, 1 64-bit, 2 32-bit, 3 natural width), bits 31:15 reserved (0).
 * The width written in each row is checked against these bits by vmcs-fields.test.ts.
 *
 * Layout of the VMCS region in guest memory (our implementation-specific format, like KVM's
 * vmcs12; SDM §24.2 leaves everything after the first 8 bytes to the implementation):
 *   0x000 u32 revision identifier (bits 30:0) | bit 31 shadow-VMCS indicator
 *   0x004 u32 VMX-abort indicator
 *   0x008 u32 launch state (Nestvisor: 0 clear, 1 launched; SDM §24.1)
 *   0x00c u32 reserved (0)
 *   0x010.. one slot per supported field at the offset pinned in its row: 16- and 32-bit
 *   fields take 4 bytes, 64-bit and natural-width fields 8 bytes (8-aligned, low dword
 *   first). Offsets are pinned: a row never moves (saved VMCS regions and snapshots depend
 *   on it) and a new field gets a new slot past the end. vmcs-fields.test.ts pins them.
 * A row with offset NONE is an SDM field of a feature Nestvisor does not implement (SGX,
 * PASID, HLAT, CET, FRED, PKRS, LBR, RTIT, MPX, SPP, IPI virtualization, dual-monitor SMM):
 * VMREAD/VMWRITE of it fail with error 12 exactly like any unknown encoding, which is what
 * a processor without the feature does.
 */

/** Width codes, as encoded in bits 14:13. */
export const W16 = 0, W64 = 1, W32 = 2, WNAT = 3;
/** Type codes, as encoded in bits 11:10. */
export const T_CONTROL = 0, T_READ_ONLY = 1, T_GUEST = 2, T_HOST = 3;
/** Offset of an SDM field that this VMCS does not hold. */
export const NONE = -1;

/** VMCS revision identifier reported in IA32_VMX_BASIC[30:0] and checked by VMXON/VMPTRLD. */
export const VMCS_REVISION_ID = 0x4e56_0001; // "NV" + layout version 1 (bit 31 clear)
/** Size of the VMCS region (IA32_VMX_BASIC[44:32]); also the size of the VMXON region. */
export const VMCS_SIZE = 4096;
/** Fixed header offsets in the region. */
export const VMCS_OFF_REVISION = 0x000, VMCS_OFF_ABORT = 0x004, VMCS_OFF_LAUNCH_STATE = 0x008;
export const LAUNCH_CLEAR = 0, LAUNCH_LAUNCHED = 1;

export interface VmcsField<N extends string = string> {
  readonly encoding: number;
  readonly name: N;
  /** W16 | W64 | W32 | WNAT */
  readonly width: number;
  /** Byte offset of the field's slot in the VMCS region, or NONE. */
  readonly offset: number;
}

function f<N extends string>(encoding: number, name: N, width: number, offset: number): VmcsField<N> {
  return { encoding, name, width, offset };
}

/** Every field of SDM Vol. 3C Appendix B, in the appendix's order. */
export const VMCS_FIELDS = [
  // 16-bit control fields (SDM Vol. 3C Appendix B.1.1)
  f(0x0000, 'VIRTUAL_PROCESSOR_ID', W16, 0x010),
  f(0x0002, 'POSTED_INTR_NOTIFICATION_VECTOR', W16, 0x014),
  f(0x0004, 'EPTP_INDEX', W16, 0x018),
  f(0x0006, 'HLAT_PREFIX_SIZE', W16, NONE),
  f(0x0008, 'LAST_PID_POINTER_INDEX', W16, NONE),
  // 16-bit guest-state fields (SDM Vol. 3C Appendix B.1.2)
  f(0x0800, 'GUEST_ES_SELECTOR', W16, 0x01c),
  f(0x0802, 'GUEST_CS_SELECTOR', W16, 0x020),
  f(0x0804, 'GUEST_SS_SELECTOR', W16, 0x024),
  f(0x0806, 'GUEST_DS_SELECTOR', W16, 0x028),
  f(0x0808, 'GUEST_FS_SELECTOR', W16, 0x02c),
  f(0x080a, 'GUEST_GS_SELECTOR', W16, 0x030),
  f(0x080c, 'GUEST_LDTR_SELECTOR', W16, 0x034),
  f(0x080e, 'GUEST_TR_SELECTOR', W16, 0x038),
  f(0x0810, 'GUEST_INTERRUPT_STATUS', W16, 0x03c),
  f(0x0812, 'PML_INDEX', W16, 0x040),
  f(0x0814, 'GUEST_UINV', W16, NONE),
  // 16-bit host-state fields (SDM Vol. 3C Appendix B.1.3)
  f(0x0c00, 'HOST_ES_SELECTOR', W16, 0x044),
  f(0x0c02, 'HOST_CS_SELECTOR', W16, 0x048),
  f(0x0c04, 'HOST_SS_SELECTOR', W16, 0x04c),
  f(0x0c06, 'HOST_DS_SELECTOR', W16, 0x050),
  f(0x0c08, 'HOST_FS_SELECTOR', W16, 0x054),
  f(0x0c0a, 'HOST_GS_SELECTOR', W16, 0x058),
  f(0x0c0c, 'HOST_TR_SELECTOR', W16, 0x05c),
  // 64-bit control fields (SDM Vol. 3C Appendix B.2.1)
  f(0x2000, 'IO_BITMAP_A', W64, 0x060),
  f(0x2002, 'IO_BITMAP_B', W64, 0x068),
  f(0x2004, 'MSR_BITMAP', W64, 0x070),
  f(0x2006, 'VM_EXIT_MSR_STORE_ADDR', W64, 0x078),
  f(0x2008, 'VM_EXIT_MSR_LOAD_ADDR', W64, 0x080),
  f(0x200a, 'VM_ENTRY_MSR_LOAD_ADDR', W64, 0x088),
  f(0x200c, 'EXECUTIVE_VMCS_POINTER', W64, NONE),
  f(0x200e, 'PML_ADDRESS', W64, 0x090),
  f(0x2010, 'TSC_OFFSET', W64, 0x098),
  f(0x2012, 'VIRTUAL_APIC_PAGE_ADDR', W64, 0x0a0),
  f(0x2014, 'APIC_ACCESS_ADDR', W64, 0x0a8),
  f(0x2016, 'POSTED_INTR_DESC_ADDR', W64, 0x0b0),
  f(0x2018, 'VM_FUNCTION_CONTROLS', W64, 0x0b8),
  f(0x201a, 'EPT_POINTER', W64, 0x0c0),
  f(0x201c, 'EOI_EXIT_BITMAP0', W64, 0x0c8),
  f(0x201e, 'EOI_EXIT_BITMAP1', W64, 0x0d0),
  f(0x2020, 'EOI_EXIT_BITMAP2', W64, 0x0d8),
  f(0x2022, 'EOI_EXIT_BITMAP3', W64, 0x0e0),
  f(0x2024, 'EPTP_LIST_ADDRESS', W64, 0x0e8),
  f(0x2026, 'VMREAD_BITMAP', W64, 0x0f0),
  f(0x2028, 'VMWRITE_BITMAP', W64, 0x0f8),
  f(0x202a, 'VE_INFORMATION_ADDRESS', W64, 0x100),
  f(0x202c, 'XSS_EXITING_BITMAP', W64, 0x108),
  f(0x202e, 'ENCLS_EXITING_BITMAP', W64, NONE),
  f(0x2030, 'SUB_PAGE_PERMISSION_TABLE_PTR', W64, NONE),
  f(0x2032, 'TSC_MULTIPLIER', W64, 0x110),
  f(0x2034, 'TERTIARY_VM_EXEC_CONTROL', W64, NONE),
  f(0x2036, 'ENCLV_EXITING_BITMAP', W64, NONE),
  f(0x2038, 'LOW_PASID_DIRECTORY_ADDR', W64, NONE),
  f(0x203a, 'HIGH_PASID_DIRECTORY_ADDR', W64, NONE),
  f(0x203c, 'SHARED_EPT_POINTER', W64, NONE),
  f(0x203e, 'PCONFIG_EXITING_BITMAP', W64, NONE),
  f(0x2040, 'HLAT_POINTER', W64, NONE),
  f(0x2042, 'PID_POINTER_TABLE_ADDR', W64, NONE),
  f(0x2044, 'SECONDARY_VM_EXIT_CONTROLS', W64, NONE),
  f(0x204a, 'IA32_SPEC_CTRL_MASK', W64, NONE),
  f(0x204c, 'IA32_SPEC_CTRL_SHADOW', W64, NONE),
  f(0x2052, 'INJECTED_EVENT_DATA', W64, NONE),
  // 64-bit read-only data fields (SDM Vol. 3C Appendix B.2.2)
  f(0x2400, 'GUEST_PHYSICAL_ADDRESS', W64, 0x118),
  f(0x2402, 'GUEST_MSR_LIST_DATA', W64, NONE),
  f(0x2404, 'ORIGINAL_EVENT_DATA', W64, NONE),
  // 64-bit guest-state fields (SDM Vol. 3C Appendix B.2.3)
  f(0x2800, 'VMCS_LINK_POINTER', W64, 0x120),
  f(0x2802, 'GUEST_IA32_DEBUGCTL', W64, 0x128),
  f(0x2804, 'GUEST_IA32_PAT', W64, 0x130),
  f(0x2806, 'GUEST_IA32_EFER', W64, 0x138),
  f(0x2808, 'GUEST_IA32_PERF_GLOBAL_CTRL', W64, 0x140),
  f(0x280a, 'GUEST_PDPTE0', W64, 0x148),
  f(0x280c, 'GUEST_PDPTE1', W64, 0x150),
  f(0x280e, 'GUEST_PDPTE2', W64, 0x158),
  f(0x2810, 'GUEST_PDPTE3', W64, 0x160),
  f(0x2812, 'GUEST_IA32_BNDCFGS', W64, NONE),
  f(0x2814, 'GUEST_IA32_RTIT_CTL', W64, NONE),
  f(0x2816, 'GUEST_IA32_LBR_CTL', W64, NONE),
  f(0x2818, 'GUEST_IA32_PKRS', W64, NONE),
  f(0x281a, 'GUEST_IA32_FRED_CONFIG', W64, NONE),
  f(0x281c, 'GUEST_IA32_FRED_RSP1', W64, NONE),
  f(0x281e, 'GUEST_IA32_FRED_RSP2', W64, NONE),
  f(0x2820, 'GUEST_IA32_FRED_RSP3', W64, NONE),
  f(0x2822, 'GUEST_IA32_FRED_STKLVLS', W64, NONE),
  f(0x2824, 'GUEST_IA32_FRED_SSP1', W64, NONE),
  f(0x2826, 'GUEST_IA32_FRED_SSP2', W64, NONE),
  f(0x2828, 'GUEST_IA32_FRED_SSP3', W64, NONE),
  // 64-bit host-state fields (SDM Vol. 3C Appendix B.2.4)
  f(0x2c00, 'HOST_IA32_PAT', W64, 0x168),
  f(0x2c02, 'HOST_IA32_EFER', W64, 0x170),
  f(0x2c04, 'HOST_IA32_PERF_GLOBAL_CTRL', W64, 0x178),
  f(0x2c06, 'HOST_IA32_PKRS', W64, NONE),
  f(0x2c08, 'HOST_IA32_FRED_CONFIG', W64, NONE),
  f(0x2c0a, 'HOST_IA32_FRED_RSP1', W64, NONE),
  f(0x2c0c, 'HOST_IA32_FRED_RSP2', W64, NONE),
  f(0x2c0e, 'HOST_IA32_FRED_RSP3', W64, NONE),
  f(0x2c10, 'HOST_IA32_FRED_STKLVLS', W64, NONE),
  f(0x2c12, 'HOST_IA32_FRED_SSP1', W64, NONE),
  f(0x2c14, 'HOST_IA32_FRED_SSP2', W64, NONE),
  f(0x2c16, 'HOST_IA32_FRED_SSP3', W64, NONE),
  // 32-bit control fields (SDM Vol. 3C Appendix B.3.1)
  f(0x4000, 'PIN_BASED_VM_EXEC_CONTROL', W32, 0x180),
  f(0x4002, 'CPU_BASED_VM_EXEC_CONTROL', W32, 0x184),
  f(0x4004, 'EXCEPTION_BITMAP', W32, 0x188),
  f(0x4006, 'PAGE_FAULT_ERROR_CODE_MASK', W32, 0x18c),
  f(0x4008, 'PAGE_FAULT_ERROR_CODE_MATCH', W32, 0x190),
  f(0x400a, 'CR3_TARGET_COUNT', W32, 0x194),
  f(0x400c, 'VM_EXIT_CONTROLS', W32, 0x198),
  f(0x400e, 'VM_EXIT_MSR_STORE_COUNT', W32, 0x19c),
  f(0x4010, 'VM_EXIT_MSR_LOAD_COUNT', W32, 0x1a0),
  f(0x4012, 'VM_ENTRY_CONTROLS', W32, 0x1a4),
  f(0x4014, 'VM_ENTRY_MSR_LOAD_COUNT', W32, 0x1a8),
  f(0x4016, 'VM_ENTRY_INTR_INFO', W32, 0x1ac),
  f(0x4018, 'VM_ENTRY_EXCEPTION_ERROR_CODE', W32, 0x1b0),
  f(0x401a, 'VM_ENTRY_INSTRUCTION_LEN', W32, 0x1b4),
  f(0x401c, 'TPR_THRESHOLD', W32, 0x1b8),
  f(0x401e, 'SECONDARY_VM_EXEC_CONTROL', W32, 0x1bc),
  f(0x4020, 'PLE_GAP', W32, 0x1c0),
  f(0x4022, 'PLE_WINDOW', W32, 0x1c4),
  f(0x4024, 'INSTRUCTION_TIMEOUT_CONTROL', W32, NONE),
  // 32-bit read-only data fields (SDM Vol. 3C Appendix B.3.2)
  f(0x4400, 'VM_INSTRUCTION_ERROR', W32, 0x1c8),
  f(0x4402, 'VM_EXIT_REASON', W32, 0x1cc),
  f(0x4404, 'VM_EXIT_INTR_INFO', W32, 0x1d0),
  f(0x4406, 'VM_EXIT_INTR_ERROR_CODE', W32, 0x1d4),
  f(0x4408, 'IDT_VECTORING_INFO', W32, 0x1d8),
  f(0x440a, 'IDT_VECTORING_ERROR_CODE', W32, 0x1dc),
  f(0x440c, 'VM_EXIT_INSTRUCTION_LEN', W32, 0x1e0),
  f(0x440e, 'VMX_INSTRUCTION_INFO', W32, 0x1e4),
  // 32-bit guest-state fields (SDM Vol. 3C Appendix B.3.3)
  f(0x4800, 'GUEST_ES_LIMIT', W32, 0x1e8),
  f(0x4802, 'GUEST_CS_LIMIT', W32, 0x1ec),
  f(0x4804, 'GUEST_SS_LIMIT', W32, 0x1f0),
  f(0x4806, 'GUEST_DS_LIMIT', W32, 0x1f4),
  f(0x4808, 'GUEST_FS_LIMIT', W32, 0x1f8),
  f(0x480a, 'GUEST_GS_LIMIT', W32, 0x1fc),
  f(0x480c, 'GUEST_LDTR_LIMIT', W32, 0x200),
  f(0x480e, 'GUEST_TR_LIMIT', W32, 0x204),
  f(0x4810, 'GUEST_GDTR_LIMIT', W32, 0x208),
  f(0x4812, 'GUEST_IDTR_LIMIT', W32, 0x20c),
  f(0x4814, 'GUEST_ES_AR_BYTES', W32, 0x210),
  f(0x4816, 'GUEST_CS_AR_BYTES', W32, 0x214),
  f(0x4818, 'GUEST_SS_AR_BYTES', W32, 0x218),
  f(0x481a, 'GUEST_DS_AR_BYTES', W32, 0x21c),
  f(0x481c, 'GUEST_FS_AR_BYTES', W32, 0x220),
  f(0x481e, 'GUEST_GS_AR_BYTES', W32, 0x224),
  f(0x4820, 'GUEST_LDTR_AR_BYTES', W32, 0x228),
  f(0x4822, 'GUEST_TR_AR_BYTES', W32, 0x22c),
  f(0x4824, 'GUEST_INTERRUPTIBILITY_INFO', W32, 0x230),
  f(0x4826, 'GUEST_ACTIVITY_STATE', W32, 0x234),
  f(0x4828, 'GUEST_SMBASE', W32, 0x238),
  f(0x482a, 'GUEST_SYSENTER_CS', W32, 0x23c),
  f(0x482e, 'VMX_PREEMPTION_TIMER_VALUE', W32, 0x240),
  // 32-bit host-state fields (SDM Vol. 3C Appendix B.3.4)
  f(0x4c00, 'HOST_IA32_SYSENTER_CS', W32, 0x244),
  // natural-width control fields (SDM Vol. 3C Appendix B.4.1)
  f(0x6000, 'CR0_GUEST_HOST_MASK', WNAT, 0x248),
  f(0x6002, 'CR4_GUEST_HOST_MASK', WNAT, 0x250),
  f(0x6004, 'CR0_READ_SHADOW', WNAT, 0x258),
  f(0x6006, 'CR4_READ_SHADOW', WNAT, 0x260),
  f(0x6008, 'CR3_TARGET_VALUE0', WNAT, 0x268),
  f(0x600a, 'CR3_TARGET_VALUE1', WNAT, 0x270),
  f(0x600c, 'CR3_TARGET_VALUE2', WNAT, 0x278),
  f(0x600e, 'CR3_TARGET_VALUE3', WNAT, 0x280),
  // natural-width read-only data fields (SDM Vol. 3C Appendix B.4.2)
  f(0x6400, 'EXIT_QUALIFICATION', WNAT, 0x288),
  f(0x6402, 'IO_RCX', WNAT, 0x290),
  f(0x6404, 'IO_RSI', WNAT, 0x298),
  f(0x6406, 'IO_RDI', WNAT, 0x2a0),
  f(0x6408, 'IO_RIP', WNAT, 0x2a8),
  f(0x640a, 'GUEST_LINEAR_ADDRESS', WNAT, 0x2b0),
  // natural-width guest-state fields (SDM Vol. 3C Appendix B.4.3)
  f(0x6800, 'GUEST_CR0', WNAT, 0x2b8),
  f(0x6802, 'GUEST_CR3', WNAT, 0x2c0),
  f(0x6804, 'GUEST_CR4', WNAT, 0x2c8),
  f(0x6806, 'GUEST_ES_BASE', WNAT, 0x2d0),
  f(0x6808, 'GUEST_CS_BASE', WNAT, 0x2d8),
  f(0x680a, 'GUEST_SS_BASE', WNAT, 0x2e0),
  f(0x680c, 'GUEST_DS_BASE', WNAT, 0x2e8),
  f(0x680e, 'GUEST_FS_BASE', WNAT, 0x2f0),
  f(0x6810, 'GUEST_GS_BASE', WNAT, 0x2f8),
  f(0x6812, 'GUEST_LDTR_BASE', WNAT, 0x300),
  f(0x6814, 'GUEST_TR_BASE', WNAT, 0x308),
  f(0x6816, 'GUEST_GDTR_BASE', WNAT, 0x310),
  f(0x6818, 'GUEST_IDTR_BASE', WNAT, 0x318),
  f(0x681a, 'GUEST_DR7', WNAT, 0x320),
  f(0x681c, 'GUEST_RSP', WNAT, 0x328),
  f(0x681e, 'GUEST_RIP', WNAT, 0x330),
  f(0x6820, 'GUEST_RFLAGS', WNAT, 0x338),
  f(0x6822, 'GUEST_PENDING_DBG_EXCEPTIONS', WNAT, 0x340),
  f(0x6824, 'GUEST_SYSENTER_ESP', WNAT, 0x348),
  f(0x6826, 'GUEST_SYSENTER_EIP', WNAT, 0x350),
  f(0x6828, 'GUEST_S_CET', WNAT, NONE),
  f(0x682a, 'GUEST_SSP', WNAT, NONE),
  f(0x682c, 'GUEST_INTR_SSP_TABLE_ADDR', WNAT, NONE),
  // natural-width host-state fields (SDM Vol. 3C Appendix B.4.4)
  f(0x6c00, 'HOST_CR0', WNAT, 0x358),
  f(0x6c02, 'HOST_CR3', WNAT, 0x360),
  f(0x6c04, 'HOST_CR4', WNAT, 0x368),
  f(0x6c06, 'HOST_FS_BASE', WNAT, 0x370),
  f(0x6c08, 'HOST_GS_BASE', WNAT, 0x378),
  f(0x6c0a, 'HOST_TR_BASE', WNAT, 0x380),
  f(0x6c0c, 'HOST_GDTR_BASE', WNAT, 0x388),
  f(0x6c0e, 'HOST_IDTR_BASE', WNAT, 0x390),
  f(0x6c10, 'HOST_IA32_SYSENTER_ESP', WNAT, 0x398),
  f(0x6c12, 'HOST_IA32_SYSENTER_EIP', WNAT, 0x3a0),
  f(0x6c14, 'HOST_RSP', WNAT, 0x3a8),
  f(0x6c16, 'HOST_RIP', WNAT, 0x3b0),
  f(0x6c18, 'HOST_S_CET', WNAT, NONE),
  f(0x6c1a, 'HOST_SSP', WNAT, NONE),
  f(0x6c1c, 'HOST_INTR_SSP_TABLE_ADDR', WNAT, NONE),
] as const;

export type VmcsFieldName = (typeof VMCS_FIELDS)[number]['name'];

/** Field encodings by name: F.GUEST_RIP === 0x681e. Derived from the table, never restated. */
export const F = Object.fromEntries(VMCS_FIELDS.map((x) => [x.name, x.encoding])) as Record<VmcsFieldName, number>;

/** Decoding helpers for any 32-bit encoding (SDM §24.11.2). */
export function encodingWidth(enc: number): number { return (enc >>> 13) & 3; }
export function encodingType(enc: number): number { return (enc >>> 10) & 3; }
export function encodingIndex(enc: number): number { return (enc >>> 1) & 0x1ff; }
export function encodingIsHigh(enc: number): boolean { return (enc & 1) !== 0; }

/**
 * Lookup tables indexed by the low 15 bits of an encoding (bits 31:15 must be 0, checked
 * by the caller). SLOT = byte offset in the region of the accessed 32 or 64 bits (for a
 * HIGH access, the offset of the field's upper dword), -1 when the encoding names no
 * field this VMCS holds. ACCESS = what the access reads or writes: W16, W32, W64, WNAT,
 * or ACCESS_HIGH (32 bits: the upper half of a 64-bit field).
 */
export const ACCESS_HIGH = 4;
export const FIELD_SLOT = new Int32Array(0x8000).fill(-1);
export const FIELD_ACCESS = new Uint8Array(0x8000);
for (const x of VMCS_FIELDS) {
  if (x.offset === NONE) continue;
  FIELD_SLOT[x.encoding] = x.offset;
  FIELD_ACCESS[x.encoding] = x.width;
  if (x.width === W64) { // only 64-bit fields have a HIGH encoding (natural-width ones do not)
    FIELD_SLOT[x.encoding + 1] = x.offset + 4;
    FIELD_ACCESS[x.encoding + 1] = ACCESS_HIGH;
  }
}

/**
 * Highest index (bits 9:1) of any supported encoding: IA32_VMX_VMCS_ENUM[9:1]
 * (SDM Vol. 3C Appendix A.9). Derived from the table so it cannot drift.
 */
export const VMCS_MAX_INDEX = VMCS_FIELDS.reduce((m, x) => (x.offset === NONE ? m : Math.max(m, encodingIndex(x.encoding))), 0);

/** Byte offset of a field's slot, or -1. Accepts any number; a non-encoding gives -1. */
export function fieldSlot(enc: number): number {
  if (enc < 0 || enc > 0x7fff || !Number.isInteger(enc)) return -1;
  return FIELD_SLOT[enc]!;
}

/** True for read-only (VM-exit information) fields: type 1 (SDM §24.11.2). */
export function isReadOnlyField(enc: number): boolean { return encodingType(enc) === T_READ_ONLY; }

// =======================================================================================
// Access to a VMCS image (the cached current VMCS or a region copy) as an Int32Array of
// VMCS_SIZE / 4 dwords. 64-bit values are read as two int32 halves (vmcsLo / vmcsHi), the
// CPU's convention, so nothing allocates.
// =======================================================================================

/** Low 32 bits of any field (16-bit fields are zero-extended), 0 for an unknown encoding. */
export function vmcsLo(v: Int32Array, enc: number): number {
  const s = FIELD_SLOT[enc & 0x7fff]!;
  if (s < 0) return 0;
  const w = FIELD_ACCESS[enc & 0x7fff]!;
  const x = v[s >> 2]!;
  return w === W16 ? x & 0xffff : x;
}
/** High 32 bits of a 64-bit or natural-width field (0 for narrower fields). */
export function vmcsHi(v: Int32Array, enc: number): number {
  const s = FIELD_SLOT[enc & 0x7fff]!;
  if (s < 0) return 0;
  const w = FIELD_ACCESS[enc & 0x7fff]!;
  return w === W64 || w === WNAT ? v[(s >> 2) + 1]! : 0;
}
/**
 * Writes a field with the width rules of VMWRITE (SDM Vol. 3C §30.3 "VMWRITE"): a
 * narrower field keeps only its low bits, a HIGH access writes the upper dword only.
 */
export function vmcsSet(v: Int32Array, enc: number, lo: number, hi: number): void {
  const s = FIELD_SLOT[enc & 0x7fff]!;
  if (s < 0) return;
  const i = s >> 2;
  switch (FIELD_ACCESS[enc & 0x7fff]!) {
    case W16: v[i] = lo & 0xffff; return;
    case W32: case ACCESS_HIGH: v[i] = lo | 0; return;
    default: v[i] = lo | 0; v[i + 1] = hi | 0; return;
  }
}

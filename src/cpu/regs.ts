/**
 * Register numbering as the encoding has it (SDM Vol. 2 Table 2-2): ModRM.reg/rm and the
 * REX extension bits index these directly.
 */
export const RAX = 0, RCX = 1, RDX = 2, RBX = 3, RSP = 4, RBP = 5, RSI = 6, RDI = 7;
export const R8 = 8, R9 = 9, R10 = 10, R11 = 11, R12 = 12, R13 = 13, R14 = 14, R15 = 15;

/** Segment registers in encoding order (Sreg field), then the system segments. */
export const ES = 0, CS = 1, SS = 2, DS = 3, FS = 4, GS = 5, LDTR = 6, TR = 7;
export const SEG_NAMES = ['ES', 'CS', 'SS', 'DS', 'FS', 'GS', 'LDTR', 'TR'];

/** EFLAGS bits (SDM Vol. 1 §3.4.3). */
export const CF = 1 << 0, PF = 1 << 2, AF = 1 << 4, ZF = 1 << 6, SF = 1 << 7, TF = 1 << 8;
export const IF = 1 << 9, DF = 1 << 10, OF = 1 << 11, IOPL = 3 << 12, NT = 1 << 14;
export const RF = 1 << 16, VM = 1 << 17, AC = 1 << 18, VIF = 1 << 19, VIP = 1 << 20, ID = 1 << 21;
export const ARITH_FLAGS = CF | PF | AF | ZF | SF | OF;

/** CR0 (SDM Vol. 3A §2.5). */
export const CR0_PE = 1 << 0, CR0_MP = 1 << 1, CR0_EM = 1 << 2, CR0_TS = 1 << 3, CR0_ET = 1 << 4;
export const CR0_NE = 1 << 5, CR0_WP = 1 << 16, CR0_AM = 1 << 18, CR0_NW = 1 << 29, CR0_CD = 1 << 30, CR0_PG = 1 << 31;
/** CR4 */
export const CR4_VME = 1 << 0, CR4_PVI = 1 << 1, CR4_TSD = 1 << 2, CR4_DE = 1 << 3, CR4_PSE = 1 << 4;
export const CR4_PAE = 1 << 5, CR4_MCE = 1 << 6, CR4_PGE = 1 << 7, CR4_PCE = 1 << 8, CR4_OSFXSR = 1 << 9;
export const CR4_OSXMMEXCPT = 1 << 10, CR4_UMIP = 1 << 11, CR4_LA57 = 1 << 12, CR4_VMXE = 1 << 13;
export const CR4_SMXE = 1 << 14, CR4_FSGSBASE = 1 << 16, CR4_PCIDE = 1 << 17, CR4_OSXSAVE = 1 << 18;
export const CR4_SMEP = 1 << 20, CR4_SMAP = 1 << 21, CR4_PKE = 1 << 22;
/** EFER */
export const EFER_SCE = 1 << 0, EFER_LME = 1 << 8, EFER_LMA = 1 << 10, EFER_NXE = 1 << 11;

/**
 * Segment access rights in the VMCS layout (SDM Vol. 3C §24.4.1, Table 24-2), which is
 * also the descriptor's bits 40..55 with the limit nibble removed:
 *   3:0 type | 4 S | 6:5 DPL | 7 P | 12 AVL | 13 L | 14 D/B | 15 G | 16 unusable
 */
export const AR_TYPE = 0xf, AR_S = 1 << 4, AR_DPL_SHIFT = 5, AR_P = 1 << 7, AR_AVL = 1 << 12;
export const AR_L = 1 << 13, AR_DB = 1 << 14, AR_G = 1 << 15, AR_UNUSABLE = 1 << 16;

/** Exception vectors (SDM Vol. 3A Table 6-1). */
export const DE = 0, DB = 1, NMI = 2, BP = 3, OFV = 4, BR = 5, UD = 6, NM = 7, DF_ = 8;
export const TS = 10, NP = 11, SS_ = 12, GP = 13, PF_ = 14, MF = 16, AC_ = 17, MC = 18, XM = 19, VE = 20, CP = 21;

/** Well-known MSRs. */
export const MSR_TSC = 0x10, MSR_APIC_BASE = 0x1b, MSR_FEATURE_CONTROL = 0x3a, MSR_TSC_ADJUST = 0x3b;
export const MSR_SYSENTER_CS = 0x174, MSR_SYSENTER_ESP = 0x175, MSR_SYSENTER_EIP = 0x176;
export const MSR_PAT = 0x277, MSR_EFER = 0xc0000080, MSR_STAR = 0xc0000081, MSR_LSTAR = 0xc0000082;
export const MSR_CSTAR = 0xc0000083, MSR_FMASK = 0xc0000084, MSR_FS_BASE = 0xc0000100;
export const MSR_GS_BASE = 0xc0000101, MSR_KERNEL_GS_BASE = 0xc0000102, MSR_TSC_AUX = 0xc0000103;

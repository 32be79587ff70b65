/**
 * Re-export of ../segments.ts for instruction families under ops/ (MOV/POP Sreg, LDS...,
 * LTR/LLDT). The implementation lives one level up because event delivery uses it too.
 */
export * from '../segments.js';

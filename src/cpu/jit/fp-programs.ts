/**
 * Guest loops of SSE, x87 and VEX instructions mixed with integer code, shared by the
 * translator's differential tests (jit-fp.test.ts) and the benchmark (bench/fp-loops.ts):
 * each runs ECX times, with RBP (EBP) pointing at 1 KiB of data, and ends with HLT. Test
 * and benchmark support only: nothing in the emulator imports it.
 * Bytes are quoted with their disassembly (objdump -M intel).
 */
import { hex } from '../testing.js';

/** SSE/SSE2/SSSE3/SSE4.1/SSE4.2 with integer code reading the flags they set (64-bit). */
export const SSE_LOOP = hex(`
  0f 10 45 00             ; 0x00 movups xmm0, [rbp]
  0f 28 4d 10             ; 0x04 movaps xmm1, [rbp+0x10]
  0f 58 c1                ; 0x08 addps xmm0, xmm1
  0f 59 c2                ; 0x0b mulps xmm0, xmm2
  0f 11 45 20             ; 0x0e movups [rbp+0x20], xmm0
  66 0f fe d8             ; 0x12 paddd xmm3, xmm0
  66 0f 70 e3 1b          ; 0x16 pshufd xmm4, xmm3, 0x1b
  66 0f ef ec             ; 0x1b pxor xmm5, xmm4
  f2 48 0f 2a f1          ; 0x1f cvtsi2sd xmm6, rcx
  f2 0f 51 f6             ; 0x24 sqrtsd xmm6, xmm6
  f2 0f 58 fe             ; 0x28 addsd xmm7, xmm6
  66 0f 2e fe             ; 0x2c ucomisd xmm7, xmm6     (flags from a handler, read by the next)
  0f 97 c0                ; 0x30 seta al
  48 01 c3                ; 0x33 add rbx, rax
  66 48 0f 7e ea          ; 0x36 movq rdx, xmm5
  48 01 da                ; 0x3b add rdx, rbx
  66 0f 7e 5d 30          ; 0x3e movd [rbp+0x30], xmm3
  66 0f c5 f4 03          ; 0x43 pextrw esi, xmm4, 3
  66 0f c4 d6 01          ; 0x48 pinsrw xmm2, esi, 1
  66 0f 3a 0f eb 04       ; 0x4d palignr xmm5, xmm3, 4
  66 0f 38 00 e5          ; 0x53 pshufb xmm4, xmm5
  f2 0f 38 f1 fe          ; 0x58 crc32 edi, esi
  ff c9                   ; 0x5d dec ecx
  75 9f                   ; 0x5f jne 0x00
  f4                      ; 0x61 hlt
`);

/** x87 loads, arithmetic, FCOMI, FNSTSW, FWAIT and stores (64-bit). */
export const X87_LOOP = hex(`
  db e3                   ;      fninit (offsets below are from the loop's start)
  dd 45 00                ; 0x00 fld qword [rbp]
  db 45 08                ; 0x03 fild dword [rbp+8]
  de c9                   ; 0x06 fmulp st(1), st
  d9 e8                   ; 0x08 fld1
  de c1                   ; 0x0a faddp st(1), st
  d9 fa                   ; 0x0c fsqrt
  d9 eb                   ; 0x0e fldpi
  d9 c9                   ; 0x10 fxch st(1)
  db f1                   ; 0x12 fcomi st, st(1)
  0f 42 d1                ; 0x14 cmovb edx, ecx
  d8 f9                   ; 0x17 fdivr st, st(1)
  dd 5d 10                ; 0x19 fstp qword [rbp+0x10]
  dd d8                   ; 0x1c fstp st(0)
  df e0                   ; 0x1e fnstsw ax
  01 c3                   ; 0x20 add ebx, eax
  9b                      ; 0x22 fwait
  ff 45 08                ; 0x23 inc dword [rbp+8]
  dd 45 10                ; 0x26 fld qword [rbp+0x10]
  db 7d 20                ; 0x29 fstp tbyte [rbp+0x20]
  ff c9                   ; 0x2c dec ecx
  75 d0                   ; 0x2e jne 0x00
  f4                      ; 0x30 hlt
`);

/** AVX/AVX2/FMA on ymm, BMI1/BMI2, VPTEST and VZEROUPPER (64-bit). */
export const AVX_LOOP = hex(`
  c5 fd 10 45 00          ; 0x00 vmovupd ymm0, [rbp]
  c5 fd 58 ca             ; 0x05 vaddpd ymm1, ymm0, ymm2
  c4 e2 f5 b8 d8          ; 0x09 vfmadd231pd ymm3, ymm1, ymm0
  c5 d8 59 e1             ; 0x0e vmulps xmm4, xmm4, xmm1
  c5 d5 fe eb             ; 0x12 vpaddd ymm5, ymm5, ymm3
  c4 e3 fd 00 f5 93       ; 0x16 vpermq ymm6, ymm5, 0x93
  c5 fd 70 fe 1b          ; 0x1c vpshufd ymm7, ymm6, 0x1b
  c5 fe 7f 7d 40          ; 0x21 vmovdqu [rbp+0x40], ymm7
  c4 c3 7d 39 f0 01       ; 0x26 vextracti128 xmm8, ymm6, 1
  c4 41 31 ef c8          ; 0x2c vpxor xmm9, xmm9, xmm8
  c4 e2 60 f2 c2          ; 0x31 andn eax, ebx, edx
  c4 e2 f1 f7 f2          ; 0x36 shlx rsi, rdx, rcx
  c4 e3 7b f0 fe 05       ; 0x3b rorx edi, esi, 5
  01 c2                   ; 0x41 add edx, eax
  c4 e2 7d 17 f5          ; 0x43 vptest ymm6, ymm5
  83 d3 00                ; 0x48 adc ebx, 0
  c5 f8 77                ; 0x4b vzeroupper
  c5 18 58 55 60          ; 0x4e vaddps xmm10, xmm12, [rbp+0x60]
  ff c9                   ; 0x53 dec ecx
  75 a9                   ; 0x55 jne 0x00
  f4                      ; 0x57 hlt
`);

/** The same families in 32-bit protected mode (C4/C5 with bits 7:6 = 11 after them: VEX, not LES/LDS). */
export const MIXED_LOOP32 = hex(`
  db e3                   ;      fninit (offsets below are from the loop's start)
  c5 fc 10 45 00          ; 0x00 vmovups ymm0, [ebp]
  c5 fc 58 ca             ; 0x05 vaddps ymm1, ymm0, ymm2
  c4 e2 75 b8 d8          ; 0x09 vfmadd231ps ymm3, ymm1, ymm0
  c5 fc 11 5d 40          ; 0x0e vmovups [ebp+0x40], ymm3
  c5 f9 70 e3 4e          ; 0x13 vpshufd xmm4, xmm3, 0x4e
  c4 e2 60 f2 c2          ; 0x18 andn eax, ebx, edx
  01 c2                   ; 0x1d add edx, eax
  0f 58 ec                ; 0x1f addps xmm5, xmm4
  d9 45 08                ; 0x22 fld dword [ebp+8]
  d8 c0                   ; 0x25 fadd st, st(0)
  d9 5d 0c                ; 0x27 fstp dword [ebp+0xc]
  49                      ; 0x2a dec ecx
  75 d3                   ; 0x2b jne 0x00
  f4                      ; 0x2d hlt
`);

/** SSE2 data loop of the kind memcpy/memcmp/string code runs (every instruction compiled natively, emit-sse.ts). */
export const COPY_LOOP = hex(`
  f3 0f 6f 45 00          ; 0x00 movdqu xmm0, [rbp]
  66 0f ef c1             ; 0x05 pxor xmm0, xmm1
  66 0f 7f 85 00 01 00 00 ; 0x09 movdqa [rbp+0x100], xmm0
  66 0f fe c8             ; 0x11 paddd xmm1, xmm0
  66 0f 74 d0             ; 0x15 pcmpeqb xmm2, xmm0
  0f 10 5d 10             ; 0x19 movups xmm3, [rbp+0x10]
  ff c9                   ; 0x1d dec ecx
  75 df                   ; 0x1f jne 0x00
  f4                      ; 0x21 hlt
`);

/** AVX copy loop of the kind glibc's AVX2 memmove runs (the VMOVDQU are compiled natively; VPXOR is a handler call). */
export const AVX_COPY_LOOP = hex(`
  c5 fe 6f 45 00          ; 0x00 vmovdqu ymm0, [rbp]
  c5 fe 6f 4d 20          ; 0x05 vmovdqu ymm1, [rbp+0x20]
  c5 fe 7f 85 00 01 00 00 ; 0x0a vmovdqu [rbp+0x100], ymm0
  c5 fe 7f 8d 20 01 00 00 ; 0x12 vmovdqu [rbp+0x120], ymm1
  c5 f5 ef d0             ; 0x1a vpxor ymm2, ymm1, ymm0
  ff c9                   ; 0x1e dec ecx
  75 de                   ; 0x20 jne 0x00
  f4                      ; 0x22 hlt
`);

/*
 * Shared by the differential harnesses (avx-, avx32-, avx-x-, sse- and x87-harness.c): the
 * hex text of the line format, the handler that catches the tested instruction's fault, and
 * the state the fault left as the signal frame holds it. Included as "fault-state.h", so it
 * resolves beside the harness whatever directory gcc is run from.
 *
 * The signal frame's FP state (Linux x86-64, uc_mcontext.fpregs) is an FXSAVE image —
 * FSW at 2, MXCSR at 24, ST(i) at 32 + 16i, XMMi at 160 + 16i (SDM Vol. 1 §10.5.1) — and,
 * when its sw_reserved bytes carry FP_XSTATE_MAGIC1 at 464, the XSAVE header follows it
 * (XSTATE_BV at 512) with YMM_Hi128 at 576 in the standard format (SDM Vol. 1 §13.4-13.5).
 */
#ifndef NESTVISOR_FAULT_STATE_H
#define NESTVISOR_FAULT_STATE_H

#include <setjmp.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <ucontext.h>

static inline int hexv(int c) { return c <= '9' ? c - '0' : (c | 32) - 'a' + 10; }
/* big-endian hex text (most significant first) into n little-endian bytes */
static inline void rdhex(const char *s, uint8_t *out, int n) {
  for (int i = 0; i < n; i++) out[n - 1 - i] = (uint8_t)(hexv(s[2 * i]) << 4 | hexv(s[2 * i + 1]));
}
/* n little-endian bytes as big-endian hex text */
static inline void prhex(const uint8_t *b, int n) { for (int i = n - 1; i >= 0; i--) printf("%02x", b[i]); }

static sigjmp_buf jb;
static volatile int sig;
/* the frame's legacy area, XSAVE header and YMM_Hi128 (zero where the frame has none) */
static uint8_t fault_xs[832] __attribute__((aligned(64)));
static gregset_t fault_gregs;

/* The signal of the tested instruction: keeps its frame's state and returns to the sigsetjmp. */
static void handler(int s, siginfo_t *si, void *ucv) {
  (void)si;
  const ucontext_t *uc = ucv;
  sig = s;
  memset(fault_xs, 0, sizeof fault_xs);
  const uint8_t *xs = (const uint8_t *)uc->uc_mcontext.fpregs;
  if (xs) {
    uint32_t magic, size;
    memcpy(fault_xs, xs, 512);
    memcpy(&magic, xs + 464, 4);
    memcpy(&size, xs + 480, 4); /* struct _fpx_sw_bytes: xstate_size, what the frame's XSAVE image holds */
    if (magic == 0x46505853U && size > 512) memcpy(fault_xs + 512, xs + 512, (size < sizeof fault_xs ? size : sizeof fault_xs) - 512);
  }
  memcpy(fault_gregs, uc->uc_mcontext.gregs, sizeof fault_gregs);
  siglongjmp(jb, 1);
}

/* SIGFPE (#XM, #MF), SIGSEGV/SIGBUS (#GP, #PF, #SS, #AC), SIGILL (#UD) go to handler. */
static inline void catch_faults(void) {
  struct sigaction sa; memset(&sa, 0, sizeof sa); sa.sa_sigaction = handler; sa.sa_flags = SA_NODEFER | SA_SIGINFO;
  sigaction(SIGFPE, &sa, 0); sigaction(SIGSEGV, &sa, 0); sigaction(SIGILL, &sa, 0); sigaction(SIGBUS, &sa, 0);
}

static inline uint32_t fault_mxcsr(void) { uint32_t m; memcpy(&m, fault_xs + 24, 4); return m; }
static inline unsigned fault_fsw(void) { return (unsigned)(fault_xs[2] | fault_xs[3] << 8); }
/* ST(i) (80 bits, little-endian) as the frame holds it */
static inline const uint8_t *fault_st(int i) { return fault_xs + 32 + 16 * i; }
/* XMMk (16 bytes, little-endian) */
static inline const uint8_t *fault_xmm(int k) { return fault_xs + 160 + 16 * k; }
/* YMMk (32 bytes, little-endian): bits 255:128 are zero (their init state) when XSTATE_BV[2] = 0 */
static inline void fault_ymm(int k, uint8_t out[32]) {
  uint64_t bv;
  memcpy(&bv, fault_xs + 512, 8);
  memcpy(out, fault_xmm(k), 16);
  if (bv & 4) memcpy(out + 16, fault_xs + 576 + 16 * k, 16);
  else memset(out + 16, 0, 16);
}
/* The start of an AVX harness's fault line: "SIG n MXCSR Y0 Y1 Y2 Y3 " (the buffer follows). */
static inline void print_fault_ymm(void) {
  uint8_t y[32];
  printf("SIG %d %x ", sig, fault_mxcsr());
  for (int k = 0; k < 4; k++) { fault_ymm(k, y); prhex(y, 32); putchar(' '); }
}

#endif

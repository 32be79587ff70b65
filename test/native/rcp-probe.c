/*
 * Reference for src/cpu/avx/approx-host.test.ts: this CPU's RCPPS and RSQRTPS results.
 * Reads single-precision bit patterns (hex, one per line) and prints "x rcp rsqrt" for each,
 * computed with VRCPPS/VRSQRTPS (the same tables as the legacy forms on one CPU).
 * Build: gcc -O1 -mavx
 */
#include <immintrin.h>
#include <stdint.h>
#include <stdio.h>

int main(void) {
  unsigned x;
  while (scanf("%x", &x) == 1) {
    __m128 v = _mm_castsi128_ps(_mm_set1_epi32((int)x));
    uint32_t r = (uint32_t)_mm_cvtsi128_si32(_mm_castps_si128(_mm_rcp_ps(v)));
    uint32_t s = (uint32_t)_mm_cvtsi128_si32(_mm_castps_si128(_mm_rsqrt_ps(v)));
    printf("%08x %08x %08x\n", x, r, s);
  }
  return 0;
}

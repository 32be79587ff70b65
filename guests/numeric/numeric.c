/*
 * numeric: the same C code run natively on the host and as a guest kernel under Nestvisor
 * (issue 4, last done-when: both print the same bytes). Everything here is freestanding C:
 * no libc, no libm. It exercises
 *   - integer and float/double loops that gcc -O2 -msse4.2 vectorizes (PMULLD, PMINSD,
 *     PMAXSD, PCMPEQ, PADDQ, CVTDQ2PS, MULPS, SQRTPD, ROUNDPD, ...; check with -fopt-info-vec),
 *   - SSE4.2 string instructions and CRC32 through the compiler's intrinsics,
 *   - soft string routines (strlen, strcmp, strstr, reverse, itoa, memchr),
 *   - long double (x87) arithmetic: exp/log/atan by series, sqrt by FSQRT, π by Machin,
 *   - a printf-style formatter of its own: %f %e %g %a on doubles and long doubles with
 *     exact binary-to-decimal conversion (big integers in base 10^9, round half to even).
 * The caller supplies the output function: numeric_run(emit).
 */
#include <stdarg.h>
#include <stdint.h>
#include <nmmintrin.h>

typedef void (*emit_fn)(const char *s, unsigned long n);
static emit_fn out_fn;

/* ---- soft string routines ---------------------------------------------------------- */
static unsigned long s_len(const char *s) { unsigned long n = 0; while (s[n]) n++; return n; }
static int s_cmp(const char *a, const char *b) {
  while (*a && *a == *b) { a++; b++; }
  return (unsigned char)*a - (unsigned char)*b;
}
static char *s_cpy(char *d, const char *s) { char *r = d; while ((*d++ = *s++)) {} return r; }
static const char *s_str(const char *h, const char *n) {
  unsigned long ln = s_len(n);
  for (; *h; h++) {
    unsigned long i = 0;
    while (i < ln && h[i] == n[i]) i++;
    if (i == ln) return h;
  }
  return ln ? 0 : h;
}
static const void *s_memchr(const void *p, int c, unsigned long n) {
  const unsigned char *s = p;
  for (unsigned long i = 0; i < n; i++) if (s[i] == (unsigned char)c) return s + i;
  return 0;
}
static void s_rev(char *s) {
  unsigned long n = s_len(s);
  for (unsigned long i = 0; i < n / 2; i++) { char t = s[i]; s[i] = s[n - 1 - i]; s[n - 1 - i] = t; }
}
/* SSE4.2 PCMPISTRI: index of the first byte of s that is in set (a NUL-padded 16-byte
 * array); s is read in 16-byte chunks, so it must be readable up to 15 bytes past its NUL. */
static int sse42_span(const char *s, const char set[16]) {
  __m128i st = _mm_loadu_si128((const __m128i *)set);
  for (int off = 0;; off += 16) {
    __m128i ch = _mm_loadu_si128((const __m128i *)(s + off));
    int i = _mm_cmpistri(st, ch, _SIDD_UBYTE_OPS | _SIDD_CMP_EQUAL_ANY | _SIDD_LEAST_SIGNIFICANT);
    if (i < 16) return off + i;
    if (_mm_cmpistrz(st, ch, _SIDD_UBYTE_OPS | _SIDD_CMP_EQUAL_ANY)) return -1;
  }
}
static uint32_t crc32c(const unsigned char *p, unsigned long n) {
  uint64_t c = 0xffffffffu;
  unsigned long i = 0;
  for (; i + 8 <= n; i += 8) { uint64_t w; __builtin_memcpy(&w, p + i, 8); c = _mm_crc32_u64(c, w); }
  for (; i < n; i++) c = _mm_crc32_u8((uint32_t)c, p[i]);
  return (uint32_t)c ^ 0xffffffffu;
}

/* ---- output buffer ------------------------------------------------------------------- */
static char line[512];
static unsigned long pos;
static void put(char c) {
  line[pos++] = c;
  if (c == '\n' || pos == sizeof line) { out_fn(line, pos); pos = 0; }
}
static void puts_(const char *s) { while (*s) put(*s++); }

/* ---- exact binary → decimal ---------------------------------------------------------- */
/* A non-negative value m·2^e (m < 2^64) as decimal digits: digs[0..nd) with the decimal
 * point after digit number dp (dp may be ≤ 0 or > nd). Exact: 2^-k = 5^k / 10^k. */
#define LIMBS 1400 /* base 10^9: 12600 digits, enough for 2^-16445·2^64 and 2^16384 */
static uint32_t big[LIMBS];
static int nbig;
static char digs[LIMBS * 9 + 16];
static int nd, dp;

static void big_mul(uint32_t f) {
  uint64_t carry = 0;
  for (int i = 0; i < nbig; i++) { uint64_t t = (uint64_t)big[i] * f + carry; big[i] = (uint32_t)(t % 1000000000u); carry = t / 1000000000u; }
  while (carry) { big[nbig++] = (uint32_t)(carry % 1000000000u); carry /= 1000000000u; }
}
static void to_decimal(uint64_t m, int e) {
  nbig = 0;
  while (m) { big[nbig++] = (uint32_t)(m % 1000000000u); m /= 1000000000u; }
  int k = 0;
  if (e >= 0) { for (; e >= 29; e -= 29) big_mul(1u << 29); if (e) big_mul(1u << e); }
  else { k = -e; int r = k; for (; r >= 13; r -= 13) big_mul(1220703125u); uint32_t p = 1; while (r--) p *= 5; if (p > 1) big_mul(p); }
  /* limbs → digits, most significant first */
  nd = 0;
  if (nbig == 0) { digs[nd++] = '0'; }
  for (int i = nbig - 1; i >= 0; i--) {
    char t[9]; uint32_t v = big[i];
    for (int j = 8; j >= 0; j--) { t[j] = (char)('0' + v % 10); v /= 10; }
    int j = 0;
    if (i == nbig - 1) while (j < 8 && t[j] == '0') j++;
    for (; j < 9; j++) digs[nd++] = t[j];
  }
  dp = nd - k;
}
/* Rounds the digit string to keep digits [0, keep) (keep may be ≤ 0), half to even. */
static void round_at(int keep) {
  if (keep >= nd) return;
  if (keep < 0) { nd = 0; dp = 0; digs[0] = '0'; nd = 1; return; }
  int up = 0;
  if (digs[keep] > '5') up = 1;
  else if (digs[keep] == '5') {
    int rest = 0;
    for (int i = keep + 1; i < nd; i++) if (digs[i] != '0') { rest = 1; break; }
    up = rest || (keep > 0 && ((digs[keep - 1] - '0') & 1));
  }
  nd = keep;
  if (up) {
    int i = keep - 1;
    while (i >= 0 && digs[i] == '9') digs[i--] = '0';
    if (i >= 0) digs[i]++;
    else { for (int j = nd; j > 0; j--) digs[j] = digs[j - 1]; digs[0] = '1'; nd++; dp++; }
  }
  if (nd == 0) { digs[0] = '0'; nd = 1; dp = 1; }
}
static char digit_at(int i) { return i >= 0 && i < nd ? digs[i] : '0'; }
/* Position of the first non-zero digit, or -1 for zero. */
static int lead(void) { for (int i = 0; i < nd; i++) if (digs[i] != '0') return i; return -1; }

static void put_int(long v) {
  char b[24]; int n = 0; unsigned long u = v < 0 ? 0ul - (unsigned long)v : (unsigned long)v;
  do { b[n++] = (char)('0' + u % 10); u /= 10; } while (u);
  if (v < 0) put('-');
  while (n) put(b[--n]);
}
static void put_f(int prec) {
  round_at(dp + prec);
  if (dp <= 0) put('0'); else for (int i = 0; i < dp; i++) put(digit_at(i));
  if (prec) { put('.'); for (int i = 0; i < prec; i++) put(digit_at(dp + i)); }
}
/* %e with prec digits after the point; strip: drop trailing zeros (for %g). */
static void put_e(int prec, int strip) {
  int l = lead();
  if (l < 0) { put('0'); if (prec && !strip) { put('.'); for (int i = 0; i < prec; i++) put('0'); } puts_("e+00"); return; }
  round_at(l + prec + 1);
  l = lead();
  int x = dp - l - 1, last = l + prec;
  if (strip) while (last > l && digit_at(last) == '0') last--;
  put(digs[l]);
  if (last > l) { put('.'); for (int i = l + 1; i <= last; i++) put(digit_at(i)); }
  put('e'); put(x < 0 ? '-' : '+'); if (x < 0) x = -x;
  if (x < 10) put('0');
  put_int(x);
}
static void put_g(int prec) {
  if (prec == 0) prec = 1;
  int l = lead();
  if (l < 0) { put('0'); return; }
  round_at(l + prec);
  l = lead();
  int x = dp - l - 1;
  if (x < -4 || x >= prec) { put_e(prec - 1, 1); return; }
  int fp = prec - 1 - x;
  round_at(dp + fp);
  int last = dp + fp - 1;
  while (last >= dp && digit_at(last) == '0') last--;
  if (dp <= 0) put('0'); else for (int i = 0; i < dp; i++) put(digit_at(i));
  if (last >= dp) { put('.'); for (int i = dp; i <= last; i++) put(digit_at(i)); }
}

union ld_bits { long double v; struct { uint64_t m; uint16_t se; } b; };
/* %a for a long double: 0x<leading digit>.<hex>p±e with the explicit integer bit leading. */
static void put_a_ld(uint64_t m, int e, int prec) {
  static const char hx[] = "0123456789abcdef";
  /* m has its integer bit at 63: first hex digit is m>>60 (8..15), then 15 more */
  int n = 15;
  if (prec >= 0 && prec < 15) {
    int drop = 4 * (15 - prec);
    uint64_t half = 1ull << (drop - 1), rest = m & ((1ull << drop) - 1), q = m >> drop;
    if (rest > half || (rest == half && (q & 1))) { q++; if (drop == 60 ? q >= 16 : (q >> (64 - drop)) != 0) { q >>= 1; e++; } }
    m = q << drop; n = prec;
    if (m == 0) { m = 1ull << 63; }
  }
  puts_("0x"); put(hx[m >> 60]);
  int last = n;
  if (prec < 0) while (last > 0 && ((m >> (60 - 4 * last)) & 15) == 0) last--;
  if (last > 0) { put('.'); for (int i = 1; i <= last; i++) put(hx[(m >> (60 - 4 * i)) & 15]); }
  put('p'); if (e - 3 >= 0) put('+'); put_int(e - 3);
}
static void put_a_d(double d, int prec) {
  static const char hx[] = "0123456789abcdef";
  uint64_t b; __builtin_memcpy(&b, &d, 8);
  int ex = (int)((b >> 52) & 0x7ff); uint64_t f = b & ((1ull << 52) - 1);
  int lead1 = ex != 0, e = ex ? ex - 1023 : (f ? -1022 : 0);
  int n = 13;
  if (prec >= 0 && prec < 13) {
    int drop = 4 * (13 - prec);
    uint64_t full = ((uint64_t)lead1 << 52) | f, half = 1ull << (drop - 1), rest = full & ((1ull << drop) - 1), q = full >> drop;
    if (rest > half || (rest == half && (q & 1))) q++;
    full = q << drop; lead1 = (int)(full >> 52); f = full & ((1ull << 52) - 1); n = prec;
  }
  puts_("0x"); put((char)('0' + lead1));
  int last = n;
  if (prec < 0) while (last > 0 && ((f >> (52 - 4 * last)) & 15) == 0) last--;
  if (last > 0) { put('.'); for (int i = 1; i <= last; i++) put(hx[(f >> (52 - 4 * i)) & 15]); }
  put('p'); if (e >= 0) put('+'); put_int(e);
}

/* One conversion of a long double (doubles are widened exactly). */
static void put_float(long double v, char conv, int prec, int is_double, double dv) {
  union ld_bits u; u.v = v;
  int neg = u.b.se >> 15, ex = u.b.se & 0x7fff;
  uint64_t m = u.b.m;
  if (neg) put('-');
  if (ex == 0x7fff) { puts_((m << 1) ? "nan" : "inf"); return; }
  if (conv == 'a') { if (is_double) put_a_d(dv < 0 ? -dv : dv, prec); else put_a_ld(m, ex ? ex - 16383 : -16382, prec); return; }
  to_decimal(m, (ex ? ex : 1) - 16383 - 63);
  if (prec < 0) prec = 6;
  if (conv == 'f') put_f(prec); else if (conv == 'e') put_e(prec, 0); else put_g(prec);
}

/* A printf subset: %d %u %x (l, ll), %s, %c, %%, and %[.P][L]f/e/g/a. */
static void pr(const char *f, ...) {
  va_list ap; va_start(ap, f);
  for (; *f; f++) {
    if (*f != '%') { put(*f); continue; }
    f++;
    int prec = -1, lng = 0, ldbl = 0;
    if (*f == '.') { prec = 0; f++; while (*f >= '0' && *f <= '9') prec = prec * 10 + (*f++ - '0'); }
    while (*f == 'l') { lng++; f++; }
    if (*f == 'L') { ldbl = 1; f++; }
    switch (*f) {
      case 'd': put_int(lng ? va_arg(ap, long) : va_arg(ap, int)); break;
      case 'u': case 'x': {
        unsigned long u = lng ? va_arg(ap, unsigned long) : va_arg(ap, unsigned);
        char b[24]; int n = 0, base = *f == 'x' ? 16 : 10;
        do { b[n++] = "0123456789abcdef"[u % base]; u /= base; } while (u);
        while (n) put(b[--n]);
        break;
      }
      case 's': puts_(va_arg(ap, const char *)); break;
      case 'c': put((char)va_arg(ap, int)); break;
      case 'f': case 'e': case 'g': case 'a':
        if (ldbl) put_float(va_arg(ap, long double), *f, prec, 0, 0);
        else { double d = va_arg(ap, double); put_float(d, *f, prec, 1, d); }
        break;
      default: put('%'); put(*f);
    }
  }
  va_end(ap);
}

/* ---- libm-free long double math -------------------------------------------------------- */
static long double l_exp(long double x) {
  /* exp(x) = exp(x/2^k)^(2^k) with |x/2^k| < 1/2, Taylor to 30 terms */
  int k = 0;
  while (x > 0.5L || x < -0.5L) { x *= 0.5L; k++; }
  long double s = 1, t = 1;
  for (int n = 1; n < 30; n++) { t *= x / n; s += t; }
  while (k--) s *= s;
  return s;
}
static long double l_log(long double x) {
  /* x = m·2^e, ln x = e·ln2 + 2·atanh((m-1)/(m+1)) */
  static const long double LN2 = 0.693147180559945309417232121458176568L;
  int e = 0;
  while (x > 1.5L) { x *= 0.5L; e++; }
  while (x < 0.75L) { x *= 2; e--; }
  long double s = (x - 1) / (x + 1), s2 = s * s, t = s, r = 0;
  for (int n = 1; n < 80; n += 2) { r += t / n; t *= s2; }
  return 2 * r + e * LN2;
}
static long double l_atan_inv(int n) { /* atan(1/n) */
  long double x = 1.0L / n, x2 = x * x, t = x, r = 0;
  for (int k = 0; k < 60; k++) { r += (k & 1 ? -t : t) / (2 * k + 1); t *= x2; }
  return r;
}
static long double l_sqrt(long double x) { return __builtin_sqrtl(x); }
static double d_exp(double x) { /* the same series in double */
  int k = 0;
  while (x > 0.5 || x < -0.5) { x *= 0.5; k++; }
  double s = 1, t = 1;
  for (int n = 1; n < 20; n++) { t *= x / n; s += t; }
  while (k--) s *= s;
  return s;
}

/* ---- vectorized loops ------------------------------------------------------------------ */
#define N 1024
static int32_t ia[N], ib[N], ic[N];
static float fa[N], fb[N], fc[N];
static double da[N], db[N], dc[N];
static unsigned char bytes[N + 64];
static int64_t la[N];

static void int_loops(void) {
  uint32_t seed = 12345;
  for (int i = 0; i < N; i++) { seed = seed * 1103515245u + 12345u; ia[i] = (int32_t)(seed >> 1) - 0x20000000; ib[i] = (int32_t)(seed % 2001) - 1000; }
  for (int i = 0; i < N; i++) ic[i] = ia[i] * ib[i] + (ia[i] >> 3);          /* PMULLD, PSRAD */
  int64_t sum = 0; for (int i = 0; i < N; i++) sum += ic[i];                /* PMOVSXDQ, PADDQ */
  int32_t mn = ic[0], mx = ic[0];
  for (int i = 0; i < N; i++) { mn = ic[i] < mn ? ic[i] : mn; mx = ic[i] > mx ? ic[i] : mx; } /* PMINSD, PMAXSD */
  uint32_t x = 0; for (int i = 0; i < N; i++) x ^= (uint32_t)ic[i] * 2654435761u;
  int cnt = 0; for (int i = 0; i < N; i++) cnt += ib[i] == 7 || ib[i] < -990;  /* PCMPEQD, PCMPGTD */
  for (int i = 0; i < N; i++) la[i] = (int64_t)ia[i] * ib[i];
  int64_t lsum = 0; for (int i = 0; i < N; i++) lsum += la[i] > 0 ? la[i] : -la[i]; /* PCMPGTQ */
  for (int i = 0; i < N + 64; i++) bytes[i] = (unsigned char)(i * 7 + (i >> 4));
  unsigned bs = 0; for (int i = 0; i < N; i++) bs += bytes[i] > 100 ? bytes[i] - 100 : 100 - bytes[i];
  uint16_t hs[64]; for (int i = 0; i < 64; i++) hs[i] = (uint16_t)(bytes[i] * 300);
  unsigned hmax = 0; for (int i = 0; i < 64; i++) hmax = hs[i] > hmax ? hs[i] : hmax;         /* PMAXUW */
  pr("int: sum %ld min %d max %d xor %x count %d |la| %ld bytes %u hmax %u\n", (long)sum, mn, mx, x, cnt, (long)lsum, bs, hmax);
  for (int i = 0; i < 8; i++) pr("ic[%d] = %d la = %ld\n", i * 127, ic[i * 127], (long)la[i * 127]);
}

static void float_loops(void) {
  for (int i = 0; i < N; i++) { fa[i] = (float)ib[i] / 7.0f; fb[i] = (float)(i + 1) * 0.001f; da[i] = ia[i] * 1e-9; db[i] = (i + 1) / 3.0; }
  for (int i = 0; i < N; i++) fc[i] = fa[i] * fb[i] + 1.5f;                 /* MULPS, ADDPS */
  for (int i = 0; i < N; i++) dc[i] = __builtin_sqrt(db[i]) + da[i] / db[i]; /* SQRTPD, DIVPD */
  for (int i = 0; i < N; i++) db[i] = __builtin_floor(dc[i] * 8.0) + __builtin_ceil(da[i]); /* ROUNDPD */
  for (int i = 0; i < N; i++) fb[i] = __builtin_sqrtf(fb[i]) * (float)ia[i]; /* SQRTPS, CVTDQ2PS */
  for (int i = 0; i < N; i++) ic[i] = (int32_t)(fa[i] * 1000.0f);           /* CVTTPS2DQ */
  float fs = 0; for (int i = 0; i < N; i++) fs += fc[i];
  double ds = 0, ds2 = 0; for (int i = 0; i < N; i++) { ds += dc[i]; ds2 += db[i]; }
  double fbs = 0; for (int i = 0; i < N; i++) fbs += fb[i];
  long isum = 0; for (int i = 0; i < N; i++) isum += ic[i];
  pr("float: %.9g %a %.17g %a\n", (double)fs, (double)fs, ds, ds);
  pr("double: %.17g %e %.3f %ld\n", ds2, fbs, fbs, isum);
  for (int i = 0; i < 6; i++) pr("dc[%d] = %.17g %a fc = %.9e\n", i * 200, dc[i * 200], dc[i * 200], (double)fc[i * 200]);
}

/* a*b + c patterns: with -mfma gcc contracts them into one fused instruction (VFMADD*,
 * VFNMADD*, packed in the vectorized loops), so these lines print fused results — the
 * product's rounding error, cancellations, tiny results — in the AVX2 build and separately
 * rounded ones in the SSE build; each build is compared with its native twin. */
static void fused_loops(void) {
  for (int i = 0; i < N; i++) { da[i] = 1.0 + ia[i] * 0x1p-40; db[i] = 1.0 - ia[i] * 0x1p-41 + i * 0x1p-30; }
  for (int i = 0; i < N; i++) dc[i] = da[i] * db[i];
  for (int i = 0; i < N; i++) dc[i] = da[i] * db[i] - dc[i];               /* the product's error, when fused */
  double es = 0, em = 0; int ez = 0;
  for (int i = 0; i < N; i++) { es += dc[i]; em = dc[i] > em ? dc[i] : em; ez += dc[i] == 0; }
  pr("fused err: sum %a max %a zeros %d\n", es, em, ez);
  for (int i = 0; i < N; i++) { float x = fa[i] * 0.01f; fc[i] = ((((0.0083333f * x + 0.0416666f) * x + 0.1666666f) * x + 0.5f) * x + 1.0f) * x + 1.0f; }
  float fs = 0; for (int i = 0; i < N; i++) fs += fc[i];
  pr("fused horner f: %a %a %a\n", (double)fs, (double)fc[17], (double)fc[900]);
  double dot = 0, dot2 = 0;
  for (int i = 0; i < N; i++) { dot += da[i] * db[i]; dot2 = da[i] * -db[i] - dot2; }
  pr("fused dot %a %a\n", dot, dot2);
  /* results in and below the binary64 subnormal range, and near overflow */
  for (int i = 0; i < 8; i++) {
    double t = (1.0 + i * 0x1p-52) * 0x1p-537, u = (1.0 - i * 0x1p-53) * 0x1p-537;
    double big = (1.0 + i * 0x1p-30) * 0x1p+1000;
    pr("fused tiny %a %a big %a\n", t * u - 0x1p-1074 * i, -(t * u) + 0x1p-1073, big * 3.5 - 0x1p+1001 * i);
  }
}

static void long_double_math(void) {
  long double pi = 16 * l_atan_inv(5) - 4 * l_atan_inv(239);
  pr("pi %.25Lf %La %.20Le\n", pi, pi, pi);
  pr("e %.25Lg %La\n", l_exp(1), l_exp(1));
  static const long double xs[] = { 0.5L, 2, 10, -3.25L, 100, 1e-5L, 123.456L, 700 };
  for (int i = 0; i < 8; i++) {
    long double x = xs[i], ex = l_exp(x), lg = l_log(x < 0 ? -x : x), sq = l_sqrt(x < 0 ? -x : x);
    pr("x %Lg exp %.21Lg log %.21Lg sqrt %.21Lg %La\n", x, ex, lg, sq, sq);
    double dx = (double)x;
    pr("  double exp %.17g %a sqrt %.17g\n", d_exp(dx), d_exp(dx), __builtin_sqrt(dx < 0 ? -dx : dx));
  }
  long double h = 0; for (int k = 1; k <= 2000; k++) h += 1.0L / k;
  pr("H2000 %.22Lg\n", h);
  long double f = 1; for (int k = 1; k <= 170; k++) { f *= k; if (k % 34 == 0) pr("%d! = %.30Le\n", k, f); }
  pr("1e4000 %Lg 1e-4000 %Lg %.3La\n", l_exp(9210.340371976182736L), l_exp(-9210.340371976182736L), l_exp(-9210.340371976182736L));
  double dmin = 2.2250738585072014e-308, dden = 4.9406564584124654e-324, dmax = 1.7976931348623157e308;
  pr("dmin %g %a %.40e\n", dmin, dmin, dmin);
  pr("dden %g %a %.3e\n", dden, dden, dden);
  pr("dmax %.17g %a %f\n", dmax, dmax, dmax);
  union ld_bits u; u.b.m = ~0ull; u.b.se = 0x7ffe;
  pr("ldmax %Lg %La\n", u.v, u.v);
  u.b.m = 1; u.b.se = 0;
  pr("ldden %Lg %La\n", u.v, u.v);
  pr("specials %f %e %g %a %Lf %f\n", 1.0 / 0.0, -1.0 / 0.0, 0.0 / 0.0, -0.0, (long double)0, 0.5);
  static const double ties[] = { 0.5, 1.5, 2.5, 0.125, 0.375, 1e21, 123456789.125, 9.9999999, 0.00001234, 1e-5 };
  for (int i = 0; i < 10; i++) pr("tie %.0f %.2f %.3e %g %.1g %.1a\n", ties[i], ties[i], ties[i], ties[i], ties[i], ties[i]);
}

static void strings(void) {
  static char buf[128];
  static const char *words[] = { "nestvisor", "hypervisor", "x87", "streaming", "SIMD", "extensions", "vector", "hyper" };
  s_cpy(buf, "the quick brown fox jumps over the lazy dog, 0123456789!");
  pr("strlen %u crc32c %x\n", (unsigned)s_len(buf), crc32c((const unsigned char *)buf, s_len(buf)));
  const char *p = s_str(buf, "lazy"); pr("strstr %d\n", p ? (int)(p - buf) : -1);
  const char *q = s_memchr(buf, 'x', s_len(buf)); pr("memchr %d\n", q ? (int)(q - buf) : -1);
  static char pad[64]; s_cpy(pad, buf + 20);
  static const char set1[16] = "zyx", set2[16] = "!,";
  pr("pcmpistri %d %d\n", sse42_span(buf, set1), sse42_span(pad, set2));
  for (int i = 0; i < 8; i++) for (int j = 0; j < 8; j++) if (j == (i + 1) % 8) pr("cmp %s %s %d\n", words[i], words[j], s_cmp(words[i], words[j]) > 0 ? 1 : s_cmp(words[i], words[j]) < 0 ? -1 : 0);
  s_rev(buf); pr("rev %s\n", buf);
  pr("crc32c(bytes) %x\n", crc32c(bytes, N));
}

void numeric_run(emit_fn emit) {
  out_fn = emit;
  pr("numeric: begin\n");
  int_loops();
  float_loops();
  fused_loops();
  long_double_math();
  strings();
  pr("numeric: end\n");
  if (pos) { out_fn(line, pos); pos = 0; }
}

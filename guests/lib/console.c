/*
 * COM1 output and a small printf: %d %i %u %x %X %p %s %c %%, with the l/ll/z length
 * modifiers, a field width, and the '0', '-' and '#' flags. Enough for test output; no
 * floating point (the kernels are built with -mgeneral-regs-only).
 */
#include "rt.h"

#define COM1 0x3f8
#define LSR_THRE 0x20

void serial_init(void) {
  /* 115200 8N1, FIFOs on, DTR/RTS/OUT2 (16550 datasheet, Table II). */
  outb(COM1 + 1, 0x00);
  outb(COM1 + 3, 0x80);
  outb(COM1 + 0, 0x01);
  outb(COM1 + 1, 0x00);
  outb(COM1 + 3, 0x03);
  outb(COM1 + 2, 0xc7);
  outb(COM1 + 4, 0x0b);
}

int putchar(int c) {
  while (!(inb(COM1 + 5) & LSR_THRE)) {
  }
  outb(COM1, (u8)c);
  return c;
}

void print(const char *s) {
  while (*s) putchar(*s++);
}

static int emit_num(u64 v, unsigned base, int upper, int width, char pad, int left, const char *prefix) {
  char buf[24];
  const char *digits = upper ? "0123456789ABCDEF" : "0123456789abcdef";
  int n = 0, out = 0, plen = (int)strlen(prefix);
  do { buf[n++] = digits[v % base]; v /= base; } while (v);
  int fill = width - n - plen;
  if (pad == '0') { print(prefix); out += plen; }
  if (!left) for (; fill > 0; fill--, out++) putchar(pad);
  if (pad != '0') { print(prefix); out += plen; }
  while (n) { putchar(buf[--n]); out++; }
  for (; fill > 0; fill--, out++) putchar(' ');
  return out;
}

int vprintf(const char *fmt, va_list ap) {
  int out = 0;
  for (; *fmt; fmt++) {
    if (*fmt != '%') { putchar(*fmt); out++; continue; }
    char pad = ' ';
    int left = 0, alt = 0, width = 0, lng = 0;
    for (;; fmt++) {
      if (fmt[1] == '0') pad = '0';
      else if (fmt[1] == '-') left = 1;
      else if (fmt[1] == '#') alt = 1;
      else break;
    }
    if (left) pad = ' ';
    while (fmt[1] >= '0' && fmt[1] <= '9') width = width * 10 + (*++fmt - '0');
    while (fmt[1] == 'l' || fmt[1] == 'z') { lng++; fmt++; }
    switch (*++fmt) {
      case 'd': case 'i': {
        long long v = lng ? va_arg(ap, long long) : va_arg(ap, int);
        u64 mag = v < 0 ? -(u64)v : (u64)v;
        out += emit_num(mag, 10, 0, width, pad, left, v < 0 ? "-" : "");
        break;
      }
      case 'u': out += emit_num(lng ? va_arg(ap, u64) : va_arg(ap, unsigned), 10, 0, width, pad, left, ""); break;
      case 'x': case 'X': {
        u64 v = lng ? va_arg(ap, u64) : va_arg(ap, unsigned);
        out += emit_num(v, 16, *fmt == 'X', width, pad, left, alt && v ? "0x" : "");
        break;
      }
      case 'p': out += emit_num((u64)va_arg(ap, void *), 16, 0, width, pad, left, "0x"); break;
      case 'c': putchar(va_arg(ap, int)); out++; break;
      case 's': {
        const char *s = va_arg(ap, const char *);
        if (!s) s = "(null)";
        int len = (int)strlen(s);
        if (!left) for (int i = len; i < width; i++, out++) putchar(' ');
        print(s);
        out += len;
        if (left) for (int i = len; i < width; i++, out++) putchar(' ');
        break;
      }
      case '%': putchar('%'); out++; break;
      case 0: return out;
      default: putchar('%'); putchar(*fmt); out += 2; break;
    }
  }
  return out;
}

int printf(const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  int n = vprintf(fmt, ap);
  va_end(ap);
  return n;
}

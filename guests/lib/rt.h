/*
 * The guest runtime: what every Nestvisor test kernel links against. Freestanding C on
 * x86-64 long mode, entered from lib/boot.S with paging identity-mapping the first GiB.
 *
 * Exit codes follow kvm-unit-tests: a kernel ends with exit(0) when every check passed
 * and exit(1) otherwise. exit(v) writes v to QEMU's isa-debug-exit port 0xf4, so the
 * hypervisor process (QEMU or `nestvisor run`) exits with status (v << 1) | 1:
 * 1 = all passed, 3 = some check failed. Status 0 is impossible by design.
 */
#ifndef NV_RT_H
#define NV_RT_H

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

typedef uint8_t u8;
typedef uint16_t u16;
typedef uint32_t u32;
typedef uint64_t u64;

/* ---- port I/O ---- */
static inline void outb(u16 port, u8 v) { __asm__ volatile("outb %0, %1" : : "a"(v), "Nd"(port)); }
static inline void outl(u16 port, u32 v) { __asm__ volatile("outl %0, %1" : : "a"(v), "Nd"(port)); }
static inline u8 inb(u16 port) { u8 v; __asm__ volatile("inb %1, %0" : "=a"(v) : "Nd"(port)); return v; }
static inline u32 inl(u16 port) { u32 v; __asm__ volatile("inl %1, %0" : "=a"(v) : "Nd"(port)); return v; }

/* ---- console (COM1) ---- */
void serial_init(void);
int putchar(int c);
void print(const char *s);                   /* no newline added */
int printf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
int vprintf(const char *fmt, va_list ap);

/* ---- strings (the compiler may call these) ---- */
void *memset(void *d, int c, size_t n);
void *memcpy(void *d, const void *s, size_t n);
int memcmp(const void *a, const void *b, size_t n);
size_t strlen(const char *s);
int strcmp(const char *a, const char *b);

/* ---- results ---- */
void report(const char *name, int ok);      /* prints "PASS: name" or "FAIL: name" */
int report_summary(void);                    /* prints "SUMMARY: N tests, F failures"; returns F */
void __attribute__((noreturn)) exit(int code);

/* ---- boot information ---- */
/* The Multiboot command line minus its first word (QEMU and Nestvisor put the kernel's
 * file name there), or "" when there is none. */
const char *cmdline_args(void);
/* Parses the n-th (0-based) whitespace-separated argument as an unsigned decimal number. */
u64 arg_u64(int n, u64 fallback);

/* ---- exceptions ---- */
struct frame {
  u64 r15, r14, r13, r12, r11, r10, r9, r8, rbp, rdi, rsi, rdx, rcx, rbx, rax;
  u64 vector, error;
  u64 rip, cs, rflags, rsp, ss; /* pushed by the CPU (SDM Vol. 3A §6.14.2) */
};
void idt_init(void);
/* Runs fn(arg). Returns -1 when it returns normally, or the vector of the first
 * exception it raised: the handler then resumes here with fn's work abandoned. */
int fault_try(void (*fn)(void *), void *arg);
extern volatile u64 fault_error;   /* error code of the last caught exception (0 if none pushed) */
extern volatile u64 fault_rip;     /* RIP the exception reported */
extern volatile u64 fault_cr2;     /* CR2 at a caught #PF */
/* report(name, fault_try(fn, arg) == vector), printing what happened on failure. */
void expect_fault(const char *name, void (*fn)(void *), void *arg, int vector);

/* ---- CPU helpers ---- */
static inline void cpuid(u32 leaf, u32 sub, u32 *a, u32 *b, u32 *c, u32 *d) {
  __asm__ volatile("cpuid" : "=a"(*a), "=b"(*b), "=c"(*c), "=d"(*d) : "a"(leaf), "c"(sub));
}
static inline u64 rdmsr(u32 msr) {
  u32 lo, hi;
  __asm__ volatile("rdmsr" : "=a"(lo), "=d"(hi) : "c"(msr));
  return ((u64)hi << 32) | lo;
}
static inline u64 read_cr2(void) { u64 v; __asm__ volatile("mov %%cr2, %0" : "=r"(v)); return v; }

int main(void);

#endif

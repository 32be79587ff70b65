/*
 * sieve: a CPU-bound benchmark. Counts the primes below LIMIT with the sieve of
 * Eratosthenes, ITERATIONS times, and prints a checksum so that a wrong answer is visible.
 * Arguments on the Multiboot command line: ITERATIONS [LIMIT] (defaults 10 and 1000000).
 * The limit shrinks by (iteration % 16) so no pass can be hoisted out of the loop.
 */
#include "rt.h"

#define MAX_LIMIT 16000000
static u8 composite[MAX_LIMIT + 1];

static u32 __attribute__((noinline)) sieve(u32 limit) {
  for (u32 i = 0; i <= limit; i++) composite[i] = 0;
  for (u32 i = 2; (u64)i * i <= limit; i++) {
    if (composite[i]) continue;
    for (u32 j = i * i; j <= limit; j += i) composite[j] = 1;
  }
  u32 count = 0;
  for (u32 i = 2; i <= limit; i++) count += !composite[i];
  return count;
}

int main(void) {
  u64 iterations = arg_u64(0, 10);
  u64 limit = arg_u64(1, 1000000);
  if (limit < 16 || limit > MAX_LIMIT) {
    printf("sieve: limit must be between 16 and %u\n", MAX_LIMIT);
    return 1;
  }
  u32 checksum = 0, last = 0;
  for (u64 it = 0; it < iterations; it++) {
    last = sieve((u32)(limit - it % 16));
    checksum = checksum * 31 + last;
  }
  printf("sieve: %lu iterations below %lu: %u primes in the last pass, checksum %08x\n",
         iterations, limit, last, checksum);
  return 0;
}

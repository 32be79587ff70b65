/**
 * The decoded-instruction cache (docs/cpu-design.md "Decode and dispatch"): what the front
 * end learnt about an instruction — its prefixes, opcode and ModRM/SIB/displacement — kept
 * by the RAM index of its first byte, so that running it again skips prefix and ModRM
 * decoding. Immediates are still read from RAM by the handlers through the fetch cursor.
 *
 * - Direct-mapped, 2^16 slots; a slot is `ramIndex & MASK`, so the slots of one 4K page are
 *   a contiguous range and a page is invalidated by one fill.
 * - The tag holds the RAM index above the slot bits and the decode mode (16/32/64-bit code:
 *   prefix meanings and default sizes depend on it), so one physical page may be cached for
 *   several modes and several linear mappings (RIP-relative addresses are recomputed from
 *   the current RIP on every run; only the displacement is kept).
 * - Only instructions whose cached bytes lie wholly in one RAM page are entered.
 * - Invalidation: a page that holds entries is marked in PhysicalMemory.codePages; every
 *   write to RAM through the CPU or PhysicalMemory to such a page calls onCodeWrite, which
 *   drops the page's entries and unmarks it (self-modifying code and DMA over code keep
 *   working). The entry being built by the current instruction is abandoned when its page
 *   is written, so an instruction that overwrites itself is never cached stale.
 * - A page written too often while it holds code (code and hot data on one page) stops
 *   being cached for a while instead of being decoded, cached and dropped over and over.
 *
 * One cache serves every CPU of a PhysicalMemory: entries depend only on bytes and mode.
 */
import type { PhysicalMemory } from '../memory/physical.js';
import type { Compiled } from './jit/compile.js';

export const DC_BITS = 16;
export const DC_SIZE = 1 << DC_BITS;
export const DC_MASK = DC_SIZE - 1;

/**
 * info word: opcode (11 bits: table index 0x000-0x6ff, VEX maps included) | prefix+opcode
 * length << 11 | HAS_MODRM.
 */
export const DC_OP_MASK = 0x7ff;
export const DC_LEN_SHIFT = 11;
export const DC_HAS_MODRM = 1 << 15;

/** modrm word: ModRM byte | length of ModRM+SIB+disp << 8 | base << 11 | index << 16 | scale << 21 | default segment << 23 | RIP-relative << 26. */
export const DC_NO_REG = 16;

/** Invalidations of one page, while it held code, after which it is no longer cached. */
const HOT_WRITES = 32;
/** Invalidations after which the hot-write counters are forgotten (pages recycled as code). */
const HOT_DECAY = 4096;

export class DecodeCache {
  /** ((ramIndex >>> DC_BITS) << 2) | mode, -1 when empty. */
  readonly tag = new Int32Array(DC_SIZE).fill(-1);
  readonly info = new Int32Array(DC_SIZE);
  /** Packed prefix state (Cpu.packPrefixes), VEX fields included. */
  readonly pfx = new Int32Array(DC_SIZE);
  readonly modrm = new Int32Array(DC_SIZE);
  readonly disp = new Int32Array(DC_SIZE);
  /** Slot being filled by the instruction now executing, -1 when none. */
  buildSlot = -1;
  buildTag = -1;
  /** RAM page of the entry being built. */
  buildPage = -1;
  /** Offset in its page of the instruction being built (entries must not cross the page). */
  buildOff = 0;
  /** Bytes of ModRM/SIB/displacement recorded for the entry being built (0 = none). */
  buildModrmLen = 0;
  invalidations = 0;
  /**
   * Translated blocks (jit/) share the slot space and the page invalidation: blkTag is
   * the decode tag of the block's first instruction (-1 = none), blk the block (null = its
   * first instruction cannot be translated), blkHits counts runs before translation.
   */
  readonly blkTag = new Int32Array(DC_SIZE).fill(-1);
  readonly blk: (Compiled | null)[] = new Array<Compiled | null>(DC_SIZE).fill(null);
  readonly blkHits = new Uint8Array(DC_SIZE);
  private readonly pages: Uint8Array;
  private readonly hot: Uint8Array;

  constructor(readonly mem: PhysicalMemory) {
    this.pages = mem.codePages;
    this.hot = new Uint8Array(mem.codePages.length);
  }

  /** False for pages that are written too often to be worth caching. */
  cacheable(page: number): boolean {
    return this.hot[page]! < HOT_WRITES;
  }

  /**
   * Told the RAM page of every write that hits a marked page (codePages), before the mark
   * is cleared: MONITOR marks its line's page to see stores to it (src/cpu/monitor.ts).
   */
  onPageWrite: ((page: number) => void) | null = null;

  /** Drops every entry of a RAM page (4K, by RAM index >>> 12). */
  invalidatePage(page: number): void {
    if (this.onPageWrite !== null) this.onPageWrite(page);
    this.pages[page] = 0;
    const start = (page << 12) & DC_MASK;
    this.tag.fill(-1, start, start + 4096);
    this.blkTag.fill(-1, start, start + 4096);
    this.blk.fill(null, start, start + 4096);
    this.blkHits.fill(0, start, start + 4096);
    if (this.buildPage === page) this.buildSlot = -1;
    if (this.hot[page]! < 255) this.hot[page] = this.hot[page]! + 1;
    if (++this.invalidations % HOT_DECAY === 0) this.hot.fill(0);
  }

  /** Drops everything (tests, reset). */
  clear(): void {
    this.tag.fill(-1);
    this.blkTag.fill(-1);
    this.blk.fill(null);
    this.blkHits.fill(0);
    this.pages.fill(0);
    this.buildSlot = -1;
  }
}

const caches = new WeakMap<PhysicalMemory, DecodeCache>();

/** The cache of a PhysicalMemory, created (and hooked to its code-write notifications) once. */
export function decodeCacheFor(mem: PhysicalMemory): DecodeCache {
  let c = caches.get(mem);
  if (c === undefined) {
    const dc = new DecodeCache(mem);
    mem.onCodeWrite = (page: number): void => dc.invalidatePage(page);
    caches.set(mem, dc);
    c = dc;
  }
  return c;
}

/**
 * Host-measured traits of FPTAN, FSIN and FCOS (trig80.ts). Tiny-argument FPTAN as this machine's FPU computes it (trig80.ts tanTinyPack; the model and its
 * measurement: docs/x87-transcendentals.md): below |x| ≈ 1.2094·2^-34 the result is x, or its
 * neighbour under directed rounding, as the hardware's 68-bit rounding of x·K went down or up;
 * PE always, C1 when rounded up, UE with denormals. Every vector below is the host's answer
 * under RC = nearest, down and up (a native probe running the instruction, not derived from
 * the model). The bytes:
 *   d9 f2    fptan
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { makeCpu, CODE } from '../testing.js';
import { LF_NONE } from '../cpu.js';

/** [x, then for RN, RD, RU: [ST(1) = tan x, FSW & 0x3ff]]; ST(0) is always 1.0. */
type Row = [string, [string, number], [string, number], [string, number]];
const HOST: Row[] = [
  // 2^-40: m·K fits in 68 bits, exact, yet PE
  ['3fd78000000000000000', ['3fd78000000000000000', 0x020], ['3fd78000000000000000', 0x020], ['3fd78000000000000000', 0x020]],
  // m·K halfway between 68-bit neighbours: ties to even, here down
  ['3fd7e000000000000000', ['3fd7e000000000000000', 0x220], ['3fd7dfffffffffffffff', 0x020], ['3fd7e000000000000000', 0x220]],
  // denormals (normalized before scaling), UE with PE
  ['00000000000000000007', ['00000000000000000007', 0x232], ['00000000000000000006', 0x032], ['00000000000000000007', 0x232]],
  ['00000000000000000009', ['00000000000000000009', 0x032], ['00000000000000000009', 0x032], ['0000000000000000000a', 0x232]],
  // the end of the regime: the first below it still goes down, the next one up has x³/3 added
  ['3fdd9ace08d63dcfdac9', ['3fdd9ace08d63dcfdac9', 0x220], ['3fdd9ace08d63dcfdac8', 0x020], ['3fdd9ace08d63dcfdac9', 0x220]],
  ['3fdd9ace08d63dcfdacd', ['3fdd9ace08d63dcfdacd', 0x020], ['3fdd9ace08d63dcfdacd', 0x020], ['3fdd9ace08d63dcfdace', 0x220]],
  // beyond it: the ordinary evaluation (x³/3 ≈ 0.28 ulp)
  ['3fdfc000000000000001', ['3fdfc000000000000002', 0x220], ['3fdfc000000000000001', 0x020], ['3fdfc000000000000002', 0x220]],
  // m·K crossing into the next binade (the 68-bit grid doubles)
  ['0001b038f8fd92a8b3fc', ['0001b038f8fd92a8b3fc', 0x020], ['0001b038f8fd92a8b3fc', 0x020], ['0001b038f8fd92a8b3fd', 0x220]],
  // random significands, both directions, both signs
  ['3f00b0bc809a676b1b69', ['3f00b0bc809a676b1b69', 0x220], ['3f00b0bc809a676b1b68', 0x020], ['3f00b0bc809a676b1b69', 0x220]],
  ['3f0096e2fe9e9974d75b', ['3f0096e2fe9e9974d75b', 0x220], ['3f0096e2fe9e9974d75a', 0x020], ['3f0096e2fe9e9974d75b', 0x220]],
  ['3fc0910e27003f9931ee', ['3fc0910e27003f9931ee', 0x020], ['3fc0910e27003f9931ee', 0x020], ['3fc0910e27003f9931ef', 0x220]],
  ['bfd0dd50e378404b6eaf', ['bfd0dd50e378404b6eaf', 0x020], ['bfd0dd50e378404b6eb0', 0x220], ['bfd0dd50e378404b6eaf', 0x020]],
  ['8100d7976cee87e355b2', ['8100d7976cee87e355b2', 0x020], ['8100d7976cee87e355b3', 0x220], ['8100d7976cee87e355b2', 0x020]],
  ['bfd099882be57d411fab', ['bfd099882be57d411fab', 0x220], ['bfd099882be57d411fab', 0x220], ['bfd099882be57d411faa', 0x020]],
];

const hx = (v: number, w: number): string => (v >>> 0).toString(16).padStart(w, '0');
/** Runs `code` on ST(0) = x under RC; returns ST(0), ST(1) as 20 hex digits and FSW & 0x3ff. */
function run(t: ReturnType<typeof makeCpu>, code: number[], x: string, rc: number): [string, string, number] {
  const f = t.cpu.fpu;
  t.mem.load(CODE, Uint8Array.from([...code, 0xf4]));
  f.initX87(); f.fcw = 0x037f | (rc << 10);
  f.top = (f.top - 1) & 7;
  const p = f.top;
  f.se[p] = parseInt(x.slice(0, 4), 16); f.mant[2 * p + 1] = parseInt(x.slice(4, 12), 16) | 0; f.mant[2 * p] = parseInt(x.slice(12), 16) | 0;
  f.tag[p] = f.classify(p);
  t.cpu.lfOp = LF_NONE; t.cpu.rip = CODE; t.cpu.halted = false;
  t.cpu.run(code.length + 1);
  const st = (i: number): string => { const q = (f.top + i) & 7; return hx(f.se[q]!, 4) + hx(f.mant[2 * q + 1]!, 8) + hx(f.mant[2 * q]!, 8); };
  return [st(0), st(1), f.getFsw() & 0x3ff];
}

/**
 * Checks host rows under RN, RD, RU: the result register (ST(1) for FPTAN, with 1.0 pushed
 * above it; ST(0) otherwise) and FSW bits 9:0.
 */
function checkHost(t: ReturnType<typeof makeCpu>, op: number, rows: readonly Row[]): void {
  const name = `d9 ${op.toString(16)}`;
  for (const [x, ...byRc] of rows) {
    for (let k = 0; k < 3; k++) {
      const [want, fsw] = byRc[k]!;
      const [st0, st1, sw] = run(t, [0xd9, op], x, k);
      const label = `${name} ${x} rc ${k}`;
      if (op === 0xf2) {
        assert.equal(st1, want, label);
        assert.equal(st0, '3fff8000000000000000', `${label}: 1.0 pushed`);
      } else {
        assert.equal(st0, want, label);
      }
      assert.equal(sw, fsw, `${label}: FSW`);
    }
  }
}

test('tiny-argument FPTAN: the host\'s answers under RN, RD and RU (value, PE, UE, C1)', () => {
  checkHost(makeCpu('long64'), 0xf2, HOST); // fptan
});

/**
 * FPTAN for 1.2094·2^-34 ≤ |x| < P66/4: the host's rational x·P(z)/Q(z) in 68-bit steps
 * (trig80.ts tanRationalPack). One operand of each sign at exponents −29, −27, −24, −21,
 * −19 and −10 … −1, and six at −12 and −11, where the host's answer is not tan x correctly rounded (fresh probe operands, not the
 * ones the coefficient was fitted on); host answers under RN, RD, RU.
 */
const TAN_RAT_HOST: Row[] = [
  ['3fe2c1b16e1d7049951f', ['3fe2c1b16e1d70499544', 0x020], ['3fe2c1b16e1d70499544', 0x020], ['3fe2c1b16e1d70499545', 0x220]],
  ['bfe2e7447d8c977d8d15', ['bfe2e7447d8c977d8d54', 0x020], ['bfe2e7447d8c977d8d55', 0x220], ['bfe2e7447d8c977d8d54', 0x020]],
  ['3fe4e41da38535f27833', ['3fe4e41da38535f27bf9', 0x220], ['3fe4e41da38535f27bf8', 0x020], ['3fe4e41da38535f27bf9', 0x220]],
  ['bfe4f8f95b65b5fc1e79', ['bfe4f8f95b65b5fc2361', 0x020], ['bfe4f8f95b65b5fc2362', 0x220], ['bfe4f8f95b65b5fc2361', 0x020]],
  ['3fe7c141af86338d779b', ['3fe7c141af86338e0a73', 0x020], ['3fe7c141af86338e0a73', 0x020], ['3fe7c141af86338e0a74', 0x220]],
  ['bfe7e1db80950185027e', ['bfe7e1db80950185ece5', 0x220], ['bfe7e1db80950185ece5', 0x220], ['bfe7e1db80950185ece4', 0x020]],
  ['3feaff7d7d39a9075bfd', ['3feaff7d7d39a95c2f12', 0x220], ['3feaff7d7d39a95c2f11', 0x020], ['3feaff7d7d39a95c2f12', 0x220]],
  ['bfeaeb7d47308136748a', ['bfeaeb7d47308178e09a', 0x020], ['bfeaeb7d47308178e09b', 0x220], ['bfeaeb7d47308178e09a', 0x020]],
  ['3fecbee86f438515dbdd', ['3fecbee86f43874c160f', 0x220], ['3fecbee86f43874c160e', 0x020], ['3fecbee86f43874c160f', 0x220]],
  ['bfecd91b173ac9fb271e', ['bfecd91b173acd3bf03c', 0x020], ['bfecd91b173acd3bf03d', 0x220], ['bfecd91b173acd3bf03c', 0x020]],
  // −12 and −11 (x < 2^-10): where the z³ term and q2 = 0.027466694 decide it; the rational without
  // the z³ term and with q2 = 0.0274667 (the previous model) misses these
  ['3ff3ece443d3c7fb82f2', ['3ff3ece444e23e8ead98', 0x020], ['3ff3ece444e23e8ead98', 0x020], ['3ff3ece444e23e8ead99', 0x220]],
  ['3ff3d5dfd67b941067c3', ['3ff3d5dfd7429dae1149', 0x020], ['3ff3d5dfd7429dae1149', 0x020], ['3ff3d5dfd7429dae114a', 0x220]],
  ['3ff4b20e83a66e62569e', ['3ff4b20e8571d58c3e59', 0x020], ['3ff4b20e8571d58c3e59', 0x020], ['3ff4b20e8571d58c3e5a', 0x220]],
  ['3ff4ec907282a6798ff9', ['3ff4ec9076b806137183', 0x020], ['3ff4ec9076b806137183', 0x020], ['3ff4ec9076b806137184', 0x220]],
  ['bff4cd64bffe18deb619', ['bff4cd64c2bf3e5dd62f', 0x020], ['bff4cd64c2bf3e5dd630', 0x220], ['bff4cd64c2bf3e5dd62f', 0x020]],
  ['bff4a7410c1f484b6856', ['bff4a7410d9c0a5c5606', 0x020], ['bff4a7410d9c0a5c5607', 0x220], ['bff4a7410d9c0a5c5606', 0x020]],
  // −10 … −5 (2^-10 ≤ |x| < 2^-4): the degree-4 minimax coefficients; correctly rounded (the
  // previous model's answer from 2^-10 up) misses these
  ['3ff5d9e11d1fd4e00f60', ['3ff5d9e12a46b5da5355', 0x220], ['3ff5d9e12a46b5da5354', 0x020], ['3ff5d9e12a46b5da5355', 0x220]],
  ['bff5f86a48a603587f14', ['bff5f86a5c242a35d4e8', 0x220], ['bff5f86a5c242a35d4e8', 0x220], ['bff5f86a5c242a35d4e7', 0x020]],
  ['3ff69ef486d3656d66c0', ['3ff69ef49b40f0dc3418', 0x220], ['3ff69ef49b40f0dc3417', 0x020], ['3ff69ef49b40f0dc3418', 0x220]],
  ['bff6dccfa3ec1cf17cad', ['bff6dccfdaaeac7b42bc', 0x020], ['bff6dccfdaaeac7b42bd', 0x220], ['bff6dccfdaaeac7b42bc', 0x020]],
  ['3ff7e5708622922e7543', ['3ff7e5717bdf79825a46', 0x220], ['3ff7e5717bdf79825a45', 0x020], ['3ff7e5717bdf79825a46', 0x220]],
  ['bff7a2995c1f615b18a0', ['bff7a299b39589c5c2e8', 0x220], ['bff7a299b39589c5c2e8', 0x220], ['bff7a299b39589c5c2e7', 0x020]],
  ['3ff8d2bce7b45f0d9b6d', ['3ff8d2bfe163cbd3f257', 0x020], ['3ff8d2bfe163cbd3f257', 0x020], ['3ff8d2bfe163cbd3f258', 0x220]],
  ['bff8a3eb4017557cadb9', ['bff8a3eca6897dc9ee6b', 0x020], ['bff8a3eca6897dc9ee6c', 0x220], ['bff8a3eca6897dc9ee6b', 0x020]],
  ['3ff9dffbcffee2b258b3', ['3ff9e00a1af47a5edfd9', 0x220], ['3ff9e00a1af47a5edfd8', 0x020], ['3ff9e00a1af47a5edfd9', 0x220]],
  ['bff9a9ddad3c572283d1', ['bff9a9e3e90355f71314', 0x020], ['bff9a9e3e90355f71315', 0x220], ['bff9a9e3e90355f71314', 0x020]],
  ['3ffaf1777648e7c3b019', ['3ffaf1bf2bd238c530d1', 0x020], ['3ffaf1bf2bd238c530d1', 0x020], ['3ffaf1bf2bd238c530d2', 0x220]],
  ['bffa98d7a4a8b428d686', ['bffa98e9d05c7ad4c69c', 0x220], ['bffa98e9d05c7ad4c69c', 0x220], ['bffa98e9d05c7ad4c69b', 0x020]],
  // −4 … −1 (2^-4 ≤ |x| < P66/4): the minimax held at q1 + 1.356·10^-19, q2 − 8.0705·10^-17
  ['3ffbe4f74d03d5834b32', ['3ffbe5ecbe2844bfe68a', 0x220], ['3ffbe5ecbe2844bfe689', 0x020], ['3ffbe5ecbe2844bfe68a', 0x220]],
  ['bffba0abfa40f7cf9e28', ['bffba10092c02afb7dde', 0x220], ['bffba10092c02afb7dde', 0x220], ['bffba10092c02afb7ddd', 0x020]],
  ['3ffcb48e1a5afd5667f3', ['3ffcb673264f23f71279', 0x220], ['3ffcb673264f23f71278', 0x020], ['3ffcb673264f23f71279', 0x220]],
  ['bffce2d2cf979d528c73', ['bffce69b84ff7ae6dee6', 0x020], ['bffce69b84ff7ae6dee7', 0x220], ['bffce69b84ff7ae6dee6', 0x020]],
  ['3ffd9bce15bc29ea3578', ['3ffda0cca65075e972eb', 0x220], ['3ffda0cca65075e972ea', 0x020], ['3ffda0cca65075e972eb', 0x220]],
  ['bffde5a20860a4199926', ['bffdf660fb0081a3b0b6', 0x220], ['bffdf660fb0081a3b0b6', 0x220], ['bffdf660fb0081a3b0b5', 0x020]],
  ['3ffead4a91e055500057', ['3ffecdb7509800e14496', 0x020], ['3ffecdb7509800e14496', 0x020], ['3ffecdb7509800e14497', 0x220]],
  ['bffeabf331e4f1926478', ['bffecb8492e08edaf815', 0x020], ['bffecb8492e08edaf816', 0x220], ['bffecb8492e08edaf815', 0x020]],
];

test('FPTAN below P66/4 follows the host\'s 68-bit rational where it decides the rounding', () => {
  checkHost(makeCpu('long64'), 0xf2, TAN_RAT_HOST); // fptan
});

/**
 * FPTAN of reduced arguments (|x| > P66/4): the same rational of r = x − q·P66/2, z = RN68(r²),
 * a = RN68(|r|·P), tan r = a/Q for even q and −cot r = −Q/a for odd q (trig80.ts tanRationalPack).
 * One operand at exponents −1 and 0 (|x| < 3·P66/4: odd q only) and one per quadrant parity at 1,
 * 3, 8, 30 and 62: fresh probe operands where tan r or −cot r correctly rounded (the previous
 * evaluation) is not the host's answer; host answers under RN, RD, RU.
 */
const TAN_RED_HOST: Row[] = [
  ['3ffecb3edb2226b6785b', ['3fff8233d32b5ca512a7', 0x220], ['3fff8233d32b5ca512a6', 0x020], ['3fff8233d32b5ca512a7', 0x220]],
  ['3ffff1f33b52ed156a1b', ['c000c17d5e1efd919ed1', 0x020], ['c000c17d5e1efd919ed2', 0x220], ['c000c17d5e1efd919ed1', 0x020]],
  ['4000d5df6a0ee6de9592', ['3ffccfc1332efb5f1ca5', 0x020], ['3ffccfc1332efb5f1ca5', 0x020], ['3ffccfc1332efb5f1ca6', 0x220]],
  ['40008755fc71e034438c', ['bfffd3b1eac5c0bb1b5e', 0x220], ['bfffd3b1eac5c0bb1b5e', 0x220], ['bfffd3b1eac5c0bb1b5d', 0x020]],
  ['4002af61dabf422b3601', ['4003e9efac3aca75ff51', 0x220], ['4003e9efac3aca75ff50', 0x020], ['4003e9efac3aca75ff51', 0x220]],
  ['40029cb24476f6d2408a', ['3ffdc5d8c135e7c17397', 0x220], ['3ffdc5d8c135e7c17396', 0x020], ['3ffdc5d8c135e7c17397', 0x220]],
  ['4007d294341134d465e9', ['3ffcbf05273a8a2e6630', 0x220], ['3ffcbf05273a8a2e662f', 0x020], ['3ffcbf05273a8a2e6630', 0x220]],
  ['c007d49591bb202962bb', ['bfffe0f742cca2ecf3b1', 0x020], ['bfffe0f742cca2ecf3b2', 0x220], ['bfffe0f742cca2ecf3b1', 0x020]],
  ['401dab0e859ac52d5ed1', ['c004b494c1c049258574', 0x020], ['c004b494c1c049258575', 0x220], ['c004b494c1c049258574', 0x020]],
  ['c01dff174d6097d28b0c', ['bffcb6f02de3bf805855', 0x020], ['bffcb6f02de3bf805856', 0x220], ['bffcb6f02de3bf805855', 0x020]],
  ['c03dc2b90a6cc1350629', ['3ffed3ac2ca8c36ed9a0', 0x220], ['3ffed3ac2ca8c36ed99f', 0x020], ['3ffed3ac2ca8c36ed9a0', 0x220]],
  ['c03db30f349f8d665282', ['3fffa208ec761d8a4083', 0x020], ['3fffa208ec761d8a4083', 0x020], ['3fffa208ec761d8a4084', 0x220]],
  // x within a few ulps of q·P66/2, so r has a few bits only: −Q/a = −K/RN68(r·K) for odd q (huge;
  // r = −2^-65 gives 2^65 exactly, PE all the same), RN68(r·K)/K for even q (tiny)
  ['bfffc90fdaa22168c235', ['40408000000000000000', 0x020], ['40408000000000000000', 0x020], ['40408000000000000000', 0x020]],
  ['c002afeddf4ddd3ba9ea', ['c038f6603d980f6603d9', 0x020], ['c038f6603d980f6603da', 0x220], ['c038f6603d980f6603d9', 0x020]],
  ['c003afeddf4ddd3ba9ec', ['3fc58a00000000000000', 0x220], ['3fc589ffffffffffffff', 0x020], ['3fc58a00000000000000', 0x220]],
  ['4004eec2d3a087ac669c', ['bfc6a900000000000000', 0x220], ['bfc6a900000000000000', 0x220], ['bfc6a8ffffffffffffff', 0x020]],
];

test('FPTAN of reduced arguments is the host\'s rational of r, a/Q or −Q/a by quadrant', () => {
  checkHost(makeCpu('long64'), 0xf2, TAN_RED_HOST); // fptan
});

/**
 * FSIN where the host's answer is not sin x correctly rounded but follows its polynomial's
 * error curve (trig80.ts sinHornerPack: the degree-7 minimax in 68-bit Horner steps): host answers
 * under RN, RD, RU. The first five the earlier model (sin plus a fitted error curve) also gave;
 * the next seven (three of them |x| in [1, 50), reduced by P66/2; two of those take the cosine)
 * only the Horner model gives; the last two (the cosine of P66/2 − x) only with the cosine's
 * truncated last step.
 *   d9 fe    fsin
 */
const SIN_HOST: Row[] = [
  ['3ffdf19c49141ed18800', ['3ffde8be1c4b3e845b37', 0x220], ['3ffde8be1c4b3e845b36', 0x020], ['3ffde8be1c4b3e845b37', 0x220]],
  ['3ffe8dc5a133bdd7b800', ['3ffe86a2b75b26264ada', 0x020], ['3ffe86a2b75b26264ada', 0x020], ['3ffe86a2b75b26264adb', 0x220]],
  ['3ffc90a490a9a4411000', ['3ffc90298dad65da5ce3', 0x020], ['3ffc90298dad65da5ce3', 0x020], ['3ffc90298dad65da5ce4', 0x220]],
  ['3ffeaaffc08c387c6800', ['3ffe9e90511bc2e10401', 0x220], ['3ffe9e90511bc2e10400', 0x020], ['3ffe9e90511bc2e10401', 0x220]],
  ['3ffe8749d46c1a330800', ['3ffe81141903fe25ca57', 0x020], ['3ffe81141903fe25ca57', 0x020], ['3ffe81141903fe25ca58', 0x220]],  ['bffea8bb8392231b5449', ['bffe9cc7323b6d30cb65', 0x020], ['bffe9cc7323b6d30cb66', 0x220], ['bffe9cc7323b6d30cb65', 0x020]],
  ['3ffe82a5ad383667fc20', ['3ffdfa19515e07f45b97', 0x220], ['3ffdfa19515e07f45b96', 0x020], ['3ffdfa19515e07f45b97', 0x220]],
  ['3ffeb838a21a27240a24', ['3ffea8ba6b7e262a5a9f', 0x220], ['3ffea8ba6b7e262a5a9e', 0x020], ['3ffea8ba6b7e262a5a9f', 0x220]],
  ['3ffdbf4faddadcfe3537', ['3ffdbae3f62cd6b8b859', 0x220], ['3ffdbae3f62cd6b8b858', 0x020], ['3ffdbae3f62cd6b8b859', 0x220]],
  ['c004ba0bfb199049a957', ['bffe931cfa27cc02852f', 0x020], ['bffe931cfa27cc028530', 0x220], ['bffe931cfa27cc02852f', 0x020]],
  ['c003b7657f827f0fc931', ['3ffecdbc4d412efe8512', 0x220], ['3ffecdbc4d412efe8511', 0x020], ['3ffecdbc4d412efe8512', 0x220]],
  ['c002bb7961e347e9c322', ['3ffec032dd2696982b35', 0x020], ['3ffec032dd2696982b35', 0x020], ['3ffec032dd2696982b35', 0x020]],  // above π/4 (the cosine of P66/2 − x), where the cosine's truncated last Horner step decides
  ['3ffee19b7b49142b6ad4', ['3ffec5847f028bc3e34f', 0x020], ['3ffec5847f028bc3e34f', 0x020], ['3ffec5847f028bc3e34f', 0x020]],
  ['40008e1621a8addcd6bc', ['3ffecbe7b88cd8221554', 0x020], ['3ffecbe7b88cd8221554', 0x020], ['3ffecbe7b88cd8221555', 0x220]],
];

test('FSIN follows the host polynomial\'s error where it decides the rounding', () => {
  checkHost(makeCpu('long64'), 0xfe, SIN_HOST); // fsin
});

/**
 * FCOS where the host's 1 + RN68(z·q) (trig80.ts cosHornerPack: the degree-8 minimax in 68-bit
 * Horner steps) decides the rounding, several of them exact in 64 bits yet flagged PE: host
 * answers under RN, RD, RU. The first six the earlier model (1 − RN68(1 − cos x)) also gave; the
 * next seven (three of them |x| in [1, 50), reduced by P66/2; one of those takes the sine) only the
 * Horner model; the last six only with its last step's truncation to 2^-71 and ties away.
 *   d9 ff    fcos
 */
const COS_HOST: Row[] = [
  ['3ffea4c8a1f01c5d0000', ['3ffeccc583441214c9ba', 0x220], ['3ffeccc583441214c9b9', 0x020], ['3ffeccc583441214c9ba', 0x220]],
  ['3ffea852fa9bca01c000', ['3ffecaa0932bc0cafdb2', 0x020], ['3ffecaa0932bc0cafdb2', 0x020], ['3ffecaa0932bc0cafdb3', 0x220]],
  ['3ffebef78bb4553b4800', ['3ffebc03d5462b441c3a', 0x220], ['3ffebc03d5462b441c39', 0x020], ['3ffebc03d5462b441c3a', 0x220]],
  ['3ffec4736fb1f516a000', ['3ffeb84011c62385967a', 0x220], ['3ffeb84011c623859679', 0x020], ['3ffeb84011c62385967a', 0x220]],
  ['3ffebe60593d81ce9000', ['3ffebc6a51c9a606669a', 0x020], ['3ffebc6a51c9a606669a', 0x020], ['3ffebc6a51c9a606669a', 0x020]],
  ['3ffeb560801b55dd8800', ['3ffec263dde63586931f', 0x020], ['3ffec263dde63586931f', 0x020], ['3ffec263dde63586931f', 0x020]],  ['bffe846a13b1e02866fa', ['3ffede82f085f658aabf', 0x020], ['3ffede82f085f658aabf', 0x020], ['3ffede82f085f658aabf', 0x020]],
  ['bffeb15f31c89bfd695d', ['3ffec4f8ea1460b33143', 0x220], ['3ffec4f8ea1460b33142', 0x020], ['3ffec4f8ea1460b33143', 0x220]],
  ['3ffebb1b21a0317f81cd', ['3ffebe9d26bba679400a', 0x020], ['3ffebe9d26bba679400a', 0x020], ['3ffebe9d26bba679400a', 0x020]],
  ['3ffec7be197b44dcd18a', ['3ffeb5f3297a7164d5bd', 0x020], ['3ffeb5f3297a7164d5bd', 0x020], ['3ffeb5f3297a7164d5be', 0x220]],
  ['c004add61181d5cebf18', ['3ffeddbf65bb10301e11', 0x220], ['3ffeddbf65bb10301e10', 0x020], ['3ffeddbf65bb10301e11', 0x220]],
  ['c004ba5adc0b7071654e', ['bffedc3539c1f86919d4', 0x020], ['bffedc3539c1f86919d4', 0x020], ['bffedc3539c1f86919d4', 0x020]],
  ['4001e0d998b0e768c53d', ['3ffebc76c7c7431a1eac', 0x020], ['3ffebc76c7c7431a1eac', 0x020], ['3ffebc76c7c7431a1eac', 0x020]],  // the last Horner step keeps RN68(q2·z) to 2^-71 only and rounds ties away (trig80.ts hornerAlt)
  ['bffe8ca64f24094ad585', ['3ffeda5327f76e7ab8a8', 0x220], ['3ffeda5327f76e7ab8a7', 0x020], ['3ffeda5327f76e7ab8a8', 0x220]],
  ['bffdd2eaf034b7231a98', ['3ffeea9568fc2350b00e', 0x220], ['3ffeea9568fc2350b00d', 0x020], ['3ffeea9568fc2350b00e', 0x220]],
  ['bffeb59fbca75407431b', ['3ffec23ab21c23720eda', 0x020], ['3ffec23ab21c23720eda', 0x020], ['3ffec23ab21c23720edb', 0x220]],
  ['bffea15b320f054fe779', ['3ffececf6415d1c054d0', 0x020], ['3ffececf6415d1c054d0', 0x020], ['3ffececf6415d1c054d0', 0x020]],
  ['bffe9d80e650d8abdf80', ['3ffed10eae8b4a67174b', 0x220], ['3ffed10eae8b4a67174a', 0x020], ['3ffed10eae8b4a67174b', 0x220]],
  ['bffea718a5ee84c6c617', ['3ffecb6014e47468091a', 0x020], ['3ffecb6014e47468091a', 0x020], ['3ffecb6014e47468091a', 0x020]],
];

test('FCOS follows the host\'s 68-bit Horner polynomial where it decides the rounding, and reports PE even when the result is exact', () => {
  checkHost(makeCpu('long64'), 0xff, COS_HOST); // fcos
});

/**
 * The quadrant switch at |r| = P66/4 (trig80.ts reduce: nearest quotient of x by P66/2). At
 * these operands, 1-12 ulps of x either side of π/4 and −5π/4 (P66 multiples), taking the
 * other neighbouring quotient — sine of the complement instead of cosine, or the reverse —
 * changes at least one of the three results, and the host's answers are those of the nearest
 * quotient (docs/x87-transcendentals.md, "The quadrant switch at π/4"). Host answers under RN,
 * RD, RU. A reduction that switched at another point (a truncated or 68-bit π/4, octants) would
 * fail some of them.
 *   d9 fe    fsin       d9 ff    fcos
 */
const SWITCH_HOST: [number, ...Row][] = [
  [0xfe, '3ffec90fdaa22168c235', ['3ffeb504f333f9de6485', 0x220], ['3ffeb504f333f9de6484', 0x020], ['3ffeb504f333f9de6485', 0x220]],
  [0xfe, 'c000fb53d14aa9c2f2bf', ['3ffeb504f333f9de647c', 0x020], ['3ffeb504f333f9de647c', 0x020], ['3ffeb504f333f9de647c', 0x020]],
  [0xff, 'c000fb53d14aa9c2f2c1', ['bffeb504f333f9de6487', 0x020], ['bffeb504f333f9de6487', 0x020], ['bffeb504f333f9de6487', 0x020]],
  [0xfe, 'c000fb53d14aa9c2f2c2', ['3ffeb504f333f9de6485', 0x220], ['3ffeb504f333f9de6484', 0x020], ['3ffeb504f333f9de6485', 0x220]],
  [0xff, 'c000fb53d14aa9c2f2c4', ['bffeb504f333f9de647e', 0x020], ['bffeb504f333f9de647f', 0x220], ['bffeb504f333f9de647e', 0x020]],
  [0xfe, 'c000fb53d14aa9c2f2c5', ['3ffeb504f333f9de648d', 0x020], ['3ffeb504f333f9de648d', 0x020], ['3ffeb504f333f9de648e', 0x220]],
];

test('FSIN/FCOS switch between sine and cosine of the reduced argument exactly at |r| = P66/4, as the host does', () => {
  const t = makeCpu('long64');
  for (const [op, ...row] of SWITCH_HOST) checkHost(t, op, [row as Row]);
});

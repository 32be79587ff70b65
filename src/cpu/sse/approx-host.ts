/**
 * RCPPS/RCPSS/RSQRTPS/RSQRTSS and their VEX forms (sse/approx.ts, avx/fp.ts): results as this machine's CPU (AMD Zen 4, the host
 * the differential tests run on) computes them, bit for bit.
 *
 * The SDM documents only the accuracy (|relative error| ≤ 1.5·2^-12, SDM Vol. 2B RCPPS,
 * RSQRTPS); the bits are the vendor's. Measured on the host over every single-precision
 * input of two binades (each of the 2^23 significands with exponent 0 and 1): the result
 * depends only on the top 12 significand bits (and, for RSQRT, the exponent's parity), has
 * 12 significand bits (bits 10:0 zero) and scales exactly with the exponent. So each
 * function is a table of 4096 entries k in [4096, 8192) (the result for x in [1,2), or
 * [2,4) for odd-exponent RSQRT, is k·2^-13), stored as the small difference between k and
 * floor(8192·f(m)) at the interval's midpoint m = 1 + (i + 0.5)/4096: a digit 0..3 for
 * difference −1..2, three digits per base64 character (i, i+1, i+2 in base 4, low first).
 *
 * Special operands, checked on the host for every exponent: ±0 and denormals (DAZ or not)
 * give ±∞; 1/±∞ = ±0; RSQRT of −∞ or any negative value is the QNaN indefinite, of +∞ is
 * +0; NaNs come back quieted; results below 2^-126 are flushed to ±0 (FTZ or not). No
 * MXCSR flag is ever set and MXCSR.RC does not matter.
 *
 * Legacy SSE (sse/approx.ts) and VEX (avx/fp.ts) forms share these tables, so RCPPS and
 * VRCPPS give the same bits, as on the host.
 */
const RCP_R =
  'QVVpqCVVlqapqq/rQVVpqaqq6/bpqqvqlqVpqWqqmqqqqqqqqqqpqWqWlaluqaqa6vqqqp/qqqm+qaqVqqWZVQVllmaVWaqq' +
  'VZZppmqq66bWaaqqpqqquqqq66qqqqqqqqqqqllllllqaaaauqqqp5qqqmmqqaaWqpZZV56qmmVVmqquVpqq6WlqqqaVmZqq' +
  'Zq6u7WlZmpamqqqqZqqqqmpqqqamqamZqu7uqmpqqZmqrqqaqurqqq6uqqmqrqqZllppqmqqr7bZZaqqlppqqmmqqqbaqqqq' +
  'pppppWWWWWmqqqqqllllllmmmmmaaaaaqqppppmmmWWaaZZV6qqqpVlVWqZlmaqqpqqqumqqq6aqqqqrpqqpqWqpWqpqruqr' +
  'paqpaq6qqqapWalWlapValqlWpVqWaVWlalVVp6qmqlalqaqqqq+qmWlqWpalqaqqpqqqqmqqqqaqqaqqVqqVqWVqWluqqqq' +
  'qVpqVprqqWqaVVaVqVpqVpWqqWlapqaVVVqqqWVVpqqqqqq6qqqqqWVVVpqqqqqqqqqqqWVVlqqqqqqqqqqqqqqqqqqqqqqq' +
  'qqaVVpqqqqqqqqqqqqWVVVVpqqqqlqqqVVqqVVVpqqaVlqqqaVqqqqVpqqqVlqqqVVqqWVVpaVlqqqqqWVqqWpquqqqWlqaV' +
  'qqqqqVVpVVllqqqqqqq+qWZVlWVlVVaVqrquqqqqqqqlqaqqVqWpWpuq6qqmqWqaVaVZVppqlql6qqqqVqVpVppalalqqWqW' +
  'lVpVaValWpVpValWlVZVapr6quqqqqqqlapWqValWZlqqqmqlapVapqqqpapValVmqpWaprqqpapVWVVmapVWZppmaqlqqqq' +
  'aqqqmappmaqlmaqpWWaplWZZlVmqqqqqWaqplWZZlVmmqaqpVWaZlppqmaallVWVWaaplppqmaaZppppmmmqqaaqqqqpqqqq' +
  'qqqqqqqqqqqqqqqqmmmqqaaaaaaZZZZZVVlllpqqqqqppZZZqqqqqaaaaaaZVVVVVVWWmllpppaaqqquVVWWmllppZaaqmmq' +
  'qpqqqqqqqqbVlVVZVVWWllVZVVWVlVVZqqqqqqqqqpqaqmmppZaWmllZZWmqqqqqpZaqmmlZZWmaqmqpZZWmlpqqqaaWmlZV' +
  'qpaqmlVZVWVamlZZqpaqm5qqqqaWmVZVpZWmVpmpZWWVZWlZVlZVmVZmVZWlZWlZVlZVmVVmVVmqqrqqqqqpqmpqmZamZWmZ' +
  'VmZVVpqqmqampamZVmZVVpqqmZamZWlZqqmZqmZWVZmqqZmpZmVVVlqamZmqqpqqZmVVVlqamZmqqZmZq7qqqmZWVVVmZVVV' +
  'qqmZmpqamZmqqZmZqqmZmB';
const RSQ_EVEN_R =
  'VVlqqWVVqqaVVpqqqalqqWVVqqaVVpWVVVlqqqqWqqaVVpaVVVlqqVVVqqaVVpqqVVlqqVVVqWVVVZVVqalqqalqqqaVqVlq' +
  'apqqqWlVVpWVqWlqWpqWqqmqqpqaqqqqqqqaqqmqqpqWqalqWpaVqVlWVVlaqqlqVpWVWpqqapalapapaqqqqWZVaValWpWp' +
  'WqlqlapWqWqlqpapWqlalWpWqValWpVZqqqqmqpaqWalWpVVqqqqlapVaVlqqpapVWqpmapqqqaVlVWZVVaplWZplWallWap' +
  'VWaplWZplWallWapVVWZlpqqqqqmmaqpVWaZlpqqqqqlmWapqqrqqWlVVWWaappppqmqqmlVVWWWaZZppplmmmqaaaqqqppq' +
  'qqmmqqqaaqqqqppppqmmmmmWWWWWaZZZuuqqqqqaaaaZZZaaqqqqqWWWmmmqqqrqlllpppaaqqaZVVWWmmlpppaaqqqqqqrq' +
  'llVZZZWWmllpZZaWmmlpZZaWmmlpZZaWqq6qqqmqqqaamqqpZZqmmlVZWWmqquqqpZqmmlVZWWlaqqqpZZmmlpqqrqaWmpZZ' +
  'qqqqmmlZWWlamqpZqq6qmmpamqZqqpqqq6qqrWZWlZVmZZmlZmmZamZampZmqZmmZqmZamZamZZmpZmlZmVZWVZWVZlquqqm' +
  'qqmpamZamZlqqq6umZqqqWlZmZmqqqqumZmZqqqqqurZmZqqqqqq7amZmZqqqqqqVZmZmZmZqqqqqqqqVZmZmZmZmZmZqqqq' +
  'ZmZmZmZmZmZmqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqamZmZmZmZmZmZ6u7qqqqqqqqqqqqZmZmqqamZZmZ' +
  'qq6urmZmqqamVZmZqqqqqmZmmZmqquqqZmpampqqrqamZamZqqpqqmZVmZmmZqqZqq6qqmZWmZmVZmZZmpampqmqqmqquqqu' +
  'WlZWlZWmZmmZqmZqmpqmpqmqqmqqqqaqqqqqqqqqqqqquqqqqqqqqqqqqmqqqqaqZZmmZWlZZmVVWlZVqqqrqqpqqqamqpqm' +
  'ZZmmZWlVZWlqqqqqZqmqZmlZZmlqq6qqZqmqZWlZZWlqqqqmZammZpaqqqbmlZZqqqqq6mZZWmmqqqquZWmlppaqmqaWlVZZ' +
  'ammppqqqqqbmlZZaammppqqqqqbmlVZZammpppaqmqaVWlVZZZWmlppZammmqpaaqqqqpq6qqqqrr6qqZZWWlllZZWWmmlZZ' +
  'ZaWmllpZaWmmmpZZaaWmllpZZWWmmlZZppaaqmmqppZaammmlpZZZWWmllluuqqrqqqqqmqqppaaammmllZZZprrqqqqqmqq' +
  'ppZaaWWmlllqqqqqppaaaC';
const RSQ_ODD_R =
  'lllmmaaaqqqpqqqqVVVllVVVVWmqqquuqqqqqqqqqqqppppplllllpqqqqqppppplllllpqqaaaZZZZZmmmmmmlpppZaqqqm' +
  'qqrqqmVZZVVWmllVZZWWWllZZZVWmllVZVWWVpquqqpqqqmmpZaaWmlZZVlqqqmmpZaWW5quqpZamqpqZVlVZmlZamqaqqqq' +
  'ZVlVZmlZWmZampZmqZqmpqmqaqqqqqpqqqqmqqqqaqqaqqZqqZqmZqmZWmZWmZVlZVVZmpmqqqaamZmqZVVZmpmZqqaWVZmZ' +
  'qZmqqmVVlZmamZmquqqqqmVZmZmamZmZuqqqqmVVVVVWVVmZqZmZmpqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqamZmZmZm' +
  'ZmZmZmVVVVlqqqqqZmZmZmZmVVlqqqqmZmZmZqqqqqqlZmZqmqqq6aZmZmmpqqqqVmZWlZqmZmqqqqqqVmZVlZamZmmpqqZq' +
  'qqqqqWZWVVWlZWVZWmZWlZamZWmpZmZZqqqqqqqqqqqqpqqqqmqaqqZqmpampZmmZWmZZmVZWlpqqqqqqmqaqmZamlZWlZVW' +
  'qqqaqqZamlZWlVVWqmqZqmZZWmlqqqqqZWmlZpqqqqamlZZWqmqpamVZVWlmpZamqqqqqmZZVWlmpZamqqqpamVZVWVmlZZW' +
  'ammpZpaqmmZZWWmlpZZammmppaaqmmqppaqqmqqpqaqqmqqpqaqqmqqpqaqqmmqppaaqmmmppZaaWmmllZZZVWWllVluqqqp' +
  'aaaqqmlpppZVWWWmqqqquqppppaWWWmmVVVVZpppppaWWWWWqqqqqmlpppZVVVVWaaaaaWVllllmmmmmVVVZZppppppqqqqq' +
  'ZZZZaqqqqqaWWWWWaaaaaqqqqqaWWWWWaaaaaqqqqqaWWWWVZZZZZppppppqqqqmqqqqqmlllllVVVVWWWWWaZZZZppplllm' +
  'mmmWaaaaaqqppppqqmmmqqaaaqqqpppqqmmmqqaaaqqppppmmmmmaaaaZppplllmVVVWWpqqqqqaaqqqpppmmmWWaaZZZlll' +
  'VVVWVpqmqqaaaqpplllWWWVVZVlqaqqppplmWWWVZZlqaqqppplmWWWVZVlaaqqppllWWqqqqqaaappllVVWVpmmaaaZZlVV' +
  'qppmmWWWZVlaaqppllVWVpmmaaZZVlVVpplmWqqqqaaWZplWaqpmqWVVZlVWaplmaqpqqWVWZlVWaplmaqpqqWVVZlVWZplW' +
  'appmaqpqqqaVZlVWZplWaplmaqpmaqqqVVVVVlVWZlVWZplWaplWaqpmaqpmaqpqqqqqqWVVVVVWZlVWZlVWZlVWZlVWZplW' +
  'aplWaplWaplWaplWaplWaB';

const B64 = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/';

/** Decodes one table: result significands k (units of 2^-13) for the 4096 intervals. */
function build(packed: string, f: (m: number) => number): Float64Array {
  const t = new Float64Array(4096);
  for (let i = 0; i < 4096; i++) {
    const digit = (B64.indexOf(packed[(i / 3) | 0]!) >> (2 * (i % 3))) & 3;
    t[i] = (Math.floor(8192 * f(1 + (i + 0.5) / 4096)) + digit - 1) / 8192;
  }
  return t;
}
const RCP = build(RCP_R, (m) => 1 / m);
const RSQ_EVEN = build(RSQ_EVEN_R, (m) => 1 / Math.sqrt(m));
const RSQ_ODD = build(RSQ_ODD_R, (m) => 1 / Math.sqrt(2 * m));
const TWO_M126 = 1.1754943508222875e-38;
const F32 = new Float32Array(1), U32 = new Int32Array(F32.buffer);

/** The host's approximate 1/x of a single-precision bit pattern; returns the result's bits. */
export function rcp32Host(b: number): number {
  const sign = b & 0x80000000, e = (b >>> 23) & 0xff;
  if (e === 0xff) return (b & 0x7fffff) !== 0 ? b | 0x400000 : sign; // NaN quieted; 1/±∞ = ±0
  if (e === 0) return sign | 0x7f800000;                              // ±0 and denormals → ±∞
  const v = RCP[(b >>> 11) & 0xfff]! * Math.pow(2, 127 - e);          // exact scaling
  if (v < TWO_M126) return sign;                                       // tiny: flushed to ±0
  F32[0] = v;
  return sign | U32[0]!;
}

/** The host's approximate 1/√x of a single-precision bit pattern. */
export function rsqrt32Host(b: number): number {
  const sign = b & 0x80000000, e = (b >>> 23) & 0xff;
  if (e === 0xff && (b & 0x7fffff) !== 0) return b | 0x400000;         // NaN quieted
  if (e === 0) return sign | 0x7f800000;                                // ±0 and denormals → ±∞
  if (sign !== 0) return 0xffc00000 | 0;                                // negative (−∞ too): indefinite
  if (e === 0xff) return 0;                                             // 1/√+∞ = +0
  // x = m·2^k, k = e − 127: odd k uses the [2,4) table and 2^-(k−1)/2
  const k = e - 127, odd = k & 1;
  F32[0] = (odd !== 0 ? RSQ_ODD : RSQ_EVEN)[(b >>> 11) & 0xfff]! * Math.pow(2, -(k - odd) / 2);
  return U32[0]!;
}

/**
 * What a codec returns instead of a packet when the bytes are not one. Guest-controlled
 * input never throws on the frame path (DESIGN: "Guest errors are architectural, never host
 * crashes"); callers count the reason and drop the frame.
 */
export class Malformed {
  constructor(readonly reason: string) {}
}

export function isMalformed(x: unknown): x is Malformed {
  return x instanceof Malformed;
}

/** System instruction family: see ops/table.ts for the table layout. */
import type { Handler } from '../cpu.js';

export function installSystem(_t: Handler[]): void {
  // filled in by the family's owner
}

/**
 * Guest MIPS per CPU second on any kernel `nestvisor run` boots (e.g. kvm-unit-tests
 * sieve.flat, built beside the project in /work/kut): the figure behind the page-walk and TLB
 * rows of docs/cpu-design.md, which `npm run bench` (guests/images/sieve.elf) does not
 * exercise. Prints one line; asserts nothing.
 *
 *   node dist/bench/flat.js KERNEL [INSTRUCTION_LIMIT] [--interp]
 */
import { readFileSync } from 'node:fs';
import { PcMachine } from '../src/machine/pc.js';

const args = process.argv.slice(2);
const interp = args.includes('--interp');
const [kernel, limitArg] = args.filter((a) => a !== '--interp');
if (kernel === undefined) {
  console.error('usage: node dist/bench/flat.js KERNEL [INSTRUCTION_LIMIT] [--interp]');
  process.exit(2);
}
const limit = limitArg === undefined ? Infinity : Number(limitArg);
const m = new PcMachine({ memoryBytes: 256 * 2 ** 20, serialOut: () => {}, instructionLimit: limit });
for (const c of m.vcpus.cpus) c.jit = !interp;
m.loadKernel(new Uint8Array(readFileSync(kernel)), '', kernel);
const c0 = process.cpuUsage();
const r = await m.run();
const cu = process.cpuUsage(c0);
const s = (cu.user + cu.system) / 1e6;
const n = m.instructionsRetired;
console.log(`${kernel} (${interp ? 'interpreter' : 'translator'}): ${r.reason}${r.exitCode !== undefined ? ` ${r.exitCode}` : ''}, ` +
  `${n} instructions in ${s.toFixed(1)} CPU s = ${(n / s / 1e6).toFixed(1)} MIPS per CPU second`);

/** `nestvisor demo`: plays the seed document end to end (issue 8). */
export async function demoCommand(_argv: string[]): Promise<number> {
  process.stderr.write('nestvisor demo: not available in this build yet: it needs the VT-x emulation and the networking (issues 5, 7, 8)\n');
  return 2;
}

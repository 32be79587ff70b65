/**
 * The `nestvisor` command. Sub-commands each live in their own module and are loaded on
 * demand so that `nestvisor run` never pays for the shell and the shell never pays for the CPU.
 *   nestvisor run --kernel FILE ...        boot one kernel like `qemu-system-x86_64 -kernel`
 *   nestvisor demo                          play the seed document end to end
 *   nestvisor serve                         the management service with an HTTP API on loopback
 *   nestvisor [-Command "..."|-File F]      the PowerShell subset (REPL without arguments)
 */
const argv = process.argv.slice(2);
const sub = argv[0];

async function main(): Promise<number> {
  switch (sub) {
    case 'run':
      return (await import('./run.js')).runCommand(argv.slice(1));
    case 'demo':
      return (await import('./demo.js')).demoCommand(argv.slice(1));
    case 'serve':
      return (await import('./serve.js')).serveCommand(argv.slice(1));
    default:
      return (await import('./shell-cli.js')).shellCommand(argv);
  }
}

main().then(
  (code) => { process.exitCode = code; },
  (err: unknown) => {
    // A bug in Nestvisor itself: one line, no stack unless asked for.
    const msg = err instanceof Error ? err.message : String(err);
    process.stderr.write(`nestvisor: internal error: ${msg}\n`);
    if (process.env.NESTVISOR_DEBUG) console.error(err);
    process.exitCode = 70;
  },
);

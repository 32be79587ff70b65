/**
 * Invariants of a whole inventory, checked after crashes (the SIGKILL test) and usable by
 * diagnostics: every reference resolves, every Internal switch has its host adapter, names are
 * unique, MAC addresses come from the pool that was handed out.
 */
import type { InventoryState } from './model.js';

export function checkConsistency(s: InventoryState): string[] {
  const problems: string[] = [];
  const vmIds = new Set(s.vms.map((v) => v.id));
  const lower = (x: string) => x.toLowerCase();
  const dup = (names: string[], what: string) => {
    const seen = new Set<string>();
    for (const n of names.map(lower)) { if (seen.has(n)) problems.push(`duplicate ${what} name '${n}'`); seen.add(n); }
  };
  dup(s.vms.map((v) => v.name), 'VM');
  dup(s.switches.map((w) => w.name), 'switch');
  dup(s.hostAdapters.map((a) => a.name), 'host adapter');
  dup(s.nats.map((n) => n.name), 'NetNat');
  for (const r of s.runtime) if (!vmIds.has(r.vmId)) problems.push(`runtime row for a missing VM ${r.vmId}`);
  const switches = new Set(s.switches.map((w) => lower(w.name)));
  for (const n of s.vmNics) {
    if (!vmIds.has(n.vmId)) problems.push(`network adapter ${n.id} belongs to a missing VM ${n.vmId}`);
    if (n.switchName !== null && !switches.has(lower(n.switchName))) problems.push(`network adapter ${n.id} is connected to a missing switch '${n.switchName}'`);
    if (n.dynamicMacAddress && n.macAddress.startsWith('00155D')) {
      const counter = parseInt(n.macAddress.slice(8), 16);
      if (counter >= s.host.macCounter) problems.push(`MAC ${n.macAddress} was never handed out (pool counter ${s.host.macCounter})`);
    }
  }
  for (const w of s.switches) {
    const hasVEth = s.hostAdapters.some((a) => a.switchName === w.name);
    if (w.switchType === 'Internal' && !hasVEth) problems.push(`internal switch '${w.name}' has no vEthernet adapter`);
  }
  for (const a of s.hostAdapters) {
    if (a.switchName !== null && !switches.has(lower(a.switchName))) problems.push(`host adapter '${a.name}' belongs to a missing switch`);
  }
  const aliases = new Set(s.hostAdapters.map((a) => lower(a.name)));
  for (const i of s.ipAddresses) if (!aliases.has(lower(i.interfaceAlias))) problems.push(`address ${i.ipAddress} is on a missing interface '${i.interfaceAlias}'`);
  for (const r of s.routes) if (!aliases.has(lower(r.interfaceAlias))) problems.push(`route via ${r.nextHop} is on a missing interface`);
  return problems;
}

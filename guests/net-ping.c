/*
 * net-ping: ARP + ICMP echo over virtio-net. Command line:
 *   ip=A.B.C.D target=E.F.G.H [count=N]   resolve the target, ping it N times (default 3)
 *   ip=A.B.C.D serve=N                    answer ARP and echo requests until N were served
 * It always answers ARP and echo requests for its own address while it runs.
 * Prints PASS/FAIL lines and a SUMMARY; exits 0 when everything passed.
 */
#include "net-common.h"

static struct netk k;

int main(void) {
  char buf[16];
  if (netk_init(&k, 0)) { report("virtio-net comes up", 0); return report_summary(); }
  report("virtio-net comes up with link up", k.nic.link_up);
  u32 count = 3;
  if (!cmdline_get("count", buf, sizeof buf)) { count = 0; for (char *s = buf; *s >= '0' && *s <= '9'; s++) count = count * 10 + (u32)(*s - '0'); }
  if (k.target) {
    report("ARP resolves the target", resolve_target(&k, 5));
    if (k.peer_known) {
      printf("target is at "); print_mac(k.peer); printf("\n");
      u32 got = ping_target(&k, count);
      printf("%u/%u echo replies\n", got, count);
      report("every echo request is answered", got == count);
    }
  }
  if (!cmdline_get("serve", buf, sizeof buf)) {
    u32 want = 0;
    for (char *s = buf; *s >= '0' && *s <= '9'; s++) want = want * 10 + (u32)(*s - '0');
    int ok = wait_for(&k, &k.echo_served, want, 0xffffffffu);
    printf("served %u echo requests\n", k.echo_served);
    report("answers echo requests", ok);
  }
  return report_summary();
}

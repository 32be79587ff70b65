/*
 * net-bridge: the L2-bridging case of the seed ("Usurpation des adresses MAC"). It sends
 * as another guest would behind an L1 hypervisor's bridge: frames carry mac= (not the
 * NIC's own MAC) and ip=. Command line:
 *   mac=aa:bb:cc:dd:ee:ff ip=A.B.C.D target=E.F.G.H [count=N] expect=reply|none
 * expect=none: the switch must drop everything (spoofing Off): PASS when ARP is never
 * answered after 3 requests. expect=reply: ARP then N echo requests must all be answered.
 */
#include "net-common.h"

static struct netk k;

int main(void) {
  char buf[16];
  if (netk_init(&k, 1)) { report("virtio-net comes up", 0); return report_summary(); }
  u32 count = 3;
  if (!cmdline_get("count", buf, sizeof buf)) { count = 0; for (char *s = buf; *s >= '0' && *s <= '9'; s++) count = count * 10 + (u32)(*s - '0'); }
  int expect_reply = !cmdline_get("expect", buf, sizeof buf) && !strcmp(buf, "reply");
  if (!expect_reply) {
    int answered = resolve_target(&k, 3);
    printf("bridged ARP %s\n", answered ? "answered" : "unanswered");
    report("frames with a foreign source MAC do not get through", !answered);
    return report_summary();
  }
  report("ARP from the bridged MAC is answered", resolve_target(&k, 5));
  if (k.peer_known) {
    u32 got = ping_target(&k, count);
    printf("%u/%u echo replies to the bridged MAC\n", got, count);
    report("echo requests from the bridged MAC are answered", got == count);
  }
  return report_summary();
}

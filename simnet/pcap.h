/*
 * pcap.h: a pcap file writer, LINKTYPE_RAW (101): each record is an IP
 * packet, which is what an ebb stack emits.  `tshark -r` and Wireshark
 * read it directly.
 */
#ifndef EBB_SIMNET_PCAP_H
#define EBB_SIMNET_PCAP_H

#include <stddef.h>
#include <stdint.h>

struct ebb_pcap;

/* Create or truncate path; 0 or -errno. */
int ebb__pcap_open(const char *path, struct ebb_pcap **out);
/* One packet at time `ns` (nanoseconds); the file keeps microseconds. */
void ebb__pcap_write(struct ebb_pcap *p, uint64_t ns, const uint8_t *pkt, size_t len);
void ebb__pcap_close(struct ebb_pcap *p);

#endif

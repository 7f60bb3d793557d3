/*
 * pcapread.h: read IPv4 packets from a capture file, pcap or pcapng, as
 * tcpdump, tshark, Wireshark and ebb (simnet, TUN --pcap) write them.
 * Link types: Ethernet (with 802.1Q/802.1ad tags), raw IP, BSD and
 * OpenBSD loopback, Linux cooked (SLL and SLL2).  Anything else in the
 * file (IPv6, ARP, other link types) is skipped and counted.
 */
#ifndef EBB_TOOLS_PCAPREAD_H
#define EBB_TOOLS_PCAPREAD_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

struct pcap_in {
	FILE *f;
	int ng;          /* pcapng */
	int swap;        /* file's byte order is not ours */
	int nsec;        /* pcap: nanosecond timestamps */
	uint32_t link;   /* pcap: the link type */
	/* pcapng interfaces: link type and ticks per second. */
	struct {
		uint32_t link;
		uint64_t tps;
	} ifs[64];
	unsigned nifs;
	uint8_t *buf;
	size_t cap;
	uint64_t skipped; /* records that held no IPv4 packet */
	char err[160];    /* why pcap_next stopped, if not the end of the file */
};

/* Open path; 0, or a negative errno with in->err saying what is wrong. */
int pcap_open_file(struct pcap_in *in, const char *path);
void pcap_close_file(struct pcap_in *in);
/* The next IPv4 packet: 1 with *ip, *len (the IP header onwards, valid
 * until the next call) and *t (ns since the epoch); 0 at the end; a
 * negative errno if the file is damaged (in->err says where). */
int pcap_next_ip4(struct pcap_in *in, const uint8_t **ip, size_t *len, uint64_t *t);

#endif

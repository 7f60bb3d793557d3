/*
 * pcap.c: classic libpcap format (magic 0xa1b2c3d4, version 2.4),
 * written in the host's byte order as the format allows.
 */
#include "pcap.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>

struct ebb_pcap {
	FILE *f;
};

int ebb__pcap_open(const char *path, struct ebb_pcap **out)
{
	struct ebb_pcap *p = calloc(1, sizeof *p);
	if (!p)
		return -ENOMEM;
	p->f = fopen(path, "wb");
	if (!p->f) {
		int e = errno;
		free(p);
		return -e;
	}
	struct {
		uint32_t magic;
		uint16_t major, minor;
		int32_t thiszone;
		uint32_t sigfigs, snaplen, linktype;
	} hdr = {0xa1b2c3d4u, 2, 4, 0, 0, 65535, 101};
	if (fwrite(&hdr, sizeof hdr, 1, p->f) != 1) {
		fclose(p->f);
		free(p);
		return -EIO;
	}
	*out = p;
	return 0;
}

void ebb__pcap_write(struct ebb_pcap *p, uint64_t ns, const uint8_t *pkt, size_t len)
{
	if (!p)
		return;
	struct {
		uint32_t sec, usec, incl, orig;
	} rec = {(uint32_t)(ns / 1000000000ull), (uint32_t)(ns % 1000000000ull / 1000), (uint32_t)len, (uint32_t)len};
	fwrite(&rec, sizeof rec, 1, p->f);
	fwrite(pkt, 1, len, p->f);
}

void ebb__pcap_close(struct ebb_pcap *p)
{
	if (!p)
		return;
	fclose(p->f);
	free(p);
}

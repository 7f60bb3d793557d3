/*
 * simapp.h: applications for simulation tests.  A `bulk` pair connects
 * a client and a server on simnet, sends N bytes each way (a
 * deterministic stream per direction), hashes what arrives, and closes in
 * the requested order.  Tests then assert the hashes match and both
 * stacks end clean.
 */
#ifndef EBB_TESTS_SIMAPP_H
#define EBB_TESTS_SIMAPP_H

#include <ebb/ebb.h>
#include <stdint.h>

#include "simnet.h"

enum close_order {
	CLOSE_CLIENT_FIRST, /* client closes once it has received everything */
	CLOSE_SERVER_FIRST,
	CLOSE_SIMULTANEOUS, /* both close at the same instant */
	CLOSE_MANUAL,       /* the test closes by hand */
};

struct bulk_side {
	struct ebb_stack *s;
	int fd;
	uint64_t to_send, sent, received, expect;
	uint64_t gen;     /* key of the stream we send */
	uint64_t check;   /* key of the stream the peer sends */
	uint64_t mismatch; /* bytes that differed from the expected stream */
	int eof, closed, error;
};

struct bulk {
	struct simnet *net;
	int ch, sh; /* host indexes */
	int lfd;
	struct bulk_side c, s;
	int order;
	int connected;
	uint64_t t_done; /* when both applications had closed */
};

/* Two hosts (client 198.18.0.1, server 198.18.0.2:80), listening server,
 * connecting client.  cfg may be NULL. */
void bulk_setup(struct bulk *b, uint64_t seed, const struct ebb_config *cfg);
/* Start the exchange: n bytes client->server, m bytes server->client. */
void bulk_start(struct bulk *b, uint64_t n, uint64_t m, int order);
/* simnet_run callback: moves data, closes in order; 1 when both sides have
 * closed and no connection (other than TIME_WAIT records) remains. */
int bulk_step(void *ctx);
/* TCBs of any kind still alive on a stack (listeners included). */
uint32_t live_conns(const struct ebb_stack *s);

#endif

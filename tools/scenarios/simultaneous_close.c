/*
 * simultaneous_close.c: both ends close at the same moment (seed 001's
 * "CLOSING: both sides try to close at once").  Each sends its FIN while
 * the other's is in flight, so each receives a FIN in FIN_WAIT_1 with its
 * own FIN not yet acknowledged: CLOSING.  Each then receives the ACK of
 * its FIN and enters TIME_WAIT: both ends are active closers.
 */
#include <string.h>

#include "../scenario.h"
#include "../../src/wire/wire.h"

#define A_ADDR 0xC6120001u /* 198.18.0.1 */
#define B_ADDR 0xC6120002u /* 198.18.0.2 */
#define PORT 6000
#define DELAY (10 * SCN_MS)

struct wire {
	int fins[2], acks_of_fin[2], rsts;
	uint32_t fin_seq[2];
};

static int filter(void *ctx, int from, int to, uint8_t *pkt, size_t len)
{
	struct wire *w = ctx;
	struct ebb_ip4 ip;
	struct ebb_seg seg;
	(void)to;
	if (from < 0 || from > 1 || ebb__ip4_parse(pkt, len, &ip) || ebb__tcp_parse(&ip, &seg))
		return 0;
	if (seg.flags & EBB_TH_RST)
		w->rsts++;
	if (seg.flags & EBB_TH_FIN) {
		w->fins[from]++;
		w->fin_seq[from] = seg.seq + seg.len;
	}
	/* A segment acknowledging the other end's FIN. */
	if ((seg.flags & EBB_TH_ACK) && w->fins[!from] && seg.ack == w->fin_seq[!from] + 1)
		w->acks_of_fin[from]++;
	return 0;
}

/* Did the ladder record host h entering `state`? */
static int passed_through(const struct scn *c, int h, int state)
{
	for (size_t i = 0; i < c->lad.n; i++) {
		const struct ladder_ev *e = &c->lad.ev[i];
		if (e->kind == LADDER_STATE && e->from == h && e->new_state == state)
			return 1;
	}
	return 0;
}

static void run(struct scn *c)
{
	scn_net(c, 11);
	int ah = scn_host(c, "A", A_ADDR, 0);
	int bh = scn_host(c, "B", B_ADDR, 0);
	struct simnet_link l = {.delay = DELAY};
	simnet_set_links(c->net, ah, bh, &l);
	struct wire w;
	memset(&w, 0, sizeof w);
	simnet_set_filter(c->net, filter, &w);
	struct ebb_stack *as = scn_stack(c, ah), *bs = scn_stack(c, bh);
	int lfd = scn_listen(c, bh, B_ADDR, PORT, 1);
	int afd = scn_connect(c, ah, B_ADDR, PORT);
	uint16_t aport = scn_local_port(c, ah, afd);
	simnet_run_until(c->net, 100 * SCN_MS);
	int bfd = ebb_accept(bs, lfd, 0, 0, simnet_now(c->net));
	ebb_close(bs, lfd, simnet_now(c->net));
	uint64_t aconn = (uint64_t)ebb_conn_id(as, afd), bconn = (uint64_t)ebb_conn_id(bs, bfd);

	uint64_t t0 = 200 * SCN_MS;
	simnet_run_until(c->net, t0);
	scn_say(c, "A and B call close() at the same instant; each FIN crosses the other in flight");
	ebb_close(as, afd, t0);
	ebb_close(bs, bfd, t0);
	int a_fw1 = ebb_state_count(as, EBB_TCP_FIN_WAIT1), b_fw1 = ebb_state_count(bs, EBB_TCP_FIN_WAIT1);
	scn_counts(c, ah);
	scn_counts(c, bh);
	simnet_run_until(c->net, t0 + DELAY + DELAY / 2);
	scn_say(c, "each got the other's FIN before the ACK of its own:");
	scn_counts(c, ah);
	scn_counts(c, bh);
	int a_closing = ebb_state_count(as, EBB_TCP_CLOSING), b_closing = ebb_state_count(bs, EBB_TCP_CLOSING);
	simnet_run_until(c->net, t0 + 2 * DELAY + DELAY / 2);
	scn_say(c, "each got the ACK of its FIN:");
	scn_counts(c, ah);
	scn_counts(c, bh);
	uint32_t a_tw = ebb_state_count(as, EBB_TCP_TIME_WAIT), b_tw = ebb_state_count(bs, EBB_TCP_TIME_WAIT);
	uint64_t tw_at = simnet_now(c->net);
	simnet_run_until(c->net, tw_at + 59 * SCN_SEC);
	uint32_t a_tw_59 = ebb_state_count(as, EBB_TCP_TIME_WAIT), b_tw_59 = ebb_state_count(bs, EBB_TCP_TIME_WAIT);
	simnet_run_until(c->net, tw_at + 61 * SCN_SEC);
	scn_say(c, "2*MSL later:");
	scn_counts(c, ah);
	scn_counts(c, bh);
	scn_ladder(c, ah, aport, bh, PORT, 0, UINT64_MAX);

	scn_check(c, a_fw1 == 1 && b_fw1 == 1, "close() put both ends in FIN_WAIT_1");
	scn_check(c, w.fins[0] == 1 && w.fins[1] == 1 && w.rsts == 0, "each end sent exactly one FIN; no RST");
	scn_check(c, a_closing == 1 && b_closing == 1 && passed_through(c, ah, EBB_TCP_CLOSING) &&
			     passed_through(c, bh, EBB_TCP_CLOSING) && !passed_through(c, ah, EBB_TCP_FIN_WAIT2) &&
			     !passed_through(c, bh, EBB_TCP_FIN_WAIT2),
		  "both went FIN_WAIT_1 -> CLOSING, never FIN_WAIT_2");
	scn_check(c, w.acks_of_fin[0] == 1 && w.acks_of_fin[1] == 1,
		  "each acknowledged the other's FIN once, and that was all it took");
	scn_check(c, a_tw == 1 && b_tw == 1 && ebb_counter_get(as, EBB_CTR_TW) == 1 && ebb_counter_get(bs, EBB_CTR_TW) == 1,
		  "then both entered TIME_WAIT: in a simultaneous close both ends are active closers");
	scn_check(c, ebb_conn_outcome(as, aconn) == EBB_END_TIME_WAIT && ebb_conn_outcome(bs, bconn) == EBB_END_TIME_WAIT,
		  "both connections ended through TIME_WAIT (%s, %s)", ebb_outcome_name(ebb_conn_outcome(as, aconn)),
		  ebb_outcome_name(ebb_conn_outcome(bs, bconn)));
	scn_check(c, a_tw_59 == 1 && b_tw_59 == 1 && ebb_state_count(as, EBB_TCP_TIME_WAIT) == 0 &&
			     ebb_state_count(bs, EBB_TCP_TIME_WAIT) == 0 && ebb_counter_get(as, EBB_CTR_TWExpired) == 1 &&
			     ebb_counter_get(bs, EBB_CTR_TWExpired) == 1,
		  "both records lasted 2*MSL (held at 59 s, expired by 61 s)");
}

const struct scenario scn_simultaneous_close = {
	"simultaneous-close",
	"both ends close at once: CLOSING on both, then TIME_WAIT on both",
	"Seed 001's state list: \"CLOSING: both sides try to close at the same time\".\n"
	"A and B call close() at the same instant.  Each FIN is in flight when the other\n"
	"leaves, so each end receives a FIN while in FIN_WAIT_1 with its own FIN not yet\n"
	"acknowledged: RFC 9293's CLOSING.  The ACK of its FIN then moves it to TIME_WAIT.\n"
	"Neither end is the passive closer, so both hold TIME_WAIT for 2*MSL -- the one\n"
	"close where the \"active closer\" rule gives two TIME_WAITs.  Look at the middle\n"
	"counts (both CLOSING) and the ladder's crossing FINs.",
	run,
};

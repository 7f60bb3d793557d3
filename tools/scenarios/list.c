/* list.c: every scenario `ebb sim` knows, in the order `ebb sim list` shows them. */
#include "../scenario.h"

extern const struct scenario scn_lost_last_ack;
extern const struct scenario scn_old_duplicate;
extern const struct scenario scn_client_port_exhaustion;
extern const struct scenario scn_server_timewait_pileup;
extern const struct scenario scn_keepalive_server;
extern const struct scenario scn_proxy_short_backend;
extern const struct scenario scn_lb_nat;
extern const struct scenario scn_close_wait_leak;
extern const struct scenario scn_keepalive_vanished_peer;
extern const struct scenario scn_linger_abort;
extern const struct scenario scn_reuseaddr_restart;
extern const struct scenario scn_simultaneous_close;

const struct scenario *const scenarios[] = {
	&scn_lost_last_ack,
	&scn_old_duplicate,
	&scn_client_port_exhaustion,
	&scn_server_timewait_pileup,
	&scn_keepalive_server,
	&scn_proxy_short_backend,
	&scn_lb_nat,
	&scn_close_wait_leak,
	&scn_keepalive_vanished_peer,
	&scn_linger_abort,
	&scn_reuseaddr_restart,
	&scn_simultaneous_close,
	0,
};

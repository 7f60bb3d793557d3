/* list.c: every scenario `ebb sim` knows, in the order `ebb sim list` shows them. */
#include "../scenario.h"

extern const struct scenario scn_lost_last_ack;

const struct scenario *const scenarios[] = {
	&scn_lost_last_ack,
	0,
};

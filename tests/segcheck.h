/*
 * segcheck.h: small checks shared by the segment-matrix tests
 * (seg_*_test.c): what the application sees after a segment.
 *
 * st_in fills every payload byte with the low 8 bits of its relative
 * sequence number, so data read back can be checked against the
 * sequence range it came from, however it was segmented.
 */
#ifndef EBB_TESTS_SEGCHECK_H
#define EBB_TESTS_SEGCHECK_H

#include <errno.h>
#include <sys/socket.h>

#include "segtest.h"

/* SO_ERROR of fd (reading clears it), or a negative errno if getsockopt
 * itself failed. */
static inline int sc_so_error(struct seg_test *t, int fd)
{
	int e = -1;
	socklen_t len = sizeof e;
	int r = ebb_getsockopt(t->s, fd, SOL_SOCKET, SO_ERROR, &e, &len, t->now);
	return r ? r : e;
}

/* Read up to `cap` bytes from t->fd and check that exactly `want` bytes
 * come back holding relative sequence numbers first, first+1, ... */
#define sc_expect_data(t, want, first)                                                        \
	do {                                                                                  \
		static unsigned char sc_buf_[70000];                                          \
		long sc_n_ = (long)ebb_recv((t)->s, (t)->fd, sc_buf_, sizeof sc_buf_, 0, (t)->now); \
		CHECK_EQ(sc_n_, (want));                                                      \
		int sc_bad_ = 0;                                                              \
		for (long sc_i_ = 0; sc_i_ < sc_n_; sc_i_++)                                  \
			sc_bad_ += sc_buf_[sc_i_] != (unsigned char)((uint32_t)(first) + (uint32_t)sc_i_); \
		CHECK_EQ(sc_bad_, 0);                                                         \
	} while (0)

/* recv on t->fd returns exactly `r` (a negative errno, or 0 for EOF). */
#define sc_expect_recv(t, r)                                                               \
	do {                                                                               \
		char sc_b_[64];                                                            \
		CHECK_EQ(ebb_recv((t)->s, (t)->fd, sc_b_, sizeof sc_b_, 0, (t)->now), (r)); \
	} while (0)

#define sc_ctr(t, name) ebb_counter_get((t)->s, EBB_CTR_##name)

#endif

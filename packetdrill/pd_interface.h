/*
 * pd_interface.h: the table of entry points packetdrill expects from a
 * stack it loads with --so_filename.
 *
 * Reference: gtests/net/packetdrill/packetdrill.h in google/packetdrill
 * (the "shared object testing" interface).  packetdrill is not part of
 * this tree; this header restates the binary layout only: one opaque
 * pointer, then function pointers, in the order and with the types
 * packetdrill's loader fills and calls.  Any change of order or type
 * breaks the ABI, so it is kept in one place, shared by the adapter and
 * its test.
 *
 * Conventions packetdrill relies on: the socket calls behave like the
 * libc wrappers (-1 and errno on failure); netdev_send hands the stack
 * one IP packet from the remote side; netdev_receive returns the next
 * packet the stack sent (0 bytes when there is none) with the time it
 * left; usleep and gettimeofday are the clock packetdrill runs the
 * script by.
 */
#ifndef EBB_PD_INTERFACE_H
#define EBB_PD_INTERFACE_H

#ifndef _GNU_SOURCE
#define _GNU_SOURCE 1 /* loff_t */
#endif
#include <poll.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/types.h>
#include <sys/uio.h>
#include <unistd.h>

struct pd_interface {
	void *userdata; /* passed back as the first argument of every call */
	void (*free)(void *userdata);
	int (*socket)(void *userdata, int domain, int type, int protocol);
	int (*bind)(void *userdata, int fd, const struct sockaddr *addr, socklen_t len);
	int (*listen)(void *userdata, int fd, int backlog);
	int (*accept)(void *userdata, int fd, struct sockaddr *addr, socklen_t *len);
	int (*connect)(void *userdata, int fd, const struct sockaddr *addr, socklen_t len);
	ssize_t (*read)(void *userdata, int fd, void *buf, size_t len);
	ssize_t (*readv)(void *userdata, int fd, const struct iovec *iov, int iovcnt);
	ssize_t (*recv)(void *userdata, int fd, void *buf, size_t len, int flags);
	ssize_t (*recvfrom)(void *userdata, int fd, void *buf, size_t len, int flags,
			    struct sockaddr *from, socklen_t *fromlen);
	ssize_t (*recvmsg)(void *userdata, int fd, struct msghdr *msg, int flags);
	ssize_t (*write)(void *userdata, int fd, const void *buf, size_t len);
	ssize_t (*writev)(void *userdata, int fd, const struct iovec *iov, int iovcnt);
	ssize_t (*send)(void *userdata, int fd, const void *buf, size_t len, int flags);
	ssize_t (*sendto)(void *userdata, int fd, const void *buf, size_t len, int flags,
			  const struct sockaddr *to, socklen_t tolen);
	ssize_t (*sendmsg)(void *userdata, int fd, const struct msghdr *msg, int flags);
	int (*fcntl)(void *userdata, int fd, int cmd, ...);
	int (*ioctl)(void *userdata, int fd, unsigned long request, ...);
	int (*close)(void *userdata, int fd);
	int (*shutdown)(void *userdata, int fd, int how);
	int (*getsockopt)(void *userdata, int fd, int level, int name, void *val, socklen_t *len);
	int (*setsockopt)(void *userdata, int fd, int level, int name, const void *val, socklen_t len);
	int (*poll)(void *userdata, struct pollfd *fds, nfds_t nfds, int timeout_ms);
	/* Inject one IP packet; 0 on success, -1 on error. */
	int (*netdev_send)(void *userdata, const void *pkt, size_t len);
	/* The next packet the stack sent: *len is the buffer size on entry,
	 * the packet size (0: none) on return; *time_usecs its send time.
	 * 0 on success, -1 on error (packetdrill then asks again). */
	int (*netdev_receive)(void *userdata, void *buf, size_t *len, long long *time_usecs);
	int (*usleep)(void *userdata, useconds_t usec);
	int (*gettimeofday)(void *userdata, struct timeval *tv, struct timezone *tz);
	int (*epoll_create)(void *userdata, int size);
	int (*epoll_ctl)(void *userdata, int epfd, int op, int fd, struct epoll_event *ev);
	int (*epoll_wait)(void *userdata, int epfd, struct epoll_event *evs, int maxevents, int timeout_ms);
	int (*pipe)(void *userdata, int fds[2]);
	int (*splice)(void *userdata, int fd_in, loff_t *off_in, int fd_out, loff_t *off_out, size_t len,
		      unsigned int flags);
};

/* The one symbol the adapter exports; `flags` is packetdrill's --so_flags
 * string (NULL when not given). */
typedef void (*pd_interface_init_fn)(const char *flags, struct pd_interface *ifc);

#endif /* EBB_PD_INTERFACE_H */

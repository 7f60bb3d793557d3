/*
 * tun.c: the TUN device.  IFF_TUN | IFF_NO_PI: every read returns one IP
 * packet, every write sends one, with no packet-information header;
 * with EBB_TUN_OFFLOAD each is preceded by a struct virtio_net_hdr
 * (IFF_VNET_HDR) and the device takes checksum and TSO offload.  The
 * kernel side is configured with the classic interface ioctls so that no
 * netlink code (and no `ip` command) is needed.
 */
#include "ebb_tun.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/if_tun.h>
#include <linux/virtio_net.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

static int name_ok(const char *name)
{
	size_t n = name ? strlen(name) : 0;
	if (!n)
		return -EINVAL;
	if (n >= IFNAMSIZ)
		return -ENAMETOOLONG;
	return 0;
}

int ebb_tun_open_flags(const char *name, unsigned flags, int *created)
{
	int r = name_ok(name);
	if (r)
		return r;
	if (flags & ~(unsigned)EBB_TUN_OFFLOAD)
		return -EINVAL;
	int existed = if_nametoindex(name) != 0;
	int fd = open("/dev/net/tun", O_RDWR | O_NONBLOCK | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	struct ifreq ifr;
	memset(&ifr, 0, sizeof ifr);
	ifr.ifr_flags = IFF_TUN | IFF_NO_PI;
	if (flags & EBB_TUN_OFFLOAD)
		ifr.ifr_flags |= IFF_VNET_HDR;
	memcpy(ifr.ifr_name, name, strlen(name));
	int hdr = (int)sizeof(struct virtio_net_hdr);
	/* The offloads are the device's, not the descriptor's: a
	 * persistent device keeps what its last user set.  Without a vnet
	 * header the kernel must segment and checksum everything itself, so
	 * a plain open clears them. */
	unsigned long off = (flags & EBB_TUN_OFFLOAD) ? TUN_F_CSUM | TUN_F_TSO4 : 0;
	if (ioctl(fd, TUNSETIFF, &ifr) < 0 ||
	    ((flags & EBB_TUN_OFFLOAD) && ioctl(fd, TUNSETVNETHDRSZ, &hdr) < 0) || ioctl(fd, TUNSETOFFLOAD, off) < 0) {
		int e = errno;
		close(fd);
		return -e;
	}
	if (created)
		*created = !existed;
	return fd;
}

int ebb_tun_open(const char *name, int *created)
{
	return ebb_tun_open_flags(name, 0, created);
}

int ebb_tun_offload(int fd)
{
	struct ifreq ifr;
	memset(&ifr, 0, sizeof ifr);
	if (ioctl(fd, TUNGETIFF, &ifr) < 0)
		return -errno;
	return (ifr.ifr_flags & IFF_VNET_HDR) != 0;
}

static int ctl_socket(void)
{
	int s = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	return s < 0 ? -errno : s;
}

int ebb_tun_mtu(const char *name)
{
	int r = name_ok(name);
	if (r)
		return r;
	int s = ctl_socket();
	if (s < 0)
		return s;
	struct ifreq ifr;
	memset(&ifr, 0, sizeof ifr);
	memcpy(ifr.ifr_name, name, strlen(name));
	r = ioctl(s, SIOCGIFMTU, &ifr) < 0 ? -errno : ifr.ifr_mtu;
	close(s);
	return r;
}

static void put_sin(struct sockaddr *sa, uint32_t addr)
{
	struct sockaddr_in in;
	memset(&in, 0, sizeof in);
	in.sin_family = AF_INET;
	in.sin_addr.s_addr = htonl(addr);
	memcpy(sa, &in, sizeof in);
}

int ebb_tun_set_kernel_addr(const char *name, uint32_t addr, int prefix)
{
	int r = name_ok(name);
	if (r)
		return r;
	if (prefix < 1 || prefix > 32)
		return -EINVAL;
	int s = ctl_socket();
	if (s < 0)
		return s;
	struct ifreq ifr;
	memset(&ifr, 0, sizeof ifr);
	memcpy(ifr.ifr_name, name, strlen(name));
	put_sin(&ifr.ifr_addr, addr);
	r = 0;
	if (ioctl(s, SIOCSIFADDR, &ifr) < 0)
		r = -errno;
	if (!r) {
		/* A TUN device is point-to-point: SIOCSIFADDR gave it a /32;
		 * the netmask makes the prefix route through the device. */
		uint32_t mask = prefix == 32 ? 0xffffffffu : ~(0xffffffffu >> prefix);
		put_sin(&ifr.ifr_netmask, mask);
		if (ioctl(s, SIOCSIFNETMASK, &ifr) < 0)
			r = -errno;
	}
	if (!r && ioctl(s, SIOCGIFFLAGS, &ifr) < 0)
		r = -errno;
	if (!r && !(ifr.ifr_flags & IFF_UP)) {
		ifr.ifr_flags = (short)(ifr.ifr_flags | IFF_UP);
		if (ioctl(s, SIOCSIFFLAGS, &ifr) < 0)
			r = -errno;
	}
	close(s);
	return r;
}

int ebb_tun_wait_running(const char *name, int timeout_ms)
{
	int r = name_ok(name);
	if (r)
		return r;
	int s = ctl_socket();
	if (s < 0)
		return s;
	struct timespec t0, t;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	for (;;) {
		struct ifreq ifr;
		memset(&ifr, 0, sizeof ifr);
		memcpy(ifr.ifr_name, name, strlen(name));
		if (ioctl(s, SIOCGIFFLAGS, &ifr) < 0) {
			r = -errno;
			break;
		}
		/* IFF_RUNNING follows the operational state, which the
		 * kernel's link watcher sets together with activating the
		 * device's queue: before that, what it sends is dropped. */
		if ((ifr.ifr_flags & (IFF_UP | IFF_RUNNING)) == (IFF_UP | IFF_RUNNING)) {
			r = 0;
			break;
		}
		clock_gettime(CLOCK_MONOTONIC, &t);
		long ms = (t.tv_sec - t0.tv_sec) * 1000 + (t.tv_nsec - t0.tv_nsec) / 1000000;
		if (ms >= timeout_ms) {
			r = (ifr.ifr_flags & IFF_UP) ? -ETIMEDOUT : -ENETDOWN;
			break;
		}
		struct timespec nap = {0, 5 * 1000 * 1000};
		nanosleep(&nap, 0);
	}
	close(s);
	return r;
}

const char *ebb_tun_strerror(int err)
{
	switch (-err) {
	case EACCES:
		return "permission denied on /dev/net/tun: run as root (e.g. in a namespace made with "
		       "`ip netns add`), or give this user a device with `ip tuntap add ... user NAME`";
	case EPERM:
		return "operation not permitted: creating a TUN device needs CAP_NET_ADMIN (run as root, "
		       "e.g. in a namespace made with `ip netns add`)";
	case ENOENT:
		return "/dev/net/tun is missing (modprobe tun; mknod /dev/net/tun c 10 200)";
	case EBUSY:
		return "the device is busy: another process has it open";
	case EINVAL:
		return "not usable as a TUN device in IFF_NO_PI mode (a TAP device, or other flags?)";
	case ENAMETOOLONG:
		return "device name too long (at most 15 characters)";
	default:
		return strerror(-err);
	}
}

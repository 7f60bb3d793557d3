/*
 * ebb.c: the `ebb` command: one tool, several subcommands.
 */
#include <stdio.h>
#include <string.h>

#include "tool.h"
#include "tunapp.h"

static const char usage[] =
	"usage: ebb <command> [options]\n"
	"\n"
	"commands:\n"
	"  demo [--pcap FILE]   two ebb stacks on a simulated network: short connections closed\n"
	"                       first by the client and by the server, drawn as ladders with each\n"
	"                       end's TCP states, then the per-state counts; writes demo.pcap and,\n"
	"                       next to it, the ladders as demo.html and demo-N.svg\n"
	"  sim list             the seeds' stories as scenarios on the simulated network\n"
	"  sim NAME|all [--quiet] [--verbose] [--pcap FILE] [--diagrams DIR]\n"
	"                       play one (or every) story in virtual time: its explanation,\n"
	"                       ladder, state counts, and a pass/fail check of each claim;\n"
	"                       --diagrams writes DIR/NAME.html and DIR/NAME-N.svg\n"
	"  ladder FILE [--list] [--conn N[,N...]|all] [--svg FILE] [--html FILE]\n"
	"                       the TCP connections of a pcap/pcapng capture as ladders (states\n"
	"                       and timers inferred from the segments)\n"
	"  ss [-s] [-o] [--leaks] [--at SECONDS]\n"
	"                       the demo's hosts at a moment of virtual time (default 2 s, when\n"
	"                       TIME-WAIT is held): ss -tan rows, -o timers and ages, -s the\n"
	"                       summary, --leaks the CLOSE_WAIT / FIN_WAIT2 leak report\n"
	"  doctor [--json] [--watch SECONDS [--count N]] [--top N] [--proc]\n"
	"                       this Linux host's own TCP sockets (no ebb stack): the state counts\n"
	"                       of netstat -n | awk, CLOSE_WAIT by process (pid, command, count),\n"
	"                       TIME_WAIT by endpoint and who closed first, ephemeral ports per\n"
	"                       destination and when connect() would fail with EADDRNOTAVAIL, the\n"
	"                       sysctls that matter, findings ranked with their fixes; --json one\n"
	"                       document (one line per sample with --watch), --watch resamples every\n"
	"                       SECONDS (--count N samples), --top rows per table (0: all), --proc\n"
	"                       reads /proc/net/tcp instead of netlink; root sees every process\n"
	"\n"
	"on a TUN device (root, or CAP_NET_ADMIN; see README \"ebb on a TUN device\"): ebb is\n"
	"198.18.0.1, the kernel side of the device 198.18.0.2/24, unless changed\n"
	"  echo-server [--port P[,P...]]\n"
	"                       echo every byte (default port 7); close after the peer's FIN\n"
	"  echo-client ADDR:PORT [--message TEXT] [--count N] [--idle SEC] [--half-close]\n"
	"                       send, check the echo, stay idle SEC, close first (FIN, or RST\n"
	"                       with --linger0); --half-close: FIN first, then read to EOF\n"
	"  http-server [--port P[,P...]] [--keepalive on|off] [--keepalive-timeout SEC]\n"
	"              [--max-requests N] [--timeout SEC] [--body BYTES] [--restart-after N]\n"
	"                       HTTP/1.1 on port 80 with Apache's keep-alive controls (on, 5 s,\n"
	"                       100 requests) and Connection: close honoured; whoever closes\n"
	"                       first holds TIME_WAIT.  --restart-after N: after N connections\n"
	"                       close the listener and listen again (see --reuseaddr)\n"
	"  http-client URL [-n N] [-c C] [-k] [--requests-per-conn R] [--close client|server]\n"
	"              [--timeout SEC] [--print]\n"
	"                       N requests over C connections, a new one per request or\n"
	"                       persistent (-k); --close says who closes first; reports the\n"
	"                       rate, latency percentiles, errors by errno, state counts\n"
	"  bulk-server [--port P] [--send BYTES] [--after-eof] [--once]\n"
	"  bulk-client ADDR:PORT [--send BYTES] [--after-eof] [--expect-sha HEX]\n"
	"                       iperf-like transfer (client default 64M, port 5001) with the\n"
	"                       SHA-256 of all data sent and received; FIN after sending,\n"
	"                       receive to EOF; --after-eof sends only after the peer's FIN\n"
	"\n";

static const char usage_tail[] = "\n  help                 this text\n";

int main(int argc, char **argv)
{
	if (argc < 2 || !strcmp(argv[1], "help") || !strcmp(argv[1], "--help") || !strcmp(argv[1], "-h")) {
		fputs(usage, stdout);
		fputs(tunapp_usage, stdout);
		fputs(usage_tail, stdout);
		return argc < 2 ? 2 : 0;
	}
	if (!strcmp(argv[1], "demo"))
		return cmd_demo(argc - 1, argv + 1);
	if (!strcmp(argv[1], "sim"))
		return cmd_sim(argc - 1, argv + 1);
	if (!strcmp(argv[1], "ss"))
		return cmd_ss(argc - 1, argv + 1);
	if (!strcmp(argv[1], "ladder"))
		return cmd_ladder(argc - 1, argv + 1);
	if (!strcmp(argv[1], "doctor"))
		return cmd_doctor(argc - 1, argv + 1);
	static const struct {
		const char *name;
		int (*fn)(int, char **);
	} tun_cmds[] = {
		{"echo-server", cmd_echo_server}, {"echo-client", cmd_echo_client}, {"http-server", cmd_http_server},
		{"http-client", cmd_http_client}, {"bulk-server", cmd_bulk_server}, {"bulk-client", cmd_bulk_client},
	};
	for (size_t i = 0; i < sizeof tun_cmds / sizeof tun_cmds[0]; i++)
		if (!strcmp(argv[1], tun_cmds[i].name))
			return tun_cmds[i].fn(argc - 1, argv + 1);
	fprintf(stderr, "ebb: unknown command '%s' (try: ebb help)\n", argv[1]);
	return 2;
}

/*
 * ebb.c: the `ebb` command: one tool, several subcommands.
 */
#include <stdio.h>
#include <string.h>

#include "tool.h"

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
	"  help                 this text\n";

int main(int argc, char **argv)
{
	if (argc < 2 || !strcmp(argv[1], "help") || !strcmp(argv[1], "--help") || !strcmp(argv[1], "-h")) {
		fputs(usage, stdout);
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
	fprintf(stderr, "ebb: unknown command '%s'\n%s", argv[1], usage);
	return 2;
}

/* tool.h: the subcommands of the `ebb` command-line tool. */
#ifndef EBB_TOOLS_TOOL_H
#define EBB_TOOLS_TOOL_H

#include <stdint.h>
#include <stdio.h>

int cmd_demo(int argc, char **argv);
int cmd_sim(int argc, char **argv);
int cmd_ss(int argc, char **argv);
int cmd_ladder(int argc, char **argv);

struct simnet;
/* Run the demo's workload, printing its story to out (pcap may be NULL),
 * stopping at virtual time stop_at; with keep, hand back the network
 * instead of freeing it.  0 on success. */
int demo_run(FILE *out, const char *pcap, uint64_t stop_at, struct simnet **keep);

#endif

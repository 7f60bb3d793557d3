/* tool.h: the subcommands of the `ebb` command-line tool. */
#ifndef EBB_TOOLS_TOOL_H
#define EBB_TOOLS_TOOL_H

#include <stdint.h>
#include <stdio.h>

int cmd_demo(int argc, char **argv);
int cmd_sim(int argc, char **argv);
int cmd_ss(int argc, char **argv);
int cmd_ladder(int argc, char **argv);
int cmd_doctor(int argc, char **argv);
/* Over a TUN device (tunapp.c runs them). */
int cmd_echo_server(int argc, char **argv);
int cmd_echo_client(int argc, char **argv);
int cmd_http_server(int argc, char **argv);
int cmd_http_client(int argc, char **argv);
int cmd_bulk_server(int argc, char **argv);
int cmd_bulk_client(int argc, char **argv);

struct tunapp;
/* Listen on ebb's address at every port (the common socket options
 * applied); on failure a one-line error, nothing left open, -errno. */
int tool_listen(struct tunapp *a, const uint16_t *ports, int nports, int *lfd, uint64_t now);

struct simnet;
/* Run the demo's workload, printing its story to out (pcap may be NULL),
 * stopping at virtual time stop_at; with keep, hand back the network
 * instead of freeing it.  0 on success. */
int demo_run(FILE *out, const char *pcap, uint64_t stop_at, struct simnet **keep);

#endif

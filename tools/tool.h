/* tool.h: the subcommands of the `ebb` command-line tool. */
#ifndef EBB_TOOLS_TOOL_H
#define EBB_TOOLS_TOOL_H

int cmd_demo(int argc, char **argv);
int cmd_sim(int argc, char **argv);

#endif

/* ss.h: listings in Linux's ss forms, for any stack (tools/ss.c). */
#ifndef EBB_TOOLS_SS_H
#define EBB_TOOLS_SS_H

#include <ebb/ebb.h>
#include <stdio.h>

/* `ss -tan` (with timers: `ss -tano`), one row per connection and record. */
void ss_print_tan(FILE *out, const struct ebb_stack *s, uint64_t now, int timers);
/* `ss -s`. */
void ss_print_summary(FILE *out, const struct ebb_stack *s);
uint32_t ss_orphans(const struct ebb_stack *s);
/* The leak report, one row each; returns the count. */
size_t ss_print_leaks(FILE *out, const struct ebb_stack *s, uint64_t now, uint64_t min_age);

#endif

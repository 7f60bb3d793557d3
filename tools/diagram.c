/*
 * diagram.c: the diagram model and its renderers (text, SVG, HTML).
 *
 * Vertical position is time, but not linearly: a lifecycle mixes
 * microseconds (back-to-back segments), milliseconds (round trips) and
 * a minute (TIME-WAIT), and a linear axis would squash all but one of
 * them.  Each instant gets a row; the gap between consecutive instants
 * grows with the logarithm of the time between them, so a 10 ms flight
 * slants visibly and 60 s of TIME-WAIT stays on the page, with the gap
 * written where the axis is compressed (gaps of a second or more).
 * Every label that needs room (segments, states) has a row of its own.
 */
#include "diagram.h"

#include <errno.h>
#include <ebb/ebb.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

/* ------------------------------------------------------------------ */
/* Model. */

void dg_init(struct diagram *d)
{
	memset(d, 0, sizeof *d);
}

void dg_free(struct diagram *d)
{
	free(d->it);
	memset(d, 0, sizeof *d);
}

struct dg_item *dg_add(struct diagram *d, int kind, int side, uint64_t t0)
{
	if (d->n == d->cap) {
		size_t cap = d->cap ? d->cap * 2 : 64;
		struct dg_item *v = realloc(d->it, cap * sizeof *v);
		if (!v)
			return 0;
		d->it = v;
		d->cap = cap;
	}
	struct dg_item *e = &d->it[d->n++];
	memset(e, 0, sizeof *e);
	e->kind = kind;
	e->side = side;
	e->t0 = t0;
	return e;
}

/* Insertion sort: stable, and the builders append nearly in order. */
void dg_sort(struct diagram *d)
{
	for (size_t i = 1; i < d->n; i++) {
		struct dg_item x = d->it[i];
		size_t j = i;
		while (j > 0 && d->it[j - 1].t0 > x.t0) {
			d->it[j] = d->it[j - 1];
			j--;
		}
		d->it[j] = x;
	}
}

const char *dg_state_name(int st)
{
	static const char *const names[] = {
		"?", "ESTABLISHED", "SYN-SENT", "SYN-RECEIVED", "FIN-WAIT-1", "FIN-WAIT-2",
		"TIME-WAIT", "CLOSED", "CLOSE-WAIT", "LAST-ACK", "LISTEN", "CLOSING",
	};
	return st > 0 && st < EBB_TCP_NSTATES ? names[st] : "?";
}

#define F_FIN 0x01
#define F_SYN 0x02
#define F_RST 0x04
#define F_PSH 0x08
#define F_ACK 0x10

/* ------------------------------------------------------------------ */
/* Plain text: one line per segment (at its send time), per state change
 * and per timer that fired (at the time it fired). */

#define MID 52 /* width of the segment column between the lifelines */

static void flags_short(uint8_t f, char *b)
{
	int i = 0;
	if (f & F_SYN)
		b[i++] = 'S';
	if (f & F_FIN)
		b[i++] = 'F';
	if (f & F_RST)
		b[i++] = 'R';
	if (f & F_PSH)
		b[i++] = 'P';
	if (f & F_ACK)
		b[i++] = '.';
	if (!i)
		b[i++] = '-';
	b[i] = 0;
}

static uint64_t text_time(const struct dg_item *e)
{
	return e->kind == DG_SPAN ? e->t1 : e->t0;
}

/* Indexes of the items in the order text shows them (stable by time). */
static size_t *text_order(const struct diagram *d)
{
	size_t *ix = malloc((d->n ? d->n : 1) * sizeof *ix);
	if (!ix)
		return 0;
	for (size_t i = 0; i < d->n; i++) {
		size_t j = i;
		while (j > 0 && text_time(&d->it[ix[j - 1]]) > text_time(&d->it[i])) {
			ix[j] = ix[j - 1];
			j--;
		}
		ix[j] = i;
	}
	return ix;
}

static void text_side_line(FILE *out, uint64_t t, int side, const char *what)
{
	fprintf(out, "%8.3fs  %-13s |%*s|  %s\n", (double)t / 1e9, side ? "" : what, MID, "", side ? what : "");
}

void dg_text(const struct diagram *d, FILE *out)
{
	fprintf(out, "%9s  %-*s%s\n", "time", 13 + MID + 5, d->left, d->right);
	size_t *ix = text_order(d);
	if (!ix)
		return;
	for (size_t k = 0; k < d->n; k++) {
		const struct dg_item *e = &d->it[ix[k]];
		if (e->kind == DG_NONE)
			continue;
		if (e->kind == DG_STATE) {
			text_side_line(out, e->t0, e->side, dg_state_name(e->state));
			continue;
		}
		if (e->kind == DG_SPAN) {
			if (e->t1 == DG_OPEN)
				continue;
			char note[MID + 64];
			snprintf(note, sizeof note, "%s: %s after %.3f s", e->side ? "server" : "client", e->label,
				 (double)(e->t1 - e->t0) / 1e9);
			fprintf(out, "%8.3fs  %-13s |  ~ %-*s|\n", (double)e->t1 / 1e9, "", MID - 4, note);
			continue;
		}
		char fl[8];
		flags_short(e->flags, fl);
		char ackb[24] = "";
		if (e->flags & F_ACK)
			snprintf(ackb, sizeof ackb, "ack %u", e->ack);
		char body[64];
		int bl = snprintf(body, sizeof body, "%-3s seq %-6u %-10s len %u", fl, e->seq, ackb, e->len);
		int fill = MID - 5 - bl;
		if (fill < 1)
			fill = 1;
		char dash[MID + 1];
		memset(dash, '-', (size_t)fill);
		dash[fill] = 0;
		const char *note = e->lost ? "  lost" : e->dup ? "  duplicated" : e->corrupt ? "  corrupted" : "";
		if (e->side == 0)
			fprintf(out, "%8.3fs  %-13s |-- %s %s%c|%s\n", (double)e->t0 / 1e9, "", body, dash,
				e->lost ? 'X' : '>', note);
		else
			fprintf(out, "%8.3fs  %-13s |%c%s %s --|%s\n", (double)e->t0 / 1e9, "", e->lost ? 'X' : '<',
				dash, body, note);
	}
	free(ix);
}

/* ------------------------------------------------------------------ */
/* Layout shared by SVG and HTML. */

#define W 900.0
#define XL 250.0        /* left lifeline */
#define XR 650.0        /* right lifeline */
#define TOP 96.0        /* first row */
#define ROW 20.0        /* least distance between labelled rows */
#define LABEL_COL 40.0  /* state and timer labels start this far out of a lifeline */
#define LANE 7.0        /* distance between span bars */
#define NLANES 4
#define BREAK_NS 1000000000ull /* gaps of a second or more are marked as compressed */

enum { PT_SEND, PT_ARRIVE, PT_DUP, PT_SPAN0, PT_SPAN1, PT_STATE };

struct point {
	uint64_t t;
	size_t item;
	int what;     /* PT_* */
	int labelled; /* needs a row of its own */
	double y;
};

struct layout {
	struct point *pt;
	size_t n;
	double *y0, *y1, *ydup; /* per item: y of t0, of t1 (or span end), of the duplicate */
	int *lane;              /* per span item */
	double height;
	int fine;               /* times need microseconds */
	uint64_t t_end;
};

static double gap_px(uint64_t dt)
{
	if (!dt)
		return 0;
	return 10.0 + 12.0 * log10(1.0 + (double)dt / 10000.0);
}

static int pt_cmp(const void *a, const void *b)
{
	const struct point *x = a, *y = b;
	if (x->t != y->t)
		return x->t < y->t ? -1 : 1;
	/* Same instant: item order (the order things happened), then
	 * the point's kind. */
	if (x->item != y->item)
		return x->item < y->item ? -1 : 1;
	return x->what - y->what;
}

static void add_pt(struct layout *L, uint64_t t, size_t item, int what, int labelled)
{
	struct point *p = &L->pt[L->n++];
	p->t = t;
	p->item = item;
	p->what = what;
	p->labelled = labelled;
	p->y = 0;
}

static void layout_free(struct layout *L)
{
	free(L->pt);
	free(L->y0);
	free(L->y1);
	free(L->ydup);
	free(L->lane);
	memset(L, 0, sizeof *L);
}

static int layout(const struct diagram *d, struct layout *L)
{
	memset(L, 0, sizeof *L);
	size_t n = d->n ? d->n : 1;
	L->pt = calloc(3 * n, sizeof *L->pt);
	L->y0 = calloc(n, sizeof *L->y0);
	L->y1 = calloc(n, sizeof *L->y1);
	L->ydup = calloc(n, sizeof *L->ydup);
	L->lane = calloc(n, sizeof *L->lane);
	if (!L->pt || !L->y0 || !L->y1 || !L->ydup || !L->lane) {
		layout_free(L);
		return -ENOMEM;
	}
	uint64_t t_end = d->t_end;
	for (size_t i = 0; i < d->n; i++) {
		const struct dg_item *e = &d->it[i];
		if (e->kind == DG_NONE)
			continue;
		if (e->t0 > t_end)
			t_end = e->t0;
		if (e->kind != DG_SPAN && e->t1 > t_end)
			t_end = e->t1;
		if (e->kind == DG_SPAN && e->t1 != DG_OPEN && e->t1 > t_end)
			t_end = e->t1;
	}
	L->t_end = t_end;
	for (size_t i = 0; i < d->n; i++) {
		const struct dg_item *e = &d->it[i];
		if (e->t0 % 1000000)
			L->fine = 1;
		switch (e->kind) {
		case DG_SEG:
			add_pt(L, e->t0, i, PT_SEND, 1);
			if (e->t1)
				add_pt(L, e->t1, i, PT_ARRIVE, 1);
			if (e->t_dup)
				add_pt(L, e->t_dup, i, PT_DUP, 1);
			break;
		case DG_STATE:
			add_pt(L, e->t0, i, PT_STATE, 1);
			break;
		case DG_NONE:
			break;
		default:
			add_pt(L, e->t0, i, PT_SPAN0, 0);
			add_pt(L, e->t1 == DG_OPEN ? t_end : e->t1, i, PT_SPAN1, 0);
			break;
		}
	}
	qsort(L->pt, L->n, sizeof *L->pt, pt_cmp);
	/* Rows: each instant sits below the previous by the log gap; the
	 * labelled points of one instant take a row each. */
	double prev_y = TOP, last_label = TOP - ROW;
	uint64_t prev_t = L->n ? L->pt[0].t : 0;
	for (size_t i = 0; i < L->n;) {
		size_t j = i;
		while (j < L->n && L->pt[j].t == L->pt[i].t)
			j++;
		double base = prev_y + gap_px(L->pt[i].t - prev_t);
		int labels = 0;
		for (size_t k = i; k < j; k++)
			labels += L->pt[k].labelled;
		double first = labels && base < last_label + ROW ? last_label + ROW : base;
		/* A point without a row (a span's end) sits with the row
		 * just before it at the same instant: the state it follows. */
		double y = first, here = first;
		for (size_t k = i; k < j; k++) {
			if (L->pt[k].labelled) {
				L->pt[k].y = here = y;
				last_label = y;
				y += ROW;
			} else {
				L->pt[k].y = here;
			}
		}
		prev_y = labels ? last_label : first;
		prev_t = L->pt[i].t;
		i = j;
	}
	L->height = prev_y;
	for (size_t i = 0; i < L->n; i++) {
		const struct point *p = &L->pt[i];
		if (p->what == PT_SEND || p->what == PT_STATE || p->what == PT_SPAN0)
			L->y0[p->item] = p->y;
		else if (p->what == PT_DUP)
			L->ydup[p->item] = p->y;
		else
			L->y1[p->item] = p->y;
	}
	/* Span lanes: the first lane free on that side for the span's time. */
	for (size_t i = 0; i < d->n; i++) {
		const struct dg_item *e = &d->it[i];
		if (e->kind != DG_SPAN)
			continue;
		int used[NLANES] = {0};
		for (size_t k = 0; k < i; k++) {
			const struct dg_item *o = &d->it[k];
			if (o->kind == DG_SPAN && o->side == e->side && L->y1[k] >= L->y0[i])
				used[L->lane[k]] = 1;
		}
		int lane = 0;
		while (lane < NLANES - 1 && used[lane])
			lane++;
		L->lane[i] = lane;
	}
	return 0;
}

/* ------------------------------------------------------------------ */
/* SVG. */

static void xml_text(FILE *out, const char *s)
{
	for (; *s; s++) {
		switch (*s) {
		case '&':
			fputs("&amp;", out);
			break;
		case '<':
			fputs("&lt;", out);
			break;
		case '>':
			fputs("&gt;", out);
			break;
		case '"':
			fputs("&quot;", out);
			break;
		default:
			fputc(*s, out);
		}
	}
}

struct style {
	const char *name;
	const char *color;
};

static const struct style styles[] = {
	{"syn", "#2e7d32"}, {"fin", "#1565c0"}, {"rst", "#c62828"}, {"data", "#212121"}, {"ack", "#6d6d6d"},
};

static int seg_style(const struct dg_item *e)
{
	if (e->flags & F_RST)
		return 2;
	if (e->flags & F_SYN)
		return 0;
	if (e->flags & F_FIN)
		return 1;
	return e->len ? 3 : 4;
}

static void seg_label(const struct dg_item *e, char *b, size_t n)
{
	static const struct {
		uint8_t bit;
		const char *name;
	} names[] = {{F_SYN, "SYN"}, {F_FIN, "FIN"}, {F_RST, "RST"}, {F_PSH, "PSH"}, {F_ACK, "ACK"}};
	size_t k = 0;
	for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
		if (e->flags & names[i].bit)
			k += (size_t)snprintf(b + k, n - k, "%s%s", k ? " " : "", names[i].name);
	if (!k)
		k += (size_t)snprintf(b, n, "(no flags)");
	k += (size_t)snprintf(b + k, n - k, " seq=%u", e->seq);
	if (e->flags & F_ACK)
		k += (size_t)snprintf(b + k, n - k, " ack=%u", e->ack);
	if (e->len)
		k += (size_t)snprintf(b + k, n - k, " len=%u", e->len);
	if (e->retrans)
		snprintf(b + k, n - k, " (retransmission)");
}

static void fmt_time(char *b, size_t n, uint64_t t, int fine)
{
	if (fine)
		snprintf(b, n, "%.6f s", (double)t / 1e9);
	else
		snprintf(b, n, "%.3f s", (double)t / 1e9);
}

static void fmt_dur(char *b, size_t n, uint64_t dt)
{
	if (dt >= 1000000000ull)
		snprintf(b, n, "%.3g s", (double)dt / 1e9);
	else if (dt >= 1000000ull)
		snprintf(b, n, "%.3g ms", (double)dt / 1e6);
	else
		snprintf(b, n, "%.3g us", (double)dt / 1e3);
}

/* Where a side's labels may go without covering another: rows taken. */
struct slots {
	double *y;
	size_t n;
};

static int slot_free(const struct slots *s, double y)
{
	for (size_t i = 0; i < s->n; i++)
		if (fabs(s->y[i] - y) < 12.0)
			return 0;
	return 1;
}

static void slot_take(struct slots *s, double y)
{
	s->y[s->n++] = y;
}

static void svg_body(const struct diagram *d, FILE *out, const char *id)
{
	struct layout L;
	if (layout(d, &L)) {
		fprintf(out, "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"%d\" height=\"40\">"
			"<text x=\"8\" y=\"24\">out of memory</text></svg>\n", (int)W);
		return;
	}
	/* A title too long for one line breaks at a space. */
	size_t tlen = strlen(d->title), brk = 0;
	if (tlen > 95)
		for (size_t i = 95; i > 40 && !brk; i--)
			if (d->title[i] == ' ')
				brk = i;
	double off = brk ? 18 : 0;
	double legend_y = L.height + 48;
	double height = legend_y + 30 + off;
	fprintf(out,
		"<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"%d\" height=\"%d\" viewBox=\"0 0 %d %d\" "
		"font-family=\"DejaVu Sans, Helvetica, Arial, sans-serif\" font-size=\"11\">\n",
		(int)W, (int)height, (int)W, (int)height);
	fputs("<title>", out);
	xml_text(out, d->title);
	fputs("</title>\n<defs>\n", out);
	for (size_t i = 0; i < sizeof styles / sizeof styles[0]; i++)
		fprintf(out,
			"<marker id=\"%s-%s\" viewBox=\"0 0 10 10\" refX=\"10\" refY=\"5\" markerWidth=\"7\" "
			"markerHeight=\"7\" orient=\"auto-start-reverse\"><path d=\"M0,0 L10,5 L0,10 z\" fill=\"%s\"/>"
			"</marker>\n",
			id, styles[i].name, styles[i].color);
	fputs("</defs>\n<rect width=\"100%\" height=\"100%\" fill=\"#ffffff\"/>\n", out);

	/* Title, ends, lifelines. */
	fputs("<text x=\"8\" y=\"22\" font-size=\"15\" font-weight=\"bold\">", out);
	if (brk) {
		char *first = strndup(d->title, brk);
		xml_text(out, first ? first : "");
		free(first);
		fputs("</text>\n<text x=\"8\" y=\"40\" font-size=\"15\" font-weight=\"bold\">", out);
		xml_text(out, d->title + brk + 1);
	} else {
		xml_text(out, d->title);
	}
	fputs("</text>\n", out);
	if (off)
		fprintf(out, "<g transform=\"translate(0 %.0f)\">\n", off);
	fprintf(out, "<text x=\"8\" y=\"40\" fill=\"#555\">%s</text>\n",
		d->inferred ? "States and timers inferred from a capture at one point; times are capture times."
			    : "Times are the run's clock; states and timers as the stacks reported them.");
	const char *names[2] = {d->left, d->right};
	const double xs[2] = {XL, XR};
	for (int s = 0; s < 2; s++) {
		fprintf(out,
			"<rect x=\"%.1f\" y=\"52\" width=\"190\" height=\"24\" rx=\"4\" fill=\"#f1f3f4\" "
			"stroke=\"#888\"/>\n<text x=\"%.1f\" y=\"68\" text-anchor=\"middle\" font-weight=\"bold\">",
			xs[s] - 95, xs[s]);
		xml_text(out, names[s]);
		fputs("</text>\n", out);
	}
	/* Lifelines, dashed where the axis skips a second or more. */
	for (int s = 0; s < 2; s++) {
		double y = 76;
		for (size_t i = 1; i < L.n; i++) {
			if (L.pt[i].t - L.pt[i - 1].t < BREAK_NS)
				continue;
			fprintf(out, "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" stroke=\"#999\"/>\n", xs[s], y,
				xs[s], L.pt[i - 1].y + 4);
			fprintf(out,
				"<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" stroke=\"#999\" "
				"stroke-dasharray=\"2,4\"/>\n",
				xs[s], L.pt[i - 1].y + 4, xs[s], L.pt[i].y - 4);
			y = L.pt[i].y - 4;
		}
		fprintf(out, "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" stroke=\"#999\"/>\n", xs[s], y, xs[s],
			L.height + 16);
	}
	for (size_t i = 1; i < L.n; i++) {
		uint64_t dt = L.pt[i].t - L.pt[i - 1].t;
		if (dt < BREAK_NS)
			continue;
		char b[32];
		fmt_dur(b, sizeof b, dt);
		fprintf(out,
			"<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"middle\" fill=\"#888\" font-style=\"italic\">"
			"&#8942; %s later &#8942;</text>\n",
			(XL + XR) / 2, (L.pt[i - 1].y + L.pt[i].y) / 2 + 4, b);
	}

	/* Time labels, once per instant that has a row. */
	uint64_t shown = UINT64_MAX;
	for (size_t i = 0; i < L.n; i++) {
		const struct point *p = &L.pt[i];
		if (!p->labelled || p->t == shown)
			continue;
		shown = p->t;
		char b[32];
		fmt_time(b, sizeof b, p->t, L.fine);
		fprintf(out, "<text x=\"6\" y=\"%.1f\" fill=\"#777\" font-size=\"10\">%s</text>\n", p->y + 4, b);
	}

	struct slots slots[2];
	slots[0].y = calloc(d->n * 2 + 1, sizeof(double));
	slots[1].y = calloc(d->n * 2 + 1, sizeof(double));
	slots[0].n = slots[1].n = 0;
	if (!slots[0].y || !slots[1].y) {
		free(slots[0].y);
		free(slots[1].y);
		fputs("</svg>\n", out);
		layout_free(&L);
		return;
	}

	/* States: bold, beside the lifeline. */
	for (size_t i = 0; i < d->n; i++) {
		const struct dg_item *e = &d->it[i];
		if (e->kind != DG_STATE)
			continue;
		double y = L.y0[i];
		slot_take(&slots[e->side], y);
		fprintf(out, "<circle cx=\"%.1f\" cy=\"%.1f\" r=\"3\" fill=\"#333\"/>\n", xs[e->side], y);
		fprintf(out, "<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"%s\" font-weight=\"bold\">%s</text>\n",
			e->side ? XR + LABEL_COL : XL - LABEL_COL, y + 4, e->side ? "start" : "end",
			dg_state_name(e->state));
	}

	/* Timer spans: a bar beside the lifeline, labelled where there is room. */
	for (size_t i = 0; i < d->n; i++) {
		const struct dg_item *e = &d->it[i];
		if (e->kind != DG_SPAN)
			continue;
		double x = e->side ? XR + 10 + LANE * L.lane[i] : XL - 10 - LANE * L.lane[i];
		double y0 = L.y0[i], y1 = L.y1[i];
		if (y1 - y0 < 6)
			y1 = y0 + 6;
		int open = e->t1 == DG_OPEN;
		fprintf(out,
			"<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" stroke=\"#b26a00\" stroke-width=\"3\"%s/>\n",
			x, y0, x, y1, open ? " stroke-dasharray=\"6,3\"" : "");
		fprintf(out,
			"<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" stroke=\"#b26a00\"/>\n",
			x - 3, y0, x + 3, y0);
		if (!open)
			fprintf(out, "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" stroke=\"#b26a00\"/>\n",
				x - 3, y1, x + 3, y1);
		char dur[32], text[96];
		if (open)
			snprintf(text, sizeof text, "%s (running)", e->label);
		else {
			fmt_dur(dur, sizeof dur, e->t1 - e->t0);
			snprintf(text, sizeof text, "%s %s", e->label, dur);
		}
		double y = (y0 + y1) / 2;
		while (!slot_free(&slots[e->side], y) && y + 12 <= y1)
			y += 12;
		slot_take(&slots[e->side], y);
		fprintf(out, "<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"%s\" fill=\"#b26a00\" font-style=\"italic\">",
			e->side ? XR + LABEL_COL : XL - LABEL_COL, y + 4, e->side ? "start" : "end");
		xml_text(out, text);
		fputs("</text>\n", out);
	}

	/* Segments. */
	double typical = 0;
	size_t ntyp = 0;
	for (size_t i = 0; i < d->n; i++)
		if (d->it[i].kind == DG_SEG && d->it[i].t1) {
			typical += L.y1[i] - L.y0[i];
			ntyp++;
		}
	typical = ntyp ? typical / (double)ntyp : 30;
	if (typical < 12)
		typical = 12;
	for (size_t i = 0; i < d->n; i++) {
		const struct dg_item *e = &d->it[i];
		if (e->kind != DG_SEG)
			continue;
		const struct style *st = &styles[seg_style(e)];
		double x0 = xs[e->side], x1 = xs[!e->side], y0 = L.y0[i];
		double y1 = e->t1 ? L.y1[i] : y0 + typical * 0.6;
		if (!e->t1)
			x1 = x0 + (x1 - x0) * 0.6;
		if (e->t1 && y1 <= y0 && !d->inferred)
			y1 = y0; /* arrived in the same instant */
		if (d->inferred)
			y1 = y0 + 10; /* one capture point: no flight time to show */
		char marker[64] = "";
		if (!e->lost)
			snprintf(marker, sizeof marker, " marker-end=\"url(#%s-%s)\"", id, st->name);
		fprintf(out,
			"<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" stroke=\"%s\" stroke-width=\"%s\"%s%s/>\n",
			x0, y0, x1, y1, st->color, e->len ? "1.6" : "1.1", e->corrupt ? " stroke-dasharray=\"4,3\"" : "",
			marker);
		if (e->t_dup) {
			double yd = L.ydup[i];
			fprintf(out,
				"<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" stroke=\"%s\" "
				"stroke-dasharray=\"5,3\" marker-end=\"url(#%s-%s)\"/>\n",
				x0, y0, xs[!e->side], yd, st->color, id, st->name);
		}
		if (e->lost) {
			fprintf(out,
				"<path d=\"M%.1f,%.1f l8,8 m0,-8 l-8,8\" stroke=\"#c62828\" stroke-width=\"2\"/>\n"
				"<text x=\"%.1f\" y=\"%.1f\" fill=\"#c62828\" text-anchor=\"%s\">lost</text>\n",
				x1 - 4, y1 - 4, x1 + (e->side ? -10 : 10), y1 + 4, e->side ? "end" : "start");
		}
		char label[128];
		seg_label(e, label, sizeof label);
		if (e->dup)
			strncat(label, " (duplicated)", sizeof label - strlen(label) - 1);
		if (e->corrupt)
			strncat(label, " (corrupted: dropped)", sizeof label - strlen(label) - 1);
		/* The label rides on the arrow from its sender's end, so the
		 * labels of two segments crossing in flight sit at opposite
		 * ends and never meet. */
		double ang = atan2(y1 - y0, x1 - x0) * 180.0 / M_PI;
		if (ang > 90)
			ang -= 180;
		else if (ang < -90)
			ang += 180;
		double lx = x0 + (e->side ? -16 : 16);
		double ly = y0 + (y1 - y0) * (lx - x0) / (x1 - x0);
		fprintf(out,
			"<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"%s\" fill=\"%s\" "
			"transform=\"rotate(%.2f %.1f %.1f)\">",
			lx, ly - 4, e->side ? "end" : "start", st->color, ang, lx, ly);
		xml_text(out, label);
		fputs("</text>\n", out);
	}

	/* Legend. */
	fprintf(out, "<g font-size=\"10\" fill=\"#555\">\n");
	double lx = 8;
	for (size_t i = 0; i < sizeof styles / sizeof styles[0]; i++) {
		static const char *const what[] = {"SYN", "FIN", "RST", "data", "ACK"};
		fprintf(out,
			"<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" stroke=\"%s\" stroke-width=\"2\"/>"
			"<text x=\"%.1f\" y=\"%.1f\">%s</text>\n",
			lx, legend_y, lx + 22, legend_y, styles[i].color, lx + 26, legend_y + 4, what[i]);
		lx += 70;
	}
	fprintf(out,
		"<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" stroke=\"#b26a00\" stroke-width=\"3\"/>"
		"<text x=\"%.1f\" y=\"%.1f\">timer</text>\n",
		lx, legend_y, lx + 22, legend_y, lx + 26, legend_y + 4);
	lx += 70;
	fprintf(out,
		"<path d=\"M%.1f,%.1f l8,8 m0,-8 l-8,8\" stroke=\"#c62828\" stroke-width=\"2\"/>"
		"<text x=\"%.1f\" y=\"%.1f\">lost</text>\n",
		lx + 6, legend_y - 4, lx + 26, legend_y + 4);
	lx += 70;
	fprintf(out,
		"<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" stroke=\"#212121\" stroke-dasharray=\"5,3\"/>"
		"<text x=\"%.1f\" y=\"%.1f\">duplicate / corrupted</text>\n",
		lx, legend_y, lx + 22, legend_y, lx + 26, legend_y + 4);
	fputs("</g>\n", out);
	if (off)
		fputs("</g>\n", out);
	fputs("</svg>\n", out);
	free(slots[0].y);
	free(slots[1].y);
	layout_free(&L);
}

void dg_svg(const struct diagram *d, FILE *out)
{
	fputs("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n", out);
	svg_body(d, out, "d0");
}

void dg_html(const struct diagram *const *d, size_t n, const char *title, const char *intro, FILE *out)
{
	fputs("<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n<title>", out);
	xml_text(out, title);
	fputs("</title>\n<style>\n"
	      "body { font-family: DejaVu Sans, Helvetica, Arial, sans-serif; margin: 2em; color: #222; }\n"
	      "nav a { margin-right: 1.2em; }\n"
	      "section { margin: 2.5em 0; }\n"
	      "svg { max-width: 100%; height: auto; border: 1px solid #ddd; }\n"
	      "</style>\n</head>\n<body>\n<h1>",
	      out);
	xml_text(out, title);
	fputs("</h1>\n", out);
	/* The introduction's paragraphs, as written. */
	for (const char *p = intro; p && *p;) {
		const char *end = strstr(p, "\n\n");
		size_t len = end ? (size_t)(end - p) : strlen(p);
		char *para = malloc(len + 1);
		if (!para)
			break;
		memcpy(para, p, len);
		para[len] = 0;
		fputs("<p>", out);
		xml_text(out, para);
		fputs("</p>\n", out);
		free(para);
		p += len;
		while (*p == '\n')
			p++;
	}
	fputs("<nav>\n", out);
	for (size_t i = 0; i < n; i++) {
		fprintf(out, "<a href=\"#c%zu\">", i + 1);
		xml_text(out, d[i]->title);
		fputs("</a>\n", out);
	}
	fputs("</nav>\n", out);
	for (size_t i = 0; i < n; i++) {
		fprintf(out, "<section id=\"c%zu\">\n<h2>", i + 1);
		xml_text(out, d[i]->title);
		fputs("</h2>\n", out);
		char id[24];
		snprintf(id, sizeof id, "d%zu", i + 1);
		svg_body(d[i], out, id);
		fputs("</section>\n", out);
	}
	fputs("</body>\n</html>\n", out);
}

static FILE *open_out(const char *path, const char *who)
{
	FILE *f = fopen(path, "w");
	if (!f)
		fprintf(stderr, "%s: cannot write %s: %s\n", who, path, strerror(errno));
	return f;
}

static int close_out(FILE *f, const char *path, const char *who)
{
	int bad = ferror(f);
	if (fclose(f) || bad) {
		fprintf(stderr, "%s: error writing %s\n", who, path);
		return -EIO;
	}
	return 0;
}

int dg_write_svg(const struct diagram *d, const char *path, const char *who)
{
	FILE *f = open_out(path, who);
	if (!f)
		return -errno;
	dg_svg(d, f);
	return close_out(f, path, who);
}

int dg_write_html(const struct diagram *const *d, size_t n, const char *title, const char *intro, const char *path,
		  const char *who)
{
	FILE *f = open_out(path, who);
	if (!f)
		return -errno;
	dg_html(d, n, title, intro, f);
	return close_out(f, path, who);
}

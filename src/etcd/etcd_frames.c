/*
 * The frame assembler of the etcd client's streams; see etcd_frames.h.
 *
 * A frame ends where its outermost brace closes, so the assembler only has
 * to count brackets outside strings (and know a backslash escapes the next
 * byte inside one). Parsing the JSON is left to json-c, once, on the whole
 * frame.
 */
#include "config.h"

#include <string.h>

#include "etcd/etcd_frames.h"

void
etcd_frames_init(struct etcd_frames *f)
{
	buf_init(&f->pending);
	f->scanned = 0;
	f->depth = 0;
	f->in_string = 0;
	f->escaped = 0;
}

void
etcd_frames_free(struct etcd_frames *f)
{
	buf_free(&f->pending);
	etcd_frames_init(f);
}

static int
is_space(char c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

/* Drop the bytes before start: frames already handed out, or blanks. */
static void
consume(struct etcd_frames *f, size_t start, size_t scanned)
{
	memmove(f->pending.data, f->pending.data + start, f->pending.len - start);
	f->pending.len -= start;
	f->pending.data[f->pending.len] = '\0';
	f->scanned = scanned - start;
}

/* One byte inside a string: only its end and escapes matter. */
static void
scan_string(struct etcd_frames *f, char c)
{
	if (f->escaped)
		f->escaped = 0;
	else if (c == '\\')
		f->escaped = 1;
	else if (c == '"')
		f->in_string = 0;
}

int
etcd_frames_feed(struct etcd_frames *f, const char *data, size_t len,
    etcd_frame_fn fn, void *ctx)
{
	size_t i, start = 0;
	char c;
	int rc;

	if (len == 0)
		return 0;
	buf_append(&f->pending, data, len);
	for (i = f->scanned; i < f->pending.len; i++) {
		c = f->pending.data[i];
		if (f->in_string) {
			scan_string(f, c);
			continue;
		}
		if (f->depth == 0) {
			/* Between frames: blanks are skipped, anything else must open one. */
			if (is_space(c)) {
				start = i + 1;
				continue;
			}
			if (c != '{')
				return -1;
			start = i;
		}
		if (c == '"')
			f->in_string = 1;
		else if (c == '{' || c == '[')
			f->depth++;
		else if ((c == '}' || c == ']') && --f->depth == 0) {
			rc = fn(ctx, f->pending.data + start, i + 1 - start);
			start = i + 1;
			if (rc != 0) {
				consume(f, start, start);
				return rc;
			}
		}
	}
	consume(f, start, f->pending.len);
	return f->pending.len > ETCD_FRAME_MAX ? -1 : 0;
}

/*
 * libFuzzer harness for the etcd watch stream: the input is the body of a
 * /v3/watch answer from etcd's gateway (JSON objects, one per watch
 * response, newline separated). It goes through the frame assembler
 * (src/etcd/etcd_frames.c) and through the watch's own decoding of frames
 * into events (etcd_watch_replay, src/etcd/etcd_watch.c), as libcurl would
 * hand it over, cut four ways: whole, one byte at a time, at each newline
 * (as the gateway's chunks come), and where the input's bytes say.
 *
 * However the bytes are cut, the assembler must hand out the same frames
 * and the watch must end the same way (status and message). The events
 * handed out must be the same too, except that when the stream fails, the
 * events that arrived with the failure in one read are dropped: then a
 * coarser cut hands out a prefix of what one byte at a time does. Every
 * event's key and value are read through (they are NUL-terminated).
 */
#include "config.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/buf.h"
#include "base/conf.h"
#include "base/log.h"
#include "etcd/etcd.h"
#include "etcd/etcd_frames.h"

int	LLVMFuzzerInitialize(int *argc, char ***argv);
int	LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

enum cut { CUT_WHOLE, CUT_BYTES, CUT_LINES, CUT_INPUT, CUTS };

static const char *const cut_names[CUTS] = { "whole", "bytes", "lines", "input" };

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	char err[256];

	(void)argc;
	(void)argv;
	/* The watch logs nothing itself; keep anything else quiet too. */
	if (conf_load(&conf, NULL, err, sizeof(err)) == 0) {
		snprintf(conf.log.target, sizeof(conf.log.target), "%s",
		    getenv("FUZZ_LOG") != NULL ? "stderr" : "/dev/null");
		log_open(&conf);
	}
	return 0;
}

/* The input cut into chunks; pointers into data. */
struct chunks {
	const char	**at;
	size_t		 *len;
	size_t		  count;
};

/* A chunk length from the input itself: 1 to 64 bytes, or a large one. */
static size_t
input_cut(const uint8_t *data, size_t size, size_t pos)
{
	uint8_t b = data[(pos * 7 + size) % size];

	return b < 0xf0 ? (size_t)(b % 64) + 1 : 4096;
}

static void
cut(struct chunks *c, const uint8_t *data, size_t size, enum cut how)
{
	size_t pos = 0, n;
	const char *nl;

	c->at = calloc(size + 1, sizeof(*c->at));
	c->len = calloc(size + 1, sizeof(*c->len));
	if (c->at == NULL || c->len == NULL)
		abort();
	c->count = 0;
	while (pos < size) {
		switch (how) {
		case CUT_WHOLE:
			n = size;
			break;
		case CUT_BYTES:
			n = 1;
			break;
		case CUT_LINES:
			nl = memchr(data + pos, '\n', size - pos);
			n = nl != NULL ? (size_t)(nl - (const char *)data - pos) + 1 :
			    size - pos;
			break;
		default:
			n = input_cut(data, size, pos);
			break;
		}
		if (n > size - pos)
			n = size - pos;
		c->at[c->count] = (const char *)data + pos;
		c->len[c->count++] = n;
		pos += n;
	}
}

static void
chunks_free(struct chunks *c)
{
	free(c->at);
	free(c->len);
}

/* Frames, each as its length then its bytes; and how feeding ended. */
static int
on_frame(void *ctx, const char *frame, size_t len)
{
	struct buf *out = ctx;

	if (len == 0 || frame[0] != '{')
		abort();
	buf_put_int(out, (long long)len);
	buf_putc(out, ':');
	buf_append(out, frame, len);
	return 0;
}

static int
frames(const struct chunks *c, struct buf *out)
{
	struct etcd_frames f;
	size_t i;
	int rc = 0;

	etcd_frames_init(&f);
	for (i = 0; i < c->count && rc == 0; i++)
		rc = etcd_frames_feed(&f, c->at[i], c->len[i], on_frame, out);
	etcd_frames_free(&f);
	return rc;
}

/* The events handed out, one line each. */
static int
on_events(void *ctx, int64_t revision, const struct etcd_event *events,
    size_t count)
{
	struct buf *out = ctx;
	const struct etcd_kv *kv;
	size_t i;

	(void)revision;
	for (i = 0; i < count; i++) {
		kv = &events[i].kv;
		if (kv->key == NULL || kv->key[kv->key_len] != '\0' ||
		    (kv->value != NULL && kv->value[kv->value_len] != '\0'))
			abort();
		buf_puts(out, events[i].type == ETCD_EVENT_DELETE ? "D " : "P ");
		buf_append(out, kv->key, kv->key_len);
		buf_putc(out, ' ');
		if (kv->value != NULL)
			buf_append(out, kv->value, kv->value_len);
		buf_printf(out, " %lld %lld %lld %lld\n",
		    (long long)kv->create_revision, (long long)kv->mod_revision,
		    (long long)kv->version, (long long)kv->lease);
	}
	return 0;
}

struct run {
	struct buf	 frames;
	int		 frames_rc;
	struct buf	 events;
	struct etcd_error error;
};

static void
run(struct run *r, const uint8_t *data, size_t size, enum cut how)
{
	struct chunks c;

	cut(&c, data, size, how);
	buf_init(&r->frames);
	buf_init(&r->events);
	buf_putc(&r->frames, '\0');
	buf_putc(&r->events, '\0');
	r->frames.len = r->events.len = 0;
	r->frames_rc = frames(&c, &r->frames);
	etcd_watch_replay(c.at, c.len, c.count, on_events, &r->events, &r->error);
	if (r->error.status == ETCD_OK || r->error.message[0] == '\0')
		abort();	/* a stream always ends with a reason */
	chunks_free(&c);
}

static void
differ(const char *what, enum cut how, const struct buf *a, const struct buf *b)
{
	fprintf(stderr, "%s differ, whole vs %s:\n%.*s\n---\n%.*s\n", what,
	    cut_names[how], (int)a->len, a->data, (int)b->len, b->data);
	abort();
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct run runs[CUTS];
	const struct run *whole = &runs[CUT_WHOLE], *bytes = &runs[CUT_BYTES];
	int failed;
	size_t i;

	if (size == 0 || size > 256 * 1024)
		return 0;
	for (i = 0; i < CUTS; i++)
		run(&runs[i], data, size, (enum cut)i);
	failed = strcmp(whole->error.message, "watch: stream ended") != 0;
	for (i = 1; i < CUTS; i++) {
		const struct run *r = &runs[i];

		if (r->frames_rc != whole->frames_rc || r->frames.len != whole->frames.len ||
		    memcmp(r->frames.data, whole->frames.data, r->frames.len) != 0)
			differ("frames", (enum cut)i, &whole->frames, &r->frames);
		if (r->error.status != whole->error.status ||
		    strcmp(r->error.message, whole->error.message) != 0) {
			fprintf(stderr, "the watch ended %d (%s) whole, %d (%s) %s\n",
			    whole->error.status, whole->error.message, r->error.status,
			    r->error.message, cut_names[i]);
			abort();
		}
		/* A stream that failed: each cut hands out a prefix of bytes'. */
		if (failed ? r->events.len > bytes->events.len ||
		    memcmp(r->events.data, bytes->events.data, r->events.len) != 0 :
		    r->events.len != whole->events.len ||
		    memcmp(r->events.data, whole->events.data, r->events.len) != 0)
			differ("events", (enum cut)i, &whole->events, &r->events);
	}
	if (failed && (whole->events.len > bytes->events.len ||
	    memcmp(whole->events.data, bytes->events.data, whole->events.len) != 0))
		differ("events", CUT_BYTES, &whole->events, &bytes->events);
	for (i = 0; i < CUTS; i++) {
		buf_free(&runs[i].frames);
		buf_free(&runs[i].events);
	}
	return 0;
}

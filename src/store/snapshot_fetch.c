/*
 * Reading a range from etcd with several connections at once; see
 * snapshot_fetch.h. The threads share one struct fetch under its lock: the
 * next segment to read, the pages read and not yet taken (a few at most,
 * so that memory stays bounded when storing is the slower side), and
 * whether to stop.
 */
#include "config.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "base/log.h"
#include "base/util.h"
#include "etcd/etcd.h"
#include "store/snapshot_fetch.h"

/* By the byte after the prefix: below 'b', 'b' … 'y' one each, 'z' and up. */
#define SEGMENTS 26
#define QUEUE_MAX 4

struct queued {
	struct etcd_range_result page;
	struct queued	*next;
};

struct fetch {
	pthread_mutex_t	 lock;
	pthread_cond_t	 changed;	/* a page queued or taken, a fetcher done, a stop */
	const struct snapshot_range *range;
	int64_t		 revision;
	size_t		 next_segment;
	struct queued	*head;
	struct queued	**tail;
	size_t		 queued;
	int		 running;	/* fetchers that have not finished */
	int		 stop;		/* a failure, on either side */
};

struct fetcher {
	struct fetch		*fetch;
	struct etcd_client	*client;
	pthread_t		 thread;
};

/* The prefix and one more byte; NULL past the ends (the range's own). */
static char *
segment_key(const struct snapshot_range *r, size_t segment, size_t *len)
{
	char *key;

	if (segment == 0 || segment >= SEGMENTS)
		return NULL;
	key = xmalloc(r->start_len + 2);
	memcpy(key, r->start, r->start_len);
	key[r->start_len] = (char)('a' + segment);
	key[r->start_len + 1] = '\0';
	*len = r->start_len + 1;
	return key;
}

static size_t
take_segment(struct fetch *f)
{
	size_t segment;

	pthread_mutex_lock(&f->lock);
	segment = f->stop ? SEGMENTS : f->next_segment;
	if (segment < SEGMENTS)
		f->next_segment++;
	pthread_mutex_unlock(&f->lock);
	return segment;
}

static void
set_stop(struct fetch *f)
{
	pthread_mutex_lock(&f->lock);
	f->stop = 1;
	pthread_cond_broadcast(&f->changed);
	pthread_mutex_unlock(&f->lock);
}

/* Queue a page (the queue owns it then); -1 when stopping (the caller's). */
static int
put_page(struct fetch *f, const struct etcd_range_result *page)
{
	struct queued *q;

	pthread_mutex_lock(&f->lock);
	while (f->queued >= QUEUE_MAX && !f->stop)
		pthread_cond_wait(&f->changed, &f->lock);
	if (f->stop) {
		pthread_mutex_unlock(&f->lock);
		return -1;
	}
	q = xcalloc(1, sizeof(*q));
	q->page = *page;
	*f->tail = q;
	f->tail = &q->next;
	f->queued++;
	pthread_cond_broadcast(&f->changed);
	pthread_mutex_unlock(&f->lock);
	return 0;
}

size_t
snapshot_page_bytes(const struct etcd_range_result *page)
{
	size_t bytes = 0, i;

	for (i = 0; i < page->count; i++)
		bytes += page->kvs[i].key_len + page->kvs[i].value_len;
	return bytes;
}

/*
 * Keys to ask for after page: as many as fit the budget at that page's
 * size per key, one at least, max at most.
 */
static int64_t
next_page_limit(const struct etcd_range_result *page, size_t budget, size_t max)
{
	size_t bytes = snapshot_page_bytes(page), fit;

	if (page->count == 0 || bytes == 0)
		return (int64_t)max;
	fit = bytes / page->count > budget ? 1 : budget / (bytes / page->count);
	return (int64_t)(fit < 1 ? 1 : fit > max ? max : fit);
}

/* The keys of one segment, page by page: 0, or -1 when etcd failed. */
static int
fetch_segment(struct fetch *f, struct etcd_client *client, size_t segment)
{
	const struct snapshot_range *r = f->range;
	struct etcd_range_options options;
	struct etcd_range_result page;
	struct etcd_error error;
	size_t from_len = r->start_len, end_len = r->end_len;
	char *from = segment_key(r, segment, &from_len);
	char *end = segment_key(r, segment + 1, &end_len);
	int rc = 0, more = 1;

	if (from == NULL)
		from = xstrndup(r->start, r->start_len);
	memset(&options, 0, sizeof(options));
	options.range_end = end != NULL ? end : r->end;
	options.range_end_len = end != NULL ? end_len : r->end_len;
	options.limit = 1;	/* then as many as fit (snapshot_fetch.h) */
	options.revision = f->revision;
	while (more) {
		memset(&page, 0, sizeof(page));
		etcd_set_deadline(client, 0);
		if (etcd_range(client, from, from_len, &options, &page, &error) != ETCD_OK) {
			log_warn("snapshot: %s", error.message);
			rc = -1;
			break;
		}
		if ((more = page.more && page.count > 0)) {
			/* The next page starts just after the last key: key + "\0". */
			const struct etcd_kv *last = &page.kvs[page.count - 1];

			free(from);
			from_len = last->key_len + 1;
			from = xcalloc(1, from_len + 1);
			memcpy(from, last->key, last->key_len);
			options.limit = next_page_limit(&page, r->page_bytes, r->page_size);
		}
		if (put_page(f, &page) == -1) {
			etcd_range_result_free(&page);
			break;
		}
	}
	free(from);
	free(end);
	return rc;
}

static void *
fetcher_main(void *arg)
{
	struct fetcher *me = arg;
	struct fetch *f = me->fetch;
	size_t segment;

	while ((segment = take_segment(f)) < SEGMENTS)
		if (fetch_segment(f, me->client, segment) == -1) {
			set_stop(f);
			break;
		}
	pthread_mutex_lock(&f->lock);
	f->running--;
	pthread_cond_broadcast(&f->changed);
	pthread_mutex_unlock(&f->lock);
	return NULL;
}

/* Hand every page to take as it comes, until all are read: 0, or -1. */
static int
drain(struct fetch *f, snapshot_page_fn take, void *ctx)
{
	struct queued *q;
	int rc = 0;

	pthread_mutex_lock(&f->lock);
	for (;;) {
		while (f->head == NULL && f->running > 0 && !f->stop)
			pthread_cond_wait(&f->changed, &f->lock);
		if (f->stop || f->head == NULL) {
			rc = f->stop ? -1 : 0;
			break;
		}
		q = f->head;
		if ((f->head = q->next) == NULL)
			f->tail = &f->head;
		f->queued--;
		pthread_cond_broadcast(&f->changed);
		pthread_mutex_unlock(&f->lock);
		rc = take(ctx, &q->page);
		etcd_range_result_free(&q->page);
		free(q);
		pthread_mutex_lock(&f->lock);
		if (rc == -1) {
			f->stop = 1;
			pthread_cond_broadcast(&f->changed);
			break;
		}
	}
	pthread_mutex_unlock(&f->lock);
	return rc;
}

/* etcd's revision now, which every segment is then read at. */
static int
current_revision(struct etcd_client *client, const struct snapshot_range *r,
    int64_t *revision)
{
	struct etcd_range_options options;
	struct etcd_range_result probe;
	struct etcd_error error;

	memset(&options, 0, sizeof(options));
	memset(&probe, 0, sizeof(probe));
	options.range_end = r->end;
	options.range_end_len = r->end_len;
	options.limit = 1;
	options.keys_only = 1;
	etcd_set_deadline(client, 0);
	if (etcd_range(client, r->start, r->start_len, &options, &probe, &error) != ETCD_OK) {
		log_warn("snapshot: %s", error.message);
		return -1;
	}
	*revision = probe.revision;
	etcd_range_result_free(&probe);
	return 0;
}

int
snapshot_fetch(struct etcd_client *first, struct etcd_client **fetchers,
    const struct snapshot_range *range, snapshot_page_fn take, void *ctx,
    int64_t *revision)
{
	struct fetcher threads[SNAPSHOT_FETCHERS];
	struct fetch f;
	struct queued *q;
	int i, started = 0, rc;

	memset(&f, 0, sizeof(f));
	if (current_revision(first, range, &f.revision) == -1)
		return -1;
	pthread_mutex_init(&f.lock, NULL);
	pthread_cond_init(&f.changed, NULL);
	f.range = range;
	f.tail = &f.head;
	f.running = SNAPSHOT_FETCHERS;
	for (i = 0; i < SNAPSHOT_FETCHERS; i++) {
		threads[i].fetch = &f;
		threads[i].client = fetchers[i];
		if (pthread_create(&threads[i].thread, NULL, fetcher_main, &threads[i]) != 0)
			break;
		started++;
	}
	if (started < SNAPSHOT_FETCHERS) {
		log_error("snapshot: cannot start a fetching thread");
		pthread_mutex_lock(&f.lock);
		f.stop = 1;
		f.running -= SNAPSHOT_FETCHERS - started;
		pthread_mutex_unlock(&f.lock);
	}
	rc = drain(&f, take, ctx);
	for (i = 0; i < started; i++)
		pthread_join(threads[i].thread, NULL);
	while ((q = f.head) != NULL) {
		f.head = q->next;
		etcd_range_result_free(&q->page);
		free(q);
	}
	pthread_cond_destroy(&f.changed);
	pthread_mutex_destroy(&f.lock);
	*revision = f.revision;
	return started < SNAPSHOT_FETCHERS ? -1 : rc;
}

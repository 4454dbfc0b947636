/*
 * The wait room; see wait_room.h.
 *
 * Each waiting request is a compact entry (its numbers, and its strings in
 * one allocation), in three places: the group of requests that wait on
 * the same key (a hash table of groups), the deadline heap, and, when a
 * change may have ended it, the list of those that must look in the
 * replica. A request is clean up to max(its seen, the room's scanned): no
 * change it waits for happened up to that revision. That is what it
 * answers when it ends with nothing, so that the client, watching on from
 * there, misses nothing.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "base/arena.h"
#include "base/conf.h"
#include "base/log.h"
#include "base/shared.h"
#include "base/util.h"
#include "http/api.h"
#include "http/wait_room.h"
#include "store/store.h"

/* Events read from the log per look; past that, every request looks itself. */
#define SCAN_PAGE	1000
#define FIRST_BUCKETS	64
#define FIRST_HEAP	64
#define FNV_OFFSET	0xcbf29ce484222325ULL
#define FNV_PRIME	0x100000001b3ULL

struct wait_group {
	struct wait_group	*next;		/* in its bucket */
	struct wait_entry	*first;
	uint64_t		 hash;
	size_t			 len;
	char			 key[];
};

struct wait_entry {
	uint32_t		 kind, route, method, principal;
	int64_t			 started_us, deadline_us, since, seen;
	/* request id, path, arg, principal's name, token id: NUL after each */
	char			*text;
	void			*owner;
	struct wait_group	*group;
	struct wait_entry	*prev, *next;	/* in its group */
	struct wait_entry	*prev_job, *next_job;
	int			 job;		/* on the list of those to look */
	size_t			 heap_index;
};

struct wait_room {
	wait_done_fn		*done;
	void			*arg;
	int			 cap;
	size_t			 count;
	size_t			 by_kind[WAIT_KIND_MAX];
	int64_t			 scanned;	/* every change up to it is matched */
	struct wait_group	**buckets;
	size_t			 nbuckets;
	size_t			 ngroups;
	struct wait_entry	**heap;
	size_t			 heap_cap;
	struct wait_entry	*jobs;
};

static uint64_t
hash_step(uint64_t h, unsigned char c)
{
	return (h ^ c) * FNV_PRIME;
}

static uint64_t
hash_key(const char *key, size_t len)
{
	uint64_t h = FNV_OFFSET;
	size_t i;

	for (i = 0; i < len; i++)
		h = hash_step(h, (unsigned char)key[i]);
	return h;
}

static void publish(const struct wait_room *room);

struct wait_room *
wait_room_new(int cap, wait_done_fn *done, void *arg)
{
	struct wait_room *room = calloc(1, sizeof(*room));

	if (room == NULL)
		return NULL;
	room->buckets = calloc(FIRST_BUCKETS, sizeof(*room->buckets));
	room->heap = calloc(FIRST_HEAP, sizeof(*room->heap));
	if (room->buckets == NULL || room->heap == NULL) {
		wait_room_free(room);
		return NULL;
	}
	room->nbuckets = FIRST_BUCKETS;
	room->heap_cap = FIRST_HEAP;
	room->cap = cap;
	room->done = done;
	room->arg = arg;
	room->scanned = store_replica_revision();
	/* Whatever a waiting process before this one left in the gauges is gone. */
	publish(room);
	return room;
}

void
wait_room_set_cap(struct wait_room *room, int cap)
{
	room->cap = cap;
}

size_t
wait_room_count(const struct wait_room *room)
{
	return room->count;
}

/* -- groups */

static struct wait_group *
group_find(const struct wait_room *room, const char *key, size_t len, uint64_t h)
{
	struct wait_group *g;

	for (g = room->buckets[h & (room->nbuckets - 1)]; g != NULL; g = g->next)
		if (g->hash == h && g->len == len && memcmp(g->key, key, len) == 0)
			return g;
	return NULL;
}

/* Twice the buckets, once there are more groups than buckets. */
static void
grow_buckets(struct wait_room *room)
{
	size_t n = room->nbuckets * 2, i;
	struct wait_group **fresh = calloc(n, sizeof(*fresh)), *g, *next;

	if (fresh == NULL)
		return;		/* longer chains, still correct */
	for (i = 0; i < room->nbuckets; i++)
		for (g = room->buckets[i]; g != NULL; g = next) {
			next = g->next;
			g->next = fresh[g->hash & (n - 1)];
			fresh[g->hash & (n - 1)] = g;
		}
	free(room->buckets);
	room->buckets = fresh;
	room->nbuckets = n;
}

static struct wait_group *
group_get(struct wait_room *room, const char *key)
{
	size_t len = strlen(key);
	uint64_t h = hash_key(key, len);
	struct wait_group *g = group_find(room, key, len, h), **bucket;

	if (g != NULL)
		return g;
	if ((g = calloc(1, sizeof(*g) + len + 1)) == NULL)
		return NULL;
	memcpy(g->key, key, len + 1);
	g->len = len;
	g->hash = h;
	bucket = &room->buckets[h & (room->nbuckets - 1)];
	g->next = *bucket;
	*bucket = g;
	if (++room->ngroups > room->nbuckets)
		grow_buckets(room);
	return g;
}

static void
group_drop(struct wait_room *room, struct wait_group *group)
{
	struct wait_group **p = &room->buckets[group->hash & (room->nbuckets - 1)];

	while (*p != group)
		p = &(*p)->next;
	*p = group->next;
	room->ngroups--;
	free(group);
}

/* -- the deadline heap */

static int
earlier(const struct wait_entry *a, const struct wait_entry *b)
{
	return a->deadline_us < b->deadline_us;
}

static void
heap_set(struct wait_room *room, size_t i, struct wait_entry *e)
{
	room->heap[i] = e;
	e->heap_index = i;
}

static void
heap_up(struct wait_room *room, size_t i)
{
	struct wait_entry *e = room->heap[i];

	while (i > 0 && earlier(e, room->heap[(i - 1) / 2])) {
		heap_set(room, i, room->heap[(i - 1) / 2]);
		i = (i - 1) / 2;
	}
	heap_set(room, i, e);
}

static void
heap_down(struct wait_room *room, size_t i)
{
	struct wait_entry *e = room->heap[i];
	size_t child;

	while ((child = 2 * i + 1) < room->count) {
		if (child + 1 < room->count && earlier(room->heap[child + 1],
		    room->heap[child]))
			child++;
		if (!earlier(room->heap[child], e))
			break;
		heap_set(room, i, room->heap[child]);
		i = child;
	}
	heap_set(room, i, e);
}

/* Room for one more; -1 when out of memory. */
static int
heap_reserve(struct wait_room *room)
{
	struct wait_entry **bigger;

	if (room->count < room->heap_cap)
		return 0;
	if ((bigger = realloc(room->heap, room->heap_cap * 2 * sizeof(*bigger))) == NULL)
		return -1;
	room->heap = bigger;
	room->heap_cap *= 2;
	return 0;
}

/* Take out the entry at i; room->count is one less already. */
static void
heap_remove(struct wait_room *room, size_t i)
{
	struct wait_entry *last = room->heap[room->count];

	if (i == room->count)
		return;
	heap_set(room, i, last);
	heap_up(room, i);
	heap_down(room, last->heap_index);
}

/* -- the list of those to look */

static void
job_add(struct wait_room *room, struct wait_entry *e)
{
	if (e->job)
		return;
	e->job = 1;
	e->prev_job = NULL;
	e->next_job = room->jobs;
	if (room->jobs != NULL)
		room->jobs->prev_job = e;
	room->jobs = e;
}

static void
job_del(struct wait_room *room, struct wait_entry *e)
{
	if (!e->job)
		return;
	if (e->prev_job != NULL)
		e->prev_job->next_job = e->next_job;
	else
		room->jobs = e->next_job;
	if (e->next_job != NULL)
		e->next_job->prev_job = e->prev_job;
	e->job = 0;
}

/* -- entries */

static void
publish(const struct wait_room *room)
{
	struct shared_waiting *w = &shared()->waiting;
	size_t k;

	for (k = 0; k < WAIT_KIND_MAX; k++)
		__atomic_store_n(&w->waiting[k], (int64_t)room->by_kind[k],
		    __ATOMIC_RELAXED);
}

/* The request an entry holds, whole again. */
static void
entry_request(const struct wait_entry *e, struct wait_request *req)
{
	const char *path = e->text + strlen(e->text) + 1;
	const char *arg = path + strlen(path) + 1;
	const char *name = arg + strlen(arg) + 1;
	const char *token_id = name + strlen(name) + 1;

	/* Whole: who asked goes with it (a lock it takes names them). */
	memset(req, 0, sizeof(*req));
	req->kind = e->kind;
	req->route = e->route;
	req->method = e->method;
	req->reserved = 0;
	req->started_us = e->started_us;
	req->deadline_us = e->deadline_us;
	req->since = e->since;
	req->seen = e->seen;
	/* The entry's strings came from a checked request: they fit. */
	memcpy(req->request_id, e->text, strlen(e->text) + 1);
	memcpy(req->path, path, strlen(path) + 1);
	memcpy(req->key, e->group->key, e->group->len + 1);
	memcpy(req->arg, arg, strlen(arg) + 1);
	req->principal = e->principal;
	memcpy(req->principal_name, name, strlen(name) + 1);
	memcpy(req->token_id, token_id, strlen(token_id) + 1);
}

static struct wait_entry *
entry_new(const struct wait_request *req, void *owner)
{
	size_t id = strlen(req->request_id) + 1, path = strlen(req->path) + 1;
	size_t arg = strlen(req->arg) + 1, name = strlen(req->principal_name) + 1;
	size_t token_id = strlen(req->token_id) + 1;
	struct wait_entry *e = calloc(1, sizeof(*e));
	char *t;

	if (e == NULL || (e->text = malloc(id + path + arg + name + token_id)) == NULL) {
		free(e);
		return NULL;
	}
	t = e->text;
	memcpy(t, req->request_id, id);
	memcpy(t += id, req->path, path);
	memcpy(t += path, req->arg, arg);
	memcpy(t += arg, req->principal_name, name);
	memcpy(t += name, req->token_id, token_id);
	e->kind = req->kind;
	e->principal = req->principal;
	e->route = req->route;
	e->method = req->method;
	e->started_us = req->started_us;
	e->deadline_us = req->deadline_us;
	e->since = req->since;
	e->seen = req->seen;
	e->owner = owner;
	return e;
}

static void
entry_free(struct wait_entry *e)
{
	free(e->text);
	free(e);
}

/* Take the entry out of the room (it is not freed). */
static void
entry_forget(struct wait_room *room, struct wait_entry *e)
{
	struct wait_group *g = e->group;

	if (e->prev != NULL)
		e->prev->next = e->next;
	else
		g->first = e->next;
	if (e->next != NULL)
		e->next->prev = e->prev;
	if (g->first == NULL)
		group_drop(room, g);
	job_del(room, e);
	room->count--;
	room->by_kind[e->kind]--;
	heap_remove(room, e->heap_index);
}

/* Hand the answer to the owner, then log and count it. */
static void
finish(struct wait_room *room, void *owner, struct exchange *ex)
{
	room->done(owner, ex, room->arg);
	api_finish(ex);
	exchange_free(ex);
}

static void
refuse(struct wait_room *room, const struct wait_request *req, void *owner)
{
	struct exchange ex;

	wait_exchange(&ex, req);
	wait_kinds[req->kind]->refuse(&ex, req);
	__atomic_fetch_add(&shared()->waiting.refused[req->kind], 1,
	    __ATOMIC_RELAXED);
	finish(room, owner, &ex);
}

struct wait_entry *
wait_room_add(struct wait_room *room, const struct wait_request *req, void *owner)
{
	struct wait_entry *e;
	struct wait_group *g;

	__atomic_fetch_add(&shared()->waiting.handoffs, 1, __ATOMIC_RELAXED);
	if (room->count >= (size_t)room->cap || heap_reserve(room) == -1 ||
	    (e = entry_new(req, owner)) == NULL) {
		refuse(room, req, owner);
		return NULL;
	}
	if ((g = group_get(room, req->key)) == NULL) {
		entry_free(e);
		refuse(room, req, owner);
		return NULL;
	}
	/* Nobody needed the changes up to its look: none to match for it. */
	if (room->count == 0 && e->seen > room->scanned)
		room->scanned = e->seen;
	e->group = g;
	e->next = g->first;
	if (g->first != NULL)
		g->first->prev = e;
	g->first = e;
	heap_set(room, room->count, e);
	room->count++;
	room->by_kind[e->kind]++;
	heap_up(room, e->heap_index);
	/* Changes it has not seen were matched before it came: it looks itself. */
	if (e->seen < room->scanned)
		job_add(room, e);
	publish(room);
	return e;
}

void
wait_room_leave(struct wait_room *room, struct wait_entry *e)
{
	struct wait_request req;
	struct exchange ex;

	entry_request(e, &req);
	entry_forget(room, e);
	entry_free(e);
	/* No answer goes out; the log line says the client closed (as nginx's 499). */
	wait_exchange(&ex, &req);
	ex.res.status = 499;
	api_finish(&ex);
	exchange_free(&ex);
	__atomic_fetch_add(&shared()->waiting.disconnects, 1, __ATOMIC_RELAXED);
	publish(room);
}

/* -- changes */

static void
all_look(struct wait_room *room)
{
	size_t i;

	for (i = 0; i < room->count; i++)
		job_add(room, room->heap[i]);
}

/* Every request waiting on a prefix of the event's key that it may end. */
static void
match(struct wait_room *room, const struct store_event *event)
{
	const char *key = event->item.key;
	size_t len = strlen(key), i;
	struct wait_request req;
	struct wait_group *g;
	struct wait_entry *e;
	uint64_t h = FNV_OFFSET;

	for (i = 0; i < len; i++) {
		h = hash_step(h, (unsigned char)key[i]);
		if ((g = group_find(room, key, i + 1, h)) == NULL)
			continue;
		for (e = g->first; e != NULL; e = e->next) {
			if (e->job)
				continue;
			entry_request(e, &req);
			if (wait_kinds[e->kind]->wakes(&req, event))
				job_add(room, e);
		}
	}
}

/*
 * One read of the log for every request: the changes after scanned. When
 * there are more than a page of them, or the log no longer reaches back
 * that far, each request looks on its own (and finds its own 410).
 */
static void
scan(struct wait_room *room, int64_t published)
{
	struct store_event *events = NULL;
	enum store_result rc = STORE_GONE;
	struct arena scratch;
	struct store_ctx ctx;
	size_t n = 0, i;

	arena_init(&scratch);
	memset(&ctx, 0, sizeof(ctx));
	ctx.arena = &scratch;
	ctx.deadline_us = clock_monotonic_us() + (int64_t)conf.server.request_timeout * 1000;
	/* A revision that went back (a new etcd cluster) spoils every match. */
	if (published > room->scanned)
		rc = store_events_since(&ctx, "", room->scanned, SCAN_PAGE, &events, &n);
	if (rc != STORE_OK || n == SCAN_PAGE)
		all_look(room);
	else
		for (i = 0; i < n; i++)
			match(room, &events[i]);
	arena_free(&scratch);
	room->scanned = published;
}

static void
run_jobs(struct wait_room *room)
{
	struct wait_request req;
	struct wait_entry *e;
	struct exchange ex;

	while ((e = room->jobs) != NULL) {
		job_del(room, e);
		entry_request(e, &req);
		wait_exchange(&ex, &req);
		if (wait_kinds[e->kind]->look(&ex, &req) == WAIT_GOES_ON) {
			if (req.seen > e->seen)
				e->seen = req.seen;
			exchange_free(&ex);
			continue;
		}
		entry_forget(room, e);
		finish(room, e->owner, &ex);
		entry_free(e);
	}
}

/* End the first request of the heap with nothing. */
static void
expire_first(struct wait_room *room)
{
	struct wait_entry *e = room->heap[0];
	struct wait_request req;
	struct exchange ex;

	entry_request(e, &req);
	entry_forget(room, e);
	wait_exchange(&ex, &req);
	wait_kinds[req.kind]->expire(&ex, &req,
	    req.seen > room->scanned ? req.seen : room->scanned);
	finish(room, e->owner, &ex);
	entry_free(e);
}

/* Look for changes: the matching read of the log, then the looks it calls for. */
static void
catch_up(struct wait_room *room)
{
	int64_t published = store_replica_revision();

	if (room->count == 0) {
		room->scanned = published;
		return;
	}
	if (published != room->scanned)
		scan(room, published);
	run_jobs(room);
}

int
wait_room_run(struct wait_room *room)
{
	int64_t now, due;

	catch_up(room);
	now = clock_monotonic_us();
	while (room->count > 0 && room->heap[0]->deadline_us <= now)
		expire_first(room);
	publish(room);
	log_flush();
	if (room->count == 0)
		return -1;
	due = (room->heap[0]->deadline_us - now + 999) / 1000;
	return due < WAIT_ROOM_POLL_MS ? (int)due : WAIT_ROOM_POLL_MS;
}

void
wait_room_close(struct wait_room *room)
{
	catch_up(room);
	while (room->count > 0)
		expire_first(room);
	publish(room);
	log_flush();
}

void
wait_room_free(struct wait_room *room)
{
	struct wait_entry *e;

	if (room == NULL)
		return;
	while (room->count > 0) {
		e = room->heap[0];
		entry_forget(room, e);
		entry_free(e);
	}
	publish(room);
	free(room->buckets);
	free(room->heap);
	free(room);
}

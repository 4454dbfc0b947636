/*
 * Reading every key of a range from etcd at one revision, with several
 * connections at once (internal to store/: the watcher's snapshots).
 *
 * etcd's gateway encodes a page of keys as JSON on one CPU, and that is
 * most of a snapshot's time (about 40 ms per MB of JSON here): read page
 * after page, the other CPU waits. So the range is cut into segments by
 * the first byte after the prefix ("audit/", "index/" and "users/" land in
 * different ones) and SNAPSHOT_FETCHERS threads, each with its own client,
 * read them side by side; the caller's thread takes their pages and
 * stores them meanwhile.
 */
#ifndef DYNCONF_SNAPSHOT_FETCH_H
#define DYNCONF_SNAPSHOT_FETCH_H

#include <stddef.h>
#include <stdint.h>

struct etcd_client;
struct etcd_range_result;

#define SNAPSHOT_FETCHERS 3

/* Takes one page, on the caller's thread, in no particular order; -1 stops. */
typedef int (*snapshot_page_fn)(void *ctx, const struct etcd_range_result *page);

struct snapshot_range {
	const char	*start;		/* the prefix */
	size_t		 start_len;
	const char	*end;		/* etcd_prefix_end() of it */
	size_t		 end_len;
	size_t		 page_size;	/* keys per request, at most */
	size_t		 page_bytes;	/* keys and values per request, about */
};

/*
 * The pages a reader holds are bounded in keys and in bytes: each
 * segment's first page is one key, and each next one as many keys as the
 * last page's sizes say fit page_bytes (page_size at most), so that a
 * keyspace of large values never asks etcd for, nor holds, a page of
 * gigabytes.
 *
 * Every key of range as of one revision (etcd's latest when called, set
 * in *revision), each page handed to take. first reads the revision;
 * fetchers[SNAPSHOT_FETCHERS] read the segments, one thread each. 0, or -1
 * (logged) when etcd failed or take refused; nothing is left running.
 */
int	snapshot_fetch(struct etcd_client *first, struct etcd_client **fetchers,
	    const struct snapshot_range *range, snapshot_page_fn take, void *ctx,
	    int64_t *revision);

/* The bytes of a page's keys and values (what page_bytes bounds). */
size_t	snapshot_page_bytes(const struct etcd_range_result *page);

#endif

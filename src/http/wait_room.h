/*
 * The wait room: every waiting request of the node (http/wait.h), in one
 * process. It knows nothing of connections: each request comes with an
 * owner pointer, and when it ends the room hands the owner a complete
 * exchange to write, then logs and counts it.
 *
 * It learns of changes as the responders do, from the replica: while
 * anything waits it loads the revision the watcher publishes in shared
 * memory every WAIT_ROOM_POLL_MS, and when that moved it reads the event
 * log once for all of them and matches each changed key against the keys
 * waited on (a hash of them, probed at every prefix of the changed key).
 * Only the requests a change may end look in the replica on their own.
 * Deadlines are a heap.
 */
#ifndef DYNCONF_WAIT_ROOM_H
#define DYNCONF_WAIT_ROOM_H

#include <stddef.h>
#include <stdint.h>

#include "http/http.h"
#include "http/wait.h"

#define WAIT_ROOM_POLL_MS 10

struct wait_room;
struct wait_entry;

/*
 * A request ended: write ex to the owner's client. The room has already
 * forgotten the request; it logs and frees ex after this returns.
 */
typedef void wait_done_fn(void *owner, struct exchange *ex, void *arg);

/* A room for at most cap requests; NULL when out of memory. */
struct wait_room *wait_room_new(int cap, wait_done_fn *done, void *arg);
/* Free it; what still waits is dropped unanswered (wait_room_close first). */
void	wait_room_free(struct wait_room *room);
void	wait_room_set_cap(struct wait_room *room, int cap);

/*
 * A request to wait (checked with wait_request_check). NULL when the room
 * is full: it has been answered already (429), through done.
 */
struct wait_entry *wait_room_add(struct wait_room *room,
	    const struct wait_request *req, void *owner);

/* The client left: forget its request, unanswered (logged as 499). */
void	wait_room_leave(struct wait_room *room, struct wait_entry *entry);

/*
 * Look for changes and deadlines now, ending what they end. Returns the
 * milliseconds until it should run again, -1 while nothing waits.
 */
int	wait_room_run(struct wait_room *room);

/*
 * End every request: those a change has come for with it, the others with
 * nothing (the process stops or reloads).
 */
void	wait_room_close(struct wait_room *room);

/* Requests waiting now. */
size_t	wait_room_count(const struct wait_room *room);

#endif

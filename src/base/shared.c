/*
 * Pool-wide shared memory; see shared.h.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/file.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/log.h"
#include "base/shared.h"

#define SHARED_MAGIC 0x6479636f6e667332ULL	/* "dyconfs2" */

static struct shared_state local_state;
static struct shared_state *state = &local_state;

static void
stamp(struct shared_state *s)
{
	memset(s, 0, sizeof(*s));
	s->magic = SHARED_MAGIC;
	s->layout = sizeof(*s);
}

/* fresh: zero it whatever it held (a master starting), else only when unfit. */
static int
map_file(const char *path, int fresh)
{
	struct shared_state *map;
	struct stat st;
	int fd;

	if ((fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600)) == -1) {
		if (fresh)
			return -1;
		log_error("shared state %s: %s", path, strerror(errno));
		return -1;
	}
	/* The first process sizes and stamps the file; the lock keeps siblings out meanwhile. */
	if (flock(fd, LOCK_EX) == -1 || fstat(fd, &st) == -1)
		goto fail;
	if ((size_t)st.st_size != sizeof(*map) &&
	    (ftruncate(fd, 0) == -1 || ftruncate(fd, sizeof(*map)) == -1))
		goto fail;
	map = mmap(NULL, sizeof(*map), PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	if (map == MAP_FAILED)
		goto fail;
	if (fresh || map->magic != SHARED_MAGIC || map->layout != sizeof(*map))
		stamp(map);
	flock(fd, LOCK_UN);
	close(fd);
	state = map;
	return 0;
fail:
	log_error("shared state %s: %s", path, strerror(errno));
	close(fd);
	return -1;
}

int
shared_attach(const char *path)
{
	struct shared_state *map;

	if (path != NULL)
		return map_file(path, 0);
	map = mmap(NULL, sizeof(*map), PROT_READ | PROT_WRITE,
	    MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (map == MAP_FAILED) {
		log_error("shared state: mmap: %s", strerror(errno));
		return -1;
	}
	stamp(map);
	state = map;
	return 0;
}

static struct shared_state *mirror;

int
shared_mirror_open(const char *path)
{
	struct shared_state *kept = state;
	int rc = -1;

	if (path[0] != '\0' && map_file(path, 1) == 0) {
		mirror = state;
		rc = 0;
	} else {
		log_info("pool state not published: %s is not usable (%s); "
		    "dynconfctl status will not see the pool", path, strerror(errno));
	}
	state = kept;
	return rc;
}

void
shared_mirror(void)
{
	if (mirror == NULL)
		return;
	/* Plain copies: a reader may see a field a poll old, never a torn int. */
	mirror->pool = state->pool;
	mirror->breaker = state->breaker;
	mirror->replica = state->replica;
	__atomic_store_n(&mirror->metrics.responders, __atomic_load_n(
	    &state->metrics.responders, __ATOMIC_RELAXED), __ATOMIC_RELAXED);
}

const struct shared_state *
shared_peek(const char *path)
{
	const struct shared_state *map;
	struct stat st;
	int fd;

	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) == -1)
		return NULL;
	if (fstat(fd, &st) == -1 || (size_t)st.st_size != sizeof(*map)) {
		close(fd);
		errno = EINVAL;
		return NULL;
	}
	map = mmap(NULL, sizeof(*map), PROT_READ, MAP_SHARED, fd, 0);
	close(fd);
	if (map == MAP_FAILED)
		return NULL;
	if (map->magic != SHARED_MAGIC || map->layout != sizeof(*map)) {
		munmap((void *)map, sizeof(*map));
		errno = EINVAL;
		return NULL;
	}
	return map;
}

struct shared_state *
shared(void)
{
	return state;
}

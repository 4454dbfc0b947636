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

static int
map_file(const char *path)
{
	struct shared_state *map;
	struct stat st;
	int fd;

	if ((fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600)) == -1) {
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
	if (map->magic != SHARED_MAGIC || map->layout != sizeof(*map))
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
		return map_file(path);
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

struct shared_state *
shared(void)
{
	return state;
}

/*
 * A per-request arena; see arena.h. Blocks are chained; small allocations
 * share a block, large ones get their own.
 */
#include "config.h"

#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/arena.h"
#include "base/util.h"

#define ARENA_BLOCK_SIZE 8192
#define ARENA_ALIGN 16

struct arena_block {
	struct arena_block	*next;
	size_t			 used;
	size_t			 size;
	_Alignas(ARENA_ALIGN) unsigned char data[];
};

void
arena_init(struct arena *a)
{
	a->head = NULL;
}

/*
 * One standard block kept from the last arena freed, for the next request:
 * a request that fits in one block then allocates nothing from malloc,
 * whose handling of 8 KiB chunks showed in profiles. Responders serve one
 * request at a time; nothing here is shared between threads. A sanitized
 * build (configure --enable-sanitizers, with gcc or clang) keeps nothing,
 * so that a use after arena_free() is still caught.
 */
#if defined(DYNCONF_SANITIZED) || defined(__SANITIZE_ADDRESS__)
#define ARENA_KEEP_SPARE 0
#else
#define ARENA_KEEP_SPARE 1
#endif
static struct arena_block *spare_block;

static struct arena_block *
arena_new_block(struct arena *a, size_t size)
{
	struct arena_block *block;

	if (size == ARENA_BLOCK_SIZE && spare_block != NULL) {
		block = spare_block;
		spare_block = NULL;
	} else
		block = xmalloc(sizeof(*block) + size);

	block->used = 0;
	block->size = size;
	block->next = a->head;
	a->head = block;
	return block;
}

void *
arena_alloc(struct arena *a, size_t size)
{
	struct arena_block *block = a->head;
	size_t rounded = (size + ARENA_ALIGN - 1) & ~(size_t)(ARENA_ALIGN - 1);
	void *p;

	/* Rounding up, or adding the block header, would wrap around. */
	if (size > SIZE_MAX / 2) {
		fprintf(stderr, "dynconf: arena allocation of %zu bytes\n", size);
		abort();
	}
	if (rounded == 0)
		rounded = ARENA_ALIGN;
	if (block == NULL || block->size - block->used < rounded) {
		if (rounded > ARENA_BLOCK_SIZE / 2) {
			/* Large: its own block, behind the current one. */
			struct arena_block *big = xmalloc(sizeof(*big) + rounded);

			big->used = big->size = rounded;
			if (block == NULL) {
				big->next = NULL;
				a->head = big;
			} else {
				big->next = block->next;
				block->next = big;
			}
			memset(big->data, 0, rounded);
			return big->data;
		}
		block = arena_new_block(a, ARENA_BLOCK_SIZE);
	}
	p = block->data + block->used;
	block->used += rounded;
	memset(p, 0, rounded);
	return p;
}

char *
arena_strndup(struct arena *a, const char *s, size_t n)
{
	char *p = arena_alloc(a, n + 1);

	memcpy(p, s, n);
	p[n] = '\0';
	return p;
}

char *
arena_strdup(struct arena *a, const char *s)
{
	return arena_strndup(a, s, strlen(s));
}

char *
arena_printf(struct arena *a, const char *fmt, ...)
{
	va_list ap;
	int n;
	char *p;

	va_start(ap, fmt);
	n = vsnprintf(NULL, 0, fmt, ap);
	va_end(ap);
	if (n < 0)
		return arena_strdup(a, "");
	p = arena_alloc(a, (size_t)n + 1);
	va_start(ap, fmt);
	vsnprintf(p, (size_t)n + 1, fmt, ap);
	va_end(ap);
	return p;
}

char *
arena_concat(struct arena *a, const char *first, ...)
{
	va_list ap;
	const char *s;
	size_t len = 0, n;
	char *p, *out;

	va_start(ap, first);
	for (s = first; s != NULL; s = va_arg(ap, const char *))
		len += strlen(s);
	va_end(ap);
	out = p = arena_alloc(a, len + 1);
	va_start(ap, first);
	for (s = first; s != NULL; s = va_arg(ap, const char *)) {
		n = strlen(s);
		memcpy(p, s, n);
		p += n;
	}
	va_end(ap);
	*p = '\0';
	return out;
}

void
arena_free(struct arena *a)
{
	struct arena_block *block = a->head, *next;

	while (block != NULL) {
		next = block->next;
		if (ARENA_KEEP_SPARE && spare_block == NULL &&
		    block->size == ARENA_BLOCK_SIZE)
			spare_block = block;
		else
			free(block);
		block = next;
	}
	a->head = NULL;
}

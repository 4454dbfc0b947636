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

#include "arena.h"
#include "util.h"

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

static struct arena_block *
arena_new_block(struct arena *a, size_t size)
{
	struct arena_block *block = xmalloc(sizeof(*block) + size);

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

void
arena_free(struct arena *a)
{
	struct arena_block *block = a->head, *next;

	while (block != NULL) {
		next = block->next;
		free(block);
		block = next;
	}
	a->head = NULL;
}

/*
 * The frame assembler of the etcd client's streams (watch, lease
 * keep-alive): the gateway writes one JSON object per response, newline
 * separated, and HTTP chunking cuts them anywhere. Bytes go in as they
 * arrive; every complete top-level object comes out whole, in order.
 * Internal to the etcd client; a header of its own so that tests can feed
 * it odd chunkings without a server.
 */
#ifndef DYNCONF_ETCD_FRAMES_H
#define DYNCONF_ETCD_FRAMES_H

#include <stddef.h>

#include "base/buf.h"

/* A single frame larger than this is a protocol error, not a buffer to grow. */
#define ETCD_FRAME_MAX (64 * 1024 * 1024)

struct etcd_frames {
	struct buf	 pending;	/* bytes of the frame not yet complete */
	size_t		 scanned;	/* of pending, already looked at */
	int		 depth;		/* of { and [ outside strings */
	int		 in_string;
	int		 escaped;	/* the previous byte was a backslash */
};

/* Called with one complete JSON object (not NUL-terminated); non-zero stops. */
typedef int (*etcd_frame_fn)(void *ctx, const char *frame, size_t len);

void	etcd_frames_init(struct etcd_frames *f);
void	etcd_frames_free(struct etcd_frames *f);

/*
 * Feed len bytes. Returns 0 once every complete frame went to fn, fn's
 * non-zero return if it asked to stop, or -1 if the stream is not a
 * sequence of JSON objects (or a frame outgrew ETCD_FRAME_MAX).
 */
int	etcd_frames_feed(struct etcd_frames *f, const char *data, size_t len,
	    etcd_frame_fn fn, void *ctx);

#endif

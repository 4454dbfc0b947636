/*
 * FastCGI records and CGI headers; see record.h. The record layout is the
 * FastCGI 1.0 specification's, section 3.3.
 */
#include "config.h"

#include <string.h>

#include "record.h"

#define FCGI_VERSION_1		1
#define FCGI_END_REQUEST	3
#define FCGI_STDOUT		6
#define FCGI_REQUEST_COMPLETE	0
#define RECORD_MAX_CONTENT	65535

void
record_cgi_head(struct buf *out, const struct response *res)
{
	size_t i;

	buf_puts(out, "Status: ");
	buf_put_int(out, res->status);
	buf_putc(out, ' ');
	buf_puts(out, http_status_text(res->status));
	buf_puts(out, "\r\n");
	if (res->content_type != NULL) {
		buf_puts(out, "Content-Type: ");
		buf_puts(out, res->content_type);
		buf_puts(out, "\r\nContent-Length: ");
		buf_put_int(out, (long long)res->body.len);
		buf_puts(out, "\r\n");
	}
	for (i = 0; i < res->nheaders; i++) {
		buf_puts(out, res->headers[i].name);
		buf_puts(out, ": ");
		buf_puts(out, res->headers[i].value);
		buf_puts(out, "\r\n");
	}
	buf_puts(out, "\r\n");
}

/* One record's header; content is padded to a multiple of 8 bytes. */
static void
record_header(struct buf *out, int type, unsigned id, size_t len)
{
	unsigned char h[8];

	h[0] = FCGI_VERSION_1;
	h[1] = (unsigned char)type;
	h[2] = (unsigned char)(id >> 8);
	h[3] = (unsigned char)id;
	h[4] = (unsigned char)(len >> 8);
	h[5] = (unsigned char)len;
	h[6] = (unsigned char)(-len & 7);
	h[7] = 0;
	buf_append(out, h, sizeof(h));
}

/* data as STDOUT records of at most RECORD_MAX_CONTENT bytes each. */
static void
put_stdout(struct buf *out, unsigned id, const char *data, size_t len)
{
	static const char padding[8];
	size_t n;

	while (len > 0) {
		n = len > RECORD_MAX_CONTENT ? RECORD_MAX_CONTENT : len;
		record_header(out, FCGI_STDOUT, id, n);
		buf_append(out, data, n);
		buf_append(out, padding, -n & 7);
		data += n;
		len -= n;
	}
}

void
record_answer(struct buf *out, unsigned id, const struct exchange *ex)
{
	static const unsigned char complete[8] = { 0, 0, 0, 0,
	    FCGI_REQUEST_COMPLETE, 0, 0, 0 };
	const struct response *res = &ex->res;
	struct buf head;

	buf_init(&head);
	record_cgi_head(&head, res);
	put_stdout(out, id, head.data, head.len);
	buf_free(&head);
	if (res->content_type != NULL && ex->method != HTTP_HEAD)
		put_stdout(out, id, res->body.data, res->body.len);
	record_header(out, FCGI_STDOUT, id, 0);
	record_header(out, FCGI_END_REQUEST, id, sizeof(complete));
	buf_append(out, complete, sizeof(complete));
}

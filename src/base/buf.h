/*
 * A growable byte buffer: response bodies, log lines and rendered documents
 * are built in one.
 */
#ifndef DYNCONF_BUF_H
#define DYNCONF_BUF_H

#include <stdarg.h>
#include <stddef.h>

struct buf {
	char	*data;	/* always NUL-terminated once anything was appended */
	size_t	 len;
	size_t	 cap;
};

void	buf_init(struct buf *b);
void	buf_free(struct buf *b);
void	buf_reset(struct buf *b);
void	buf_append(struct buf *b, const void *data, size_t len);
void	buf_puts(struct buf *b, const char *s);
void	buf_putc(struct buf *b, char c);
void	buf_printf(struct buf *b, const char *fmt, ...)
	    __attribute__((format(printf, 2, 3)));
void	buf_vprintf(struct buf *b, const char *fmt, va_list ap);
/* Append n in decimal: for hot paths, where printf's parsing shows. */
void	buf_put_int(struct buf *b, long long n);
/* Append s as a quoted JSON string, escaping what JSON requires. */
void	buf_json_string(struct buf *b, const char *s);
/*
 * The same for s[0..len), which may hold NUL bytes (written as \u0000).
 * Bytes that are not well-formed UTF-8 are written as U+FFFD, one each.
 */
void	buf_json_string_len(struct buf *b, const char *s, size_t len);
/*
 * Append s[0..len) as it is but for the bytes that do not start
 * well-formed UTF-8: U+FFFD for each. How many were replaced.
 */
size_t	buf_put_utf8(struct buf *b, const char *s, size_t len);

#endif

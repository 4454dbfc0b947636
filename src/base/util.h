/*
 * Small helpers every module uses: allocation that never returns NULL,
 * bounded number parsing (OpenBSD's strtonum, which glibc lacks), clocks and
 * random identifiers.
 */
#ifndef DYNCONF_UTIL_H
#define DYNCONF_UTIL_H

#include <stddef.h>
#include <stdint.h>

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

/* Out of memory is not recoverable for a responder: these abort instead. */
void *xmalloc(size_t size);
void *xcalloc(size_t count, size_t size);
void *xrealloc(void *ptr, size_t size);
char *xstrdup(const char *s);
char *xstrndup(const char *s, size_t n);

/*
 * Parse a decimal integer in [minval, maxval]. The whole string must be the
 * number. On error returns 0 and sets *errstr to "invalid", "too small" or
 * "too large"; on success *errstr is NULL.
 */
long long strtonum(const char *numstr, long long minval, long long maxval,
    const char **errstr);

/* Microseconds from CLOCK_MONOTONIC, and the wall clock in microseconds. */
int64_t clock_monotonic_us(void);
int64_t clock_realtime_us(void);

/* Format a UNIX time (seconds) as RFC 3339 UTC into out (at least 21 bytes). */
void format_rfc3339(int64_t unix_seconds, char *out, size_t outlen);
/* The same to the microsecond, "2026-11-22T10:00:00.123456Z" (28 bytes). */
void format_rfc3339_us(int64_t unix_us, char *out, size_t outlen);
/*
 * An RFC 3339 date-time ("2026-11-22T10:00:00Z", a fraction of a second
 * and a numeric offset allowed, 'T' and 'Z' in either case) as unix
 * microseconds, years 1970 to 9999; 0, or -1 when s is not one.
 */
int parse_rfc3339(const char *s, int64_t *unix_us);
/* The same for any year from 0000 on: before 1970, a negative time. */
int parse_rfc3339_any(const char *s, int64_t *unix_us);

/* FNV-1a of s: for spreading keys over hash slots, never for security. */
uint64_t string_hash(const char *s);

/*
 * The length of the well-formed UTF-8 sequence (RFC 3629: no overlong
 * form, no surrogate, nothing above U+10FFFF) at p, before end; 0 if there
 * is none. p < end.
 */
size_t utf8_sequence(const unsigned char *p, const unsigned char *end);

/* Fill buf with len cryptographically random bytes; returns 0 or -1. */
int random_bytes(void *buf, size_t len);

/* Write 2*len lowercase hex digits of len random bytes plus a NUL into out. */
int random_hex(char *out, size_t len);

/* The value of a hex digit (either case), or -1. */
int	hex_digit(unsigned char c);

#endif

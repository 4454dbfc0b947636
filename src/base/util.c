/*
 * Small helpers every module uses; see util.h.
 */
#include "config.h"

#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>

#include "base/util.h"

static void
out_of_memory(size_t size)
{
	fprintf(stderr, "dynconf: out of memory allocating %zu bytes\n", size);
	abort();
}

void *
xmalloc(size_t size)
{
	void *p = malloc(size ? size : 1);

	if (p == NULL)
		out_of_memory(size);
	return p;
}

void *
xcalloc(size_t count, size_t size)
{
	void *p = calloc(count ? count : 1, size ? size : 1);

	if (p == NULL)
		out_of_memory(count * size);
	return p;
}

void *
xrealloc(void *ptr, size_t size)
{
	void *p = realloc(ptr, size ? size : 1);

	if (p == NULL)
		out_of_memory(size);
	return p;
}

char *
xstrdup(const char *s)
{
	return xstrndup(s, strlen(s));
}

char *
xstrndup(const char *s, size_t n)
{
	char *p = xmalloc(n + 1);

	memcpy(p, s, n);
	p[n] = '\0';
	return p;
}

long long
strtonum(const char *numstr, long long minval, long long maxval,
    const char **errstr)
{
	long long value;
	char *end;

	*errstr = NULL;
	if (minval > maxval || numstr == NULL || *numstr == '\0' ||
	    isspace((unsigned char)*numstr) || *numstr == '+') {
		*errstr = "invalid";
		return 0;
	}
	errno = 0;
	value = strtoll(numstr, &end, 10);
	if (end == numstr || *end != '\0') {
		*errstr = "invalid";
		return 0;
	}
	if ((value == LLONG_MIN && errno == ERANGE) || value < minval) {
		*errstr = "too small";
		return 0;
	}
	if ((value == LLONG_MAX && errno == ERANGE) || value > maxval) {
		*errstr = "too large";
		return 0;
	}
	return value;
}

int64_t
clock_monotonic_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

int64_t
clock_realtime_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

void
format_rfc3339(int64_t unix_seconds, char *out, size_t outlen)
{
	time_t t = (time_t)unix_seconds;
	struct tm tm;

	gmtime_r(&t, &tm);
	strftime(out, outlen, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

void
format_rfc3339_us(int64_t unix_us, char *out, size_t outlen)
{
	time_t t = (time_t)(unix_us / 1000000);
	struct tm tm;
	char whole[24];

	gmtime_r(&t, &tm);
	strftime(whole, sizeof(whole), "%Y-%m-%dT%H:%M:%S", &tm);
	snprintf(out, outlen, "%s.%06dZ", whole, (int)(unix_us % 1000000));
}

/* Days from 1970-01-01 to y-m-d of the proleptic Gregorian calendar. */
static int64_t
days_from_civil(int64_t y, int64_t m, int64_t d)
{
	int64_t era, yoe, doy, doe;

	y -= m <= 2;
	era = (y >= 0 ? y : y - 399) / 400;	/* floor: year 0's January */
	yoe = y - era * 400;
	doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
	doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return era * 146097 + doe - 719468;
}

/* n digits at *p, advanced past them; -1 unless all n are digits. */
static int64_t
digits(const char **p, int n)
{
	int64_t v = 0;

	for (; n > 0; n--, (*p)++) {
		if (**p < '0' || **p > '9')
			return -1;
		v = v * 10 + (**p - '0');
	}
	return v;
}

static int
month_days(int64_t y, int64_t m)
{
	static const int days[] = { 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31 };

	if (m == 2 && (y % 4 == 0 && (y % 100 != 0 || y % 400 == 0)))
		return 29;
	return days[m - 1];
}

static int
rfc3339_parse(const char *s, int64_t *unix_us, int before_epoch)
{
	int64_t y, mo, d, h, mi, sec, frac = 0, offset = 0, scale = 100000;
	const char *p = s;

	y = digits(&p, 4);
	if (y < (before_epoch ? 0 : 1970) || *p++ != '-' || (mo = digits(&p, 2)) < 1 || mo > 12 ||
	    *p++ != '-' || (d = digits(&p, 2)) < 1 || d > month_days(y, mo) ||
	    (*p != 'T' && *p != 't') || (p++, (h = digits(&p, 2)) < 0) || h > 23 ||
	    *p++ != ':' || (mi = digits(&p, 2)) < 0 || mi > 59 || *p++ != ':' ||
	    (sec = digits(&p, 2)) < 0 || sec > 60)
		return -1;
	if (*p == '.') {
		if (*++p < '0' || *p > '9')
			return -1;
		/* Beyond the microsecond, digits are read and dropped. */
		for (; *p >= '0' && *p <= '9'; p++, scale /= 10)
			frac += (*p - '0') * scale;
	}
	if (*p == 'Z' || *p == 'z') {
		p++;
	} else if (*p == '+' || *p == '-') {
		int sign = *p++ == '-' ? -1 : 1;
		int64_t oh = digits(&p, 2), om;

		if (oh < 0 || oh > 23 || *p++ != ':' || (om = digits(&p, 2)) < 0 ||
		    om > 59)
			return -1;
		offset = sign * (oh * 3600 + om * 60);
	} else {
		return -1;
	}
	if (*p != '\0')
		return -1;
	/* A leap second counts as the next second's first instant. */
	*unix_us = ((days_from_civil(y, mo, d) * 86400 + h * 3600 + mi * 60 +
	    sec - offset) * 1000000) + frac;
	return *unix_us < 0 && !before_epoch ? -1 : 0;
}

int
parse_rfc3339(const char *s, int64_t *unix_us)
{
	return rfc3339_parse(s, unix_us, 0);
}

int
parse_rfc3339_any(const char *s, int64_t *unix_us)
{
	return rfc3339_parse(s, unix_us, 1);
}

uint64_t
string_hash(const char *s)
{
	uint64_t h = 1469598103934665603ULL;

	for (; *s != '\0'; s++)
		h = (h ^ (unsigned char)*s) * 1099511628211ULL;
	return h;
}

size_t
utf8_sequence(const unsigned char *p, const unsigned char *end)
{
	unsigned cp, min;
	size_t n, i;

	if (p[0] < 0x80)
		return 1;
	if (p[0] >= 0xc2 && p[0] <= 0xdf)
		n = 2, cp = p[0] & 0x1f, min = 0x80;
	else if (p[0] >= 0xe0 && p[0] <= 0xef)
		n = 3, cp = p[0] & 0x0f, min = 0x800;
	else if (p[0] >= 0xf0 && p[0] <= 0xf4)
		n = 4, cp = p[0] & 0x07, min = 0x10000;
	else
		return 0;
	if ((size_t)(end - p) < n)
		return 0;
	for (i = 1; i < n; i++) {
		if ((p[i] & 0xc0) != 0x80)
			return 0;
		cp = cp << 6 | (p[i] & 0x3f);
	}
	if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
		return 0;
	return n;
}

int
random_bytes(void *buf, size_t len)
{
	unsigned char *p = buf;

	while (len > 0) {
		ssize_t n = getrandom(p, len, 0);

		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

int
random_hex(char *out, size_t len)
{
	static const char digits[] = "0123456789abcdef";
	unsigned char raw[64];
	size_t i;

	if (len > sizeof(raw) || random_bytes(raw, len) == -1)
		return -1;
	for (i = 0; i < len; i++) {
		out[2 * i] = digits[raw[i] >> 4];
		out[2 * i + 1] = digits[raw[i] & 0xf];
	}
	out[2 * len] = '\0';
	return 0;
}

int
hex_digit(unsigned char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

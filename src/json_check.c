/*
 * A strict RFC 8259 / RFC 3629 check of JSON text; see json_check.h.
 */
#include "config.h"

#include <ctype.h>
#include <stddef.h>
#include <string.h>

#include "json_check.h"
#include "util.h"

struct json_scan {
	const unsigned char	*p, *end;
	int			 depth;
	int			 max_depth;
	enum json_check		 err;
};

static int
scan_fail(struct json_scan *s, enum json_check err)
{
	if (s->err == JSON_CHECK_OK)
		s->err = err;
	return 0;
}

/* Length of the well-formed UTF-8 sequence at p, 0 if there is none. */
static size_t
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

static void
scan_ws(struct json_scan *s)
{
	while (s->p < s->end && (*s->p == ' ' || *s->p == '\t' ||
	    *s->p == '\n' || *s->p == '\r'))
		s->p++;
}

static int
scan_string(struct json_scan *s)
{
	s->p++;
	while (s->p < s->end) {
		unsigned c = *s->p;
		size_t n;

		if (c == '"') {
			s->p++;
			return 1;
		}
		if (c < 0x20)
			return scan_fail(s, JSON_CHECK_SYNTAX);
		if (c == '\\') {
			if (++s->p == s->end)
				break;
			if (*s->p == 'u') {
				for (n = 1; n <= 4; n++)
					if (s->p + n >= s->end || !isxdigit(s->p[n]))
						return scan_fail(s, JSON_CHECK_SYNTAX);
				s->p += 5;
			} else if (*s->p != '\0' && strchr("\"\\/bfnrt", *s->p) != NULL) {
				s->p++;
			} else {
				return scan_fail(s, JSON_CHECK_SYNTAX);
			}
			continue;
		}
		if ((n = utf8_sequence(s->p, s->end)) == 0)
			return scan_fail(s, JSON_CHECK_UTF8);
		s->p += n;
	}
	return scan_fail(s, JSON_CHECK_SYNTAX);
}

static int
scan_digits(struct json_scan *s)
{
	const unsigned char *start = s->p;

	while (s->p < s->end && *s->p >= '0' && *s->p <= '9')
		s->p++;
	return s->p > start;
}

static int
scan_number(struct json_scan *s)
{
	if (*s->p == '-')
		s->p++;
	if (s->p < s->end && *s->p == '0')
		s->p++;
	else if (!scan_digits(s))
		return scan_fail(s, JSON_CHECK_SYNTAX);
	if (s->p < s->end && *s->p == '.') {
		s->p++;
		if (!scan_digits(s))
			return scan_fail(s, JSON_CHECK_SYNTAX);
	}
	if (s->p < s->end && (*s->p == 'e' || *s->p == 'E')) {
		s->p++;
		if (s->p < s->end && (*s->p == '+' || *s->p == '-'))
			s->p++;
		if (!scan_digits(s))
			return scan_fail(s, JSON_CHECK_SYNTAX);
	}
	return 1;
}

static int scan_value(struct json_scan *s);

static int
scan_container(struct json_scan *s)
{
	int object = *s->p == '{';
	unsigned char close = object ? '}' : ']';

	if (++s->depth > s->max_depth)
		return scan_fail(s, JSON_CHECK_DEPTH);
	s->p++;
	scan_ws(s);
	if (s->p < s->end && *s->p == close) {
		s->p++;
		s->depth--;
		return 1;
	}
	for (;;) {
		if (object) {
			if (s->p == s->end || *s->p != '"' || !scan_string(s))
				return scan_fail(s, JSON_CHECK_SYNTAX);
			scan_ws(s);
			if (s->p == s->end || *s->p++ != ':')
				return scan_fail(s, JSON_CHECK_SYNTAX);
		}
		if (!scan_value(s))
			return 0;
		if (s->p == s->end)
			return scan_fail(s, JSON_CHECK_SYNTAX);
		if (*s->p == close) {
			s->p++;
			s->depth--;
			return 1;
		}
		if (*s->p++ != ',')
			return scan_fail(s, JSON_CHECK_SYNTAX);
		scan_ws(s);
	}
}

/* A value with the whitespace around it. */
static int
scan_value(struct json_scan *s)
{
	static const char *const literals[] = { "true", "false", "null" };
	size_t i, n;
	int ok = 0;

	scan_ws(s);
	if (s->p == s->end)
		return scan_fail(s, JSON_CHECK_SYNTAX);
	if (*s->p == '{' || *s->p == '[')
		ok = scan_container(s);
	else if (*s->p == '"')
		ok = scan_string(s);
	else if (*s->p == '-' || (*s->p >= '0' && *s->p <= '9'))
		ok = scan_number(s);
	else
		for (i = 0; i < ARRAY_SIZE(literals); i++) {
			n = strlen(literals[i]);
			if ((size_t)(s->end - s->p) >= n &&
			    memcmp(s->p, literals[i], n) == 0) {
				s->p += n;
				ok = 1;
				break;
			}
		}
	if (!ok)
		return scan_fail(s, JSON_CHECK_SYNTAX);
	scan_ws(s);
	return 1;
}

enum json_check
json_check(const char *text, size_t len, int max_depth)
{
	struct json_scan s;

	s.p = (const unsigned char *)text;
	s.end = s.p + len;
	s.depth = 0;
	s.max_depth = max_depth;
	s.err = JSON_CHECK_OK;

	if (scan_value(&s) && s.p != s.end)
		scan_fail(&s, JSON_CHECK_SYNTAX);
	return s.err;
}


/*
 * A strict RFC 8259 / RFC 3629 check of JSON text; see json_check.h.
 *
 * The scan keeps, per open container, the member name or the index it is
 * in, so that a refusal can name the field without a second pass; the
 * path is only written out when the check fails.
 */
#include "config.h"

#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include "base/buf.h"
#include "base/json_check.h"
#include "base/util.h"

/* Containers whose place is remembered; JSON_MAX_DEPTH is 64. */
#define FRAMES 64

struct frame {
	const unsigned char	*key;		/* object: after the name's '"' */
	size_t			 index;		/* array: the element's */
	int			 object;
	int			 started;	/* a member or element has begun */
};

struct json_scan {
	const unsigned char	*start, *p, *end;
	int			 depth;
	int			 max_depth;
	unsigned		 rules;
	enum json_check		 err;
	const unsigned char	*at;		/* where err was found */
	struct frame		 frames[FRAMES];
};

static int
scan_fail(struct json_scan *s, enum json_check err)
{
	if (s->err == JSON_CHECK_OK) {
		s->err = err;
		s->at = s->p;
	}
	return 0;
}

static void
scan_ws(struct json_scan *s)
{
	while (s->p < s->end && (*s->p == ' ' || *s->p == '\t' ||
	    *s->p == '\n' || *s->p == '\r'))
		s->p++;
}

/* At the 'u' of \uXXXX: the UTF-16 code unit, or -1 without four hex digits. */
static long
escape_unit(const unsigned char *u, const unsigned char *end)
{
	long unit = 0;
	int i, h;

	if (end - u < 5)
		return -1;
	for (i = 1; i <= 4; i++) {
		if ((h = hex_digit(u[i])) < 0)
			return -1;
		unit = unit << 4 | h;
	}
	return unit;
}

/* At the 'u': a code point, a surrogate pair being one, a lone half not. */
static int
scan_unicode_escape(struct json_scan *s)
{
	long unit = escape_unit(s->p, s->end), low;

	if (unit < 0)
		return scan_fail(s, JSON_CHECK_SYNTAX);
	if (unit == 0 && (s->rules & JSON_CHECK_NO_NUL))
		return scan_fail(s, JSON_CHECK_NUL);
	if (unit >= 0xdc00 && unit <= 0xdfff)
		return scan_fail(s, JSON_CHECK_UTF8);
	s->p += 5;
	if (unit >= 0xd800 && unit <= 0xdbff) {
		if (s->end - s->p < 6 || s->p[0] != '\\' || s->p[1] != 'u' ||
		    (low = escape_unit(s->p + 1, s->end)) < 0xdc00 || low > 0xdfff)
			return scan_fail(s, JSON_CHECK_UTF8);
		s->p += 6;
	}
	return 1;
}

static int
scan_string(struct json_scan *s)
{
	s->p++;
	while (s->p < s->end) {
		unsigned c;
		size_t n;

		/* Most of a body is plain ASCII text: through it in one loop. */
		while (s->p < s->end && *s->p >= 0x20 && *s->p < 0x80 &&
		    *s->p != '"' && *s->p != '\\')
			s->p++;
		if (s->p == s->end)
			break;
		if ((c = *s->p) == '"') {
			s->p++;
			return 1;
		}
		if (c < 0x20)
			return scan_fail(s, JSON_CHECK_SYNTAX);
		if (c == '\\') {
			if (++s->p == s->end)
				break;
			if (*s->p == 'u') {
				if (!scan_unicode_escape(s))
					return 0;
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

/* The digits at s->p; their count. */
static size_t
scan_digits(struct json_scan *s)
{
	const unsigned char *start = s->p;

	while (s->p < s->end && *s->p >= '0' && *s->p <= '9')
		s->p++;
	return (size_t)(s->p - start);
}

/* The parts of a number as written. */
struct number {
	const unsigned char	*integer, *fraction;
	size_t			 intlen, fraclen;	/* fraclen 0: no '.' */
	long long		 exponent;		/* saturated at ±1e9 */
	int			 negative, is_double;	/* as json-c decides */
};

/* Integers json-c keeps exactly: int64, or uint64 when positive; not -0. */
static int
integer_exact(const struct number *n)
{
	if (n->negative && n->intlen == 1 && n->integer[0] == '0')
		return 0;
	if (n->intlen < 19)
		return 1;
	if (n->negative)
		return n->intlen == 19 &&
		    memcmp(n->integer, "9223372036854775808", 19) <= 0;
	return n->intlen == 19 || (n->intlen == 20 &&
	    memcmp(n->integer, "18446744073709551615", 20) <= 0);
}

/*
 * 2^1024 - 2^970, halfway between DBL_MAX and 2^1024: strtod (and so json-c)
 * reads a number of this magnitude or more as infinity.
 */
static const char double_limit[] =
    "17976931348623158079372897140530341507993413271003782693617377898044"
    "49682927647509466490179775872070963302864166928879109465555478519404"
    "02630657488671505820681908902000708383676273854845817711531764475730"
    "27006985557136695962284291481986083493647529271907416844436551070434"
    "2711559699508093042880177904174497792";

/* The significant digits from d (then from e when d runs out) against the limit. */
static int
below_limit(const unsigned char *d, size_t dlen, const unsigned char *e,
    size_t elen)
{
	size_t i;
	int c;

	for (i = 0; i < sizeof(double_limit) - 1; i++) {
		if (i < dlen)
			c = d[i];
		else if (i - dlen < elen)
			c = e[i - dlen];
		else
			return 1;	/* the limit's last digit is not 0 */
		if (c != double_limit[i])
			return c < double_limit[i];
	}
	return 0;
}

/* Does the number read as a finite double? Underflow to 0 is fine. */
static int
double_finite(const struct number *n)
{
	long long magnitude;	/* the value is 0.ddd × 10^magnitude */
	size_t zeros = 0;

	if (n->integer[0] != '0') {
		magnitude = (long long)n->intlen + n->exponent;
		if (magnitude != 309)
			return magnitude < 309;
		return below_limit(n->integer, n->intlen, n->fraction, n->fraclen);
	}
	while (zeros < n->fraclen && n->fraction[zeros] == '0')
		zeros++;
	if (zeros == n->fraclen)
		return 1;
	magnitude = n->exponent - (long long)zeros;
	if (magnitude != 309)
		return magnitude < 309;
	return below_limit(n->fraction + zeros, n->fraclen - zeros, NULL, 0);
}

static int
scan_exponent(struct json_scan *s, struct number *n)
{
	const unsigned char *digits;
	int negative = 0;

	s->p++;
	if (s->p < s->end && (*s->p == '+' || *s->p == '-'))
		negative = *s->p++ == '-';
	digits = s->p;
	if (scan_digits(s) == 0)
		return scan_fail(s, JSON_CHECK_SYNTAX);
	for (; digits < s->p; digits++)
		if (n->exponent < 1000000000)
			n->exponent = n->exponent * 10 + (*digits - '0');
	if (negative)
		n->exponent = -n->exponent;
	return 1;
}

static int
scan_number(struct json_scan *s)
{
	const unsigned char *start = s->p;
	struct number n;

	memset(&n, 0, sizeof(n));
	if ((n.negative = *s->p == '-'))
		s->p++;
	n.integer = s->p;
	if (s->p < s->end && *s->p == '0')
		s->p++;
	else if (scan_digits(s) == 0)
		return scan_fail(s, JSON_CHECK_SYNTAX);
	n.intlen = (size_t)(s->p - n.integer);
	if (s->p < s->end && *s->p == '.') {
		s->p++;
		n.fraction = s->p;
		n.is_double = 1;
		if ((n.fraclen = scan_digits(s)) == 0)
			return scan_fail(s, JSON_CHECK_SYNTAX);
	}
	if (s->p < s->end && (*s->p == 'e' || *s->p == 'E')) {
		n.is_double = 1;
		if (!scan_exponent(s, &n))
			return 0;
	}
	if (n.is_double ? (s->rules & JSON_CHECK_FINITE) && !double_finite(&n) :
	    (s->rules & JSON_CHECK_INT_EXACT) && !integer_exact(&n)) {
		s->p = start;
		return scan_fail(s, JSON_CHECK_NUMBER);
	}
	return 1;
}

static int scan_value(struct json_scan *s);

/* The container's place for the field path; NULL past FRAMES. */
static struct frame *
frame_open(struct json_scan *s, int object)
{
	struct frame *f;

	if (s->depth > FRAMES)
		return NULL;
	f = &s->frames[s->depth - 1];
	f->object = object;
	f->started = 0;
	f->index = 0;
	return f;
}

static int
scan_container(struct json_scan *s)
{
	int object = *s->p == '{';
	unsigned char close = object ? '}' : ']';
	struct frame *f;

	s->depth++;
	f = frame_open(s, object);
	if (s->depth > s->max_depth)
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
			if (s->p == s->end || *s->p != '"')
				return scan_fail(s, JSON_CHECK_SYNTAX);
			if (f != NULL)
				f->key = s->p + 1;
		}
		if (f != NULL)
			f->started = 1;
		if (object) {
			if (!scan_string(s))
				return 0;
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
		if (f != NULL)
			f->index++;
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

/* Append s[0..len) to out, always NUL-terminated, cut to fit. */
static void
path_append(char *out, size_t *used, const void *s, size_t len)
{
	size_t room = JSON_CHECK_PATH_MAX - 1 - *used;

	if (len > room)
		len = room;
	memcpy(out + *used, s, len);
	*used += len;
	out[*used] = '\0';
}

/* A member name from just after its opening quote to its closing one. */
static size_t
name_length(const unsigned char *name, const unsigned char *end)
{
	const unsigned char *p = name;

	while (p < end && *p != '"')
		p += *p == '\\' && p + 1 < end ? 2 : 1;
	return (size_t)(p - name);
}

/* The path of the member the scan stopped in. */
static void
path_write(const struct json_scan *s, char *out)
{
	const struct frame *f;
	char index[32];
	size_t used = 0;
	int i, n = s->depth < FRAMES ? s->depth : FRAMES;

	out[0] = '\0';
	for (i = 0; i < n && s->frames[i].started; i++) {
		f = &s->frames[i];
		if (f->object) {
			if (used > 0)
				path_append(out, &used, ".", 1);
			path_append(out, &used, f->key, name_length(f->key, s->end));
		} else {
			snprintf(index, sizeof(index), "[%zu]", f->index);
			path_append(out, &used, index, strlen(index));
		}
	}
}

enum json_check
json_check_ex(const char *text, size_t len, int max_depth, unsigned rules,
    struct json_check_where *where)
{
	struct json_scan s;

	s.start = s.p = (const unsigned char *)text;
	s.end = s.p + len;
	s.depth = 0;
	s.max_depth = max_depth;
	s.rules = rules;
	s.err = JSON_CHECK_OK;
	s.at = s.p;

	if (scan_value(&s) && s.p != s.end)
		scan_fail(&s, JSON_CHECK_SYNTAX);
	if (where != NULL && s.err != JSON_CHECK_OK) {
		where->offset = (size_t)(s.at - s.start);
		path_write(&s, where->path);
	}
	return s.err;
}

enum json_check
json_check(const char *text, size_t len, int max_depth)
{
	return json_check_ex(text, len, max_depth, 0, NULL);
}

/* At the '\\' of a \u escape: 6 for a lone surrogate, 12 for a pair, else 0. */
static size_t
surrogate_escape(const unsigned char *p, const unsigned char *end)
{
	long unit = escape_unit(p + 1, end), low;

	if (unit >= 0xdc00 && unit <= 0xdfff)
		return 6;
	if (unit < 0xd800 || unit > 0xdbff)
		return 0;
	if (end - p >= 12 && p[6] == '\\' && p[7] == 'u' &&
	    (low = escape_unit(p + 7, end)) >= 0xdc00 && low <= 0xdfff)
		return 12;
	return 6;
}

void
json_repair_utf8(const char *text, size_t len, struct buf *out)
{
	const unsigned char *p = (const unsigned char *)text, *end = p + len;
	const unsigned char *run = p;
	size_t n;

	while (p < end) {
		if (*p == '\\' && end - p >= 2) {
			n = p[1] == 'u' ? surrogate_escape(p, end) : 0;
			if (n == 6) {
				buf_append(out, run, (size_t)(p - run));
				buf_puts(out, "\\ufffd");
				run = p + n;
			}
			p += n == 0 ? 2 : n;
		} else if (*p < 0x80) {
			p++;
		} else if ((n = utf8_sequence(p, end)) == 0) {
			buf_append(out, run, (size_t)(p - run));
			buf_append(out, "\xef\xbf\xbd", 3);
			run = ++p;
		} else {
			p += n;
		}
	}
	buf_append(out, run, (size_t)(p - run));
}

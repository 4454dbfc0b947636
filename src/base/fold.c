/*
 * Case folding; see fold.h.
 */
#include "config.h"

#include <locale.h>
#include <wctype.h>

#include "base/buf.h"
#include "base/fold.h"
#include "base/log.h"
#include "base/util.h"

/*
 * The C.UTF-8 locale, made once per process, never installed: the
 * process's own locale (json-c is sensitive to LC_NUMERIC) stays as it is.
 */
static locale_t
fold_locale(void)
{
	static locale_t utf8;
	static int tried;

	if (!tried) {
		tried = 1;
		utf8 = newlocale(LC_CTYPE_MASK, "C.UTF-8", (locale_t)0);
		if (utf8 == (locale_t)0)
			log_warn("the C.UTF-8 locale is missing: user search folds "
			    "only ASCII letters (install libc-bin's C.utf8)");
	}
	return utf8;
}

static unsigned
decode(const unsigned char *p, size_t n)
{
	static const unsigned char lead_mask[] = { 0, 0x7f, 0x1f, 0x0f, 0x07 };
	unsigned cp = p[0] & lead_mask[n];
	size_t i;

	for (i = 1; i < n; i++)
		cp = cp << 6 | (p[i] & 0x3f);
	return cp;
}

static void
encode(struct buf *out, unsigned cp)
{
	char s[4];

	if (cp < 0x80) {
		buf_putc(out, (char)cp);
	} else if (cp < 0x800) {
		s[0] = (char)(0xc0 | cp >> 6);
		s[1] = (char)(0x80 | (cp & 0x3f));
		buf_append(out, s, 2);
	} else if (cp < 0x10000) {
		s[0] = (char)(0xe0 | cp >> 12);
		s[1] = (char)(0x80 | (cp >> 6 & 0x3f));
		s[2] = (char)(0x80 | (cp & 0x3f));
		buf_append(out, s, 3);
	} else {
		s[0] = (char)(0xf0 | cp >> 18);
		s[1] = (char)(0x80 | (cp >> 12 & 0x3f));
		s[2] = (char)(0x80 | (cp >> 6 & 0x3f));
		s[3] = (char)(0x80 | (cp & 0x3f));
		buf_append(out, s, 4);
	}
}

void
fold_append(struct buf *out, const char *s, size_t len)
{
	const unsigned char *p = (const unsigned char *)s, *end = p + len;
	locale_t utf8 = fold_locale();
	size_t n;

	while (p < end) {
		if (*p < 0x80) {
			buf_putc(out, (char)(*p >= 'A' && *p <= 'Z' ? *p + 32 : *p));
			p++;
			continue;
		}
		if ((n = utf8_sequence(p, end)) == 0 || utf8 == (locale_t)0) {
			n = n == 0 ? 1 : n;
			buf_append(out, p, n);
		} else {
			wint_t lower = towlower_l((wint_t)decode(p, n), utf8);

			/* Never a surrogate or beyond Unicode, whatever the table says. */
			if (lower > 0x10ffff || (lower >= 0xd800 && lower <= 0xdfff))
				buf_append(out, p, n);
			else
				encode(out, (unsigned)lower);
		}
		p += n;
	}
}

size_t
utf8_count(const char *s, size_t len)
{
	const unsigned char *p = (const unsigned char *)s, *end = p + len;
	size_t count = 0, n;

	for (; p < end; p += n ? n : 1, count++)
		n = utf8_sequence(p, end);
	return count;
}

/*
 * What flag.c, flag_criteria.c, flag_value.c and eval.c share and nobody
 * else needs: the error collector, criteria parsing and printing, and the
 * value rules that both the write-time checks and the evaluation must agree
 * on (which strings are numbers, what a semantic version is).
 */
#ifndef DYNCONF_FLAG_IMPL_H
#define DYNCONF_FLAG_IMPL_H

#include <stddef.h>
#include <stdint.h>

#include "model/flag.h"

/* Add an error for the field named by fmt (truncated to fit); count caps at
 * FLAG_MAX_ERRORS. unknown marks an unknown field. */
void	flag_error(struct flag_errors *errors, int unknown, const char *message,
	    const char *fmt, ...) __attribute__((format(printf, 4, 5)));

/*
 * Parse the criteria object obj (path names it in errors) into *criteria,
 * counting conditions against *budget. Returns 0 or -1 (errors added;
 * *criteria holds what was parsed and must still be freed).
 */
int	flag_criteria_parse(struct json_object *obj, const char *path,
	    struct flag_criteria *criteria, size_t *budget,
	    struct flag_errors *errors);
void	flag_criteria_free(struct flag_criteria *criteria);

/* The criteria as JSON (a new object); see flag_criteria.c for the form. */
struct json_object *flag_criteria_to_json(const struct flag_criteria *criteria);

/*
 * A number from JSON: an integer stays exact, anything else is a finite
 * double. flag_number_get accepts JSON numbers and strings that are JSON
 * number texts ("42", "-1.5e3"); it returns 0 for anything else.
 */
struct flag_number {
	int	 is_int;
	int64_t	 i;
	double	 d;
};

int	flag_number_get(struct json_object *value, struct flag_number *n);
int	flag_number_cmp(const struct flag_number *a, const struct flag_number *b);

/*
 * A semantic version (semver.org 2.0), pointing into the parsed text:
 * MAJOR.MINOR.PATCH[-prerelease][+build], an optional leading "v".
 */
struct flag_semver {
	const char	*part[3];	/* major, minor, patch digits */
	size_t		 partlen[3];
	const char	*pre;		/* NULL: a release */
	size_t		 prelen;
};

int	flag_semver_parse(const char *s, size_t len, struct flag_semver *v);
int	flag_semver_cmp(const struct flag_semver *a, const struct flag_semver *b);

#endif

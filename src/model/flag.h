/*
 * The feature flag document (API.md §5), validated field by field into a
 * struct before any handler logic sees it: unknown fields are refused with
 * the field named, operators are checked, regexes are compiled at write
 * time (a bad one is a 400, never a failure at evaluation), variant weights
 * must be non-negative with a positive sum.
 *
 * The stored form (the etcd value) is the flag's JSON without "revision":
 * the revision is etcd's mod_revision of the key.
 */
#ifndef DYNCONF_FLAG_H
#define DYNCONF_FLAG_H

#include <regex.h>
#include <stddef.h>
#include <stdint.h>

struct json_object;

enum flag_op {
	FLAG_OP_EQ, FLAG_OP_NE, FLAG_OP_GT, FLAG_OP_GTE, FLAG_OP_LT, FLAG_OP_LTE,
	FLAG_OP_IN, FLAG_OP_NOT_IN, FLAG_OP_CONTAINS, FLAG_OP_NOT_CONTAINS,
	FLAG_OP_STARTS_WITH, FLAG_OP_ENDS_WITH, FLAG_OP_REGEX, FLAG_OP_EXISTS,
	FLAG_OP_SEMVER_GT, FLAG_OP_SEMVER_LT,
};

/* One attribute test; a criteria object is a list of them, all must hold. */
struct flag_condition {
	char			*attribute;	/* "a.b" reads nested context objects */
	enum flag_op		 op;
	struct json_object	*operand;	/* owned reference */
	regex_t			*regex;		/* FLAG_OP_REGEX: compiled (REG_EXTENDED) */
};

struct flag_criteria {
	struct flag_condition	*conditions;
	size_t			 count;
};

struct flag_variant {
	char			*name;
	struct json_object	*value;		/* owned reference */
	double			 weight;
};

struct flag_rule {
	char			**segments;	/* names; all must match (segment.h) */
	size_t			 nsegments;
	struct flag_criteria	 criteria;
	int			 has_value;
	struct json_object	*value;		/* owned; may be NULL for JSON null */
	struct flag_variant	*variants;
	size_t			 nvariants;
};

struct flag {
	char			*key;
	char			*description;
	int			 enabled;
	int			 has_criteria;	/* criteria present and not null */
	struct flag_criteria	 criteria;
	int			 has_value;
	struct json_object	*value;
	int			 has_default;
	struct json_object	*default_value;
	struct flag_variant	*variants;
	size_t			 nvariants;
	struct flag_rule	*rules;
	size_t			 nrules;
	char			 created_at[32];	/* RFC 3339, "" when unknown */
	char			 updated_at[32];
};

/* The limits of a flag document and of an evaluation (API.md §5). */
#define FLAG_MAX_VARIANTS	100
#define FLAG_MAX_RULES		100
#define FLAG_MAX_CONDITIONS	1000	/* over the whole flag */
#define FLAG_REGEX_COST		50	/* conditions a regex counts for: <= 20 a flag */
#define FLAG_MAX_ATTRIBUTE	256	/* bytes of an attribute path */
#define FLAG_MAX_REGEX		1024	/* bytes of a regex operand */
#define FLAG_MAX_REGEX_SIZE	512	/* a regex's size with repetitions expanded */
#define FLAG_MAX_REGEX_SUBJECT	4096	/* bytes of a context string (400 beyond) */
#define FLAG_MAX_SEMVER		256	/* bytes of a version string */
#define FLAG_MAX_SEGMENTS	16	/* segments a rule names, and a flag in all */

#define FLAG_MAX_ERRORS 16

/* What was wrong with a document: field paths like "rules[1].criteria.age". */
struct flag_errors {
	struct {
		char	field[128];
		char	message[160];
	}		 items[FLAG_MAX_ERRORS];
	size_t		 count;
	int		 unknown_field;	/* one of them is an unknown field */
};

/*
 * Validate doc into *flag (zeroed first; free with flag_free even on error).
 * key is the flag key from the path; a "key" field in the body must equal
 * it. Accepted but ignored: "revision", "created_at", "updated_at" (the
 * server owns them). Returns 0, or -1 with errors filled.
 */
int	flag_parse(struct json_object *doc, const char *key, struct flag *flag,
	    struct flag_errors *errors);
void	flag_free(struct flag *flag);

/*
 * The flag as JSON: the stored form, plus "revision" when revision > 0.
 * A new object the caller puts.
 */
struct json_object *flag_to_json(const struct flag *flag, int64_t revision);

/*
 * The distinct segment names the flag's rules use, at most FLAG_MAX_SEGMENTS
 * into names[]; returns how many.
 */
size_t	flag_segments(const struct flag *flag, const char **names);

/* Does the flag name segment in any rule? */
int	flag_uses_segment(const struct flag *flag, const char *segment);

/* Does any rule or the flag itself split over variants? */
int	flag_has_variants(const struct flag *flag);

#endif

/*
 * Flag evaluation (API.md §5): pure code, no I/O. The same flag, context
 * and revision give the same answer on every node, every time.
 *
 *  1. enabled false: default, DISABLED.
 *  2. the first rule whose criteria match: its value (or a variant of its
 *     variants), TARGETING_MATCH.
 *  3. no top-level criteria, or matching ones: value (STATIC without
 *     criteria, TARGETING_MATCH with), or with variants a variant picked by a
 *     stable hash of flag key + targetingKey over the weights, SPLIT (no
 *     targetingKey: the first variant, DEFAULT).
 *  4. otherwise default, DEFAULT. A flag without default has no value there.
 */
#ifndef DYNCONF_EVAL_H
#define DYNCONF_EVAL_H

#include "model/flag.h"

enum eval_reason {
	EVAL_STATIC,
	EVAL_TARGETING_MATCH,
	EVAL_SPLIT,
	EVAL_DEFAULT,
	EVAL_DISABLED,
};

struct eval_result {
	int			 has_value;	/* 0: the caller's default applies */
	struct json_object	*value;		/* borrowed from the flag; NULL is JSON null */
	const char		*variant;	/* borrowed; NULL when none */
	enum eval_reason	 reason;
};

/*
 * Where a rule's segments are found: the criteria of segment name, or NULL
 * when there is no such segment (the rule then does not match). The
 * criteria need only stay valid until the next call.
 */
typedef const struct flag_criteria *eval_segment_fn(void *arg, const char *name);

struct eval_segments {
	eval_segment_fn	*lookup;
	void		*arg;
};

/*
 * Evaluate flag for context (a JSON object with "targetingKey" and
 * attributes, or NULL for an empty context). A rule naming segments
 * matches when each segment's criteria and its own hold; without segments
 * (NULL) it never matches.
 */
void	eval_flag_in(const struct flag *flag, struct json_object *context,
	    const struct eval_segments *segments, struct eval_result *result);
/* The same without segments. */
void	eval_flag(const struct flag *flag, struct json_object *context,
	    struct eval_result *result);

/* "STATIC", "TARGETING_MATCH", "SPLIT", "DEFAULT", "DISABLED". */
const char *eval_reason_name(enum eval_reason reason);

/*
 * Does the criteria hold for context? Exposed for the tests and for rules.
 */
int	eval_criteria(const struct flag_criteria *criteria, struct json_object *context);

/*
 * The bucket in [0, 1) that flag key + targeting key hash to (SHA-256):
 * stable across nodes, processes and restarts.
 */
double	eval_bucket(const char *flag_key, const char *targeting_key);

#endif

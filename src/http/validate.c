/*
 * Request input checked against the route's declaration; see validate.h.
 * Every bad parameter and field is collected first, then one 400 names
 * them all, so a client fixes its request in one round trip.
 */
#include "config.h"

#include <string.h>

#include <json-c/json.h>

#include "base/log.h"
#include "base/util.h"
#include "http/router.h"
#include "http/validate.h"
#include "model/keys.h"

#define MAX_ERRORS 16

struct problems {
	struct field_error	 items[MAX_ERRORS];
	size_t			 count;
	int			 names;		/* how many are bad names */
	int			 unknown;	/* how many are unknown fields */
};

static void
problem(struct problems *p, const char *field, const char *message)
{
	if (p->count < MAX_ERRORS) {
		p->items[p->count].field = field;
		p->items[p->count].message = message;
	}
	p->count++;
}

static size_t
spec_count(const struct param_spec *spec)
{
	size_t n = 0;

	while (spec != NULL && spec[n].name != NULL)
		n++;
	return n;
}

int
since_parse(const char *text, int64_t *revision, int64_t *time_us)
{
	const char *errstr;

	*revision = *time_us = 0;
	if (text[0] != '\0' && strspn(text, "0123456789") == strlen(text)) {
		*revision = strtonum(text, 0, INT64_MAX, &errstr);
		return errstr == NULL ? 0 : -1;
	}
	/* Any time is one (API.md §14); every row is after one before 1970. */
	if (parse_rfc3339_any(text, time_us) == -1)
		return -1;
	if (*time_us < 0)
		*time_us = 0;
	return 0;
}

/* A query value of spec's type into *arg; NULL, or why it is refused. */
static const char *
query_value(const struct param_spec *spec, const char *value, struct arg *arg)
{
	const char *errstr = NULL;
	size_t len = strlen(value);

	arg->text = value;
	switch (spec->type) {
	case SPEC_BOOL:
		if (strcmp(value, "true") == 0 || strcmp(value, "1") == 0)
			arg->boolean = 1;
		else if (strcmp(value, "false") == 0 || strcmp(value, "0") == 0)
			arg->boolean = 0;
		else
			return "must be true, false, 1 or 0";
		return NULL;
	case SPEC_INT:
		arg->number = strtonum(value, spec->min, spec->max, &errstr);
		return errstr == NULL ? NULL : "must be a whole number in range";
	case SPEC_NAME:
		return name_valid(value) ? NULL :
		    "must match [A-Za-z0-9][A-Za-z0-9._-]{0,127}";
	case SPEC_STRING:
		if ((long long)len < spec->min)
			return len == 0 ? "must not be empty" : "too short";
		if (spec->max > 0 && (long long)len > spec->max)
			return "too long";
		return NULL;
	case SPEC_SINCE: {
		int64_t revision, time_us;

		if (spec->max > 0 && (long long)len > spec->max)
			return "too long";
		return since_parse(value, &revision, &time_us) == 0 ? NULL :
		    "must be a revision (a whole number) or an RFC 3339 time "
		    "such as 2026-11-22T10:00:00Z";
	}
	case SPEC_OBJECT:
	case SPEC_ARRAY:
	case SPEC_ANY:
		break;
	}
	return "cannot be given in the query";
}

static void
check_query(struct exchange *ex, struct problems *p)
{
	const struct param_spec *spec = ex->route->query;
	size_t i, n = spec_count(spec);

	ex->query_args = arena_alloc(&ex->arena, sizeof(struct arg) * (n ? n : 1));
	for (i = 0; i < n; i++) {
		const char *value = query_get(ex, spec[i].name), *why;

		if (value == NULL) {
			if (spec[i].flags & SPEC_REQUIRED)
				problem(p, spec[i].name, "required");
			continue;
		}
		ex->query_args[i].present = 1;
		if ((why = query_value(&spec[i], value, &ex->query_args[i])) != NULL) {
			problem(p, spec[i].name, why);
			p->names += spec[i].type == SPEC_NAME;
		}
	}
}

static int
json_is_number(struct json_object *v)
{
	return json_object_is_type(v, json_type_int) ||
	    json_object_is_type(v, json_type_double);
}

/* A body member of spec's type into *arg; NULL, or why it is refused. */
static const char *
body_value(const struct param_spec *spec, struct json_object *v, struct arg *arg)
{
	size_t len;

	arg->json = v;
	switch (spec->type) {
	case SPEC_ANY:
		return NULL;
	case SPEC_OBJECT:
		return json_object_is_type(v, json_type_object) ? NULL :
		    "must be a JSON object";
	case SPEC_ARRAY:
		if (!json_object_is_type(v, json_type_array))
			return "must be an array";
		len = json_object_array_length(v);
		if ((long long)len < spec->min || (spec->max > 0 &&
		    (long long)len > spec->max))
			return "has too few or too many items";
		return NULL;
	case SPEC_BOOL:
		if (!json_object_is_type(v, json_type_boolean))
			return "must be true or false";
		arg->boolean = json_object_get_boolean(v);
		return NULL;
	case SPEC_INT:
		/* A uint64 above INT64_MAX reads as INT64_MAX: out of any range. */
		if (!json_object_is_type(v, json_type_int) ||
		    json_object_get_uint64(v) > INT64_MAX)
			return json_is_number(v) ? "must be a whole number in range" :
			    "must be a whole number";
		arg->number = json_object_get_int64(v);
		return arg->number < spec->min || arg->number > spec->max ?
		    "must be a whole number in range" : NULL;
	case SPEC_SINCE:
		break;
	case SPEC_STRING:
	case SPEC_NAME:
		if (!json_object_is_type(v, json_type_string))
			return "must be a string";
		arg->text = json_object_get_string(v);
		len = (size_t)json_object_get_string_len(v);
		if (spec->type == SPEC_NAME)
			return name_valid(arg->text) ? NULL :
			    "must match [A-Za-z0-9][A-Za-z0-9._-]{0,127}";
		if ((long long)len < spec->min)
			return len == 0 ? "must not be empty" : "too short";
		return spec->max > 0 && (long long)len > spec->max ? "too long" : NULL;
	}
	return "unexpected";
}

static int
declared(const struct param_spec *spec, const char *name)
{
	size_t i;

	for (i = 0; spec != NULL && spec[i].name != NULL; i++)
		if (strcmp(spec[i].name, name) == 0)
			return 1;
	return 0;
}

int
validate_declares(const struct route *route, const char *name)
{
	return declared(route->query, name) || declared(route->body, name);
}

/*
 * The members of the body's top-level object, counted in its text: json-c
 * keeps only the last of repeated names, so {"scopes": [...], "scopes":
 * [...]} would mean whichever came last, and a proxy reading the first
 * would see another request. The text passed json_check.
 */
static size_t
body_members(const char *s, size_t len)
{
	const char *end = s + len;
	size_t depth = 0, members = 0;
	int in_string = 0;

	for (; s < end; s++) {
		if (in_string) {
			if (*s == '\\' && s + 1 < end)
				s++;
			else if (*s == '"')
				in_string = 0;
			continue;
		}
		if (*s == '"') {
			in_string = 1;
			if (depth == 1 && members == 0)
				members = 1;
		} else if (*s == '{' || *s == '[') {
			depth++;
		} else if (*s == '}' || *s == ']') {
			depth--;
		} else if (*s == ',' && depth == 1) {
			members++;
		}
	}
	return members;
}

static void
check_body(struct exchange *ex, struct problems *p)
{
	const struct param_spec *spec = ex->route->body;
	size_t i, n = spec_count(spec);

	ex->body_args = arena_alloc(&ex->arena, sizeof(struct arg) * (n ? n : 1));
	/* No body at all is an empty object (a POST evaluate with no context). */
	if (ex->json == NULL && ex->body_len == 0 &&
	    (ex->route->flags & ROUTE_BODY_OPTIONAL))
		return;
	if (!json_object_is_type(ex->json, json_type_object)) {
		problem(p, "body", "must be a JSON object");
		return;
	}
	if (body_members(ex->body, ex->body_len) !=
	    (size_t)json_object_object_length(ex->json)) {
		problem(p, "body", "a field is given more than once");
		return;
	}
	if (!(ex->route->flags & ROUTE_OPEN_BODY)) {
		json_object_object_foreach(ex->json, name, member) {
			(void)member;
			if (!declared(spec, name)) {
				problem(p, arena_strdup(&ex->arena, name), "unknown field");
				p->unknown++;
			}
		}
	}
	for (i = 0; i < n; i++) {
		struct json_object *v = NULL;
		const char *why;
		int sent = json_object_object_get_ex(ex->json, spec[i].name, &v);

		if (sent && v == NULL && (spec[i].flags & SPEC_NULLABLE))
			sent = 0;
		if (!sent) {
			if (spec[i].flags & SPEC_REQUIRED)
				problem(p, spec[i].name, "required");
			continue;
		}
		ex->body_args[i].present = 1;
		why = body_value(&spec[i], v, &ex->body_args[i]);
		if (why == NULL && ex->route->body_check != NULL)
			why = ex->route->body_check(spec[i].name, v);
		if (why != NULL) {
			problem(p, spec[i].name, why);
			p->names += spec[i].type == SPEC_NAME &&
			    json_object_is_type(v, json_type_string);
		}
	}
}

/* One code for the lot: the most specific one that covers every problem. */
static const char *
problems_code(const struct exchange *ex, const struct problems *p, int in_query)
{
	if (p->unknown > 0)
		return "unknown_field";	/* a typo first: it may explain the rest */
	if (p->names == (int)p->count)
		return "invalid_key";
	if (in_query)
		return "invalid_query";
	return ex->route->invalid_code != NULL ? ex->route->invalid_code :
	    "validation_failed";
}

int
validate_request(struct exchange *ex)
{
	struct problems query, body;
	size_t shown;

	memset(&query, 0, sizeof(query));
	memset(&body, 0, sizeof(body));
	check_query(ex, &query);
	/* A body route that declares no fields takes any JSON (the tests' own). */
	if ((ex->route->flags & ROUTE_JSON_BODY) && ex->route->body != NULL)
		check_body(ex, &body);
	if (query.count == 0 && body.count == 0)
		return 0;
	/* The query's problems first: they are the cheaper to fix. */
	if (query.count > 0) {
		shown = query.count < MAX_ERRORS ? query.count : MAX_ERRORS;
		respond_invalid(ex, problems_code(ex, &query, 1), arena_printf(&ex->arena,
		    "the query is not valid: %s %s", query.items[0].field,
		    query.items[0].message), query.items, shown);
		return -1;
	}
	shown = body.count < MAX_ERRORS ? body.count : MAX_ERRORS;
	respond_invalid(ex, problems_code(ex, &body, 0), arena_printf(&ex->arena,
	    "the body is not valid: %s %s", body.items[0].field,
	    body.items[0].message), body.items, shown);
	return -1;
}

/* Which list holds name, and where; NULL when neither declares it. */
static const struct arg *
find_arg(const struct exchange *ex, const char *name)
{
	const struct param_spec *spec;
	size_t i;

	for (i = 0, spec = ex->route->query; spec != NULL && spec[i].name != NULL; i++)
		if (strcmp(spec[i].name, name) == 0)
			return ex->query_args != NULL ? &ex->query_args[i] : NULL;
	for (i = 0, spec = ex->route->body; spec != NULL && spec[i].name != NULL; i++)
		if (strcmp(spec[i].name, name) == 0)
			return ex->body_args != NULL ? &ex->body_args[i] : NULL;
	log_error("route %s %s reads %s, which it does not declare",
	    http_method_name(ex->route->method), ex->route->pattern, name);
	return NULL;
}

const struct arg *
arg_get(const struct exchange *ex, const char *name)
{
	const struct arg *arg = find_arg(ex, name);

	return arg != NULL && arg->present ? arg : NULL;
}

const char *
arg_text(const struct exchange *ex, const char *name, const char *absent)
{
	const struct arg *arg = arg_get(ex, name);

	return arg != NULL ? arg->text : absent;
}

long long
arg_int(const struct exchange *ex, const char *name, long long absent)
{
	const struct arg *arg = arg_get(ex, name);

	return arg != NULL ? arg->number : absent;
}

int
arg_bool(const struct exchange *ex, const char *name, int absent)
{
	const struct arg *arg = arg_get(ex, name);

	return arg != NULL ? arg->boolean : absent;
}

struct json_object *
arg_json(const struct exchange *ex, const char *name)
{
	const struct arg *arg = arg_get(ex, name);

	return arg != NULL ? arg->json : NULL;
}

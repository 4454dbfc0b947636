/*
 * User documents; see user_doc.h.
 */
#include "config.h"

#include <string.h>

#include <json-c/json.h>

#include "base/arena.h"
#include "base/fold.h"
#include "store/user_doc.h"

const char *
user_name_problem(struct json_object *v)
{
	size_t len, chars;

	if (!json_object_is_type(v, json_type_string))
		return "must be a string";
	len = (size_t)json_object_get_string_len(v);
	if (len == 0)
		return "must not be empty";
	chars = utf8_count(json_object_get_string(v), len);
	return chars > USER_NAME_MAX ? "must be at most 200 characters" : NULL;
}

/* atext of RFC 5322, as HTML's valid e-mail address takes it (dots too). */
static int
local_char(unsigned char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	    (c >= '0' && c <= '9') || (c != '\0' && strchr(".!#$%&'*+/=?^_`{|}~-", c));
}

static int
label_char(unsigned char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	    (c >= '0' && c <= '9') || c == '-';
}

/* Labels of 1 to 63 letters, digits and hyphens, no hyphen at either end. */
static int
domain_valid(const char *p, const char *end)
{
	const char *label = p;

	for (;; p++) {
		if (p == end || *p == '.') {
			size_t n = (size_t)(p - label);

			if (n == 0 || n > 63 || label[0] == '-' || p[-1] == '-')
				return 0;
			if (p == end)
				return 1;
			label = p + 1;
		} else if (!label_char((unsigned char)*p)) {
			return 0;
		}
	}
}

int
user_email_valid(const char *s, size_t len)
{
	const char *at = memchr(s, '@', len), *p;

	if (len > USER_EMAIL_MAX || at == NULL || at == s || at - s > 64)
		return 0;
	for (p = s; p < at; p++)
		if (!local_char((unsigned char)*p))
			return 0;
	return domain_valid(at + 1, s + len);
}

const char *
user_email_problem(struct json_object *v)
{
	if (!json_object_is_type(v, json_type_string))
		return "must be a string";
	if ((size_t)json_object_get_string_len(v) > USER_EMAIL_MAX)
		return "must be at most 254 bytes";
	return user_email_valid(json_object_get_string(v),
	    (size_t)json_object_get_string_len(v)) ? NULL :
	    "must be an email address (name@example.com)";
}

const char *
user_age_problem(struct json_object *v)
{
	int64_t age;

	/* A uint64 above INT64_MAX reads as INT64_MAX: out of range too. */
	if (!json_object_is_type(v, json_type_int))
		return "must be a whole number from 0 to 150";
	age = json_object_get_int64(v);
	return age < 0 || age > USER_AGE_MAX ?
	    "must be a whole number from 0 to 150" : NULL;
}

/* "2026-11-22T10:00:00Z", as the server writes it. */
static const char *
timestamp(struct json_object *doc, const char *member)
{
	static const char shape[] = "dddd-dd-ddTdd:dd:ddZ";
	struct json_object *v;
	const char *s;
	size_t i;

	if (!json_object_object_get_ex(doc, member, &v) ||
	    !json_object_is_type(v, json_type_string) ||
	    json_object_get_string_len(v) != (int)sizeof(shape) - 1)
		return NULL;
	s = json_object_get_string(v);
	for (i = 0; shape[i] != '\0'; i++)
		if (shape[i] == 'd' ? s[i] < '0' || s[i] > '9' : s[i] != shape[i])
			return NULL;
	return s;
}

int
user_reserved_member(const char *name)
{
	static const char *const reserved[] = { "id", "revision", "created_at",
	    "updated_at", "nome", "idade", "_id" };
	size_t i;

	for (i = 0; i < sizeof(reserved) / sizeof(reserved[0]); i++)
		if (strcmp(name, reserved[i]) == 0)
			return 1;
	return 0;
}

static void
add_problem(struct user_problem *problems, size_t max, size_t *n,
    const char *field, const char *message)
{
	if (*n < max) {
		problems[*n].field = field;
		problems[*n].message = message;
	}
	(*n)++;
}

/* The fields name, email and age: checked, and read into f. */
static void
check_fields(struct json_object *doc, struct user_fields *f,
    struct user_problem *problems, size_t max, size_t *n)
{
	struct json_object *v;
	const char *why;

	if (!json_object_object_get_ex(doc, "name", &v) || v == NULL)
		add_problem(problems, max, n, "name", "required");
	else if ((why = user_name_problem(v)) != NULL)
		add_problem(problems, max, n, "name", why);
	else {
		f->name = json_object_get_string(v);
		f->name_len = (size_t)json_object_get_string_len(v);
	}
	if (json_object_object_get_ex(doc, "email", &v) && v != NULL) {
		if ((why = user_email_problem(v)) != NULL)
			add_problem(problems, max, n, "email", why);
		f->email = why ? NULL : json_object_get_string(v);
		f->email_len = why ? 0 : (size_t)json_object_get_string_len(v);
	}
	if (json_object_object_get_ex(doc, "age", &v) && v != NULL) {
		if ((why = user_age_problem(v)) != NULL)
			add_problem(problems, max, n, "age", why);
		f->has_age = why == NULL;
		f->age = why ? 0 : (int)json_object_get_int64(v);
	}
}

size_t
user_doc_check(struct json_object *doc, struct user_fields *f,
    struct user_problem *problems, size_t max)
{
	size_t n = 0;

	memset(f, 0, sizeof(*f));
	if (!json_object_is_type(doc, json_type_object)) {
		add_problem(problems, max, &n, "", "must be a JSON object");
		return n;
	}
	check_fields(doc, f, problems, max, &n);
	json_object_object_foreach(doc, name, member) {
		(void)member;
		if (strcmp(name, "nome") == 0 || strcmp(name, "idade") == 0 ||
		    strcmp(name, "_id") == 0)
			add_problem(problems, max, &n, name, "reserved: the seed "
			    "form's name for name, age or id");
	}
	f->created_at = timestamp(doc, "created_at");
	f->updated_at = timestamp(doc, "updated_at");
	return n;
}

char *
user_email_index_key(struct arena *arena, const char *email)
{
	char *key = arena_concat(arena, USER_EMAIL_INDEX, email, (char *)NULL), *p;

	for (p = key + strlen(USER_EMAIL_INDEX); *p != '\0'; p++)
		if (*p >= 'A' && *p <= 'Z')
			*p = (char)(*p + 32);
	return key;
}

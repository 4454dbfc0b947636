/*
 * User documents and their two forms; see user.h.
 */
#include "config.h"

#include <stdio.h>
#include <string.h>

#include <json-c/json.h>

#include "base/arena.h"
#include "base/buf.h"
#include "base/log.h"
#include "base/util.h"
#include "model/keys.h"
#include "model/user.h"
#include "store/store.h"
#include "store/stored_doc.h"

/* The names each form gives the three fields it names its own way. */
struct form_names {
	const char	*name;
	const char	*age;
	const char	*id;
	const char	*other[3];	/* the other form's: refused */
};

static const struct form_names forms[] = {
	[USER_FORM_API] = { "name", "age", "id", { "nome", "idade", "_id" } },
	[USER_FORM_SEED] = { "nome", "idade", "_id", { "name", "age", "id" } },
};

/* Members the server sets: read-only in a body, ignored there. */
static int
server_member(const char *name)
{
	return strcmp(name, "revision") == 0 || strcmp(name, "created_at") == 0 ||
	    strcmp(name, "updated_at") == 0;
}

int
user_new_id(char out[USER_ID_LEN + 1])
{
	unsigned char b[16];

	if (random_bytes(b, sizeof(b)) == -1)
		return -1;
	b[6] = (unsigned char)((b[6] & 0x0f) | 0x40);	/* version 4 */
	b[8] = (unsigned char)((b[8] & 0x3f) | 0x80);	/* RFC 4122 variant */
	snprintf(out, USER_ID_LEN + 1, "%02x%02x%02x%02x-%02x%02x-%02x%02x-"
	    "%02x%02x-%02x%02x%02x%02x%02x%02x", b[0], b[1], b[2], b[3], b[4],
	    b[5], b[6], b[7], b[8], b[9], b[10], b[11], b[12], b[13], b[14], b[15]);
	return 0;
}

int
user_id_valid(const char *id)
{
	return id != NULL && name_valid(id);
}

static void
add_error(struct user_errors *errors, const char *field, const char *message)
{
	if (errors->count < USER_MAX_PROBLEMS) {
		errors->items[errors->count].field = field;
		errors->items[errors->count].message = message;
	}
	errors->count++;
}

/* The document's own checks, named as form names the fields. */
static void
check_doc(struct json_object *doc, enum user_form form,
    struct user_errors *errors)
{
	struct user_problem problems[USER_MAX_PROBLEMS];
	struct user_fields f;
	size_t n, i;

	n = user_doc_check(doc, &f, problems, USER_MAX_PROBLEMS);
	for (i = 0; i < n && i < USER_MAX_PROBLEMS; i++) {
		const char *field = problems[i].field;

		if (strcmp(field, "name") == 0)
			field = forms[form].name;
		else if (strcmp(field, "age") == 0)
			field = forms[form].age;
		add_error(errors, field, problems[i].message);
	}
}

/* "id" (or "_id") in a body: only ever the path's own. */
static void
check_id(struct json_object *v, const char *member, const char *path_id,
    struct user_errors *errors)
{
	if (path_id == NULL)
		add_error(errors, member, "is made by the server; to choose one, "
		    "PUT /v1/users/{id}");
	else if (!json_object_is_type(v, json_type_string) ||
	    strcmp(json_object_get_string(v), path_id) != 0)
		add_error(errors, member, "must equal the id in the path");
}

static int
other_form_name(const struct form_names *names, const char *member)
{
	size_t i;

	for (i = 0; i < ARRAY_SIZE(names->other); i++)
		if (strcmp(member, names->other[i]) == 0)
			return 1;
	return 0;
}

/* Copy body's member named from into doc as to (a JSON null: left out). */
static void
take(struct json_object *doc, struct json_object *body, const char *from,
    const char *to)
{
	struct json_object *v;

	if (json_object_object_get_ex(body, from, &v) && v != NULL)
		json_object_object_add(doc, to, json_object_get(v));
}

struct json_object *
user_doc_from_body(struct json_object *body, enum user_form form,
    const char *path_id, struct user_errors *errors)
{
	const struct form_names *names = &forms[form];
	struct json_object *doc;

	memset(errors, 0, sizeof(*errors));
	if (!json_object_is_type(body, json_type_object)) {
		add_error(errors, "body", "must be a JSON object");
		return NULL;
	}
	doc = json_object_new_object();
	take(doc, body, names->name, "name");
	take(doc, body, "email", "email");
	take(doc, body, names->age, "age");
	json_object_object_foreach(body, member, v) {
		if (strcmp(member, names->name) == 0 || strcmp(member, "email") == 0 ||
		    strcmp(member, names->age) == 0 || server_member(member))
			continue;
		if (strcmp(member, names->id) == 0)
			check_id(v, member, path_id, errors);
		else if (other_form_name(names, member))
			/* The same words as the routes' checks (user_resource.c). */
			add_error(errors, member, form == USER_FORM_API ? "reserved: "
			    "the seed form's (/usuarios) name for name, age or id" :
			    "reserved: /v1/users's name for nome, idade or _id");
		else
			json_object_object_add(doc, member, json_object_get(v));
	}
	check_doc(doc, form, errors);
	if (errors->count == 0)
		return doc;
	json_object_put(doc);
	return NULL;
}

/* RFC 7386's MergePatch(Target, Patch) for an object patch, into target. */
static void
merge_into(struct json_object *target, struct json_object *patch);

/* A patch member for a target that is no object: the patch, nulls gone. */
static struct json_object *
without_nulls(struct json_object *patch)
{
	struct json_object *out = json_object_new_object();

	merge_into(out, patch);
	return out;
}

static void
merge_into(struct json_object *target, struct json_object *patch)
{
	json_object_object_foreach(patch, member, v) {
		struct json_object *t = NULL;

		if (v == NULL) {
			json_object_object_del(target, member);
		} else if (!json_object_is_type(v, json_type_object)) {
			json_object_object_add(target, member, json_object_get(v));
		} else if (json_object_object_get_ex(target, member, &t) &&
		    json_object_is_type(t, json_type_object)) {
			merge_into(t, v);
		} else {
			json_object_object_add(target, member, without_nulls(v));
		}
	}
}

struct json_object *
user_doc_patch(struct json_object *current, struct json_object *patch,
    const char *path_id, struct user_errors *errors)
{
	struct json_object *changes, *doc;

	memset(errors, 0, sizeof(*errors));
	if (!json_object_is_type(patch, json_type_object)) {
		add_error(errors, "body", "must be a JSON object");
		return NULL;
	}
	/* The server's members are not the patch's to change. */
	changes = json_object_new_object();
	json_object_object_foreach(patch, member, v) {
		if (strcmp(member, "id") == 0)
			check_id(v, member, path_id, errors);
		else if (!server_member(member))
			json_object_object_add(changes, member, json_object_get(v));
	}
	json_object_object_del(current, "created_at");
	json_object_object_del(current, "updated_at");
	json_object_object_del(current, "id");
	json_object_object_del(current, "revision");
	merge_into(current, changes);
	json_object_put(changes);
	/* The result, as if it were sent whole: the same order, the same checks. */
	if (errors->count > 0)
		return NULL;
	doc = user_doc_from_body(current, USER_FORM_API, path_id, errors);
	return doc;
}

const char *
user_doc_text(struct arena *arena, struct json_object *doc,
    const char *created_at)
{
	char now[32];

	format_rfc3339(clock_realtime_us() / 1000000, now, sizeof(now));
	json_object_object_add(doc, "created_at",
	    json_object_new_string(created_at != NULL ? created_at : now));
	json_object_object_add(doc, "updated_at", json_object_new_string(now));
	return arena_strdup(arena, json_object_to_json_string_ext(doc,
	    JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE));
}

struct json_object *
user_doc_read(const struct store_item *item, struct user_fields *f)
{
	struct user_problem problems[USER_MAX_PROBLEMS];
	struct json_object *doc;
	size_t n;

	if ((doc = stored_doc_parse(item->key, item->value, item->value_len)) == NULL)
		return NULL;
	if ((n = user_doc_check(doc, f, problems, USER_MAX_PROBLEMS)) == 0)
		return doc;
	log_warn("user document %.200s is not valid (%s: %s%s)", item->key,
	    problems[0].field[0] ? problems[0].field : "the document",
	    problems[0].message, n > 1 ? ", and more" : "");
	json_object_put(doc);
	return NULL;
}

/* created_at or updated_at: the document's, else when this node first saw it. */
static struct json_object *
time_json(const char *stored, const struct store_item *item)
{
	char seen[32];

	if (stored != NULL)
		return json_object_new_string(stored);
	format_rfc3339(item->updated_at / 1000000, seen, sizeof(seen));
	return json_object_new_string(seen);
}

struct json_object *
user_to_json(const struct store_item *item, struct json_object *doc,
    const struct user_fields *f, enum user_form form)
{
	const struct form_names *names = &forms[form];
	struct json_object *out = json_object_new_object();

	json_object_object_add(out, names->id,
	    json_object_new_string(user_id_of(item->key)));
	json_object_object_foreach(doc, member, v) {
		if (server_member(member) || strcmp(member, "id") == 0)
			continue;
		json_object_object_add(out, strcmp(member, "name") == 0 ? names->name :
		    strcmp(member, "age") == 0 ? names->age : member,
		    json_object_get(v));
	}
	if (form == USER_FORM_API) {
		json_object_object_add(out, "revision",
		    json_object_new_int64(item->mod_revision));
		json_object_object_add(out, "created_at", time_json(f->created_at, item));
		json_object_object_add(out, "updated_at", time_json(f->updated_at, item));
	}
	return out;
}

/*
 * The server writes a user as {"name":…[,"email":…][,"age":N],…the
 * others…,"created_at":"T","updated_at":"T"} (user_doc_text): these are
 * the last 73 bytes, always.
 */
#define TIMES_LEN 73

static int
times_at_end(const char *text, size_t len)
{
	const char *t = text + len - TIMES_LEN;

	return len > TIMES_LEN + 9 && memcmp(t, ",\"created_at\":\"", 15) == 0 &&
	    memcmp(t + 35, "\",\"updated_at\":\"", 16) == 0 &&
	    memcmp(text + len - 2, "\"}", 2) == 0;
}

/* Just past the JSON string at p (which is its opening quote), or NULL. */
static const char *
skip_string(const char *p, const char *end)
{
	if (p >= end || *p++ != '"')
		return NULL;
	for (; p < end; p++) {
		if (*p == '\\')
			p++;
		else if (*p == '"')
			return p + 1;
	}
	return NULL;
}

static int
starts(const char *p, const char *end, const char *prefix)
{
	size_t n = strlen(prefix);

	return (size_t)(end - p) >= n && memcmp(p, prefix, n) == 0;
}

/* The seed form, cut from the text: "_id", "nome", "email", "idade", the rest. */
static int
render_seed(struct buf *out, const char *id, const char *text, const char *end)
{
	const char *p = text + 1, *q;

	if (!starts(p, end, "\"name\":") || (q = skip_string(p + 7, end)) == NULL)
		return -1;
	buf_puts(out, "{\"_id\":");
	buf_json_string(out, id);
	buf_puts(out, ",\"nome\":");
	buf_append(out, p + 7, (size_t)(q - p - 7));
	if (starts(q, end, ",\"email\":")) {
		p = q;
		if ((q = skip_string(p + 9, end)) == NULL)
			return -1;
		buf_append(out, p, (size_t)(q - p));
	}
	if (starts(q, end, ",\"age\":")) {
		for (p = q += 7; q < end && (*q == '-' || (*q >= '0' && *q <= '9')); q++)
			continue;
		buf_puts(out, ",\"idade\":");
		buf_append(out, p, (size_t)(q - p));
	}
	buf_append(out, q, (size_t)(end - q));
	buf_putc(out, '}');
	return 0;
}

int
user_render_plain(struct buf *out, const struct store_item *item,
    enum user_form form)
{
	const char *text = item->value;
	size_t len = item->value_len, mark = out->len;

	if (!times_at_end(text, len))
		return -1;
	if (form == USER_FORM_SEED) {
		if (render_seed(out, user_id_of(item->key), text,
		    text + len - TIMES_LEN) == 0)
			return 0;
		out->len = mark;	/* nothing appended after all */
		out->data[mark] = '\0';
		return -1;
	}
	buf_puts(out, "{\"id\":");
	buf_json_string(out, user_id_of(item->key));
	buf_putc(out, ',');
	buf_append(out, text + 1, len - 1 - TIMES_LEN);
	buf_puts(out, ",\"revision\":");
	buf_put_int(out, item->mod_revision);
	buf_append(out, text + len - TIMES_LEN, TIMES_LEN);
	return 0;
}

const char *
user_id_of(const char *store_key)
{
	return store_key + strlen(USER_FOLDER);
}

const char *
user_store_key(struct arena *arena, const char *id)
{
	return arena_concat(arena, USER_FOLDER, id, (char *)NULL);
}

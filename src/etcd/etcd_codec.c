/*
 * The etcd client's codec for the JSON gateway: keys and values travel as
 * base64, int64 fields as JSON strings (uint64 ids too, beyond INT64_MAX),
 * zero values are left out, and errors come as {"error","code","message"}
 * (or {"error":{"grpc_code",...}} inside a stream). Everything here turns
 * that into the plain C of etcd.h and back.
 */
#include "config.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/base64.h"
#include "base/util.h"
#include "etcd/etcd_impl.h"

void
etcd_json_add_bytes(struct json_object *obj, const char *name,
    const char *data, size_t len)
{
	char *text = xmalloc(base64_encoded_len(len, 0) + 1);

	base64_encode(data, len, text, 0);
	json_object_object_add(obj, name, json_object_new_string(text));
	free(text);
}

/* As a string, the way the gateway writes int64 itself. */
void
etcd_json_add_int64(struct json_object *obj, const char *name, int64_t value)
{
	char text[32];

	snprintf(text, sizeof(text), "%lld", (long long)value);
	json_object_object_add(obj, name, json_object_new_string(text));
}

/* A uint64 id above INT64_MAX; etcd.h keeps ids as int64, bit for bit. */
static int
parse_uint64(const char *text, uint64_t *out)
{
	unsigned long long v;
	char *end;

	if (*text < '0' || *text > '9')
		return -1;
	errno = 0;
	v = strtoull(text, &end, 10);
	if (errno != 0 || *end != '\0')
		return -1;
	*out = v;
	return 0;
}

/* A number field, 0 when absent (the gateway leaves zeros out) or malformed. */
int64_t
etcd_json_int64(struct json_object *obj, const char *name)
{
	struct json_object *v;
	const char *errstr;
	long long n;
	uint64_t u;

	if (obj == NULL || !json_object_object_get_ex(obj, name, &v))
		return 0;
	if (json_object_is_type(v, json_type_int))
		return json_object_get_int64(v);
	if (!json_object_is_type(v, json_type_string))
		return 0;
	n = strtonum(json_object_get_string(v), INT64_MIN, INT64_MAX, &errstr);
	if (errstr == NULL)
		return n;
	if (parse_uint64(json_object_get_string(v), &u) == 0)
		return (int64_t)u;
	return 0;
}

int
etcd_json_bool(struct json_object *obj, const char *name)
{
	struct json_object *v;

	if (obj == NULL || !json_object_object_get_ex(obj, name, &v))
		return 0;
	return json_object_get_boolean(v) ? 1 : 0;
}

/* A string field, "" when absent. */
const char *
etcd_json_string(struct json_object *obj, const char *name)
{
	struct json_object *v;

	if (obj == NULL || !json_object_object_get_ex(obj, name, &v) ||
	    !json_object_is_type(v, json_type_string))
		return "";
	return json_object_get_string(v);
}

int64_t
etcd_header_revision(struct json_object *reply)
{
	struct json_object *header;

	if (!json_object_object_get_ex(reply, "header", &header))
		return 0;
	return etcd_json_int64(header, "revision");
}

/*
 * Decode a base64 field into a fresh NUL-terminated buffer, "" (still
 * allocated) when absent.
 */
static int
bytes_field(struct json_object *obj, const char *name, char **out,
    size_t *outlen)
{
	const char *text = etcd_json_string(obj, name);
	size_t len = strlen(text), max = base64_decoded_max(len);

	*out = xmalloc(max + 1);
	if (base64_decode(text, len, *out, max, outlen, 0) == -1) {
		free(*out);
		*out = NULL;
		return -1;
	}
	(*out)[*outlen] = '\0';
	return 0;
}

int
etcd_kv_parse(struct json_object *obj, struct etcd_kv *kv)
{
	memset(kv, 0, sizeof(*kv));
	if (bytes_field(obj, "key", &kv->key, &kv->key_len) == -1 ||
	    bytes_field(obj, "value", &kv->value, &kv->value_len) == -1) {
		etcd_kv_clear(kv);
		return -1;
	}
	kv->create_revision = etcd_json_int64(obj, "create_revision");
	kv->mod_revision = etcd_json_int64(obj, "mod_revision");
	kv->version = etcd_json_int64(obj, "version");
	kv->lease = etcd_json_int64(obj, "lease");
	return 0;
}

void
etcd_kv_clear(struct etcd_kv *kv)
{
	free(kv->key);
	free(kv->value);
	memset(kv, 0, sizeof(*kv));
}

/* An array of kvs; an absent array (NULL) is no kvs. */
int
etcd_kvs_parse(struct json_object *array, struct etcd_kv **kvs, size_t *count)
{
	size_t i, n;

	*kvs = NULL;
	*count = 0;
	if (array == NULL)
		return 0;
	if (!json_object_is_type(array, json_type_array))
		return -1;
	n = json_object_array_length(array);
	if (n == 0)
		return 0;
	*kvs = xcalloc(n, sizeof(**kvs));
	for (i = 0; i < n; i++) {
		if (etcd_kv_parse(json_object_array_get_idx(array, i),
		    &(*kvs)[i]) == -1) {
			etcd_kvs_free(*kvs, i);
			*kvs = NULL;
			return -1;
		}
	}
	*count = n;
	return 0;
}

void
etcd_kvs_free(struct etcd_kv *kvs, size_t count)
{
	size_t i;

	for (i = 0; i < count; i++)
		etcd_kv_clear(&kvs[i]);
	free(kvs);
}

void
etcd_error_set(struct etcd_error *error, enum etcd_status status, int code,
    const char *fmt, ...)
{
	va_list ap;

	error->status = status;
	error->code = code;
	error->not_sent = 0;
	va_start(ap, fmt);
	vsnprintf(error->message, sizeof(error->message), fmt, ap);
	va_end(ap);
}

void
etcd_error_clear(struct etcd_error *error)
{
	error->status = ETCD_OK;
	error->code = 0;
	error->not_sent = 0;
	error->message[0] = '\0';
}

/*
 * The answers etcd (v3.4, v3.5) gives before a request is proposed to raft,
 * so that nothing was applied: from the gRPC interceptor ("no leader", "not
 * capable", "rpc not supported for learner"), the read-index step of a
 * linearizable read ("leader changed"), the check that the apply loop keeps
 * up ("too many requests") and raft itself, which drops proposals while it
 * has no leader or hands leadership over ("raft proposal dropped"). Every
 * other "unavailable" may come after the proposal: "request timed out" in
 * each of its forms, "server stopped", a cancelled or expired context.
 */
static const char *const refused_before_proposal[] = {
	"etcdserver: no leader",
	"etcdserver: leader changed",
	"etcdserver: not capable",
	"etcdserver: rpc not supported for learner",
	"etcdserver: too many requests",
	"raft proposal dropped",
};

int
etcd_refused_before_proposal(const char *message)
{
	size_t i;

	for (i = 0; i < ARRAY_SIZE(refused_before_proposal); i++)
		if (strstr(message, refused_before_proposal[i]) != NULL)
			return 1;
	return 0;
}

enum etcd_status
etcd_status_of(int code, const char *message)
{
	if (strstr(message, "required revision has been compacted") != NULL)
		return ETCD_COMPACTED;
	/* Passing conditions under codes that also carry lasting ones. */
	if (strstr(message, "etcdserver: too many requests") != NULL ||
	    strstr(message, "raft proposal dropped") != NULL)
		return ETCD_UNAVAILABLE;
	switch (code) {
	case GRPC_NOT_FOUND:
		return ETCD_NOT_FOUND;
	case GRPC_CANCELLED:
	case GRPC_UNAVAILABLE:
	case GRPC_DEADLINE_EXCEEDED:
		return ETCD_UNAVAILABLE;
	default:
		return ETCD_ERROR;
	}
}

enum etcd_status
etcd_answer_status(const struct etcd_error *error, enum etcd_call_kind kind)
{
	if (error->status != ETCD_UNAVAILABLE)
		return error->status;
	if (kind == ETCD_IDEMPOTENT || etcd_refused_before_proposal(error->message))
		return ETCD_UNAVAILABLE;
	return ETCD_UNKNOWN;
}

/*
 * A token etcd no longer takes: expired or unknown (simple tokens live in
 * memory and die with a restart or a password change), or issued before
 * the auth store changed.
 */
int
etcd_is_auth_error(int code, const char *message)
{
	return code == GRPC_UNAUTHENTICATED ||
	    strstr(message, "invalid auth token") != NULL ||
	    strstr(message, "revision of auth store is old") != NULL;
}

void
etcd_error_from_reply(struct json_object *reply, long http,
    struct etcd_error *error)
{
	struct json_object *inner;
	const char *message;
	int code;

	if (reply == NULL) {
		/* Not the gateway's JSON: a proxy, or an etcd without the gateway. */
		etcd_error_set(error, http >= 500 ? ETCD_UNAVAILABLE : ETCD_ERROR,
		    0, "etcd answered HTTP %ld", http);
		return;
	}
	if (json_object_object_get_ex(reply, "error", &inner) &&
	    json_object_is_type(inner, json_type_object)) {
		code = (int)etcd_json_int64(inner, "grpc_code");
		message = etcd_json_string(inner, "message");
	} else {
		code = (int)etcd_json_int64(reply, "code");
		message = etcd_json_string(reply, "message");
		if (*message == '\0')
			message = etcd_json_string(reply, "error");
	}
	if (*message == '\0')
		message = "etcd answered with an error";
	etcd_error_set(error, etcd_status_of(code, message), code, "%s", message);
	if (http >= 500 && error->status == ETCD_ERROR && code == 0)
		error->status = ETCD_UNAVAILABLE;
}

/*
 * Documents read back from etcd; see stored_doc.h.
 */
#include "config.h"

#include <json-c/json.h>

#include "base/buf.h"
#include "base/json_check.h"
#include "base/log.h"
#include "store/stored_doc.h"

/*
 * What a stored document must be. Not JSON_CHECK_FINITE: json-c keeps a
 * double's text, so 1e400 reads back as stored (flag weights are checked
 * for being finite on their own).
 */
#define STORED_RULES (JSON_CHECK_NO_NUL | JSON_CHECK_INT_EXACT)

static const char *
problem_name(enum json_check rc)
{
	switch (rc) {
	case JSON_CHECK_OK:
		break;
	case JSON_CHECK_SYNTAX:
		return "not JSON";
	case JSON_CHECK_UTF8:
		return "not UTF-8";
	case JSON_CHECK_DEPTH:
		return "nested too deep";
	case JSON_CHECK_NUL:
		return "a \\u0000 in a string";
	case JSON_CHECK_NUMBER:
		return "a number json-c would change";
	}
	return "fine";
}

static struct json_object *
parse_all(const char *text, size_t len)
{
	struct json_tokener *tok = json_tokener_new_ex(JSON_MAX_DEPTH + 1);
	struct json_object *doc;

	if (tok == NULL)
		return NULL;
	/* The checked text has no NUL byte; json-c gets the one after it. */
	doc = json_tokener_parse_ex(tok, text, (int)len + 1);
	if (doc != NULL && (json_tokener_get_error(tok) != json_tokener_success ||
	    json_tokener_get_parse_end(tok) != len)) {
		json_object_put(doc);
		doc = NULL;
	}
	json_tokener_free(tok);
	return doc;
}

struct json_object *
stored_doc_parse(const char *key, const char *text, size_t len)
{
	struct json_check_where where, after;
	struct json_object *doc = NULL;
	enum json_check rc;
	struct buf mended;

	rc = json_check_ex(text, len, JSON_MAX_DEPTH, STORED_RULES, &where);
	if (rc == JSON_CHECK_OK)
		return parse_all(text, len);
	if (rc != JSON_CHECK_UTF8) {
		log_warn("stored document %.200s is corrupt: %s at %s%.200s "
		    "(byte %zu)", key, problem_name(rc),
		    where.path[0] != '\0' ? "" : "the top", where.path, where.offset);
		return NULL;
	}
	buf_init(&mended);
	json_repair_utf8(text, len, &mended);
	rc = json_check_ex(mended.data, mended.len, JSON_MAX_DEPTH,
	    STORED_RULES, &after);
	log_warn("stored document %.200s is not UTF-8 at %s%.200s (byte %zu): %s",
	    key, where.path[0] != '\0' ? "" : "the top", where.path, where.offset,
	    rc == JSON_CHECK_OK ? "read with U+FFFD for each bad byte" :
	    problem_name(rc));
	if (rc == JSON_CHECK_OK)
		doc = parse_all(mended.data, mended.len);
	buf_free(&mended);
	return doc;
}

/*
 * Documents read back from etcd: flags, environments, tokens. Anyone with
 * etcdctl can write under the prefix, so a stored document passes the
 * checks a request body passes (json_check.h) before json-c sees it: a
 * \u0000 would cut a name short, a number json-c would change would be
 * served changed. Text that is not UTF-8 is mended instead (U+FFFD for each
 * bad byte) so that what is served is always valid JSON; both are logged.
 */
#ifndef DYNCONF_STORED_DOC_H
#define DYNCONF_STORED_DOC_H

#include <stddef.h>

struct json_object;

/*
 * The document at store key key, parsed; NULL (logged at warn, with key)
 * when it is not acceptable JSON. The caller puts the object.
 */
struct json_object *stored_doc_parse(const char *key, const char *text,
	    size_t len);

#endif

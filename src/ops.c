/*
 * Operations endpoints; see ops.h.
 */
#include "config.h"

#include <json-c/json.h>

#include "metrics.h"
#include "openapi.h"
#include "ops.h"

void
handle_health(struct exchange *ex)
{
	struct json_object *body = json_object_new_object();

	json_object_object_add(body, "status", json_object_new_string("ok"));
	json_object_object_add(body, "version", json_object_new_string(PACKAGE_VERSION));
	respond_json(ex, 200, body);
	json_object_put(body);
	response_header(ex, "Cache-Control", "no-store");
}

void
handle_openapi(struct exchange *ex)
{
	/* The table is const: build the text once per process. */
	static struct buf document;

	if (document.data == NULL) {
		struct json_object *doc = openapi_document(route_table, route_count);

		buf_puts(&document, json_object_to_json_string_ext(doc,
		    JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE));
		json_object_put(doc);
	}
	ex->res.status = 200;
	ex->res.content_type = "application/json";
	buf_append(&ex->res.body, document.data, document.len);
}

void
handle_metrics(struct exchange *ex)
{
	ex->res.status = 200;
	ex->res.content_type = "text/plain; version=0.0.4; charset=utf-8";
	metrics_render(&ex->res.body);
	response_header(ex, "Cache-Control", "no-store");
}

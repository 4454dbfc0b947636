/*
 * Operations endpoints; see ops.h.
 */
#include "config.h"

#include <json-c/json.h>

#include "base/shared.h"
#include "base/util.h"
#include "etcd/breaker.h"
#include "http/metrics.h"
#include "http/openapi.h"
#include "resources/ops.h"
#include "store/store.h"

/* A watcher this recently in step with etcd counts as current. */
#define HEALTH_IN_STEP_US 500000

/*
 * The replica's lag: 0 while the watcher is known to be in step with etcd,
 * else the time since it last was.
 */
static int64_t
replica_lag_ms(void)
{
	struct shared_replica *sr = &shared()->replica;
	int64_t current = __atomic_load_n(&sr->current_at_us, __ATOMIC_RELAXED);
	int64_t lag = clock_monotonic_us() - current;

	if (current == 0)
		return -1;
	return lag <= HEALTH_IN_STEP_US ? 0 : lag / 1000;
}

/*
 * Every field is a number or a fixed word, so the body is written directly,
 * without json-c or printf: health is what load balancers poll, and
 * json-c's serialising, then vsnprintf, were a fifth of a responder's work
 * for it.
 */
void
handle_health(struct exchange *ex)
{
	struct buf *body = &ex->res.body;
	int64_t lag = replica_lag_ms();

	ex->res.status = 200;
	ex->res.content_type = "application/json";
	buf_puts(body, "{\"status\":\"ok\",\"version\":\"" PACKAGE_VERSION
	    "\",\"etcd\":\"");
	buf_puts(body, store_etcd_up() ? "up" : "down");
	buf_puts(body, "\",\"replica_revision\":");
	buf_put_int(body, store_replica_revision());
	buf_puts(body, ",\"replica_lag_ms\":");
	if (lag < 0)
		buf_puts(body, "null");
	else
		buf_put_int(body, lag);
	buf_puts(body, ",\"circuit_breaker\":\"");
	buf_puts(body, breaker_state_name(breaker_state()));
	buf_puts(body, "\"}");
	response_header(ex, "Cache-Control", "no-store");
}

void
handle_ready(struct exchange *ex)
{
	struct json_object *body = json_object_new_object();
	int ready = store_ready();

	json_object_object_add(body, "ready", json_object_new_boolean(ready));
	json_object_object_add(body, "replica_revision",
	    json_object_new_int64(store_replica_revision()));
	if (ready) {
		respond_json(ex, 200, body);
	} else {
		respond_problem(ex, 503, "not_ready",
		    "the replica has not loaded a snapshot from etcd yet");
		response_header(ex, "Retry-After", "1");
	}
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

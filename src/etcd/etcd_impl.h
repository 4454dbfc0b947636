/*
 * Internals shared by the files of the etcd client (etcd.c: the client and
 * the call engine; etcd_codec.c: the gateway's JSON; etcd_ops.c: KV, txn,
 * lease and status calls; etcd_watch.c: the watch stream). Nothing outside
 * the client includes this header.
 */
#ifndef DYNCONF_ETCD_IMPL_H
#define DYNCONF_ETCD_IMPL_H

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <curl/curl.h>
#include <json-c/json.h>

#include "base/buf.h"
#include "etcd/etcd.h"

/* gRPC status codes the gateway passes on in "code". */
#define GRPC_CANCELLED		1
#define GRPC_DEADLINE_EXCEEDED	4
#define GRPC_NOT_FOUND		5
#define GRPC_UNAVAILABLE	14
#define GRPC_UNAUTHENTICATED	16

/* What a request of this attempt got to, counted by libcurl's pre-request callback. */
struct etcd_sends {
	int		  mutating;	/* refuse to send it a second time */
	int		  count;	/* times libcurl was about to send it */
};

struct etcd_client {
	char		**endpoints;	/* without a trailing slash */
	char		**shown;	/* the same without user:password@, for messages */
	size_t		  nendpoints;
	size_t		  current;	/* the one that last answered */
	int		  timeout_ms;
	int		  use_breaker;
	int64_t		  deadline_us;	/* 0: timeout_ms per call */
	char		 *username;
	char		 *password;
	char		 *ca_file;
	char		 *cert_file;
	char		 *key_file;
	char		 *token;	/* from /v3/auth/authenticate */
	CURL		 *curl;		/* unary calls; the connection stays open */
	CURL		 *watch_curl;	/* the watch stream, apart from unary calls */
	struct etcd_sends sends;	/* of the unary call under way */
	struct buf	  body;		/* the answer being received */
	char		  curl_error[CURL_ERROR_SIZE];
	char		  watch_error[CURL_ERROR_SIZE];
};

/* How a call may be repeated when its answer is lost. */
enum etcd_call_kind {
	ETCD_IDEMPOTENT,	/* retry with backoff inside the deadline */
	ETCD_MUTATING,		/* only if it provably never reached etcd */
};

/* What became of one HTTP attempt. */
enum etcd_outcome {
	ETCD_ANSWERED,		/* an HTTP answer came back */
	ETCD_NOT_REACHED,	/* the request provably never left */
	ETCD_LOST,		/* it may have reached etcd; no answer */
	ETCD_TOO_LARGE,		/* an answer beyond the size limit */
};

/*
 * Classify a finished attempt from libcurl's result and how many times
 * libcurl was about to send the request (-1 when that is not known: an
 * older libcurl, where what libcurl had written decides).
 */
enum etcd_outcome etcd_curl_outcome(CURLcode cc, int sends, long written);

/*
 * Send request (a JSON object) to path, e.g. "/v3/kv/range", with
 * failover, retries, the deadline, auth, the breaker and the metrics. On
 * ETCD_OK *reply holds the parsed answer (the caller puts it); otherwise
 * error says why.
 */
enum etcd_status etcd_call(struct etcd_client *client, const char *path,
	    struct json_object *request, enum etcd_call_kind kind,
	    struct json_object **reply, struct etcd_error *error);

/* Configure a handle with what every request of this client shares. */
void	etcd_setup_handle(struct etcd_client *client, CURL *curl,
	    char *error_buffer);
/* The headers of one request (Content-Type, and the token if any). */
struct curl_slist *etcd_headers(const struct etcd_client *client, int with_token);
/* Get a token (by deadline) if auth is configured and there is none. */
enum etcd_status etcd_authenticate(struct etcd_client *client,
	    int64_t deadline, struct etcd_error *error);
/* Drop a token etcd refused. */
void	etcd_forget_token(struct etcd_client *client);
int64_t	etcd_remaining_us(const struct etcd_client *client, int64_t deadline);
void	etcd_count_call(enum etcd_status status);

/* Codec: bytes as base64 (base/base64.h), the gateway's numbers and errors. */
void	etcd_json_add_bytes(struct json_object *obj, const char *name,
	    const char *data, size_t len);
void	etcd_json_add_int64(struct json_object *obj, const char *name,
	    int64_t value);
int64_t	etcd_json_int64(struct json_object *obj, const char *name);
int	etcd_json_bool(struct json_object *obj, const char *name);
const char *etcd_json_string(struct json_object *obj, const char *name);
int64_t	etcd_header_revision(struct json_object *reply);
int	etcd_kv_parse(struct json_object *obj, struct etcd_kv *kv);
void	etcd_kv_clear(struct etcd_kv *kv);
int	etcd_kvs_parse(struct json_object *array, struct etcd_kv **kvs,
	    size_t *count);
void	etcd_kvs_free(struct etcd_kv *kvs, size_t count);

void	etcd_error_set(struct etcd_error *error, enum etcd_status status,
	    int code, const char *fmt, ...) __attribute__((format(printf, 4, 5)));
void	etcd_error_clear(struct etcd_error *error);
/* The status an etcd error answer (gRPC code, message) stands for. */
enum etcd_status etcd_status_of(int code, const char *message);
/* Did etcd refuse the call before proposing it (so nothing was applied)? */
int	etcd_refused_before_proposal(const char *message);
/*
 * The final status of an error answer (error as etcd_error_from_reply
 * left it) for a call of this kind: ETCD_UNAVAILABLE when it may be sent
 * again (to this endpoint or another), ETCD_UNKNOWN when a mutating call
 * may have been applied, else error->status.
 */
enum etcd_status etcd_answer_status(const struct etcd_error *error,
	    enum etcd_call_kind kind);
int	etcd_is_auth_error(int code, const char *message);
/* Read {"error","code","message"} or a stream's {"error":{...}} into error. */
void	etcd_error_from_reply(struct json_object *reply, long http,
	    struct etcd_error *error);

#endif

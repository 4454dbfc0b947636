/*
 * The store's writes (store.h): single-key puts and deletes as one-check
 * transactions, and store_commit, the one way anything is written to etcd:
 * the checks as compares, the ops, the audit record (audit.h) after them,
 * a failure branch that reads back what was checked (so a 409 or 412
 * needs no second round trip), and the committed ops written through to
 * the replica at once.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "base/arena.h"
#include "base/util.h"
#include "etcd/etcd.h"
#include "store/audit.h"
#include "store/replica.h"
#include "store/store.h"
#include "store/store_impl.h"

/* Transactions again at another revision of an If-Match list, at most. */
#define STORE_RETARGETS 2

/*
 * Single-key writes are one-check transactions: the condition becomes a
 * check, and a failed check says why from whether the key is there.
 */
static size_t
condition_check(const struct store_condition *condition, const char *key,
    struct store_check *check)
{
	memset(check, 0, sizeof(*check));
	check->key = key;
	check->revision = condition->revision;
	check->also = condition->also;
	check->nalso = condition->nalso;
	switch (condition->kind) {
	case STORE_IF_ANY:
		return 0;
	case STORE_IF_ABSENT:
		check->kind = STORE_CHECK_ABSENT;
		break;
	case STORE_IF_PRESENT:
		check->kind = STORE_CHECK_PRESENT;
		break;
	case STORE_IF_REVISION:
		check->kind = STORE_CHECK_REVISION;
		break;
	}
	return 1;
}

static enum store_result
check_failure(const struct store_check *check)
{
	if (check->kind == STORE_CHECK_ABSENT)
		return STORE_EXISTS;
	return check->found ? STORE_STALE : STORE_NOT_FOUND;
}

enum store_result
store_put(struct store_ctx *ctx, const char *key, const char *value,
    size_t value_len, int64_t lease, const struct store_condition *condition,
    struct store_item *item, int *created)
{
	struct store_check check;
	struct store_op op;
	enum store_result rc;
	size_t nchecks = condition_check(condition, key, &check), failed;
	int64_t revision;

	memset(&op, 0, sizeof(op));
	op.kind = STORE_OP_PUT;
	op.key = key;
	op.value = value;
	op.value_len = value_len;
	op.lease = lease;
	rc = store_commit(ctx, &check, nchecks, &op, 1, &revision, &failed);
	if (rc == STORE_STALE)
		return check_failure(&check);
	if (rc != STORE_OK)
		return rc;
	*created = !op.existed;
	item->key = arena_strdup(ctx->arena, key);
	item->value = arena_strndup(ctx->arena, value, value_len);
	item->value_len = value_len;
	item->mod_revision = revision;
	item->create_revision = op.create_revision;
	item->version = op.version;
	item->lease = lease;
	item->updated_at = clock_realtime_us();
	store_first_seen(ctx, item);
	return STORE_OK;
}

enum store_result
store_delete(struct store_ctx *ctx, const char *key,
    const struct store_condition *condition, int64_t *revision)
{
	struct store_condition present = { .kind = STORE_IF_PRESENT };
	struct store_check check;
	struct store_op op;
	enum store_result rc;
	size_t failed;

	/* Deleting what is not there is a 404, whatever the condition. */
	if (condition->kind != STORE_IF_REVISION)
		condition = &present;
	condition_check(condition, key, &check);
	memset(&op, 0, sizeof(op));
	op.kind = STORE_OP_DELETE;
	op.key = key;
	rc = store_commit(ctx, &check, 1, &op, 1, revision, &failed);
	return rc == STORE_STALE ? check_failure(&check) : rc;
}

/* The etcd compare for one check. */
static void
check_compare(struct store_ctx *ctx, const struct store_check *check,
    struct etcd_compare *cmp)
{
	size_t len;

	memset(cmp, 0, sizeof(*cmp));
	cmp->key = store_full_key(ctx, check->key, &len);
	cmp->key_len = len;
	cmp->target = check->kind == STORE_CHECK_REVISION ? ETCD_CMP_MOD :
	    check->kind == STORE_CHECK_LEASE ? ETCD_CMP_LEASE : ETCD_CMP_CREATE;
	cmp->result = check->kind == STORE_CHECK_PRESENT ? ETCD_CMP_GREATER : ETCD_CMP_EQUAL;
	cmp->number = check->kind == STORE_CHECK_REVISION ? check->revision :
	    check->kind == STORE_CHECK_LEASE ? check->lease : 0;
	if (check->kind == STORE_CHECK_PREFIX_UNCHANGED) {
		/* Every key in the range was last written before revision + 1. */
		cmp->target = ETCD_CMP_MOD;
		cmp->result = ETCD_CMP_LESS;
		cmp->number = check->revision + 1;
	}
	if (check->kind == STORE_CHECK_PREFIX_EMPTY ||
	    check->kind == STORE_CHECK_PREFIX_UNCHANGED) {
		char *end = etcd_prefix_end(cmp->key, len, &cmp->range_end_len);

		cmp->range_end = arena_strndup(ctx->arena, end, cmp->range_end_len);
		free(end);
	}
}

static void
op_for(struct store_ctx *ctx, const struct store_op *op, struct etcd_op *eop)
{
	size_t len;

	memset(eop, 0, sizeof(*eop));
	eop->key = store_full_key(ctx, op->key, &len);
	eop->key_len = len;
	/* Puts' and deletes' previous kvs: write-through and audit rows. */
	eop->prev_kv = op->kind != STORE_OP_DELETE_PREFIX;
	switch (op->kind) {
	case STORE_OP_PUT:
		eop->type = ETCD_OP_PUT;
		eop->value = op->value;
		eop->value_len = op->value_len;
		eop->lease = op->lease;
		break;
	case STORE_OP_DELETE:
		eop->type = ETCD_OP_DELETE;
		break;
	case STORE_OP_DELETE_PREFIX: {
		char *end = etcd_prefix_end(eop->key, len, &eop->range_end_len);

		eop->type = ETCD_OP_DELETE;
		eop->range_end = arena_strndup(ctx->arena, end, eop->range_end_len);
		free(end);
		break;
	}
	}
}

/* Which check failed, from the failure branch's reads (one per check). */
static size_t
first_failed_check(struct store_ctx *ctx, struct store_check *checks,
    size_t nchecks, const struct etcd_txn_result *result)
{
	size_t i;

	for (i = 0; i < nchecks && i < result->count; i++) {
		checks[i].found = result->results[i].range.count > 0;
		checks[i].current = checks[i].found ?
		    result->results[i].range.kvs[0].mod_revision : 0;
		if (checks[i].found)
			store_item_from_kv(ctx, &result->results[i].range.kvs[0],
			    &checks[i].seen);
	}
	for (i = 0; i < nchecks && i < result->count; i++) {
		const struct etcd_range_result *r = &result->results[i].range;
		int present = r->count > 0;

		switch (checks[i].kind) {
		case STORE_CHECK_ABSENT:
		case STORE_CHECK_PREFIX_EMPTY:
			if (present)
				return i;
			break;
		case STORE_CHECK_PRESENT:
			if (!present)
				return i;
			break;
		case STORE_CHECK_REVISION:
			if (!present || r->kvs[0].mod_revision != checks[i].revision)
				return i;
			break;
		case STORE_CHECK_PREFIX_UNCHANGED: {
			size_t k;

			for (k = 0; k < r->count; k++)
				if (r->kvs[k].mod_revision > checks[i].revision)
					return i;
			break;
		}
		case STORE_CHECK_LEASE:
			if (!present || r->kvs[0].lease != checks[i].lease)
				return i;
			break;
		}
	}
	return 0;
}

/*
 * A revision check failed, and the key is at a revision its If-Match list
 * also named: compare against that one instead. 1 if there is one to try.
 */
static int
retarget(struct store_check *check, struct etcd_compare *cmp)
{
	size_t i;

	if (check->kind != STORE_CHECK_REVISION || !check->found ||
	    check->current == check->revision)
		return 0;
	for (i = 0; i < check->nalso; i++) {
		if (check->also[i] == check->current) {
			check->revision = cmp->number = check->current;
			return 1;
		}
	}
	return 0;
}

/* What etcd said ops[i]'s key was before the transaction (its prev_kv). */
static void
event_prev(const struct store_op *op, size_t i,
    const struct etcd_txn_result *result, struct replica_event *event)
{
	const struct etcd_range_result *prev = i < result->count ?
	    &result->results[i].range : NULL;

	event->prev_known = op->kind != STORE_OP_DELETE_PREFIX;
	if (event->prev_known && prev != NULL && prev->count > 0) {
		event->prev_revision = prev->kvs[0].mod_revision;
		event->prev_lease = prev->kvs[0].lease;
	}
}

/*
 * A prefix delete's events: the keys the replica holds under it (etcd
 * was not asked for their values), added to *events; the new count.
 */
static size_t
prefix_events(struct store_ctx *ctx, const struct store_op *op,
    struct store_item *item, struct replica_event **events, size_t n,
    size_t *room)
{
	struct replica_row *rows;
	struct replica_event *more;
	int64_t total;
	long found, j;

	if (store_replica() == NULL)
		return n;
	found = replica_list(store_replica(), op->key, 10000, 0, ctx->arena, &rows,
	    &total);
	if (found <= 0)
		return n;
	more = arena_alloc(ctx->arena, sizeof(*more) * (*room + (size_t)found));
	memcpy(more, *events, sizeof(**events) * n);
	*events = more;
	*room += (size_t)found;
	for (j = 0; j < found; j++) {
		item->key = rows[j].key;
		store_event_of(item, 1, &more[n]);
		more[n].prev_known = 1;
		more[n].prev_revision = rows[j].mod_revision;
		more[n].prev_lease = rows[j].lease;
		n++;
	}
	return n;
}

/*
 * Bring the replica up to the committed ops at once (read your own write),
 * all of them in one SQLite transaction.
 */
static void
commit_write_through(struct store_ctx *ctx, struct store_op *ops,
    size_t nops, const struct etcd_txn_result *result)
{
	struct replica_event *events;
	size_t room = nops, n = 0, i;
	int64_t now = clock_realtime_us();

	if (ctx->no_write_through)
		return;
	events = arena_alloc(ctx->arena, sizeof(*events) * (room ? room : 1));
	for (i = 0; i < nops; i++) {
		const struct etcd_kv *prev = NULL;
		struct store_item item;

		if (ops[i].kind == STORE_OP_PUT && i < result->count &&
		    result->results[i].range.count > 0)
			prev = &result->results[i].range.kvs[0];
		memset(&item, 0, sizeof(item));
		item.key = ops[i].key;
		item.value = ops[i].kind == STORE_OP_PUT ? ops[i].value : "";
		item.value_len = ops[i].kind == STORE_OP_PUT ? ops[i].value_len : 0;
		item.mod_revision = result->revision;
		item.create_revision = prev ? prev->create_revision : result->revision;
		item.version = prev ? prev->version + 1 : 1;
		ops[i].create_revision = item.create_revision;
		ops[i].version = item.version;
		item.lease = ops[i].lease;
		item.updated_at = now;
		if (ops[i].kind == STORE_OP_DELETE_PREFIX) {
			n = prefix_events(ctx, &ops[i], &item, &events, n, &room);
			continue;
		}
		store_event_of(&item, ops[i].kind != STORE_OP_PUT, &events[n]);
		event_prev(&ops[i], i, result, &events[n++]);
	}
	store_write_through_events(events, n);
}

/*
 * Run the transaction, again at another revision of an If-Match list when
 * that is what failed (bounded: the key may move on between the rounds).
 * STORE_OK with *result, or why not.
 */
static enum store_result
txn_rounds(struct store_ctx *ctx, struct etcd_txn *txn, struct etcd_compare *cmps,
    struct store_check *checks, size_t nchecks, size_t *failed,
    struct etcd_txn_result *result, struct etcd_error *error)
{
	int round;

	for (round = 0; ; round++) {
		struct etcd_client *etcd = store_etcd_for(ctx);

		memset(result, 0, sizeof(*result));
		if (etcd == NULL) {
			memset(error, 0, sizeof(*error));
			return STORE_FAILED;
		}
		if (etcd_txn(etcd, txn, result, error) != ETCD_OK)
			return STORE_FAILED;
		if (result->succeeded)
			return STORE_OK;
		*failed = first_failed_check(ctx, checks, nchecks, result);
		etcd_txn_result_free(result);
		if (round == STORE_RETARGETS || !retarget(&checks[*failed], &cmps[*failed]))
			return STORE_STALE;
	}
}

/*
 * The caller's ops and, when the write is audited, its record (audit.h)
 * after them: *all, *nall.
 */
static enum store_result
with_record(struct store_ctx *ctx, const struct store_check *checks,
    size_t nchecks, struct store_op *ops, size_t nops, struct store_op **all,
    size_t *nall)
{
	struct store_op record;
	enum store_result rc;

	*all = ops;
	*nall = nops;
	if ((rc = audit_record_op(ctx, checks, nchecks, ops, nops, &record)) != STORE_OK ||
	    record.key == NULL)
		return rc;
	*all = arena_alloc(ctx->arena, sizeof(**all) * (nops + 1));
	memcpy(*all, ops, sizeof(*ops) * nops);
	(*all)[nops] = record;
	*nall = nops + 1;
	return STORE_OK;
}

enum store_result
store_commit(struct store_ctx *ctx, struct store_check *checks,
    size_t nchecks, struct store_op *ops, size_t nops, int64_t *revision,
    size_t *failed)
{
	struct etcd_compare *cmps = arena_alloc(ctx->arena, sizeof(*cmps) * (nchecks + 1));
	struct etcd_op *reads = arena_alloc(ctx->arena, sizeof(*reads) * (nchecks + 1));
	struct etcd_op *eops;
	struct store_op *all;
	struct etcd_txn txn;
	struct etcd_txn_result result;
	struct etcd_error error;
	enum store_result rc;
	size_t i, nall;

	if (store_open() == -1)
		return STORE_FAILED;
	if ((rc = with_record(ctx, checks, nchecks, ops, nops, &all, &nall)) != STORE_OK)
		return rc;
	for (i = 0; i < nchecks; i++) {
		check_compare(ctx, &checks[i], &cmps[i]);
		reads[i].type = ETCD_OP_RANGE;
		reads[i].key = cmps[i].key;
		reads[i].key_len = cmps[i].key_len;
		reads[i].range_end = cmps[i].range_end;
		reads[i].range_end_len = cmps[i].range_end_len;
	}
	eops = arena_alloc(ctx->arena, sizeof(*eops) * (nall + 1));
	for (i = 0; i < nall; i++)
		op_for(ctx, &all[i], &eops[i]);
	/* A record's key is new: nothing before it to send back. */
	if (nall > nops)
		eops[nops].prev_kv = 0;
	memset(&txn, 0, sizeof(txn));
	txn.compare = cmps;
	txn.ncompare = nchecks;
	txn.success = eops;
	txn.nsuccess = nall;
	txn.failure = reads;
	txn.nfailure = nchecks;
	rc = txn_rounds(ctx, &txn, cmps, checks, nchecks, failed, &result, &error);
	/* The record's lease is gone (revoked by hand?): once more on a new one. */
	if (rc == STORE_FAILED && error.status == ETCD_NOT_FOUND && nall > nops &&
	    all[nops].lease != 0) {
		audit_lease_lost(all[nops].lease);
		if ((rc = with_record(ctx, checks, nchecks, ops, nops, &all, &nall)) != STORE_OK)
			return rc;
		op_for(ctx, &all[nops], &eops[nops]);
		eops[nops].prev_kv = 0;
		rc = txn_rounds(ctx, &txn, cmps, checks, nchecks, failed, &result, &error);
	}
	if (rc == STORE_FAILED)
		return store_etcd_failure(&error, "txn");
	if (rc != STORE_OK)
		return rc;
	*revision = result.revision;
	for (i = 0; i < nall && i < result.count; i++)
		all[i].existed = all[i].kind == STORE_OP_PUT ?
		    result.results[i].range.count > 0 : result.results[i].deleted > 0;
	/* The record reaches the replica through the watcher, which derives its rows. */
	commit_write_through(ctx, all, nops, &result);
	etcd_txn_result_free(&result);
	if (all != ops)
		for (i = 0; i < nops; i++)
			ops[i] = all[i];
	return STORE_OK;
}

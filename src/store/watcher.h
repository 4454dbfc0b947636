/*
 * The watcher: the process that keeps the replica current. It loads a
 * snapshot of everything under etcd.prefix (a paginated range at one
 * revision), then watches from the next revision and applies events in
 * order, each batch in one transaction. On compaction, a lost watch it
 * cannot resume, or a missing snapshot it loads anew. A heartbeat thread
 * asks etcd for its status a few times a second so /v1/health can say
 * whether etcd is up and how far behind the replica may be.
 */
#ifndef DYNCONF_WATCHER_H
#define DYNCONF_WATCHER_H

/* Run until SIGTERM/SIGINT; returns the process exit status. */
int	watcher_run(void);

#endif

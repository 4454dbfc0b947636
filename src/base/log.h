/*
 * Logging: to stderr, syslog or a file, as text or JSON lines, filtered by
 * level. One line per request comes from log_request(). Callers never pass
 * secrets here.
 */
#ifndef DYNCONF_LOG_H
#define DYNCONF_LOG_H

#include <stdint.h>
#include <sys/types.h>

enum log_level { LOG_LEVEL_ERROR, LOG_LEVEL_WARN, LOG_LEVEL_INFO, LOG_LEVEL_DEBUG };

struct conf;

/* (Re)open the log target named in the configuration. */
int	log_open(const struct conf *c);
/* Reopen a file target (after SIGUSR1, for log rotation). */
void	log_reopen(void);
/* Give a log file to the user about to run us (called as root); 0 or -1. */
int	log_chown(uid_t uid, gid_t gid);
/* Name this process in every line ("master", "responder", ...). */
void	log_set_role(const char *role);

void	log_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void	log_warn(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void	log_info(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void	log_debug(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* A request's line; held back briefly with others (see log.c). */
void	log_request(const char *request_id, const char *method,
	    const char *path, int status, int64_t micros);
/* Write the held request lines now: before going idle or waiting long. */
void	log_flush(void);

#endif

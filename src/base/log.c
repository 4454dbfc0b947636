/*
 * Logging; see log.h. Lines are assembled whole and written with one
 * write(2) so that the responders of a pool, sharing one file or stderr,
 * never interleave inside a line.
 *
 * Request lines are held back a little, as nginx's access_log buffer= does:
 * a busy responder writes dozens with one write(2) instead of one each (a
 * write per request cost 5-8% of the rps of a flag read at info level).
 * They are written when the buffer fills, when a new one comes and the
 * oldest is a second old, when the responder runs out of work (log_flush),
 * and before any other line of the process, so that each process's lines
 * keep their order (across the pool, lines may be up to a second apart
 * from where they happened). The buffer is PIPE_BUF long: when the log is
 * stderr on a pipe, a write that size is still atomic and whole. A
 * responder that crashes loses what it held: at most a second's worth.
 *
 * Under systemd, stderr is often the journal's stream (JOURNAL_STREAM names
 * it). Lines written there start with the sd-daemon(3) priority prefix
 * ("<3>" for an error) instead of a timestamp, which the journal keeps
 * itself: journalctl -p warning then filters them by level.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/buf.h"
#include "base/conf.h"
#include "base/log.h"
#include "base/util.h"

static struct {
	int		 level;
	int		 format;
	int		 fd;		/* -1: syslog */
	char		 path[PATH_MAX];	/* a file target, for reopening */
	const char	*role;
	long		 pid;		/* 0: not known yet */
	int		 journal;	/* fd is systemd's journal stream */
} logger = { LOG_LEVEL_INFO, LOG_FORMAT_TEXT, STDERR_FILENO, "", "dynconf", 0, 0 };

/* Per thread: the watcher's heartbeat thread logs beside its main thread. */
static _Thread_local int64_t stamped_second = -1;	/* the second stamp spells */
static _Thread_local char stamp[32];

#define HELD_MAX	PIPE_BUF
#define HELD_MAX_AGE_US	1000000

static struct {
	char		 data[HELD_MAX];
	size_t		 len;
	int64_t		 since_us;	/* when the oldest held line came */
} held;

static const char *const level_names[] = { "error", "warn", "info", "debug" };
static const int syslog_priorities[] = { LOG_ERR, LOG_WARNING, LOG_INFO, LOG_DEBUG };

/* Is stderr the stream JOURNAL_STREAM ("device:inode") names? */
static int
stderr_is_journal(void)
{
	const char *stream = getenv("JOURNAL_STREAM");
	unsigned long long dev, ino;
	struct stat st;
	char *end;

	if (stream == NULL || fstat(STDERR_FILENO, &st) == -1)
		return 0;
	errno = 0;
	dev = strtoull(stream, &end, 10);
	if (errno != 0 || end == stream || *end != ':')
		return 0;
	stream = end + 1;
	ino = strtoull(stream, &end, 10);
	if (errno != 0 || end == stream || *end != '\0')
		return 0;
	return (unsigned long long)st.st_dev == dev &&
	    (unsigned long long)st.st_ino == ino;
}

int
log_open(const struct conf *c)
{
	logger.level = c->log.level;
	logger.format = c->log.format;
	log_flush();
	if (logger.fd > STDERR_FILENO)
		close(logger.fd);
	logger.path[0] = '\0';
	logger.journal = 0;
	if (strcmp(c->log.target, "stderr") == 0) {
		logger.fd = STDERR_FILENO;
		logger.journal = stderr_is_journal();
		return 0;
	}
	if (strcmp(c->log.target, "syslog") == 0) {
		logger.fd = -1;
		openlog("dynconf", LOG_PID | LOG_NDELAY, LOG_DAEMON);
		return 0;
	}
	snprintf(logger.path, sizeof(logger.path), "%s", c->log.target);
	logger.fd = open(logger.path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0640);
	if (logger.fd == -1) {
		logger.fd = STDERR_FILENO;
		log_error("cannot open log file %s: %s", logger.path, strerror(errno));
		return -1;
	}
	return 0;
}

void
log_reopen(void)
{
	int fd;

	if (logger.path[0] == '\0')
		return;
	log_flush();	/* what was logged before the rotation goes to the old file */
	fd = open(logger.path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0640);
	if (fd == -1) {
		log_error("cannot reopen log file %s: %s", logger.path, strerror(errno));
		return;
	}
	if (logger.fd > STDERR_FILENO)
		close(logger.fd);
	logger.fd = fd;
	/* Each process says so: rotation can be checked without sending requests. */
	log_info("log file reopened");
}

int
log_chown(uid_t uid, gid_t gid)
{
	if (logger.path[0] == '\0' || logger.fd <= STDERR_FILENO)
		return 0;
	return fchown(logger.fd, uid, gid);
}

void
log_set_role(const char *role)
{
	logger.role = role;
	logger.pid = (long)getpid();	/* roles are set right after fork */
}

/* The current second as RFC 3339, formatted once per second per process. */
static const char *
log_stamp(void)
{
	int64_t second = clock_realtime_us() / 1000000;

	if (second != stamped_second) {
		format_rfc3339(second, stamp, sizeof(stamp));
		stamped_second = second;
	}
	return stamp;
}

static long
log_pid(void)
{
	return logger.pid != 0 ? logger.pid : (long)getpid();
}

static void
write_all(const char *data, size_t len)
{
	ssize_t n;

	while (len > 0) {
		n = write(logger.fd, data, len);
		if (n == -1 && errno == EINTR)
			continue;
		if (n <= 0)
			return;	/* nowhere to say so */
		data += n;
		len -= (size_t)n;
	}
}

void
log_flush(void)
{
	if (held.len == 0)
		return;
	write_all(held.data, held.len);
	held.len = 0;
}

static void
log_emit(int level, struct buf *line)
{
	if (logger.fd == -1) {
		syslog(syslog_priorities[level], "%s", line->data);
		return;
	}
	buf_putc(line, '\n');
	log_flush();
	write_all(line->data, line->len);
}

/* A request line joins the held ones; see the top of the file. */
static void
log_hold(struct buf *line)
{
	int64_t now = clock_monotonic_us();

	if (logger.fd == -1) {
		syslog(LOG_INFO, "%s", line->data);
		return;
	}
	buf_putc(line, '\n');
	if (held.len + line->len > sizeof(held.data))
		log_flush();
	if (line->len > sizeof(held.data)) {
		write_all(line->data, line->len);
		return;
	}
	if (held.len == 0)
		held.since_us = now;
	memcpy(held.data + held.len, line->data, line->len);
	held.len += line->len;
	if (now - held.since_us >= HELD_MAX_AGE_US)
		log_flush();
}

/* "<6>responder[42] ": the journal stamps the time and reads the level. */
static void
journal_prefix(struct buf *line, int level)
{
	buf_putc(line, '<');
	buf_put_int(line, syslog_priorities[level]);
	buf_putc(line, '>');
	if (logger.format == LOG_FORMAT_JSON)
		return;
	buf_puts(line, logger.role);
	buf_putc(line, '[');
	buf_put_int(line, log_pid());
	buf_puts(line, "] ");
}

static void
log_prefix(struct buf *line, int level)
{
	const char *when = log_stamp();

	if (logger.journal)
		journal_prefix(line, level);
	if (logger.format == LOG_FORMAT_JSON) {
		buf_printf(line, "{\"time\":\"%s\",\"level\":\"%s\",\"pid\":%ld,"
		    "\"role\":", when, level_names[level], log_pid());
		buf_json_string(line, logger.role);
	} else if (logger.journal) {
		return;
	} else if (logger.fd != -1) {
		/* Written piece by piece: this runs for every request line. */
		buf_puts(line, when);
		buf_putc(line, ' ');
		buf_puts(line, level_names[level]);
		buf_putc(line, ' ');
		buf_puts(line, logger.role);
		buf_putc(line, '[');
		buf_put_int(line, log_pid());
		buf_puts(line, "] ");
	} else {
		buf_printf(line, "%s %s: ", level_names[level], logger.role);
	}
}

static void
log_message(int level, const char *fmt, va_list ap)
{
	struct buf line, message;

	if (level > logger.level)
		return;
	buf_init(&line);
	log_prefix(&line, level);
	if (logger.format == LOG_FORMAT_JSON) {
		buf_init(&message);
		buf_vprintf(&message, fmt, ap);
		buf_puts(&line, ",\"msg\":");
		buf_json_string(&line, message.data != NULL ? message.data : "");
		buf_putc(&line, '}');
		buf_free(&message);
	} else {
		buf_vprintf(&line, fmt, ap);
	}
	log_emit(level, &line);
	buf_free(&line);
}

#define LOG_FUNCTION(name, level)				\
	void name(const char *fmt, ...)				\
	{							\
		va_list ap;					\
		va_start(ap, fmt);				\
		log_message(level, fmt, ap);			\
		va_end(ap);					\
	}
LOG_FUNCTION(log_error, LOG_LEVEL_ERROR)
LOG_FUNCTION(log_warn, LOG_LEVEL_WARN)
LOG_FUNCTION(log_info, LOG_LEVEL_INFO)
LOG_FUNCTION(log_debug, LOG_LEVEL_DEBUG)

void
log_request(const char *request_id, const char *method, const char *path,
    int status, int64_t micros)
{
	static struct buf line;	/* kept: one per request, no malloc for it */

	if (logger.level < LOG_LEVEL_INFO)
		return;
	buf_reset(&line);
	log_prefix(&line, LOG_LEVEL_INFO);
	if (logger.format == LOG_FORMAT_JSON) {
		buf_puts(&line, ",\"request_id\":");
		buf_json_string(&line, request_id);
		buf_puts(&line, ",\"method\":");
		buf_json_string(&line, method);
		buf_puts(&line, ",\"path\":");
		buf_json_string(&line, path);
		buf_puts(&line, ",\"status\":");
		buf_put_int(&line, status);
		buf_puts(&line, ",\"us\":");
		buf_put_int(&line, micros);
		buf_putc(&line, '}');
	} else {
		/* The path is the raw, still percent-encoded one: no newlines. */
		buf_puts(&line, "request id=");
		buf_puts(&line, request_id);
		buf_puts(&line, " method=");
		buf_puts(&line, method);
		buf_puts(&line, " path=");
		buf_puts(&line, path);
		buf_puts(&line, " status=");
		buf_put_int(&line, status);
		buf_puts(&line, " us=");
		buf_put_int(&line, micros);
	}
	log_hold(&line);
}

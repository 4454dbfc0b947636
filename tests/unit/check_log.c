/*
 * Unit tests of log.c's held request lines: they wait for a flush, keep
 * their order against other lines, and never exceed the buffer.
 */
#include "config.h"

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/conf.h"
#include "base/log.h"

#include "check_suites.h"

static char *tmpdir;
static char logpath[1024];

static void
setup(void)
{
	struct conf c;
	char err[256];

	tmpdir = test_mkdtemp();
	ck_assert_int_eq(conf_load(&c, NULL, err, sizeof(err)), 0);
	snprintf(logpath, sizeof(logpath), "%s/log", tmpdir);
	snprintf(c.log.target, sizeof(c.log.target), "%s", logpath);
	c.log.level = LOG_LEVEL_INFO;
	ck_assert_int_eq(log_open(&c), 0);
}

static void
teardown(void)
{
	struct conf c;
	char err[256];

	ck_assert_int_eq(conf_load(&c, NULL, err, sizeof(err)), 0);
	log_open(&c);	/* back to stderr */
	test_rmdir(tmpdir);
}

static char *
logged(void)
{
	char *text = test_read_file(logpath, NULL);

	ck_assert_ptr_nonnull(text);
	return text;
}

static size_t
count(const char *text, const char *needle)
{
	size_t n = 0;

	for (; (text = strstr(text, needle)) != NULL; text++)
		n++;
	return n;
}

START_TEST(test_request_lines_wait_for_a_flush)
{
	char *text;

	log_request("r1", "GET", "/v1/health", 200, 12);
	text = logged();
	ck_assert_str_eq(text, "");
	free(text);
	log_flush();
	text = logged();
	ck_assert_msg(strstr(text, "request id=r1 method=GET path=/v1/health "
	    "status=200 us=12\n") != NULL, "logged: %s", text);
	free(text);
	log_flush();	/* nothing held: nothing written twice */
	text = logged();
	ck_assert_uint_eq(count(text, "id=r1 "), 1);
	free(text);
}
END_TEST

START_TEST(test_other_lines_keep_the_order)
{
	char *text, *first, *second, *third;

	log_request("early", "GET", "/a", 200, 1);
	log_warn("something happened");
	log_request("late", "GET", "/b", 200, 1);
	log_flush();
	text = logged();
	first = strstr(text, "id=early ");
	second = strstr(text, "something happened");
	third = strstr(text, "id=late ");
	ck_assert_msg(first && second && third && first < second && second < third,
	    "out of order: %s", text);
	free(text);
}
END_TEST

START_TEST(test_a_full_buffer_is_written)
{
	char id[32], *text;
	int i;

	/* 4 KB hold about 40 of these: 200 must have pushed most of them out. */
	for (i = 0; i < 200; i++) {
		snprintf(id, sizeof(id), "n%d", i);
		log_request(id, "GET", "/v1/flags/some-flag-key", 200, 1);
	}
	text = logged();
	ck_assert_uint_ge(count(text, "request id=n"), 100);
	ck_assert_uint_lt(count(text, "request id=n"), 200);
	ck_assert_ptr_nonnull(strstr(text, "request id=n0 "));
	free(text);
	log_flush();
	text = logged();
	ck_assert_uint_eq(count(text, "request id=n"), 200);
	ck_assert_ptr_nonnull(strstr(text, "request id=n199 "));
	free(text);
}
END_TEST

START_TEST(test_reopen_writes_the_held_lines_first)
{
	char rotated[1100], *text;

	log_request("before", "GET", "/a", 200, 1);
	snprintf(rotated, sizeof(rotated), "%s.1", logpath);
	ck_assert_int_eq(rename(logpath, rotated), 0);
	log_reopen();
	log_request("after", "GET", "/a", 200, 1);
	log_flush();
	text = test_read_file(rotated, NULL);
	ck_assert_ptr_nonnull(strstr(text, "id=before "));
	ck_assert_ptr_null(strstr(text, "id=after "));
	free(text);
	text = logged();
	ck_assert_ptr_nonnull(strstr(text, "id=after "));
	ck_assert_ptr_null(strstr(text, "id=before "));
	free(text);
}
END_TEST

/* In JSON format a request line is one object, with the fields as numbers. */
START_TEST(test_request_line_as_json)
{
	struct conf c;
	char err[256], *text;

	ck_assert_int_eq(conf_load(&c, NULL, err, sizeof(err)), 0);
	snprintf(c.log.target, sizeof(c.log.target), "%s", logpath);
	c.log.level = LOG_LEVEL_INFO;
	c.log.format = LOG_FORMAT_JSON;
	ck_assert_int_eq(log_open(&c), 0);
	log_request("r\"2", "POST", "/v1/evaluate", 201, 1234567);
	log_flush();
	text = logged();
	ck_assert_msg(strstr(text, ",\"request_id\":\"r\\\"2\",\"method\":\"POST\","
	    "\"path\":\"/v1/evaluate\",\"status\":201,\"us\":1234567}\n") != NULL,
	    "logged: %s", text);
	free(text);
}
END_TEST

/*
 * Log to stderr, that being logpath, as format; with journal, JOURNAL_STREAM
 * names it as systemd would. What was written, to free.
 */
static char *
log_to_stderr(int format, int journal)
{
	struct conf c;
	struct stat st;
	char err[256], stream[64];
	int fd, saved;

	ck_assert_int_eq(conf_load(&c, NULL, err, sizeof(err)), 0);
	c.log.level = LOG_LEVEL_INFO;
	c.log.format = format;
	fd = open(logpath, O_WRONLY | O_TRUNC | O_CREAT, 0600);
	ck_assert_int_ne(fd, -1);
	ck_assert_int_eq(fstat(fd, &st), 0);
	saved = dup(STDERR_FILENO);
	dup2(fd, STDERR_FILENO);
	close(fd);
	snprintf(stream, sizeof(stream), "%llu:%llu",
	    (unsigned long long)st.st_dev, (unsigned long long)st.st_ino);
	if (journal)
		setenv("JOURNAL_STREAM", stream, 1);
	else
		unsetenv("JOURNAL_STREAM");
	ck_assert_int_eq(log_open(&c), 0);
	log_error("boom %d", 7);
	log_request("r3", "GET", "/v1/health", 200, 5);
	log_flush();
	dup2(saved, STDERR_FILENO);
	close(saved);
	unsetenv("JOURNAL_STREAM");
	return logged();
}

/* Under systemd's journal: priority prefixes, no timestamp of our own. */
START_TEST(test_journal_lines_carry_the_priority)
{
	char *text = log_to_stderr(LOG_FORMAT_TEXT, 1);

	ck_assert_msg(strncmp(text, "<3>dynconf[", 11) == 0, "logged: %s", text);
	ck_assert_msg(strstr(text, "] boom 7\n<6>dynconf[") != NULL, "logged: %s", text);
	ck_assert_msg(strstr(text, "] request id=r3 method=GET") != NULL, "logged: %s", text);
	ck_assert_msg(strstr(text, "Z ") == NULL, "a timestamp: %s", text);
	free(text);
	text = log_to_stderr(LOG_FORMAT_JSON, 1);
	ck_assert_msg(strncmp(text, "<3>{\"time\":", 11) == 0, "logged: %s", text);
	ck_assert_msg(strstr(text, "\n<6>{\"time\":") != NULL, "logged: %s", text);
	free(text);
}
END_TEST

/* Another stream on stderr (a terminal, a pipe): the usual stamped lines. */
START_TEST(test_plain_stderr_has_no_priority)
{
	char *text = log_to_stderr(LOG_FORMAT_TEXT, 0);

	ck_assert_msg(text[0] == '2' && strstr(text, "Z error dynconf[") != NULL,
	    "logged: %s", text);
	ck_assert_ptr_null(strchr(text, '<'));
	free(text);
}
END_TEST

Suite *
log_suite(void)
{
	Suite *s = suite_create("log");
	TCase *tc = tcase_create("held request lines");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_request_lines_wait_for_a_flush);
	tcase_add_test(tc, test_other_lines_keep_the_order);
	tcase_add_test(tc, test_a_full_buffer_is_written);
	tcase_add_test(tc, test_reopen_writes_the_held_lines_first);
	tcase_add_test(tc, test_request_line_as_json);
	tcase_add_test(tc, test_journal_lines_carry_the_priority);
	tcase_add_test(tc, test_plain_stderr_has_no_priority);
	suite_add_tcase(s, tc);
	return s;
}

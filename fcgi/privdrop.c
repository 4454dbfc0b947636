/*
 * Dropping root; see privdrop.h.
 */
#include "config.h"

#include <errno.h>
#include <grp.h>
#include <pwd.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "base/log.h"
#include "privdrop.h"

int
privdrop_resolve(const char *user, const char *group, uid_t *uid, gid_t *gid,
    char *err, size_t errlen)
{
	struct passwd *pw;

	if ((pw = getpwnam(user)) == NULL) {
		snprintf(err, errlen, "no user %s", user);
		return -1;
	}
	*uid = pw->pw_uid;
	*gid = pw->pw_gid;
	if (group != NULL && *group != '\0') {
		struct group *gr = getgrnam(group);

		if (gr == NULL) {
			snprintf(err, errlen, "no group %s", group);
			return -1;
		}
		*gid = gr->gr_gid;
	}
	return 0;
}

int
privdrop(const char *user, const char *group, char *err, size_t errlen)
{
	uid_t uid;
	gid_t gid;

	if (user == NULL || *user == '\0')
		return 0;
	if (privdrop_resolve(user, group, &uid, &gid, err, errlen) == -1)
		return -1;
	/* The log file was opened as root: hand it over, or it cannot be reopened. */
	if (geteuid() == 0 && log_chown(uid, gid) == -1) {
		snprintf(err, errlen, "cannot hand the log file to %s: %s", user,
		    strerror(errno));
		return -1;
	}
	if (geteuid() != 0) {
		if (geteuid() == uid)
			return 0;
		snprintf(err, errlen, "must start as root to become %s", user);
		return -1;
	}
	if (setgroups(1, &gid) == -1 || setresgid(gid, gid, gid) == -1 ||
	    setresuid(uid, uid, uid) == -1) {
		snprintf(err, errlen, "dropping to %s: %s", user, strerror(errno));
		return -1;
	}
	if (uid != 0 && (setuid(0) != -1 || seteuid(0) != -1 ||
	    getuid() == 0 || geteuid() == 0)) {
		snprintf(err, errlen, "root could be regained after dropping to %s",
		    user);
		return -1;
	}
	return 0;
}

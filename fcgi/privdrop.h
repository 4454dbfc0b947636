/*
 * Dropping root after the socket is bound: kcgi's order, setgroups then
 * setresgid then setresuid, then proof that root cannot be regained.
 */
#ifndef DYNCONF_PRIVDROP_H
#define DYNCONF_PRIVDROP_H

#include <stddef.h>
#include <sys/types.h>

/*
 * Become user (and group, or the user's primary group when NULL/empty).
 * Does nothing when user is empty. Returns 0, or -1 with a reason in err.
 */
int	privdrop(const char *user, const char *group, char *err, size_t errlen);

/* The ids of user (and group, else the user's primary group). */
int	privdrop_resolve(const char *user, const char *group, uid_t *uid,
	    gid_t *gid, char *err, size_t errlen);

#endif

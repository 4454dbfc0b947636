/*
 * What a user document is (API.md §7, §13): the rules a request body and a
 * document read back from etcd are both held to. They live here, below the
 * model, because the replica's users index (user_index.c) reads every
 * stored user with them: a document the API would refuse is neither
 * indexed nor served (it is logged and skipped, never hiding the others),
 * and one the API accepts is always searchable.
 *
 * A stored user is a JSON object: "name" (required, 1 to 200 characters),
 * "email" (optional, an address in the form HTML's <input type=email>
 * accepts, at most 254 bytes), "age" (optional, an integer from 0 to
 * 150), "created_at" and "updated_at" (RFC 3339, set by the server), and
 * any other member, kept as given. The seed form's names "nome", "idade"
 * and "_id" are reserved: they stand for name, age and id in /usuarios.
 */
#ifndef DYNCONF_USER_DOC_H
#define DYNCONF_USER_DOC_H

#include <stddef.h>

struct arena;
struct json_object;

#define USER_FOLDER		"users/"
#define USER_EMAIL_INDEX	"index/users/email/"
#define USER_NAME_MAX		200	/* characters */
#define USER_NAME_MAX_BYTES	800	/* 200 characters of 4 bytes */
#define USER_EMAIL_MAX		254
#define USER_AGE_MAX		150
#define USER_MAX_PROBLEMS	8

struct user_fields {
	const char	*name;		/* the document's strings */
	size_t		 name_len;
	const char	*email;		/* NULL: none */
	size_t		 email_len;
	int		 has_age;
	int		 age;
	const char	*created_at;	/* NULL: absent or not RFC 3339 */
	const char	*updated_at;
};

struct user_problem {
	const char	*field;
	const char	*message;
};

/* One rule each: NULL when v passes, else why not (v is not NULL). */
const char	*user_name_problem(struct json_object *v);
const char	*user_email_problem(struct json_object *v);
const char	*user_age_problem(struct json_object *v);

/* Is s an address in the form HTML's <input type=email> accepts? */
int	user_email_valid(const char *s, size_t len);

/*
 * Check a whole document and read its fields into *f (pointing into doc).
 * Returns how many problems were found (0: a valid user); the first max
 * of them are in problems[].
 */
size_t	user_doc_check(struct json_object *doc, struct user_fields *f,
	    struct user_problem *problems, size_t max);

/* Is name one of the members the server sets or the seed form reserves? */
int	user_reserved_member(const char *name);

/*
 * The key that makes an email unique: "index/users/email/" and the email
 * with ASCII letters lowercased (a valid address is ASCII). In arena.
 */
char	*user_email_index_key(struct arena *arena, const char *email);

#endif

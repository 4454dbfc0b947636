/*
 * What a response looks like on a FastCGI connection: the CGI header block
 * (Status:, Content-Type:, ...) that a responder hands libfcgi, and, for
 * the waiting process, which answers without libfcgi, the whole answer as
 * FastCGI records: STDOUT, its empty end, END_REQUEST.
 */
#ifndef DYNCONF_RECORD_H
#define DYNCONF_RECORD_H

#include "base/buf.h"
#include "http/http.h"

/* The CGI header block of res, ending with its blank line, onto out. */
void	record_cgi_head(struct buf *out, const struct response *res);

/*
 * The answer to FastCGI request id as records onto out: the header block
 * and (but for HEAD) the body as STDOUT, then END_REQUEST.
 */
void	record_answer(struct buf *out, unsigned id, const struct exchange *ex);

#endif

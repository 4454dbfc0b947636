/*
 * The audit trail (API.md §14): GET /v1/audit lists who changed what,
 * newest first, from the replica's audit table (store/audit_index.h),
 * filtered by resource, key, actor and since.
 */
#ifndef DYNCONF_AUDIT_RESOURCE_H
#define DYNCONF_AUDIT_RESOURCE_H

#include "http/router.h"

route_handler	handle_audit_list;

#endif

/*
 * Segments over HTTP (API.md §5): PUT, GET, DELETE /v1/segments/{name} and
 * the list. A segment in use by a flag cannot be deleted (409
 * segment_in_use naming the flags), checked atomically against flag writes.
 */
#ifndef DYNCONF_SEGMENT_RESOURCE_H
#define DYNCONF_SEGMENT_RESOURCE_H

#include "http/router.h"

route_handler	handle_segment_put;
route_handler	handle_segment_get;
route_handler	handle_segment_list;
route_handler	handle_segment_delete;

#endif

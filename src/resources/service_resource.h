/*
 * /v1/services (API.md §8): register service instances on leases, renew
 * them with heartbeats, deregister them, and list the live ones; and the
 * seed's POST /servicos/registrar and GET /servicos/{nome}. See service.h
 * for how an instance lives in etcd.
 */
#ifndef DYNCONF_SERVICE_RESOURCE_H
#define DYNCONF_SERVICE_RESOURCE_H

#include "http/router.h"

route_handler	handle_service_register;
route_handler	handle_service_heartbeat;
route_handler	handle_service_deregister;
route_handler	handle_service_get;
route_handler	handle_service_list;
route_handler	handle_seed_service_register;
route_handler	handle_seed_service_get;

#endif

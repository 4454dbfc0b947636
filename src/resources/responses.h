/*
 * What each route answers on success, as JSON Schema, for the OpenAPI
 * document (router.h's struct response_spec). One per kind of answer;
 * routes.c names them.
 */
#ifndef DYNCONF_RESPONSES_H
#define DYNCONF_RESPONSES_H

#include "http/router.h"

extern const struct response_spec response_health, response_ready,
    response_openapi, response_metrics, response_config, response_config_list,
    response_no_content, response_environment_created, response_environment,
    response_environment_list, response_flag, response_flag_created,
    response_flag_list, response_evaluation, response_evaluation_all,
    response_token_created, response_token_list, response_watch,
    response_segment, response_segment_created, response_segment_list,
    response_flagsmith_flags, response_flagsmith_identity,
    response_flagsmith_analytics, response_ofrep_evaluation, response_ofrep_bulk,
    response_user, response_user_new, response_user_created, response_user_list,
    response_seed_user, response_seed_user_list, response_seed_message,
    response_seed_created, response_seed_config,
    response_instance_created, response_instance, response_service,
    response_service_list, response_seed_instance_list, response_seed_registered,
    response_lock_acquired, response_lock, response_seed_lock,
    response_audit_list;
extern const struct response_spec response_whoami;

#endif

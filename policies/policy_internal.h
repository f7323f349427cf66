/*
 * policy_internal.h — the parts of the policy's parser that live in files of
 * their own (policy.c reads the rest): each reads one top-level key's
 * value into `p`, saying every problem at its file:line through `c`.
 * Internal to policies/.
 */
#ifndef POL_POLICY_INTERNAL_H
#define POL_POLICY_INTERNAL_H

#include "policies/policy.h"
#include "policies/yaml_doc.h"

/* A path the file names, refused unless absolute: a relative one would
 * name another place for each working directory cron or an operator
 * happens to start bkp in. `example` is shown in the message. */
char *pol_parse_absolute(pol_yaml_ctx *c, pol_yaml_node *v, const char *key, const char *example);

/* media: [{name, type, path, location, offline, rotate_every, and an
 * object store's endpoint, bucket, region, credentials_file, lock}]
 * (policy_media.c). */
void pol_parse_media(pol_yaml_ctx *c, pol_yaml_node *v, pol_policy *p);

/* hosts: [{name, ssh, port, identity, host_key, connect_timeout,
 * idle_timeout}] (policy_hosts.c). */
void pol_parse_hosts(pol_yaml_ctx *c, pol_yaml_node *v, pol_policy *p);

#endif

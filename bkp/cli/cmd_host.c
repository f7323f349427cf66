/*
 * cmd_host.c — `bkp host add NAME ADDRESS`: the source's host key fetched
 * once for a person to compare, and the lines to add on the source and in
 * the policy; `bkp host check NAME`: connect and say what the agent serves.
 */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "bkp/cli/cli.h"
#include "bkp/host/cmdenv.h"
#include "bkp/host/remote.h"
#include "bkp/host/trust.h"
#include "bkp/io/durable.h"
#include "bkp/io/i18n.h"
#include "bkp/io/log.h"
#include "bkp/io/text.h"
#include "bkp/ops/remote_host.h"
#include "bkp/store/layout.h"

/* Run `argv` (a program of bkp's command path) and keep its standard
 * output, at most `size` - 1 bytes: 0, or as bkp_hook_finish. */
static int capture(char *const *argv, int64_t timeout, char *out, size_t size,
                   bkp_hook_result *res)
{
    bkp_hook_spec spec = {.argv = argv, .timeout = timeout, .dir = "/", .quiet = true};
    bkp_hook_proc *h;
    int fd, rc = bkp_hook_start(&spec, &fd, &h);
    size_t len = 0;
    out[0] = '\0';
    if (rc) {
        memset(res, 0, sizeof(*res));
        return rc;
    }
    for (;;) {
        ssize_t n = read(fd, out + len, size - 1 - len);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            break;
        len += (size_t)n;
        if (len == size - 1)
            break;
    }
    out[len] = '\0';
    close(fd);
    return bkp_hook_finish(h, false, res);
}

/* Our identity for the sources: made (ed25519, no passphrase: cron uses
 * it) when there is none. Its public half into `pub`. */
static int identity(const char *file, char *pub, size_t size, bool *made)
{
    char keygen[PATH_MAX], pubfile[PATH_MAX + 8], host[256] = "backup", comment[300];
    bkp_hook_result res;
    snprintf(pubfile, sizeof(pubfile), "%s.pub", file);
    if (access(file, F_OK) != 0) {
        char dir[PATH_MAX];
        snprintf(dir, sizeof(dir), "%s", file);
        char *slash = strrchr(dir, '/');
        if (slash && slash != dir) {
            *slash = '\0';
            int rc = bkp_mkdir_p(dir, 0700);
            if (rc) {
                bkp_error(_("cannot make the folder %s for our SSH key: %s"), dir,
                          bkp_strerror(rc));
                return EXIT_FAILED;
            }
        }
        if (!bkp_cmd_find("ssh-keygen", keygen, sizeof(keygen))) {
            bkp_error("%s", _("there is no ssh-keygen on this server: install openssh-client"));
            return EXIT_FAILED;
        }
        gethostname(host, sizeof(host) - 1);
        snprintf(comment, sizeof(comment), "bkp@%s", host);
        char *argv[] = {keygen, "-q", "-t", "ed25519", "-N", "", "-C", comment, "-f",
                        (char *)file, NULL};
        char out[512];
        if (capture(argv, 60, out, sizeof(out), &res)) {
            bkp_error(_("cannot make our SSH key %s: %s"), file, res.tail);
            return EXIT_FAILED;
        }
        *made = true;
    }
    if (bkp_trust_file(file, BKP_TRUST_SECRET, N_("SSH identity"), NULL))
        return EXIT_USAGE;
    FILE *f = fopen(pubfile, "re");
    bool got = f && fgets(pub, (int)size, f);
    if (f)
        fclose(f);
    pub[strcspn(pub, "\n")] = '\0';
    if (!got || !bkp_remote_host_key_ok(pub, NULL)) {
        bkp_error(_("cannot read the public half of our SSH key, %s — make it again with "
                    "`ssh-keygen -y -f %s > %s`"),
                  pubfile, file, pubfile);
        return EXIT_FAILED;
    }
    return EXIT_OK;
}

/* The source's host key, as ssh-keyscan reads it: into `key` ("TYPE B64"). */
static int scan(const char *address, int port, char *key, size_t size)
{
    char prog[PATH_MAX], portstr[16], out[16384];
    bkp_hook_result res;
    if (!bkp_cmd_find("ssh-keyscan", prog, sizeof(prog))) {
        bkp_error("%s", _("there is no ssh-keyscan on this server: install openssh-client"));
        return EXIT_FAILED;
    }
    snprintf(portstr, sizeof(portstr), "%d", port);
    char *argv[] = {prog, "-T", "10", "-t", "ed25519,ecdsa,rsa", "-p", portstr, "--",
                    (char *)address, NULL};
    int rc = capture(argv, 60, out, sizeof(out), &res);
    /* Lines "ADDRESS TYPE KEY"; the first of the kinds asked, in that order. */
    static const char *const prefer[] = {"ssh-ed25519", "ecdsa-sha2-", "ssh-rsa", NULL};
    for (size_t k = 0; prefer[k]; k++) {
        for (const char *p = out; *p;) {
            size_t n = strcspn(p, "\n");
            const char *sp = memchr(p, ' ', n);
            if (p[0] != '#' && sp && !strncmp(sp + 1, prefer[k], strlen(prefer[k])) &&
                (size_t)(p + n - sp - 1) < size) {
                snprintf(key, size, "%.*s", (int)(p + n - sp - 1), sp + 1);
                if (bkp_remote_host_key_ok(key, NULL))
                    return EXIT_OK;
            }
            p += n + (p[n] == '\n');
        }
    }
    (void)rc; /* ssh-keyscan's status says no more than its words */
    if (res.tail[0])
        bkp_error(_("%s (port %d) did not show a host key: is it on, is sshd listening on that "
                    "port, and may this server reach it? (%s)"),
                  address, port, res.tail);
    else
        bkp_error(_("%s (port %d) did not show a host key: is it on, is sshd listening on that "
                    "port, and may this server reach it?"),
                  address, port);
    return EXIT_FAILED;
}

static int host_add(cli *c)
{
    const char *name = c->args[1], *address = c->args[2];
    const char *user = c->ssh_user ? c->ssh_user : "bkp";
    const char *id = c->identity ? c->identity : POL_HOST_IDENTITY;
    char *end;
    long port = c->port ? strtol(c->port, &end, 10) : 22;
    if (!bkp_dataset_name_ok(name) || !bkp_remote_address_ok(address) ||
        !bkp_cmd_user_name_ok(user) || (c->port && (*end || port < 1 || port > 65535)) ||
        id[0] != '/') {
        bkp_error("%s", _("host add NAME ADDRESS: a name of letters, digits, '.', '_' and '-', "
                          "a host name or IP address, --port 1 to 65535, --user a user name, "
                          "--identity an absolute path"));
        return EXIT_USAGE;
    }
    char pub[4200], key[4200], fp[80], ours[80];
    bool made = false;
    /* The host first: a server not reached leaves no key of ours made (and
     * the run that reaches it says it made one). */
    int ex = scan(address, (int)port, key, sizeof(key));
    if (ex || (ex = identity(id, pub, sizeof(pub), &made)))
        return ex;
    bkp_remote_fingerprint(key, fp, sizeof(fp));
    bkp_remote_fingerprint(pub, ours, sizeof(ours));
    char type[32];
    bkp_remote_host_key_ok(key, type);
    if (c->json) {
        char line[4300];
        snprintf(line, sizeof(line), "restrict,command=\"/usr/bin/bkp agent\" %s", pub);
        cli_print_json(json_pack("{s:s, s:s, s:i, s:s, s:s, s:s, s:s, s:s, s:s, s:b}", "name",
                                 name, "address", address, "port", (int)port, "user", user,
                                 "identity", id, "host_key", key, "fingerprint", fp,
                                 "identity_fingerprint", ours, "authorized_keys", line,
                                 "identity_made", made));
        return EXIT_OK;
    }
    if (made)
        printf(_("Made our SSH key for the sources: %s\n"), id);
    printf(_("The host key of %s (port %ld): %s %s\n"), address, port, type, fp);
    printf("%s\n", _("Compare it with the server's own before going on, read there on its "
                     "console (not over the network):"));
    printf("    ssh-keygen -lf /etc/ssh/ssh_host_%s_key.pub\n\n",
           !strcmp(type, "ssh-ed25519") ? "ed25519" : !strcmp(type, "ssh-rsa") ? "rsa" : "ecdsa");
    printf(_("Only if they are the same: on %s, as root,\n"), address);
    /* A password of '*': no password logs in, yet the account is not
     * locked, which an sshd without PAM refuses even for a key. */
    printf(_("  1. make the user the agent runs as: useradd --system --create-home --password '*' "
             "%s\n"),
           user);
    printf("%s\n", _("  2. install bkp and write /etc/bkp/agent.yaml: what it may read and run "
                     "(see `man bkp-agent`)"));
    printf(_("  3. add this line to ~%s/.ssh/authorized_keys (mode 0600, owned by %s):\n"), user,
           user);
    printf("restrict,command=\"/usr/bin/bkp agent\" %s\n", pub);
    printf(_("     (our key, %s: `ssh-keygen -lf` there must show it; if bkp is not /usr/bin/bkp "
             "there, or its file not /etc/bkp/agent.yaml, write its path and --config FILE in "
             "command=, as `bkp agent` there prints)\n\n"),
           ours);
    printf("%s\n", _("Then add to the policy, under hosts:"));
    printf("  - name: %s\n    ssh: %s@%s\n", name, user, address);
    if (port != 22)
        printf("    port: %ld\n", port);
    if (strcmp(id, POL_HOST_IDENTITY))
        printf("    identity: %s\n", id);
    printf("    host_key: \"%s\"\n\n", key);
    printf(_("and check it: bkp host check %s\n"), name);
    return EXIT_OK;
}

static int host_check(cli *c)
{
    if (c->port || c->ssh_user || c->identity) {
        bkp_error("%s", _("--port, --user and --identity are for `bkp host add`; `bkp host check` "
                          "connects as the policy's hosts: says"));
        return EXIT_USAGE;
    }
    pol_policy *p = cli_policy(c);
    if (!p)
        return EXIT_USAGE;
    const pol_host *h = pol_host_find(p, c->args[1]);
    if (!h) {
        bkp_error(_("host '%s' is not under hosts in %s — add it there (`bkp host add` prints the "
                    "lines)"),
                  c->args[1], p->file);
        return EXIT_USAGE;
    }
    bkp_remote_host rh;
    bkp_wire_hello hi;
    bkp_hook_result res;
    ops_remote_host(h, &rh);
    int rc = bkp_remote_hello(&rh, &hi, &res);
    if (rc) {
        const char *why = ops_remote_why(rc);
        bkp_error(_("host %s (%s@%s port %d): the check %s%s%s"), h->name, h->user, h->address,
                  h->port, why ? _(why) : bkp_strerror(rc), res.tail[0] ? ": " : "", res.tail);
        return EXIT_FAILED;
    }
    int missing = 0;
    for (size_t i = 0; i < p->ndatasets; i++) {
        const pol_dataset *d = &p->datasets[i];
        bool listed = false;
        if (!d->host || strcmp(d->host, h->name) || !d->stream.command.command)
            continue;
        for (size_t k = 0; k < hi.ncommands; k++)
            listed |= !strcmp(hi.commands[k], d->stream.command.command);
        if (!listed) {
            bkp_error(_("data set %s runs '%s' on %s, which the agent there does not list in its "
                        "commands — add it to its agent.yaml"),
                      d->name, d->stream.command.command, h->name);
            missing++;
        }
    }
    int paths = ops_host_paths_check(p, h, &hi);
    if (c->json) {
        size_t len;
        char *said = bkp_wire_hello_emit(&hi, &len);
        json_t *agent = said ? json_loadb(said, len, 0, NULL) : NULL;
        free(said);
        cli_print_json(json_pack("{s:s, s:b, s:o*, s:i, s:i, s:b}", "host", h->name, "ok",
                                 !missing && !paths, "agent", agent, "missing_commands", missing,
                                 "path_problems", paths, "paths_checked", hi.checked));
    } else {
        printf(_("host %s (%s@%s port %d): agent bkp %s answers\n"), h->name, h->user,
               h->address, h->port, hi.version);
        printf("%s", _("  it may read:"));
        for (size_t i = 0; i < hi.nread; i++) { /* another server's words: made safe */
            char *safe = bkp_text_safe(hi.read[i], BKP_TEXT_FIELD);
            printf(" %s", safe ? safe : "?");
            free(safe);
        }
        printf("%s\n", hi.nread ? "" : _(" nothing"));
        if (!hi.checked)
            printf("%s", _("  (this agent is older than this bkp: it does not say whether its "
                           "user can enter these folders; install this bkp there too)\n"));
        for (size_t i = 0; i < hi.nunreadable + hi.nmissing; i++) {
            bool gone = i >= hi.nunreadable;
            char *safe = bkp_text_safe(gone ? hi.missing[i - hi.nunreadable] : hi.unreadable[i],
                                       BKP_TEXT_FIELD);
            printf(gone ? _("  but %s is not there\n")
                        : _("  but it cannot enter %s (its user's rights there)\n"),
                   safe ? safe : "?");
            free(safe);
        }
        printf("%s", _("  it may run:"));
        for (size_t i = 0; i < hi.ncommands; i++)
            printf(" %s", hi.commands[i]);
        printf("%s\n", hi.ncommands ? "" : _(" nothing"));
    }
    bkp_wire_hello_clear(&hi);
    return missing || paths ? EXIT_FAILED : EXIT_OK;
}

int cmd_host(cli *c)
{
    if (!strcmp(c->args[0], "add") && c->nargs == 3)
        return host_add(c);
    if (!strcmp(c->args[0], "check") && c->nargs == 2)
        return host_check(c);
    bkp_error(_("unknown host command; use `bkp host add NAME ADDRESS [--port N] [--user U]` or "
                "`bkp host check NAME`"));
    return EXIT_USAGE;
}

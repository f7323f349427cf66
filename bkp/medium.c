/* medium.c — labels on media and the registry of media. */
#include "bkp/medium.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <unistd.h>

#include <uuid/uuid.h>

#include "bkp/clock.h"
#include "bkp/durable.h"
#include "bkp/generation.h"
#include "bkp/log.h"

#define LABEL_FORMAT "bkp-label"
#define ENTRY_MAX (16 << 20)

bool bkp_medium_name_ok(const char *name)
{
    return bkp_dataset_name_ok(name) && strlen(name) <= 64;
}

bool bkp_medium_type_ok(const char *type)
{
    return type &&
           (!strcmp(type, "disk") || !strcmp(type, "removable") || !strcmp(type, "archive"));
}

bool bkp_medium_location_ok(const char *location)
{
    return location && (!strcmp(location, "onsite") || !strcmp(location, "offsite"));
}

json_t *bkp_label_new(const bkp_repo *r, const char *name, const char *type, const char *location)
{
    uuid_t u;
    char uuid[37], created[32];
    uuid_generate_random(u);
    uuid_unparse_lower(u, uuid);
    bkp_iso_time(created, sizeof(created), bkp_now());
    return json_pack("{s:s, s:i, s:s, s:s, s:s, s:s, s:s, s:s}", "format", LABEL_FORMAT, "version",
                     1, "uuid", uuid, "name", name, "type", type, "location", location,
                     "repository", bkp_repo_uuid(r), "created", created);
}

int bkp_label_read(const char *path, json_t **out)
{
    char *file = bkp_path_join(path, BKP_LABEL_FILE);
    bkp_buf data;
    bkp_buf_init(&data);
    *out = NULL;
    int rc = file ? bkp_read_file(file, &data, 1 << 16) : -ENOMEM;
    if (rc) {
        if (rc != -ENOENT)
            bkp_error("cannot read the label %s: %s", file ? file : path, bkp_strerror(rc));
        goto out;
    }
    json_t *j = json_loadb((const char *)data.data, data.len, 0, NULL);
    uuid_t u;
    const char *uuid = json_string_value(json_object_get(j, "uuid"));
    const char *fmt = json_string_value(json_object_get(j, "format"));
    if (!fmt || strcmp(fmt, LABEL_FORMAT) ||
        json_integer_value(json_object_get(j, "version")) != 1 || !uuid || uuid_parse(uuid, u) ||
        !bkp_medium_name_ok(json_string_value(json_object_get(j, "name"))) ||
        !bkp_medium_type_ok(json_string_value(json_object_get(j, "type"))) ||
        !bkp_medium_location_ok(json_string_value(json_object_get(j, "location"))) ||
        !json_is_string(json_object_get(j, "repository"))) {
        bkp_error("%s is not a bkp label (damaged, or written by something else); relabel the "
                  "medium with `bkp media label %s --name NAME --force` if it is yours",
                  file, path);
        json_decref(j);
        rc = -EBADMSG;
        goto out;
    }
    *out = j;
out:
    bkp_buf_free(&data);
    free(file);
    return rc;
}

static int write_json(const char *dir, const char *name, const json_t *j, unsigned flags)
{
    char *text = json_dumps(j, JSON_INDENT(2) | JSON_SORT_KEYS);
    if (!text)
        return -ENOMEM;
    size_t len = strlen(text);
    text[len] = '\n'; /* json_dumps leaves room for the NUL only: rewrite it */
    int rc = bkp_durable_write(dir, name, text, len + 1, flags);
    free(text);
    return rc;
}

int bkp_label_write(const char *path, const json_t *label, bool replace)
{
    return write_json(path, BKP_LABEL_FILE, label, replace ? 0 : BKP_DURABLE_NOREPLACE);
}

static char *media_dir(bkp_repo *r)
{
    return bkp_repo_subpath(r, "media");
}

json_t *bkp_media_get(bkp_repo *r, const char *name)
{
    char file[96];
    char *dir = media_dir(r), *path;
    bkp_buf data;
    json_t *j = NULL;
    if (!bkp_medium_name_ok(name)) {
        free(dir);
        return NULL;
    }
    snprintf(file, sizeof(file), "%s.json", name);
    path = dir ? bkp_path_join(dir, file) : NULL;
    bkp_buf_init(&data);
    if (path && bkp_read_file(path, &data, ENTRY_MAX) == 0) {
        j = json_loadb((const char *)data.data, data.len, 0, NULL);
        if (!json_is_object(json_object_get(j, "label"))) {
            bkp_warn("%s is damaged; it is rewritten by the next `bkp rotate %s`", path, name);
            json_decref(j);
            j = NULL;
        }
    }
    bkp_buf_free(&data);
    free(path);
    free(dir);
    return j;
}

static int cmp_name(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

json_t *bkp_media_list(bkp_repo *r)
{
    json_t *out = json_array();
    char *dir = media_dir(r);
    DIR *d = dir ? opendir(dir) : NULL;
    char **names = NULL;
    size_t n = 0, cap = 0;
    struct dirent *e;
    while (d && (e = readdir(d))) {
        size_t l = strlen(e->d_name);
        if (e->d_name[0] == '.' || l < 6 || strcmp(e->d_name + l - 5, ".json"))
            continue;
        if (n == cap) {
            char **nn = realloc(names, (cap = cap ? 2 * cap : 16) * sizeof(*names));
            if (!nn)
                break;
            names = nn;
        }
        if ((names[n] = strndup(e->d_name, l - 5)))
            n++;
    }
    if (d)
        closedir(d);
    if (n)
        qsort(names, n, sizeof(*names), cmp_name);
    for (size_t i = 0; i < n; i++) {
        json_t *j = bkp_media_get(r, names[i]);
        if (j)
            json_array_append_new(out, j);
        free(names[i]);
    }
    free(names);
    free(dir);
    return out;
}

int bkp_media_update(bkp_repo *r, const char *name, int (*fn)(json_t *entry, void *ctx), void *ctx)
{
    char file[96];
    char *dir = media_dir(r), *lockp = dir ? bkp_path_join(dir, ".lock") : NULL;
    int fd = -1, rc;
    json_t *j = NULL;
    if (!lockp || !bkp_medium_name_ok(name)) {
        rc = lockp ? -EINVAL : -ENOMEM;
        goto out;
    }
    if ((rc = bkp_mkdir_p(dir, 0700)))
        goto out;
    fd = open(lockp, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
    if (fd < 0 || flock(fd, LOCK_EX) < 0) {
        rc = -errno;
        goto out;
    }
    j = bkp_media_get(r, name);
    if (!j)
        j = json_object();
    if (!j || (rc = fn(j, ctx)))
        goto out;
    snprintf(file, sizeof(file), "%s.json", name);
    rc = write_json(dir, file, j, 0);
out:
    if (rc < 0)
        bkp_error("cannot update the media registry of %s in %s: %s", name, dir ? dir : "?",
                  bkp_strerror(rc));
    if (fd >= 0)
        close(fd);
    json_decref(j);
    free(lockp);
    free(dir);
    return rc;
}

int bkp_media_forget(bkp_repo *r, const char *name)
{
    char file[96];
    char *dir = media_dir(r), *lockp = dir ? bkp_path_join(dir, ".lock") : NULL, *path = NULL;
    int fd = -1, rc = 0;
    snprintf(file, sizeof(file), "%s.json", name);
    if (!lockp || !bkp_medium_name_ok(name) || !(path = bkp_path_join(dir, file))) {
        rc = -EINVAL;
        goto out;
    }
    fd = open(lockp, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
    if (fd < 0 || flock(fd, LOCK_EX) < 0)
        rc = -errno;
    else if (unlink(path) < 0)
        rc = -errno;
    else
        rc = bkp_fsync_dir(dir);
out:
    if (fd >= 0)
        close(fd);
    free(path);
    free(lockp);
    free(dir);
    return rc;
}

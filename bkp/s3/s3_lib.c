/*
 * s3_lib.c — libcurl and libxml2, loaded when an object medium is first
 * used, not at start.
 *
 * The S3 client is the only part of bkp that speaks HTTP or XML. Linked
 * with the program, libcurl and libxml2 (and what they link: TLS, Kerberos,
 * LDAP, ICU's 31 MB of data) load with every command and go into every
 * recovery kit (kit.h), which is for restoring from a disk or a tape on a
 * machine that has never seen bkp: it needs none of them. Loaded here by
 * their sonames from the system's library path, the first time a bucket is
 * opened, they are the system's own (as linked ones would be); the kit's
 * program, which runs with the kit's libraries only, says that a bucket
 * needs bkp installed.
 */
#include <dlfcn.h>
#include <errno.h>
#include <pthread.h>
#include <stddef.h>
#include <string.h>

#include "bkp/io/i18n.h"
#include "bkp/media/kit.h"
#include "bkp/io/log.h"
#include "bkp/s3/s3_internal.h"

static s3_lib lib;
static int lib_rc = -ENOSYS;
static pthread_once_t lib_once = PTHREAD_ONCE_INIT;
const s3_lib *s3l = &lib;

/* Each function the client calls, by its name in its library. */
static const struct {
    const char *name;
    size_t at; /* its pointer's place in s3_lib */
    bool xml;  /* in libxml2, else libcurl */
} wanted[] = {
    {"curl_global_init", offsetof(s3_lib, global_init), false},
    {"curl_easy_init", offsetof(s3_lib, easy_init), false},
    {"curl_easy_cleanup", offsetof(s3_lib, easy_cleanup), false},
    {"curl_easy_reset", offsetof(s3_lib, easy_reset), false},
    {"curl_easy_setopt", offsetof(s3_lib, easy_setopt), false},
    {"curl_easy_perform", offsetof(s3_lib, easy_perform), false},
    {"curl_easy_getinfo", offsetof(s3_lib, easy_getinfo), false},
    {"curl_easy_strerror", offsetof(s3_lib, easy_strerror), false},
    {"curl_slist_append", offsetof(s3_lib, slist_append), false},
    {"curl_slist_free_all", offsetof(s3_lib, slist_free_all), false},
    {"curl_getdate", offsetof(s3_lib, getdate), false},
    {"xmlInitParser", offsetof(s3_lib, init_parser), true},
    {"xmlReadMemory", offsetof(s3_lib, read_memory), true},
    {"xmlDocGetRootElement", offsetof(s3_lib, doc_root), true},
    {"xmlFreeDoc", offsetof(s3_lib, free_doc), true},
    {"xmlNodeGetContent", offsetof(s3_lib, node_content), true},
    {"xmlSetGenericErrorFunc", offsetof(s3_lib, set_generic_error), true},
    {"xmlSetStructuredErrorFunc", offsetof(s3_lib, set_structured_error), true},
};

static void load(void)
{
    if (bkp_kit_started_by_loader()) {
        /* The kit's loader would take libcurl and what it links from the
         * machine's folders, beside the kit's own C library and libcrypto. */
        bkp_error(_("this bkp runs from a recovery kit, which does not reach object media: restore "
                    "from a disk or an archive copy, or install bkp to restore from the bucket"));
        return;
    }
    /* RTLD_NODELETE: the pointers stay valid for the life of the process. */
    void *c = dlopen("libcurl.so.4", RTLD_NOW | RTLD_LOCAL | RTLD_NODELETE);
    void *x = dlopen("libxml2.so.2", RTLD_NOW | RTLD_LOCAL | RTLD_NODELETE);
    /* xmlFree is a variable: the function libxml2 frees with. */
    void *xml_free = x ? dlsym(x, "xmlFree") : NULL;
    bool ok = c && x && xml_free;
    for (size_t i = 0; ok && i < sizeof(wanted) / sizeof(*wanted); i++) {
        void *sym = dlsym(wanted[i].xml ? x : c, wanted[i].name);
        memcpy((char *)&lib + wanted[i].at, &sym, sizeof(sym));
        ok = sym != NULL;
    }
    if (ok)
        memcpy(&lib.free, xml_free, sizeof(lib.free));
    if (!ok || !lib.free) {
        const char *why = dlerror();
        bkp_error(_("an object medium needs libcurl and libxml2, which are not installed here (%s); "
                    "install them (apt install libcurl4 libxml2), or restore from a disk or "
                    "archive copy"),
                  why ? why : "libcurl.so.4, libxml2.so.2");
        return;
    }
    lib_rc = 0;
}

int s3_lib_load(void)
{
    pthread_once(&lib_once, load);
    return lib_rc;
}

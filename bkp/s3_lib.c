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
#include <string.h>

#include "bkp/i18n.h"
#include "bkp/kit.h"
#include "bkp/log.h"
#include "bkp/s3_internal.h"

static s3_lib lib;
static int lib_rc = -ENOSYS;
static pthread_once_t lib_once = PTHREAD_ONCE_INIT;
const s3_lib *s3l = &lib;

/* `*(void **)dst` = the symbol `name` of `h`: false when it is missing. */
static bool take(void *h, const char *name, void *dst)
{
    void *sym = h ? dlsym(h, name) : NULL;
    memcpy(dst, &sym, sizeof(sym));
    return sym != NULL;
}

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
    void *xml_free = NULL;
    bool ok = c && x && take(c, "curl_global_init", &lib.global_init) &&
              take(c, "curl_easy_init", &lib.easy_init) &&
              take(c, "curl_easy_cleanup", &lib.easy_cleanup) &&
              take(c, "curl_easy_reset", &lib.easy_reset) &&
              take(c, "curl_easy_setopt", &lib.easy_setopt) &&
              take(c, "curl_easy_perform", &lib.easy_perform) &&
              take(c, "curl_easy_getinfo", &lib.easy_getinfo) &&
              take(c, "curl_easy_strerror", &lib.easy_strerror) &&
              take(c, "curl_slist_append", &lib.slist_append) &&
              take(c, "curl_slist_free_all", &lib.slist_free_all) &&
              take(c, "curl_getdate", &lib.getdate) && take(x, "xmlInitParser", &lib.init_parser) &&
              take(x, "xmlReadMemory", &lib.read_memory) &&
              take(x, "xmlDocGetRootElement", &lib.doc_root) &&
              take(x, "xmlFreeDoc", &lib.free_doc) &&
              take(x, "xmlNodeGetContent", &lib.node_content) &&
              take(x, "xmlSetGenericErrorFunc", &lib.set_generic_error) &&
              take(x, "xmlSetStructuredErrorFunc", &lib.set_structured_error) &&
              take(x, "xmlFree", &xml_free); /* a variable: the function libxml2 frees with */
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

/* reread.c — checking the state of the rolling re-read before it is used. */
#include "bkp/reread.h"

#include <errno.h>
#include <string.h>

#include "bkp/blob.h"
#include "bkp/bytes.h"

bool bkp_reread_valid(const json_t *state, time_t now)
{
    const char *key;
    json_t *v;
    if (!json_is_object(state))
        return false;
    /* A time a day ahead is a clock that was set back since; further ahead
     * would keep a pack out of the sample for ever. */
    json_int_t limit = (json_int_t)now + 86400;
    json_object_foreach((json_t *)state, key, v)
    {
        uint8_t id[BKP_ID_LEN];
        if (strcmp(key, "last_run") && bkp_unhex(id, BKP_ID_LEN, key))
            return false;
        if (!json_is_integer(v) || json_integer_value(v) < 0 || json_integer_value(v) > limit)
            return false;
    }
    return true;
}

int bkp_reread_parse(const char *buf, size_t len, time_t now, json_t **out)
{
    if (len > BKP_REREAD_MAX)
        return -EBADMSG;
    json_t *j = json_loadb(buf, len, JSON_REJECT_DUPLICATES, NULL);
    if (!bkp_reread_valid(j, now)) {
        json_decref(j);
        return -EBADMSG;
    }
    *out = j;
    return 0;
}

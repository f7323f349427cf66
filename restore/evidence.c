/* evidence.c — the evidence report for checklist item 3-② (evidence.h). */
#include "restore/evidence.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bkp/bytes.h"

#define T(en, jp) (ja ? (jp) : (en)) /* needs `ja` in scope */

static const char *js(json_t *o, const char *k)
{
    const char *s = json_string_value(json_object_get(o, k));
    return s ? s : "";
}

static json_int_t ji(json_t *o, const char *k)
{
    return json_integer_value(json_object_get(o, k));
}

static const char *verdict_ja(const char *v)
{
    return !strcmp(v, "COMPLIANT")       ? "適合"
           : !strcmp(v, "AT RISK")       ? "要注意"
           : !strcmp(v, "NON-COMPLIANT") ? "不適合"
                                         : v;
}

static void part(json_t *parts, const char *name, bool ok, const char *en, const char *ja)
{
    json_array_append_new(parts, json_pack("{s:s, s:b, s:{s:s, s:s}}", "part", name, "ok", ok,
                                           "evidence", "en", en, "ja", ja));
}

#define ROTATIONS_CITED 12

json_t *rb_evidence_statement(json_t *ev)
{
    json_t *parts = json_array(), *sets = json_object_get(ev, "datasets"), *d, *r;
    size_t i, k;
    char en[16384], ja[16384];
    bool all = true, ok;

    /* 1. At least three generations. */
    en[0] = ja[0] = '\0';
    ok = json_array_size(sets) > 0;
    json_array_foreach(sets, i, d)
    {
        json_int_t g = ji(d, "generations_kept");
        ok &= g >= 3;
        bkp_strappend(en, sizeof(en), "%s%s: %lld generation(s) kept", i ? "; " : "",
                      js(d, "dataset"), (long long)g);
        bkp_strappend(ja, sizeof(ja), "%s%s: %lld 世代を保持", i ? "。" : "", js(d, "dataset"),
                      (long long)g);
    }
    part(parts, "generations", ok, en, ja);
    all &= ok;

    /* 2. An off-line copy, never older than the rule allows. */
    en[0] = ja[0] = '\0';
    ok = json_array_size(sets) > 0;
    json_array_foreach(sets, i, d)
    {
        bool g = json_is_true(json_object_get(d, "offline_gap_ok"));
        double gap = (double)ji(d, "offline_longest_gap_seconds") / 86400.0;
        double max = (double)ji(d, "offline_max_age_seconds") / 86400.0;
        ok &= g;
        bkp_strappend(
            en, sizeof(en),
            "%s%s: longest time without a fresh off-line copy %.1f days (at most %.0f); rotations",
            i ? "; " : "", js(d, "dataset"), gap, max);
        bkp_strappend(ja, sizeof(ja),
                      "%s%s: オフライン複製の最長間隔 %.1f 日（上限 %.0f 日）、ローテーション記録",
                      i ? "。" : "", js(d, "dataset"), gap, max);
        size_t n = 0, okn = 0, skip;
        json_array_foreach(json_object_get(d, "rotations"), k, r) okn +=
            !strcmp(js(r, "outcome"), "ok");
        skip = okn > ROTATIONS_CITED ? okn - ROTATIONS_CITED : 0; /* the newest are cited */
        if (skip) {
            bkp_strappend(en, sizeof(en), " (%zu earlier, see the table)", skip);
            bkp_strappend(ja, sizeof(ja), "（ほか %zu 件は表を参照）", skip);
        }
        json_array_foreach(json_object_get(d, "rotations"), k, r)
        {
            if (strcmp(js(r, "outcome"), "ok") || (skip && skip--))
                continue;
            bkp_strappend(en, sizeof(en), " #%lld (%.10s, %s)", (long long)ji(r, "seq"),
                          js(r, "time"), js(r, "medium"));
            bkp_strappend(ja, sizeof(ja), " #%lld (%.10s, %s)", (long long)ji(r, "seq"),
                          js(r, "time"), js(r, "medium"));
            n++;
        }
        if (!n) {
            bkp_strappend(en, sizeof(en), " none in the period");
            bkp_strappend(ja, sizeof(ja), " 期間内なし");
        }
    }
    part(parts, "offline", ok, en, ja);
    all &= ok;

    /* 3. Two kinds of media and a copy off-site (the 3-2-1 picture of now). */
    en[0] = ja[0] = '\0';
    ok = json_array_size(sets) > 0;
    json_array_foreach(sets, i, d)
    {
        json_t *cnt = json_object_get(d, "counted"), *req = json_object_get(d, "required");
        /* The checklist's floor (3 copies, 2 media types, 1 off-site), whatever a
         * policy relaxed, and the verdict of now. */
        json_int_t rc = ji(req, "copies") > 3 ? ji(req, "copies") : 3;
        json_int_t rt = ji(req, "media_types") > 2 ? ji(req, "media_types") : 2;
        json_int_t ro = ji(req, "offsite") > 1 ? ji(req, "offsite") : 1;
        bool g = ji(cnt, "copies") >= rc && ji(cnt, "media_types") >= rt &&
                 ji(cnt, "offsite") >= ro && strcmp(js(d, "verdict"), "NON-COMPLIANT");
        ok &= g;
        bkp_strappend(en, sizeof(en),
                      "%s%s: %lld copies, %lld media type(s), %lld off-site (at least "
                      "%lld/%lld/%lld); verdict %s",
                      i ? "; " : "", js(d, "dataset"), (long long)ji(cnt, "copies"),
                      (long long)ji(cnt, "media_types"), (long long)ji(cnt, "offsite"),
                      (long long)rc, (long long)rt, (long long)ro, js(d, "verdict"));
        bkp_strappend(ja, sizeof(ja),
                      "%s%s: 複製 %lld、媒体の種類 %lld、院外 %lld（最低 %lld/%lld/%lld）、判定 %s",
                      i ? "。" : "", js(d, "dataset"), (long long)ji(cnt, "copies"),
                      (long long)ji(cnt, "media_types"), (long long)ji(cnt, "offsite"),
                      (long long)rc, (long long)rt, (long long)ro, verdict_ja(js(d, "verdict")));
        /* Non-editable copies: off-line media, and Object Lock buckets a probe proved. */
        bkp_strappend(en, sizeof(en), "; %lld non-editable", (long long)ji(cnt, "immutable"));
        bkp_strappend(ja, sizeof(ja), "、改ざん不能 %lld", (long long)ji(cnt, "immutable"));
        json_t *m;
        json_array_foreach(json_object_get(d, "copies_on_media"), k, m)
        {
            if (strcmp(js(m, "type"), "object"))
                continue;
            const char *pr = json_string_value(json_object_get(m, "proven"));
            bkp_strappend(en, sizeof(en), " (%s: on-line Object Lock, %s%.10s)", js(m, "medium"),
                          pr ? "non-editable, proven on " : "NOT proven, counted as editable",
                          pr ? pr : "");
            bkp_strappend(
                ja, sizeof(ja), "（%s: オンラインの Object Lock、%s%.10s）", js(m, "medium"),
                pr ? "改ざん不能を確認 " : "未確認のため改ざん可能として扱う", pr ? pr : "");
        }
    }
    part(parts, "media", ok, en, ja);
    all &= ok;

    /* 4. A written recovery procedure. */
    en[0] = ja[0] = '\0';
    ok = json_array_size(sets) > 0;
    json_array_foreach(sets, i, d)
    {
        json_t *rb = json_object_get(d, "runbook");
        bool g = json_is_object(rb) && !json_is_true(json_object_get(rb, "invalid"));
        ok &= g;
        if (g) {
            bkp_strappend(en, sizeof(en), "%s%s: runbook %s \"%s\" (%lld steps)", i ? "; " : "",
                          js(d, "dataset"), js(rb, "name"), js(rb, "title"),
                          (long long)ji(rb, "steps"));
            bkp_strappend(ja, sizeof(ja), "%s%s: 手順書 %s「%s」（%lld 手順）", i ? "。" : "",
                          js(d, "dataset"), js(rb, "name"), js(rb, "title"),
                          (long long)ji(rb, "steps"));
        } else {
            bkp_strappend(en, sizeof(en), "%s%s: no valid runbook", i ? "; " : "",
                          js(d, "dataset"));
            bkp_strappend(ja, sizeof(ja), "%s%s: 有効な手順書なし", i ? "。" : "",
                          js(d, "dataset"));
        }
    }
    part(parts, "procedure", ok, en, ja);
    all &= ok;

    /* 5. The procedure confirmed by a drill in the period. */
    en[0] = ja[0] = '\0';
    ok = json_array_size(sets) > 0;
    json_array_foreach(sets, i, d)
    {
        /* A drill of the data set's own runbook that restored it without damage
         * and within the target time. */
        json_t *best = NULL, *rb = json_object_get(d, "runbook");
        json_array_foreach(json_object_get(d, "drills"), k, r)
        {
            if (!strcmp(js(r, "outcome"), "ok") && json_is_true(json_object_get(r, "rto_met")) &&
                !ji(r, "damaged") && *js(r, "generation") &&
                (!json_is_object(rb) || !strcmp(js(r, "runbook"), js(rb, "name"))))
                best = r;
        }
        ok &= best != NULL;
        if (best) {
            bkp_strappend(en, sizeof(en), "%s%s: drill #%lld (%.10s) succeeded in %.1f s",
                          i ? "; " : "", js(d, "dataset"), (long long)ji(best, "seq"),
                          js(best, "time"), json_number_value(json_object_get(best, "seconds")));
            bkp_strappend(ja, sizeof(ja), "%s%s: 訓練 #%lld（%.10s）成功、所要 %.1f 秒",
                          i ? "。" : "", js(d, "dataset"), (long long)ji(best, "seq"),
                          js(best, "time"), json_number_value(json_object_get(best, "seconds")));
        } else {
            bkp_strappend(en, sizeof(en), "%s%s: no successful drill in the period", i ? "; " : "",
                          js(d, "dataset"));
            bkp_strappend(ja, sizeof(ja), "%s%s: 期間内に成功した訓練なし", i ? "。" : "",
                          js(d, "dataset"));
        }
    }
    part(parts, "drill", ok, en, ja);
    all &= ok;

    /* 6. The record itself: the audit chain intact. */
    json_t *a = json_object_get(ev, "audit");
    ok = json_is_true(json_object_get(a, "ok"));
    snprintf(en, sizeof(en), "%lld audit record(s); %s", (long long)ji(a, "records"),
             ok ? "chain and signatures intact" : js(a, "problem"));
    snprintf(ja, sizeof(ja), "監査記録 %lld 件、%s", (long long)ji(a, "records"),
             ok ? "ハッシュ連鎖と署名に異常なし" : js(a, "problem"));
    part(parts, "audit", ok, en, ja);
    all &= ok;
    return json_pack("{s:b, s:o}", "answer", all, "parts", parts);
}

static const char *part_title(const char *p, bool ja)
{
    static const struct {
        const char *key, *en, *ja;
    } t[] = {
        {"generations", "At least three generations are kept",
         "3 世代以上のバックアップを保持している"},
        {"offline", "One generation is held off-line, never older than the rule allows",
         "1 世代以上をオフラインで保管し、基準の期間内に更新している"},
        {"media", "Copies on two kinds of media, one off-site",
         "2 種類以上の媒体に複製し、1 つは院外にある"},
        {"procedure", "The recovery procedure is written", "復旧手順が文書化されている"},
        {"drill", "The procedure was confirmed by a drill in the period",
         "期間内の訓練で復旧手順を確認した"},
        {"audit", "The audit log is intact", "監査記録が改ざんされていない"},
    };
    for (size_t i = 0; i < sizeof(t) / sizeof(*t); i++)
        if (!strcmp(t[i].key, p))
            return ja ? t[i].ja : t[i].en;
    return p;
}

static const char *yes(bool ok, bool ja)
{
    return ok ? T("yes", "はい") : T("no", "いいえ");
}

/* The annex the fee revision's Q&A asks for goes with the evidence. */
static void attach_annex(rb_doc *doc, bool ja)
{
    rb_doc_para(doc, "%s",
                T("Attach the backup section of the operations management rules (運用管理規程), "
                  "printed with `bkp policy print --regulation`.",
                  "運用管理規程のバックアップに関する定め（`bkp policy print --regulation` で"
                  "印刷）を添付してください。"));
}

char *rb_evidence_render(json_t *ev, rb_format f, bool ja)
{
    json_t *period = json_object_get(ev, "period"), *st = json_object_get(ev, "statement"), *d, *r;
    char line[1024], a[64], b[64], seq[32];
    size_t i, k;
    rb_doc *doc = rb_doc_new(f, T("Backup and recovery evidence — checklist item 3-②",
                                  "バックアップと復旧の証跡 — チェックリスト 3-②"));
    if (!doc)
        return NULL;
    rb_doc_table(doc, (const char *[]){T("Item", "項目"), T("Value", "内容"), NULL});
    snprintf(line, sizeof(line), "%.10s — %.10s (UTC)", js(period, "from"), js(period, "to"));
    rb_doc_row(doc, (const char *[]){T("Period", "対象期間"), line, NULL});
    rb_doc_row(doc, (const char *[]){T("Repository", "リポジトリ"), js(ev, "repository"), NULL});
    if (*js(ev, "fingerprint")) /* what an inspector checks with, without any secret */
        rb_doc_row(doc, (const char *[]){
                            T("Repository key fingerprint", "リポジトリ鍵のフィンガープリント"),
                            js(ev, "fingerprint"), NULL});
    rb_doc_row(doc,
               (const char *[]){T("Generated (UTC)", "作成日時 (UTC)"), js(ev, "generated"), NULL});
    rb_doc_row(doc, (const char *[]){T("Answer for item 3-②", "3-② への回答"),
                                     yes(json_is_true(json_object_get(st, "answer")), ja), NULL});
    rb_doc_table_end(doc);
    rb_doc_para(doc, "%s",
                T("Every claim below names the signed audit records it rests on (#sequence "
                  "number); `bkp audit verify` proves the chain and its signatures.",
                  "以下の各項目には根拠となる署名付き監査記録の番号（#番号）を示しています。"
                  "`bkp audit verify` で記録の連鎖と署名を検証できます。"));
    attach_annex(doc, ja);
    json_array_foreach(json_object_get(ev, "datasets"), i, d)
    {
        snprintf(line, sizeof(line), "%s %s%s%s", T("Data set", "データセット"), js(d, "dataset"),
                 *js(d, "description") ? " — " : "", js(d, "description"));
        rb_doc_h2(doc, line);
        json_t *bk = json_object_get(d, "backups");
        rb_doc_table(doc, (const char *[]){T("Item", "項目"), T("Value", "内容"), NULL});
        snprintf(
            line, sizeof(line),
            T("%lld succeeded, %lld failed, %lld suspicious", "成功 %lld、失敗 %lld、不審 %lld"),
            (long long)ji(bk, "ok"), (long long)ji(bk, "failed"), (long long)ji(bk, "suspicious"));
        rb_doc_row(
            doc, (const char *[]){T("Backups in the period", "期間内のバックアップ"), line, NULL});
        snprintf(line, sizeof(line), "%lld", (long long)ji(d, "generations_kept"));
        rb_doc_row(doc,
                   (const char *[]){T("Generations kept now", "現在の保持世代数"), line, NULL});
        line[0] = '\0';
        json_array_foreach(json_object_get(d, "reasons"), k, r)
            bkp_strappend(line, sizeof(line), "%s%s", k ? "; " : "", json_string_value(r));
        snprintf(a, sizeof(a), "%s", ja ? verdict_ja(js(d, "verdict")) : js(d, "verdict"));
        rb_doc_row(doc, (const char *[]){T("3-2-1 verdict now", "現在の 3-2-1 判定"), a, NULL});
        if (*line)
            rb_doc_row(doc, (const char *[]){T("Why", "理由"), line, NULL});
        snprintf(line, sizeof(line), T("%.1f days (at most %.0f)", "%.1f 日（上限 %.0f 日）"),
                 (double)ji(d, "offline_longest_gap_seconds") / 86400.0,
                 (double)ji(d, "offline_max_age_seconds") / 86400.0);
        rb_doc_row(doc, (const char *[]){T("Longest time without a fresh off-line copy",
                                           "オフライン複製の最長間隔"),
                                         line, NULL});
        rb_doc_table_end(doc);
        if (json_array_size(json_object_get(d, "rotations"))) {
            rb_doc_table(doc, (const char *[]){"#", T("Rotation (UTC)", "ローテーション (UTC)"),
                                               T("Medium", "媒体"), T("Result", "結果"), NULL});
            json_array_foreach(json_object_get(d, "rotations"), k, r)
            {
                snprintf(seq, sizeof(seq), "#%lld", (long long)ji(r, "seq"));
                rb_doc_row(doc,
                           (const char *[]){seq, js(r, "time"), js(r, "medium"),
                                            strcmp(js(r, "outcome"), "ok") ? T("failed", "失敗")
                                                                           : T("ok", "成功"),
                                            NULL});
            }
            rb_doc_table_end(doc);
        }
        if (json_array_size(json_object_get(d, "drills"))) {
            rb_doc_table(doc, (const char *[]){"#", T("Drill (UTC)", "訓練 (UTC)"),
                                               T("Runbook", "手順書"), T("Result", "結果"),
                                               T("Measured", "実測"), T("Target", "目標"), NULL});
            json_array_foreach(json_object_get(d, "drills"), k, r)
            {
                snprintf(seq, sizeof(seq), "#%lld", (long long)ji(r, "seq"));
                json_int_t tgt = ji(r, "rto_target_seconds");
                rb_doc_row(
                    doc, (const char *[]){
                             seq, js(r, "time"), js(r, "runbook"),
                             strcmp(js(r, "outcome"), "ok") ? T("failed", "失敗") : T("ok", "成功"),
                             rb_duration_text(a, sizeof(a),
                                              json_number_value(json_object_get(r, "seconds"))),
                             tgt ? rb_duration_text(b, sizeof(b), (double)tgt) : "-", NULL});
            }
            rb_doc_table_end(doc);
        }
    }
    rb_doc_h2(doc, T("Verifications", "検証"));
    size_t vok = 0, vfail = 0;
    json_array_foreach(json_object_get(ev, "verifications"), k, r)
    {
        vok += !strcmp(js(r, "outcome"), "ok");
        vfail += strcmp(js(r, "outcome"), "ok") != 0;
    }
    rb_doc_para(doc,
                T("%zu verification(s) in the period succeeded, %zu failed.",
                  "期間内の検証: 成功 %zu 件、失敗 %zu 件。"),
                vok, vfail);
    rb_evidence_key_section(doc, ev, ja); /* evidence_keys.c */
    rb_doc_h2(doc, T("Statement for checklist item 3-②", "チェックリスト 3-② についての記載"));
    rb_doc_table(
        doc, (const char *[]){T("Part", "要件"), T("Met", "充足"), T("Evidence", "根拠"), NULL});
    json_array_foreach(json_object_get(st, "parts"), k, r)
    {
        json_t *e = json_object_get(r, "evidence");
        rb_doc_row(doc, (const char *[]){part_title(js(r, "part"), ja),
                                         yes(json_is_true(json_object_get(r, "ok")), ja),
                                         js(e, ja ? "ja" : "en"), NULL});
    }
    rb_doc_table_end(doc);
    rb_doc_para(doc, "%s: %s", T("Answer", "回答"),
                yes(json_is_true(json_object_get(st, "answer")), ja));
    return rb_doc_finish(doc);
}

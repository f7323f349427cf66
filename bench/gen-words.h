/*
 * gen-words.h — word material (names, places, diagnoses, drugs, labs) and field helpers.
 * Part of gen-data.c, which includes it: the generator stays one translation
 * unit, built with one `cc` command.
 */

/* ------------------------------------------------------ word material */

static const char *FAM[][3] = {
    {"佐藤", "サトウ", "Sato"}, {"鈴木", "スズキ", "Suzuki"}, {"高橋", "タカハシ", "Takahashi"},
    {"田中", "タナカ", "Tanaka"}, {"伊藤", "イトウ", "Ito"}, {"渡辺", "ワタナベ", "Watanabe"},
    {"山本", "ヤマモト", "Yamamoto"}, {"中村", "ナカムラ", "Nakamura"}, {"小林", "コバヤシ", "Kobayashi"},
    {"加藤", "カトウ", "Kato"}, {"吉田", "ヨシダ", "Yoshida"}, {"山田", "ヤマダ", "Yamada"},
    {"佐々木", "ササキ", "Sasaki"}, {"山口", "ヤマグチ", "Yamaguchi"}, {"松本", "マツモト", "Matsumoto"},
    {"井上", "イノウエ", "Inoue"}, {"木村", "キムラ", "Kimura"}, {"林", "ハヤシ", "Hayashi"},
    {"斎藤", "サイトウ", "Saito"}, {"清水", "シミズ", "Shimizu"}, {"山崎", "ヤマザキ", "Yamazaki"},
    {"森", "モリ", "Mori"}, {"池田", "イケダ", "Ikeda"}, {"橋本", "ハシモト", "Hashimoto"},
    {"阿部", "アベ", "Abe"}, {"石川", "イシカワ", "Ishikawa"}, {"山下", "ヤマシタ", "Yamashita"},
    {"中島", "ナカジマ", "Nakajima"}, {"石井", "イシイ", "Ishii"}, {"小川", "オガワ", "Ogawa"},
    {"前田", "マエダ", "Maeda"}, {"岡田", "オカダ", "Okada"},
};
static const char *GIV[2][16][3] = {{
    {"翔太", "ショウタ", "Shota"}, {"大輔", "ダイスケ", "Daisuke"}, {"健太", "ケンタ", "Kenta"},
    {"拓也", "タクヤ", "Takuya"}, {"直樹", "ナオキ", "Naoki"}, {"誠", "マコト", "Makoto"},
    {"浩", "ヒロシ", "Hiroshi"}, {"隆", "タカシ", "Takashi"}, {"蓮", "レン", "Ren"},
    {"悠真", "ユウマ", "Yuma"}, {"陽翔", "ハルト", "Haruto"}, {"和夫", "カズオ", "Kazuo"},
    {"清", "キヨシ", "Kiyoshi"}, {"茂", "シゲル", "Shigeru"}, {"修", "オサム", "Osamu"},
    {"健一", "ケンイチ", "Kenichi"},
}, {
    {"陽子", "ヨウコ", "Yoko"}, {"恵子", "ケイコ", "Keiko"}, {"美咲", "ミサキ", "Misaki"},
    {"さくら", "サクラ", "Sakura"}, {"結衣", "ユイ", "Yui"}, {"由美", "ユミ", "Yumi"},
    {"直美", "ナオミ", "Naomi"}, {"久美子", "クミコ", "Kumiko"}, {"幸子", "サチコ", "Sachiko"},
    {"花子", "ハナコ", "Hanako"}, {"愛", "アイ", "Ai"}, {"陽菜", "ヒナ", "Hina"},
    {"明美", "アケミ", "Akemi"}, {"千尋", "チヒロ", "Chihiro"}, {"和子", "カズコ", "Kazuko"},
    {"節子", "セツコ", "Setsuko"},
}};
static const char *CITY[][2] = {
    {"東京都", "新宿区"}, {"東京都", "世田谷区"}, {"東京都", "練馬区"}, {"神奈川県", "横浜市港北区"},
    {"神奈川県", "川崎市中原区"}, {"大阪府", "大阪市北区"}, {"大阪府", "堺市堺区"},
    {"愛知県", "名古屋市中区"}, {"埼玉県", "さいたま市浦和区"}, {"千葉県", "船橋市"},
    {"福岡県", "福岡市博多区"}, {"北海道", "札幌市中央区"}, {"兵庫県", "神戸市中央区"},
    {"京都府", "京都市左京区"}, {"宮城県", "仙台市青葉区"}, {"広島県", "広島市中区"},
};
static const char *TOWN[] = {
    "本町", "中央", "栄町", "緑町", "旭町", "若葉", "東町", "西町",
    "南町", "北町", "桜台", "富士見町", "宮前", "大手町", "駅前", "新町",
};
static const char *DEPT[][3] = {
    {"IM", "内科", "internal-medicine"}, {"SU", "外科", "surgery"}, {"PE", "小児科", "pediatrics"},
    {"OB", "産婦人科", "obstetrics"}, {"OR", "整形外科", "orthopedics"}, {"CA", "循環器内科", "cardiology"},
    {"NE", "神経内科", "neurology"}, {"PS", "精神科", "psychiatry"}, {"DE", "皮膚科", "dermatology"},
    {"OP", "眼科", "ophthalmology"}, {"EN", "耳鼻咽喉科", "otolaryngology"}, {"UR", "泌尿器科", "urology"},
};
static const char *DIAG[][2] = {
    {"I10", "本態性高血圧症"}, {"E11.9", "2型糖尿病"}, {"E78.5", "脂質異常症"}, {"J18.9", "肺炎"},
    {"J06.9", "急性上気道炎"}, {"K29.7", "胃炎"}, {"I50.9", "心不全"}, {"I63.9", "脳梗塞"},
    {"N18.3", "慢性腎臓病ステージ3"}, {"M17.1", "変形性膝関節症"}, {"S72.0", "大腿骨頸部骨折"},
    {"C34.1", "肺癌"}, {"C16.9", "胃癌"}, {"F32.9", "うつ病"}, {"G47.3", "睡眠時無呼吸症候群"},
    {"J45.9", "気管支喘息"}, {"K80.2", "胆石症"}, {"N39.0", "尿路感染症"}, {"L20.9", "アトピー性皮膚炎"},
    {"H25.9", "老人性白内障"}, {"A09", "感染性胃腸炎"}, {"I48.9", "心房細動"},
    {"E03.9", "甲状腺機能低下症"}, {"M54.5", "腰痛症"},
};
static const char *JP[] = {
    "血圧は安定している", "疼痛の訴えあり", "経過観察とする", "食事摂取良好", "夜間の睡眠は良好",
    "CTにて明らかな異常所見なし", "採血結果を本人に説明した", "内服薬を継続とする", "退院指導を実施した",
    "発熱なし", "創部の発赤・腫脹なし", "リハビリテーションを開始", "歩行は自立している",
    "家族へ病状を説明し同意を得た", "呼吸状態に変化なし", "胸部X線で浸潤影の改善を認める",
    "腹部症状の訴えなし", "点滴を終了した", "血糖コントロール不良のため薬剤を調整",
    "次回外来は2週間後とする", "嚥下評価を依頼した", "転倒リスクが高いため見守りを継続",
    "排便あり、性状は普通", "尿量は保たれている", "疼痛スケールは3/10", "抗菌薬の投与を開始した",
    "心電図で洞調律を確認", "浮腫は軽度改善", "意識清明、見当識障害なし", "服薬アドヒアランス良好",
    "栄養指導を実施", "酸素投与を中止した", "MRIの予約を入れた", "紹介状を作成した",
};
static const char *EN[] = {
    "Patient tolerated the procedure well", "No acute distress", "Vital signs stable",
    "Continue current medication", "Follow-up in two weeks", "Labs reviewed with the patient",
    "Wound clean and dry", "Denies chest pain or dyspnea", "Ambulating independently",
    "Plan discussed with family", "Afebrile overnight", "Pain controlled with oral analgesics",
};
static const struct { const char *code, *name, *unit; unsigned lo, hi, dec, rlo, rhi; } LAB[] = {
    {"3D010", "HbA1c", "%", 45, 110, 1, 46, 62},
    {"3D045", "グルコース", "mg/dL", 70, 250, 0, 73, 109},
    {"3F015", "総コレステロール", "mg/dL", 120, 300, 0, 142, 248},
    {"3F070", "HDLコレステロール", "mg/dL", 25, 100, 0, 40, 90},
    {"3F077", "LDLコレステロール", "mg/dL", 50, 220, 0, 65, 163},
    {"3C015", "クレアチニン", "mg/dL", 40, 300, 2, 65, 107},
    {"3C025", "尿素窒素", "mg/dL", 50, 600, 1, 80, 200},
    {"3B035", "AST", "U/L", 10, 200, 0, 13, 30},
    {"3B045", "ALT", "U/L", 5, 200, 0, 10, 42},
    {"2A010", "白血球数", "10^3/uL", 20, 200, 1, 33, 86},
    {"2A020", "赤血球数", "10^6/uL", 300, 600, 2, 386, 492},
    {"2A030", "ヘモグロビン", "g/dL", 80, 180, 1, 116, 148},
    {"2A050", "血小板数", "10^3/uL", 50, 450, 0, 158, 348},
    {"5C070", "CRP", "mg/dL", 0, 1500, 2, 0, 14},
    {"3H010", "ナトリウム", "mmol/L", 125, 150, 0, 138, 145},
    {"3H015", "カリウム", "mmol/L", 30, 60, 1, 36, 48},
};
static const char *DRUG[][2] = {
    {"2171022F1", "アムロジピン錠5mg"}, {"3969007F1", "メトホルミン塩酸塩錠250mg"},
    {"2189016F1", "ロスバスタチン錠2.5mg"}, {"1149019F1", "ロキソプロフェンNa錠60mg"},
    {"2329023F1", "ランソプラゾールOD錠15mg"}, {"6132011M1", "セファゾリンNa注射用1g"},
    {"3339950F1", "ワルファリンK錠1mg"}, {"2149039F1", "カンデサルタン錠8mg"},
    {"1124009F1", "ゾルピデム酒石酸塩錠5mg"}, {"6241013F1", "レボフロキサシン錠500mg"},
    {"2454004F1", "プレドニゾロン錠5mg"}, {"3999018F1", "エドキサバン錠30mg"},
    {"1141007C1", "アセトアミノフェン細粒20%"}, {"2251001F1", "テオフィリン徐放錠100mg"},
};
static const char *FREQ[] = {
    "1日1回朝食後", "1日2回朝夕食後", "1日3回毎食後", "就寝前", "疼痛時頓用", "1日1回夕食後",
};
static const char *ALLERGY[] = {"ペニシリン", "セフェム系", "造影剤", "卵", "そば", "ラテックス"};
static const char *BLOOD[] = {"A+", "A+", "O+", "O+", "B+", "AB+", "A-", "O-"};
static const char *MODALITY[] = {"CT", "MR", "CR", "US", "XA", "MG"};
static const char *SECTION[] = {"入院時現症", "既往歴", "入院後経過", "検査所見", "退院時処方", "今後の方針"};

/* ------------------------------------------------------ field helpers */

static void b_date(buf_t *b, rng_t *r, unsigned y0, unsigned y1)
{
    b_u64(b, rng_range(r, y0, y1)); b_ch(b, '-');
    b_pad(b, rng_range(r, 1, 12), 2); b_ch(b, '-');
    b_pad(b, rng_range(r, 1, 28), 2);
}

static void b_ts(buf_t *b, rng_t *r, unsigned y0, unsigned y1)
{
    b_date(b, r, y0, y1); b_ch(b, ' ');
    b_pad(b, rng_below(r, 24), 2); b_ch(b, ':');
    b_pad(b, rng_below(r, 60), 2); b_ch(b, ':');
    b_pad(b, rng_below(r, 60), 2); b_puts(b, "+09");
}

static void b_doctor(buf_t *b, rng_t *r)
{
    b_puts(b, PICK(r, FAM)[0]); b_puts(b, " ");
    b_puts(b, GIV[rng_below(r, 2)][rng_below(r, 16)][0]);
}

static void b_vitals(buf_t *b, rng_t *r)
{
    b_puts(b, "BP "); b_u64(b, rng_range(r, 98, 178)); b_ch(b, '/');
    b_u64(b, rng_range(r, 52, 104)); b_puts(b, " mmHg、HR ");
    b_u64(b, rng_range(r, 52, 118)); b_puts(b, "、BT 3");
    b_fix(b, rng_range(r, 58, 84), 1); b_puts(b, "℃、SpO2 ");
    b_u64(b, rng_range(r, 91, 99)); b_puts(b, "%");
}

/* One sentence of free clinical text, Japanese mostly. */
static void b_sentence(buf_t *b, rng_t *r)
{
    uint32_t k = rng_below(r, 12);
    if (k < 6) { b_puts(b, PICK(r, JP)); b_puts(b, "。"); }
    else if (k < 8) { b_puts(b, PICK(r, EN)); b_puts(b, ". "); }
    else if (k < 9) { b_vitals(b, r); b_puts(b, "。"); }
    else if (k < 10) {
        const char **d = PICK(r, DRUG);
        b_date(b, r, 2019, 2024); b_puts(b, "より"); b_puts(b, d[1]); b_puts(b, "を");
        b_puts(b, PICK(r, FREQ)); b_puts(b, "で開始。");
    } else if (k < 11) {
        unsigned t = rng_below(r, sizeof(LAB) / sizeof(LAB[0]));
        b_puts(b, LAB[t].name); b_ch(b, ' ');
        b_fix(b, rng_range(r, LAB[t].lo, LAB[t].hi), LAB[t].dec); b_puts(b, LAB[t].unit); b_puts(b, "。");
    } else {
        b_doctor(b, r); b_puts(b, "医師に対診を依頼 ("); b_puts(b, PICK(r, DEPT)[1]); b_puts(b, ")。");
    }
}

static void b_sentences(buf_t *b, rng_t *r, unsigned lo, unsigned hi)
{
    for (unsigned n = (unsigned)rng_range(r, lo, hi); n; n--) b_sentence(b, r);
}

#!/usr/bin/env bash
# po-check.sh SRC — the message catalogue is complete: every message the
# program marks for translation (_("..."), N_("..."), C_("context", "...") and E_(english, "...")
# in bkp/, restore/, policies/) has a translation in po/ja.po that is neither missing nor fuzzy,
# and msgfmt --check accepts it (the same printf conversions, in order).
set -euo pipefail
src=${1:?usage: po-check.sh SRC}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
cd "$src"
mapfile -t files < <(find bkp restore policies -name '*.c' | sort)
xgettext --from-code=UTF-8 -k_ -kN_ -kC_:1c,2 -kE_:2 --language=C --no-location -o "$tmp/bkp.pot" "${files[@]}"
msgmerge --quiet --no-fuzzy-matching -o "$tmp/ja.po" po/ja.po "$tmp/bkp.pot"
untranslated=$(msgattrib --untranslated --no-obsolete "$tmp/ja.po" | grep -c '^msgid "' || true)
fuzzy=$(msgattrib --only-fuzzy --no-obsolete "$tmp/ja.po" | grep -c '^msgid "' || true)
# msgattrib prints the header entry too when it prints anything.
[ "$untranslated" -le 1 ] && [ "$fuzzy" -le 1 ] || {
    echo "po/ja.po lacks translations:" >&2
    msgattrib --untranslated --no-obsolete "$tmp/ja.po" | grep -A2 '^msgid "[^"]' >&2 || true
    exit 1
}
msgfmt --check -o /dev/null po/ja.po
n=$(( $(grep -c "^msgid" "$tmp/bkp.pot") - 1 ))
echo "po/ja.po: all $n marked messages translated"

#!/bin/sh
# api_doc.sh - docs/API.md is what tools/api.sh prints from scn.h now: a
# public function added, removed or re-documented without regenerating
# the index fails `make test`. (The argument, the tool's path, is unused.)
new=$(mktemp "${TMPDIR:-/tmp}/scn_api.XXXXXX") || exit 2
trap 'rm -f "$new"' EXIT
sh tools/api.sh scn.h >"$new" || { echo "api_doc: tools/api.sh failed"; exit 1; }
if ! cmp -s "$new" docs/API.md; then
    echo "api_doc: docs/API.md is out of date; run: sh tools/api.sh > docs/API.md"
    diff docs/API.md "$new" | head -20
    exit 1
fi
# every public declaration of the header is in the index
want=$(sed -n '/^#endif \/\* SCN_H/q; /^SCNDEF/p' scn.h | wc -l)
have=$(grep -c '^SCNDEF' docs/API.md)
[ "$want" -eq "$have" ] || { echo "api_doc: $have of $want declarations in docs/API.md"; exit 1; }

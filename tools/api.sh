#!/bin/sh
# tools/api.sh [scn.h] > docs/API.md
#
# The index of every public function of scn.h, grouped by the header's
# numbered section banners: a list of names per section, then each
# section's declarations with the comments above them, as the header has
# them. POSIX sh and awk only. `make test` (tests/api_doc.sh) fails when
# docs/API.md differs from what this prints.
header=${1:-scn.h}
awk '
function flush_block() {
    if (block != "") { body[nsec] = body[nsec] "```c\n" block "```\n\n"; block = "" }
}
/^#endif \/\* SCN_H \*\// { done = 1 }
done { next }
/^\/\* =+$/ { banner = 1; flush_block(); cmt = ""; next }
banner {
    banner = 0
    if (match($0, /^ \* [0-9]+\. /)) {
        nsec++
        title[nsec] = substr($0, 4)
        anchor[nsec] = tolower(title[nsec])
        gsub(/[^a-z0-9 -]/, "", anchor[nsec]); gsub(/ /, "-", anchor[nsec])
    }
    next
}
nsec == 0 { next }
incmt { cmt = cmt $0 "\n"; if (index($0, "*/")) incmt = 0; next }
/^\/\*/ {
    flush_block()
    cmt = $0 "\n"
    if (!index($0, "*/")) incmt = 1
    next
}
/^SCNDEF/ || indecl {
    if (!indecl) { block = block cmt; cmt = ""; decl = "" }
    decl = decl $0 "\n"
    indecl = index($0, ";") == 0
    if (!indecl) {
        block = block decl
        name = decl; sub(/\(.*/, "", name); gsub(/\n/, " ", name)
        sub(/.*[ *]/, "", name)
        names[nsec] = names[nsec] (names[nsec] == "" ? "" : ", ") "`" name "`"
        count++
    }
    next
}
{ flush_block(); cmt = "" }
END {
    flush_block()
    print "# scn.h: public functions"
    print ""
    print "Generated from `scn.h` by `tools/api.sh`; do not edit (`make test` checks"
    print "that it is current: `sh tools/api.sh > docs/API.md` after changing the API)."
    print count " functions in " nsec " sections, in the order of the header, each with"
    print "the comment that documents it. The header comment of `scn.h` has the"
    print "conventions (statuses, ownership, zero-means-default descriptions)."
    print ""
    print "## Index"
    print ""
    for (i = 1; i <= nsec; i++)
        if (names[i] != "") print "- [" title[i] "](#" anchor[i] "): " names[i]
    print ""
    for (i = 1; i <= nsec; i++) {
        if (names[i] == "") continue
        print "## " title[i]
        print ""
        printf "%s", body[i]
    }
}' "$header"

#!/bin/sh
# Fetches the real annotation data for test_val_orgdb without installing R: Debian's
# r-bioc-org.hs.eg.db package is downloaded with `apt-get download` (run `apt-get update` first
# on a fresh machine) and unpacked with `dpkg-deb -x`. Prints the path of org.Hs.eg.sqlite.
#
#   tests/validation/fetch-orgdb.sh [CACHE_DIR]
#
# CACHE_DIR defaults to $SAEG_ORGDB_CACHE, else ${XDG_CACHE_HOME:-$HOME/.cache}/saeg/orgdb, the
# folder test_val_orgdb looks in (or set SAEG_ORGDB_SQLITE to the file itself).
set -eu
dir=${1:-${SAEG_ORGDB_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/saeg/orgdb}}
db=$dir/x/usr/lib/R/site-library/org.Hs.eg.db/extdata/org.Hs.eg.sqlite
if [ -s "$db" ]; then
    echo "$db"
    exit 0
fi
mkdir -p "$dir"
cd "$dir"
apt-get download r-bioc-org.hs.eg.db >&2
deb=$(ls r-bioc-org.hs.eg.db_*.deb | head -n 1)
dpkg-deb -x "$deb" x
rm -f "$deb"
test -s "$db" || { echo "fetch-orgdb.sh: $db missing after unpacking $deb" >&2; exit 1; }
echo "$db"

#!/bin/sh
# Signs package repository directories (docs/security-packages.md): in each DIR, writes
# SHA256SUMS (sha256sum lines of every regular file of DIR except SHA256SUMS and
# SHA256SUMS.sig, in byte order of their names) and SHA256SUMS.sig, the raw 64-byte ed25519
# signature of SHA256SUMS made with `openssl pkeyutl -sign -rawin`. Both files are replaced
# atomically (written beside, then renamed), the signature last.
# Usage: scripts/sign-package-dir.sh PRIVATE_KEY.pem DIR...
set -eu
if [ "$#" -lt 2 ]; then
  echo "usage: $0 PRIVATE_KEY.pem DIR..." >&2
  exit 2
fi
key=$1
shift
case $key in /*) ;; *) key="$(pwd)/$key" ;; esac
for dir in "$@"; do
  (
    cd "$dir"
    tmp_sums=.SHA256SUMS.tmp
    tmp_sig=.SHA256SUMS.sig.tmp
    rm -f "$tmp_sums" "$tmp_sig"
    # Regular files only, names in C order; sha256sum escapes unusual names itself.
    find . -maxdepth 1 -type f ! -name SHA256SUMS ! -name SHA256SUMS.sig ! -name '.SHA256SUMS*' \
      -printf '%f\0' | LC_ALL=C sort -z | xargs -0 -r sha256sum -- > "$tmp_sums"
    if [ ! -s "$tmp_sums" ]; then
      echo "sign-package-dir: $dir holds no file to sign" >&2
      rm -f "$tmp_sums"
      exit 1
    fi
    openssl pkeyutl -sign -rawin -inkey "$key" -in "$tmp_sums" -out "$tmp_sig"
    mv -f "$tmp_sums" SHA256SUMS
    mv -f "$tmp_sig" SHA256SUMS.sig
  )
done

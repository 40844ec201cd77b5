#!/bin/sh
# Rebuilds third_party/xcrypto: the packages of golang.org/x/crypto that
# fileapi links, copied from the module cache at version $1 (default: the
# one below), with xcrypto.patch applied. go.mod replaces x/crypto with it.
# To take an upstream release (security fixes first): run this with the new
# version, fix the patch if it no longer applies, run `make test`, commit.
set -eu
version=${1:-v0.59.0}
cd "$(dirname "$0")"
dir=$(go mod download -json "golang.org/x/crypto@$version" | sed -n 's/^[[:space:]]*"Dir": "\(.*\)",$/\1/p')
[ -d "$dir" ] || { echo "update-xcrypto: no module directory for golang.org/x/crypto@$version" >&2; exit 1; }
rm -rf xcrypto
mkdir xcrypto
cp "$dir/LICENSE" "$dir/PATENTS" "$dir/go.mod" xcrypto/
for pkg in ssh ssh/internal/bcrypt_pbkdf blowfish chacha20 chacha20poly1305 curve25519 \
	internal/alias internal/poly1305 cryptobyte cryptobyte/asn1; do
	mkdir -p "xcrypto/$pkg"
	for f in "$dir/$pkg"/*.go "$dir/$pkg"/*.s; do
		[ -e "$f" ] || continue
		case "$f" in *_test.go) continue ;; esac
		cp "$f" "xcrypto/$pkg/"
	done
done
chmod -R u+w xcrypto
echo "$version" > xcrypto/VERSION
patch -d xcrypto -p1 --no-backup-if-mismatch < xcrypto.patch

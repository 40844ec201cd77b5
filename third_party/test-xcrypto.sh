#!/bin/sh
# Runs upstream's own tests of golang.org/x/crypto/ssh, at the version in
# third_party/xcrypto/VERSION, with xcrypto.patch applied: the patch must
# not break anything upstream tests (our own tests of the send window
# are in sftpd/sendwindow_test.go).
set -eu
cd "$(dirname "$0")"
version=$(cat xcrypto/VERSION)
dir=$(go mod download -json "golang.org/x/crypto@$version" | sed -n 's/^[[:space:]]*"Dir": "\(.*\)",$/\1/p')
[ -d "$dir" ] || { echo "test-xcrypto: no module directory for golang.org/x/crypto@$version" >&2; exit 1; }
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cp -R "$dir/." "$work/"
chmod -R u+w "$work"
patch -s -d "$work" -p1 < xcrypto.patch
cd "$work" && GOFLAGS=-mod=mod go test -count=1 "$@" ./ssh/

#!/bin/sh
# Unpack smtp-sink, the counting SMTP server of Debian's postfix package, into bench/.tools
# without installing postfix. The fan-out bench uses it when it is there and falls back to an
# aiosmtpd counter otherwise, so a failure here only makes the bench's sink slower.
set -eu

tools="$(cd "$(dirname "$0")" && pwd)/.tools"
if [ -x "$tools/usr/sbin/smtp-sink" ]; then
    exit 0
fi
for tool in apt-get dpkg; do
    if ! command -v "$tool" >/dev/null 2>&1; then
        echo "fetch_smtp_sink: no $tool here; the bench will use its aiosmtpd sink" >&2
        exit 1
    fi
done

work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
if ! (cd "$work" && apt-get download postfix >/dev/null 2>&1); then
    echo "fetch_smtp_sink: apt-get download postfix failed (apt-get update first?);" \
        "the bench will use its aiosmtpd sink" >&2
    exit 1
fi
dpkg -x "$work"/postfix_*.deb "$work/root"
# smtp-sink links against postfix's private libraries, which live under usr/lib/postfix.
mkdir -p "$tools/usr/sbin" "$tools/usr/lib/postfix"
cp "$work/root/usr/lib/postfix/"*.so "$tools/usr/lib/postfix/"
cp "$work/root/usr/sbin/smtp-sink" "$tools/usr/sbin/"
echo "fetch_smtp_sink: smtp-sink unpacked into $tools"

#!/usr/bin/env bash
# Build Asterisk 22 LTS with only the modules voxflow uses, into a prefix outside the repository.
#
#   scripts/asterisk.sh --source DIR|TARBALL --prefix DIR [--externals DIR] [--jobs N]
#
#   --source     an unpacked Asterisk 22 source tree, or a release tarball (asterisk-22.*.tar.gz)
#   --prefix     where to install (must not be inside this repository); the binary ends up at
#                PREFIX/sbin/asterisk: point VOXFLOW_ASTERISK at it to run tests/asterisk/
#   --externals  a directory holding pjproject-<version>.tar.bz2 (the version third-party/
#                versions.mak names: 2.17 for Asterisk 22.10), passed to configure as
#                --with-externals-cache. With it, nothing is downloaded: the build runs offline.
#                A tarball made from pjproject's own git tag is not byte-identical to the one
#                Asterisk's downloader verifies, so its MD5 is written into the build copy's
#                third-party/pjproject/*.md5 (the source you give is never modified).
#   --jobs       make -j (default 2)
#
# Nothing of Asterisk is written into the repository: the build happens in PREFIX/build.
# The build takes 7-15 minutes with -j2 on two cores; run it under `nice -n 19` on a shared
# machine. System packages needed (Debian): build-essential libedit-dev libjansson-dev
# libxml2-dev libsqlite3-dev uuid-dev libssl-dev libncurses-dev pkg-config bzip2 patch.
set -euo pipefail

here="$(cd "$(dirname "$0")/.." && pwd)"
source_arg="" prefix="" externals="" jobs=2
while [ $# -gt 0 ]; do
    case "$1" in
        --source) source_arg="$2"; shift 2 ;;
        --prefix) prefix="$2"; shift 2 ;;
        --externals) externals="$2"; shift 2 ;;
        --jobs) jobs="$2"; shift 2 ;;
        -h|--help) sed -n '2,22p' "$0"; exit 0 ;;
        *) echo "asterisk.sh: unknown argument $1" >&2; exit 2 ;;
    esac
done
[ -n "$source_arg" ] && [ -n "$prefix" ] || { echo "asterisk.sh: --source and --prefix are required" >&2; exit 2; }
mkdir -p "$prefix"
prefix="$(cd "$prefix" && pwd)"
case "$prefix/" in
    "$here"/*) echo "asterisk.sh: the prefix $prefix is inside the repository; choose one outside it" >&2; exit 2 ;;
esac

# The modules voxflow's configs and tests/asterisk/ load, and nothing else.
# voxflow:  chan_pjsip + res_pjsip*, app_audiosocket + res_audiosocket, app_amd, app_dial,
#           app_stack (Gosub: hangup and pre-dial handlers), func_uuid (UUID()), func_channel
#           (CHANNEL(hangup_handler_push)), res_pjsip_header_funcs (PJSIP_HEADER), func_cdr,
#           pbx_config (extensions.conf), codecs for the trunk.
# tests:    app_senddtmf, app_verbose, app_echo, func_logic/strings/callerid, bridges.
modules=(
    app_amd app_audiosocket app_dial app_echo app_senddtmf app_stack app_verbose
    bridge_native_rtp bridge_simple
    chan_pjsip
    codec_alaw codec_ulaw
    func_callerid func_cdr func_channel func_logic func_strings func_uuid func_pjsip_endpoint
    pbx_config
    res_audiosocket res_pjproject res_rtp_asterisk res_sorcery_astdb res_sorcery_config
    res_sorcery_memory res_sorcery_memory_cache res_timing_timerfd
    res_pjsip res_pjsip_session res_pjsip_sdp_rtp res_pjsip_authenticator_digest
    res_pjsip_outbound_authenticator_digest res_pjsip_endpoint_identifier_ip
    res_pjsip_endpoint_identifier_user res_pjsip_outbound_registration res_pjsip_header_funcs
    res_pjsip_dtmf_info res_pjsip_caller_id res_pjsip_nat res_pjsip_logger res_pjsip_pubsub
    res_pjsip_registrar res_pjsip_acl res_pjsip_rfc3326 res_pjsip_diversion
)
categories=(
    MENUSELECT_ADDONS MENUSELECT_APPS MENUSELECT_BRIDGES MENUSELECT_CDR MENUSELECT_CEL
    MENUSELECT_CHANNELS MENUSELECT_CODECS MENUSELECT_FORMATS MENUSELECT_FUNCS MENUSELECT_PBX
    MENUSELECT_RES MENUSELECT_TESTS MENUSELECT_UTILS MENUSELECT_AGIS MENUSELECT_CORE_SOUNDS
    MENUSELECT_MOH MENUSELECT_EXTRA_SOUNDS
)

build="$prefix/build"
rm -rf "$build"
mkdir -p "$build"
if [ -d "$source_arg" ]; then
    cp -a "$source_arg/." "$build/"
else
    tar -xf "$source_arg" -C "$build" --strip-components=1
fi
cd "$build"
grep -q '^PJPROJECT_VERSION=' third-party/versions.mak || { echo "asterisk.sh: $source_arg is not an Asterisk source tree" >&2; exit 2; }
major="$(sed -n 's/^\([0-9]*\)\..*/\1/p' .version 2>/dev/null || true)"
[ "${major:-22}" = "22" ] || echo "asterisk.sh: warning: this is Asterisk $major, voxflow's rig targets 22 LTS" >&2
pj_version="$(sed -n 's/^PJPROJECT_VERSION=//p' third-party/versions.mak)"

configure_args=(--prefix="$prefix" --with-pjproject-bundled --with-jansson-bundled=no --without-x11 --without-gtk2)
if [ -n "$externals" ]; then
    externals="$(cd "$externals" && pwd)"
    tarball="$externals/pjproject-$pj_version.tar.bz2"
    [ -f "$tarball" ] || { echo "asterisk.sh: $tarball is missing (make it from pjproject's $pj_version tag: git archive --prefix=pjproject-$pj_version/ $pj_version | bzip2 > pjproject-$pj_version.tar.bz2)" >&2; exit 2; }
    echo "$(md5sum < "$tarball" | cut -d' ' -f1)  pjproject-$pj_version.tar.bz2" > "third-party/pjproject/pjproject-$pj_version.tar.bz2.md5"
    configure_args+=(--with-externals-cache="$externals")
fi

./configure "${configure_args[@]}" > "$prefix/configure.log" 2>&1 || { tail -30 "$prefix/configure.log"; exit 1; }
make menuselect.makeopts > /dev/null
for category in "${categories[@]}"; do
    menuselect/menuselect --disable-category "$category" menuselect.makeopts > /dev/null
done
for module in "${modules[@]}"; do
    menuselect/menuselect --enable "$module" menuselect.makeopts > /dev/null
done
make -j"$jobs" > "$prefix/make.log" 2>&1 || { tail -40 "$prefix/make.log"; exit 1; }
make install > "$prefix/install.log" 2>&1 || { tail -30 "$prefix/install.log"; exit 1; }
echo "Asterisk $(cat .version 2>/dev/null || echo '?') installed in $prefix"
echo "run the real-Asterisk tests with: VOXFLOW_ASTERISK=$prefix/sbin/asterisk pytest tests/asterisk"

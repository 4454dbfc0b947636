# Shell functions shared by tests/run and contrib/dev-server (and CI through
# .ci/run). Source it from bash; it changes no shell options of its own.
#
#   dynconf_install_deps        install what building and testing need
#   dynconf_build [--sanitizers] configure (when needed) and build in-tree

# The Debian packages a build and a full test run need (chromium: the
# admin UI's browser tests, tests/ui; the last line: building the Debian
# package and checking it, tests/package).
DYNCONF_DEPS="build-essential autoconf automake pkg-config libfcgi-dev
libjson-c-dev libcurl4-openssl-dev libsqlite3-dev libssl-dev check
etcd-server etcd-client nginx apache2 spawn-fcgi curl python3 wrk mandoc
libfcgi-bin clang libclang-rt-14-dev chromium
dpkg-dev debhelper fakeroot lintian"

dynconf_log() {
	printf '%s\n' "$*" >&2
}

# The top of the source tree: the directory above contrib/.
dynconf_top() {
	(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
}

# Print the packages of DYNCONF_DEPS that are not installed.
dynconf_missing_deps() {
	local pkg status
	for pkg in $DYNCONF_DEPS; do
		status=$(dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null || true)
		case "$status" in
		*" ok installed") ;;
		*) printf '%s\n' "$pkg" ;;
		esac
	done
}

dynconf_install_deps() {
	local missing
	if ! command -v dpkg-query >/dev/null 2>&1; then
		# shellcheck disable=SC2086 # a list of package names
		dynconf_log "dynconf: not a Debian system; install by hand:" $DYNCONF_DEPS
		return 0
	fi
	missing=$(dynconf_missing_deps | tr '\n' ' ')
	if [ -z "${missing// /}" ]; then
		return 0
	fi
	if [ "$(id -u)" -ne 0 ]; then
		dynconf_log "dynconf: missing packages: $missing"
		dynconf_log "dynconf: install them as root: apt-get install $missing"
		return 1
	fi
	dynconf_log "dynconf: installing $missing"
	# Installing must never stop to ask (CI has no stdin), nor start the
	# web servers or etcd as system services on the ports we test on.
	export DEBIAN_FRONTEND=noninteractive
	dynconf_block_service_start
	# shellcheck disable=SC2086 # $missing is a list of package names
	if ! { apt-get update -q &&
		apt-get install -y -q --no-install-recommends $missing; } </dev/null; then
		dynconf_unblock_service_start
		dynconf_log "dynconf: apt-get install failed"
		return 1
	fi
	dynconf_unblock_service_start
}

# policy-rc.d tells Debian's maintainer scripts not to start services; keep
# any file a site already has.
dynconf_block_service_start() {
	DYNCONF_POLICY_RC=
	if [ ! -e /usr/sbin/policy-rc.d ]; then
		printf '#!/bin/sh\nexit 101\n' >/usr/sbin/policy-rc.d
		chmod 755 /usr/sbin/policy-rc.d
		DYNCONF_POLICY_RC=/usr/sbin/policy-rc.d
	fi
}

dynconf_unblock_service_start() {
	if [ -n "${DYNCONF_POLICY_RC:-}" ]; then
		rm -f "$DYNCONF_POLICY_RC"
	fi
}

# Was the tree configured with the sanitizers? yes or no.
dynconf_configured_sanitizers() {
	if ./config.status --config 2>/dev/null | grep -q -- "--enable-sanitizers"; then
		echo yes
	else
		echo no
	fi
}

dynconf_build() {
	local sanitizers=no top
	while [ $# -gt 0 ]; do
		case "$1" in
		--sanitizers) sanitizers=yes ;;
		*) dynconf_log "dynconf_build: unknown option $1"; return 2 ;;
		esac
		shift
	done
	top=$(dynconf_top)
	(
		set -e
		cd "$top"
		if [ ! -x configure ] || [ ! -f Makefile.in ]; then
			dynconf_log "dynconf: autoreconf"
			autoreconf -fi
		fi
		if [ ! -x config.status ] || [ ! -f Makefile ] ||
			[ "$(dynconf_configured_sanitizers)" != "$sanitizers" ]; then
			local args=(--enable-debug)
			if [ "$sanitizers" = yes ]; then
				args+=(--enable-sanitizers)
			fi
			dynconf_log "dynconf: ./configure ${args[*]}"
			./configure -q "${args[@]}"
			# Objects built with the other flags must not be linked in.
			make -s clean >/dev/null
		fi
		make -s -j2
	)
}

#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# build-guest.sh BIN_DIR [CACHE_DIR]
#
# Build (or take from the cache) what the VM tests boot: a Debian guest
# kernel and an initramfs holding busybox, the nvdimm/dax modules, ndctl and
# daxctl, the famrt binaries of BIN_DIR (a famrt build tree) with every
# shared library they load, and the guest scripts of tests/vm/guest/.
#
# The kernel comes from the linux-image-*-amd64 package that
# linux-image-amd64 depends on: fetched with apt-get download, unpacked
# with dpkg -x (never installed). Only vmlinuz and the modules the guest
# loads are kept, under CACHE_DIR/kernel-PACKAGE_VERSION/. The initramfs is
# CACHE_DIR/initrd-HASH.cpio.gz, HASH covering the package versions of
# everything copied in, the famrt binaries and the guest scripts, so it is
# rebuilt exactly when one of them changes. CACHE_DIR defaults to
# BIN_DIR/tests/vm/cache.
#
# Prints two lines on stdout, KERNEL=path and INITRD=path, and what it did
# (and how long it took) on stderr. Exit status: 0 done, 1 failure (a
# missing host package, a download that fails, a missing binary): never a
# silent skip.
set -euo pipefail

die() {
	echo "build-guest: FAIL: $*" >&2
	exit 1
}
trap 'die "command failed (line $LINENO): $BASH_COMMAND"' ERR

[ $# -ge 1 ] && [ $# -le 2 ] || {
	sed -n '3,21p' "$0" | sed 's/^# \{0,1\}//' >&2
	exit 2
}
bin_dir=$(cd "$1" && pwd) || die "no build directory '$1'"
cache=${2:-$bin_dir/tests/vm/cache}
src_dir=$(cd "$(dirname "$0")" && pwd)
PATH=$PATH:/usr/sbin:/sbin
mkdir -p "$cache"
cache=$(cd "$cache" && pwd)
# One builder at a time per cache (ctest -j, two run-vm.sh at once).
exec 9>"$cache/.lock"
flock 9
t_start=$(date +%s.%N)
# Seconds since $1 (a date +%s.%N), one decimal.
since() {
	awk -v a="$1" -v b="$(date +%s.%N)" 'BEGIN { printf "%.1f", b - a }'
}

# The modules the guest loads, in this order (devdax-facts.md), and kmem
# (system-ram mode, which famrt must refuse); their dependencies (modinfo
# -F depends) are added before them. A modules.dep made with depmod lets
# libkmod (daxctl) find them too.
guest_modules=(libnvdimm nd_btt nd_pmem nd_e820 device_dax dax_pmem nfit kmem)
# GNU programs run under the preload shim: busybox is static and cannot be
# interposed.
gnu_progs=(/usr/bin/cat /usr/bin/sha256sum /usr/bin/dd /usr/bin/cmp)

# ---- host prerequisites ----
need_pkgs=()
for c in qemu-system-x86_64:qemu-system-x86 cpio:cpio modinfo:kmod depmod:kmod \
	 ndctl:ndctl daxctl:daxctl apt-get:apt dpkg-deb:dpkg gzip:gzip \
	 sha256sum:coreutils cmp:diffutils; do
	command -v "${c%%:*}" >/dev/null 2>&1 || need_pkgs+=("${c#*:}")
done
[ -x /bin/busybox ] || need_pkgs+=(busybox-static)
[ ${#need_pkgs[@]} -eq 0 ] ||
	die "missing host packages: ${need_pkgs[*]} (tools/deps.sh installs them)"
# busybox must be the static one: the guest has no libraries for it.
if ldd /bin/busybox >/dev/null 2>&1; then
	die "/bin/busybox is dynamically linked; install busybox-static"
fi

famrt_bins=(
	"$bin_dir/tools/famrt/famrt"
	"$bin_dir/tools/famrtd/famrtd"
	"$bin_dir/tests/vm/vm_rt"
	"$bin_dir/tests/vm/vm_devdax"
	"$bin_dir/tests/vm/vm_mmapw"
)
# bench_io for the "bench" scenario, when the benchmarks are built.
[ -f "$bin_dir/bench/bench_io" ] && famrt_bins+=("$bin_dir/bench/bench_io")
famrt_libs=(
	"$bin_dir/runtime/libfamrt_preload.so"
)
for f in "${famrt_bins[@]}" "${famrt_libs[@]}"; do
	[ -f "$f" ] || die "'$f' is missing: build famrt first (cmake --build $bin_dir)"
done

as_root() {
	if [ "$(id -u)" -eq 0 ]; then "$@"; else sudo -n "$@"; fi
}
apt_updated=0
apt_update() {
	[ $apt_updated = 1 ] && return 1
	apt_updated=1
	echo "build-guest: apt-get update (the package lists are missing or stale)" >&2
	as_root apt-get update -qq >&2 || {
		echo "build-guest: apt-get update failed" >&2
		return 1
	}
}

# ---- the kernel package: name and version of the current candidate ----
kernel_resolve() {
	kpkg=$(apt-cache show --no-all-versions linux-image-amd64 2>/dev/null |
		sed -n 's/^Depends: *\(linux-image-[^ ,]*-amd64\).*/\1/p' |
		head -n1)
	kver=
	[ -z "$kpkg" ] ||
		kver=$(apt-cache show --no-all-versions "$kpkg" 2>/dev/null |
			sed -n 's/^Version: *//p' | head -n1)
	kdir=$cache/kernel-${kpkg}_$kver
	[ -n "$kpkg" ] && [ -n "$kver" ]
}
# A cache made for another list of modules (or by an older version of this
# script: the number) is rebuilt.
kernel_cache_id="2 ${guest_modules[*]}"
kernel_cached() {
	[ -f "$1/done" ] &&
		[ "$(cat "$1/requested" 2>/dev/null)" = "$kernel_cache_id" ]
}
if ! kernel_resolve; then
	# No package lists (a fresh machine with the packages preinstalled).
	if ! { apt_update && kernel_resolve; }; then
		# And no way to get them: a kernel cached before will do.
		kdir=
		for d in "$cache"/kernel-*; do
			kernel_cached "$d" && kdir=$d
		done
		[ -n "$kdir" ] ||
			die "cannot tell which linux-image package linux-image-amd64 depends on (apt-cache show failed, also after apt-get update) and no kernel is cached in $cache"
		echo "build-guest: package lists unusable; using the cached $(basename "$kdir")" >&2
	fi
fi

kernel_state=cached
if ! kernel_cached "$kdir"; then
	kernel_state=built
	t0=$(date +%s.%N)
	dl=$cache/download.tmp
	rm -rf "$dl"
	mkdir -p "$dl"
	if ! (cd "$dl" && apt-get download -o APT::Sandbox::User="$(id -un)" \
		"$kpkg=$kver") >&2; then
		# Stale lists name a version the archive no longer has.
		apt_update || die "apt-get download $kpkg=$kver failed"
		kernel_resolve ||
			die "no linux-image package for linux-image-amd64 after apt-get update"
		(cd "$dl" && apt-get download -o APT::Sandbox::User="$(id -un)" \
			"$kpkg=$kver") >&2 ||
			die "apt-get download $kpkg=$kver failed after apt-get update"
	fi
	rm -rf "$kdir" "$kdir.tmp"
	mkdir -p "$kdir.tmp"
	mv "$dl" "$kdir.tmp/deb"
	deb=$(ls "$kdir.tmp"/deb/*.deb)
	dpkg -x "$deb" "$kdir.tmp/root"
	vmlinuz=$(ls "$kdir.tmp"/root/boot/vmlinuz-* 2>/dev/null | head -n1)
	[ -n "$vmlinuz" ] || die "$deb has no boot/vmlinuz-*"
	uname_r=${vmlinuz##*/vmlinuz-}
	moddir=$kdir.tmp/root/lib/modules/$uname_r
	[ -d "$moddir" ] || die "$deb has no lib/modules/$uname_r"
	mkdir -p "$kdir/modules"
	cp "$vmlinuz" "$kdir/vmlinuz"
	echo "$uname_r" >"$kdir/uname_r"
	# Modules in load order: each one's dependencies first.
	: >"$kdir/modules/order"
	declare -A seen=()
	add_module() {
		local m=$1 f dep
		[ -n "${seen[$m]:-}" ] && return 0
		seen[$m]=1
		f=$(find "$moddir" -name "$m.ko" -o -name "$m.ko.xz" \
			-o -name "$m.ko.zst" | head -n1)
		[ -n "$f" ] || die "module $m is not in $kpkg"
		case "$f" in *.ko) ;; *) die "$f is compressed; the guest's insmod needs plain .ko files" ;; esac
		for dep in $(modinfo -F depends "$f" | tr ',' ' '); do
			add_module "$dep"
		done
		cp "$f" "$kdir/modules/$m.ko"
		echo "$m" >>"$kdir/modules/order"
	}
	for m in "${guest_modules[@]}"; do
		add_module "$m"
	done
	cp "$moddir"/modules.builtin "$moddir"/modules.builtin.modinfo \
		"$kdir/modules/"
	echo "$kpkg $kver" >"$kdir/package"
	echo "$kernel_cache_id" >"$kdir/requested"
	rm -rf "$kdir.tmp"
	touch "$kdir/done"
	# Older kernels are of no more use.
	for old in "$cache"/kernel-*; do
		[ "$old" = "$kdir" ] || rm -rf "$old"
	done
	printf 'build-guest: kernel %s %s downloaded and unpacked in %s s\n' \
		"$kpkg" "$kver" "$(since "$t0")" >&2
fi
uname_r=$(cat "$kdir/uname_r")

# ---- the initramfs, keyed by everything that goes into it ----
pkg_versions() {
	dpkg-query -W -f='${Package} ${Version}\n' busybox-static ndctl daxctl \
		coreutils diffutils libc6 2>/dev/null || true
}
key=$( {
	cat "$kdir/package" 2>/dev/null || basename "$kdir"
	pkg_versions
	for f in "${famrt_bins[@]}" "${famrt_libs[@]}" /bin/busybox \
		 /usr/bin/ndctl /usr/bin/daxctl "${gnu_progs[@]}" \
		 "$src_dir"/guest/* "$0"; do
		sha256sum "$f"
	done | sed "s| $bin_dir/| BIN/|; s| $src_dir/| SRC/|"
	# The libraries the binaries load, as found now.
	for f in "${famrt_bins[@]}" "${famrt_libs[@]}" /usr/bin/ndctl \
		 /usr/bin/daxctl "${gnu_progs[@]}"; do
		ldd "$f" | awk '/=> \//{print $3} /^\t\//{print $1}'
	done | sort -u | xargs -r sha256sum | sed "s| $bin_dir/| BIN/|"
} | sha256sum | cut -c1-16)
initrd=$cache/initrd-$key.cpio.gz

initrd_state=cached
if [ ! -f "$initrd" ]; then
	initrd_state=built
	t0=$(date +%s.%N)
	stage=$cache/stage.$$
	rm -rf "$stage"
	trap 'rm -rf "$stage"' EXIT
	mkdir -p "$stage"/{bin,sbin,usr/bin,usr/sbin,lib/x86_64-linux-gnu,lib64} \
		 "$stage"/{proc,sys,dev,run,tmp,etc,famrt,opt/gnu/bin} \
		 "$stage"/famrt-vm/bin "$stage/lib/modules/$uname_r"
	cp /bin/busybox "$stage/bin/busybox"
	for a in $(/bin/busybox --list-full); do
		[ -e "$stage/$a" ] || ln -s /bin/busybox "$stage/$a"
	done

	# A dynamic program or library and, through ldd, every library it
	# loads (all in /lib/x86_64-linux-gnu, the loader in /lib64).
	copy_libs() {
		local lib
		ldd "$1" >"$stage/.ldd" 2>&1 ||
			die "ldd $1 failed: $(cat "$stage/.ldd")"
		grep -q 'not found' "$stage/.ldd" &&
			die "$1 needs a library that is not installed: $(grep 'not found' "$stage/.ldd")"
		for lib in $(awk '/=> \//{print $3} /^\t\//{print $1}' "$stage/.ldd"); do
			case "$lib" in
			*/ld-linux*) cp -L "$lib" "$stage/lib64/${lib##*/}" ;;
			*) [ -e "$stage/lib/x86_64-linux-gnu/${lib##*/}" ] ||
				cp -L "$lib" "$stage/lib/x86_64-linux-gnu/${lib##*/}" ;;
			esac
		done
	}
	for f in "${famrt_bins[@]}"; do
		cp "$f" "$stage/famrt-vm/bin/"
		copy_libs "$f"
	done
	for f in "${famrt_libs[@]}"; do
		cp -L "$f" "$stage/lib/x86_64-linux-gnu/${f##*/}"
		copy_libs "$f"
	done
	for f in /usr/bin/ndctl /usr/bin/daxctl; do
		cp "$f" "$stage/usr/bin/${f##*/}"
		copy_libs "$f"
	done
	for f in "${gnu_progs[@]}"; do
		cp "$f" "$stage/opt/gnu/bin/"
		copy_libs "$f"
	done
	cp "$kdir"/modules/*.ko "$kdir/modules/order" "$stage/lib/modules/$uname_r/"
	sed 's/$/.ko/' "$kdir/modules/order" >"$stage/lib/modules/$uname_r/modules.order"
	cp "$kdir"/modules/modules.builtin* "$stage/lib/modules/$uname_r/"
	depmod -b "$stage" "$uname_r" ||
		die "depmod of the guest's modules failed"
	cp "$src_dir"/guest/*.sh "$stage/famrt-vm/"
	mv "$stage/famrt-vm/init.sh" "$stage/init"
	chmod 0755 "$stage/init" "$stage"/famrt-vm/*.sh
	# Users of the permission checks: alice may read the devices (through
	# famrtd's --ro-group), carol may write them (--group), bob neither.
	cat >"$stage/etc/passwd" <<-END
	root:x:0:0:root:/:/bin/sh
	alice:x:1000:1000::/tmp:/bin/sh
	bob:x:1001:1001::/tmp:/bin/sh
	carol:x:1002:1002::/tmp:/bin/sh
	END
	cat >"$stage/etc/group" <<-END
	root:x:0:
	alice:x:1000:
	bob:x:1001:
	carol:x:1002:
	famrt-ro:x:1100:alice
	famrt-rw:x:1101:carol
	END
	rm -f "$stage/.ldd"
	(cd "$stage" && find . -mindepth 1 | LC_ALL=C sort |
		cpio -o -H newc --quiet -R 0:0) | gzip -1 >"$initrd.tmp"
	mv "$initrd.tmp" "$initrd"
	rm -rf "$stage"
	trap - EXIT
	for old in "$cache"/initrd-*.cpio.gz; do
		[ "$old" = "$initrd" ] || rm -f "$old"
	done
	printf 'build-guest: initramfs %s (%s KiB) built in %s s\n' \
		"${initrd##*/}" "$(( $(stat -c %s "$initrd") / 1024 ))" \
		"$(since "$t0")" >&2
fi

printf 'build-guest: kernel %s, initramfs %s, %s s in all\n' \
	"$kernel_state" "$initrd_state" \
	"$(since "$t_start")" >&2
echo "KERNEL=$kdir/vmlinuz"
echo "INITRD=$initrd"

#!/usr/bin/env bash
# bare.sh DIR CMD [ARG...]: runs CMD in DIR as on a machine without build-essential and the -dev
# packages, the way a user installs a wheel or a platform gem there:
#   - an empty environment: HOME=DIR, PATH=DIR/bin (only what the caller linked there: python3,
#     ruby, gem), no LD_LIBRARY_PATH, no PYTHONPATH, no GEM_PATH, nothing of the build tree;
#   - when a private mount namespace can be had (root: unshare -m; else an unprivileged user
#     namespace: unshare -rm), inside it only: the C compilers, make and the linker, the headers
#     of libcurl, jansson and OpenSSL, and the shared libraries libcurl and jansson (which a slim
#     image does not have; libssl/libcrypto stay, as Python and Ruby themselves need them) are
#     covered by /dev/null or an empty tmpfs, so a package that still needed one of them fails.
#     CMD then sees CIO_BARE_HIDDEN=1 and can check the hiding worked. The mounts never leave
#     that namespace (--propagation private).
# Without namespaces (CIO_BARE_NO_NAMESPACE=1 forces that) only the environment is stripped
# and CIO_BARE_HIDDEN is unset.
# Extra environment for CMD: CIO_BARE_ENV="NAME=value NAME2=value2" (no spaces in values).
set -euo pipefail
dir=$1
shift
libdir=/usr/lib/x86_64-linux-gnu
hide_files=()
for f in "$libdir"/libcurl.so.4 "$libdir"/libcurl-gnutls.so.4 "$libdir"/libjansson.so.4 \
  /usr/include/jansson.h; do
  [ -e "$f" ] && hide_files+=("$(readlink -f "$f")")
done
for tool in cc gcc c89 c99 clang tcc make gmake ld ld.bfd ld.gold as cmake swig; do
  t=$(command -v "$tool" 2>/dev/null) || continue
  hide_files+=("$(readlink -f "$t")")
done
hide_dirs=()
for d in /usr/include/curl /usr/include/openssl /usr/include/x86_64-linux-gnu/curl \
  /usr/include/x86_64-linux-gnu/openssl; do
  [ -d "$d" ] && hide_dirs+=("$d")
done

# shellcheck disable=SC2086
env_args=(HOME="$dir" PATH="$dir/bin" LANG=C.UTF-8 ${CIO_BARE_ENV:-})
inner='set -e
for f in $HIDE_FILES; do mount --bind /dev/null "$f"; done
for d in $HIDE_DIRS; do mount -t tmpfs -o ro,size=1k none "$d"; done
cd "$BARE_DIR"
exec env -i CIO_BARE_HIDDEN=1 "$@"'
ns=()
if [ "${CIO_BARE_NO_NAMESPACE:-0}" != 1 ]; then
  if unshare --mount --propagation private true 2>/dev/null; then
    ns=(unshare --mount --propagation private)
  elif unshare --user --map-root-user --mount --propagation private true 2>/dev/null; then
    ns=(unshare --user --map-root-user --mount --propagation private)
  fi
fi
if [ ${#ns[@]} -gt 0 ]; then
  HIDE_FILES="${hide_files[*]}" HIDE_DIRS="${hide_dirs[*]}" BARE_DIR="$dir" \
    "${ns[@]}" bash -c "$inner" bare "${env_args[@]}" "$@"
else
  echo "bare.sh: no private mount namespace here: compilers, headers and system libcurl/jansson stay visible (environment stripped only)" >&2
  cd "$dir"
  exec env -i "${env_args[@]}" "$@"
fi

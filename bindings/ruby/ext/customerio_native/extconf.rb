# frozen_string_literal: true

# Builds customerio_native/customerio_native_ext.so: the SWIG wrapper of bindings/ruby.i
# (vendor/customerio_wrap.c) compiled with the C core's sources (vendor/core), linked against
# libcurl, jansson and OpenSSL's libcrypto found with pkg-config. The core's symbols stay
# private to the extension (-fvisibility=hidden; only Init_customerio_native_ext is exported).
#
#   gem install customerio-native -- --with-system-libcustomerio
#
# links an installed libcustomerio (pkg-config customerio, e.g. after `cmake --install build`)
# instead of compiling the vendored core; its version must match the gem's.
require "mkmf"

here = __dir__
vendor = File.join(here, "vendor")
wrapper = File.join(vendor, "customerio_wrap.c")
unless File.file?(wrapper)
  abort <<~MSG
    #{wrapper} is missing: the SWIG wrapper and the core's sources are copied in when the gem
    is built (`gem build customerio-native.gemspec` or `rake vendor` in bindings/ruby).
  MSG
end

def need(pkg, debian)
  return if pkg_config(pkg)

  abort "customerio-native needs #{pkg} (pkg-config #{pkg}); on Debian: apt-get install #{debian}"
end

need("libcurl", "libcurl4-openssl-dev")
need("libssl", "libssl-dev") # the core's rediss:// transport (issue 18)
need("libcrypto", "libssl-dev")
need("jansson", "libjansson-dev")
need("hiredis", "libhiredis-dev") # the core's Redis queue (issue 18)
have_library("pthread") or abort "customerio-native needs POSIX threads (libpthread)"
have_header("ruby/thread.h") && have_func("rb_thread_call_without_gvl", "ruby/thread.h") or
  abort "customerio-native needs rb_thread_call_without_gvl (Ruby 2.0 or later)"

system_lib = with_config("system-libcustomerio", false)
if system_lib
  need("customerio", "libcustomerio (cmake --install of customerio-native)")
  $srcs = ["customerio_wrap.c"]
else
  core = Dir[File.join(vendor, "core", "*.c")].map { |f| File.basename(f) }.sort
  abort "#{vendor}/core has no sources; rebuild the gem" if core.empty?
  $srcs = ["customerio_wrap.c", *core]
  $INCFLAGS << " -I$(srcdir)/vendor/include -I$(srcdir)/vendor/core -I$(srcdir)/vendor/core/util"
  $defs << "-DCIO_STATIC" << "-D_GNU_SOURCE"
end
$VPATH << "$(srcdir)/vendor" << "$(srcdir)/vendor/core"
$INCFLAGS << " -I$(srcdir)"
$CFLAGS << " -std=gnu11 -fvisibility=hidden"

create_makefile("customerio_native/customerio_native_ext")

# frozen_string_literal: true

# The gem customerio-native (require "customerio_native"). Built from a checkout with
#
#   cd bindings/ruby && gem build customerio-native.gemspec
#
# which first copies the C core's sources and the SWIG wrapper of bindings/ruby.i into
# ext/customerio_native/vendor (tools/vendor_core.rb), so the .gem installs offline with only a
# C compiler and libcurl, jansson and OpenSSL's libcrypto (Debian: build-essential ruby-dev
# libcurl4-openssl-dev libjansson-dev libssl-dev).
require_relative "lib/customerio_native/version"
require_relative "tools/vendor_core"

CustomerioNativeBuild.vendor!(log: nil) if CustomerioNativeBuild.checkout?

Gem::Specification.new do |spec|
  spec.name = "customerio-native"
  spec.version = CustomerioNative::VERSION
  spec.summary = "Customer.io client on a C core: the official customerio gem's API, " \
                 "GVL-free blocking calls, a delivery pipeline, webhook verification and a " \
                 "Rack middleware"
  spec.description = <<~DESC
    The classes and methods of the official customerio gem (6.x) under CustomerioNative
    (Client, Regions, IdentifierType, the same error classes), plus Track API v2, a delivery
    pipeline (Pipeline, Client.new(background: true): fire-and-forget calls batched, paced,
    retried, optionally spooled to disk, every operation reported to on_error/on_report), the
    Pipelines API in the shape of Segment's analytics-ruby (Analytics), reporting webhooks
    (signature, replay window, parsing, de-duplication) and a Rack middleware, on
    libcustomerio: HTTP with kept-alive connections, validation, retries with backoff and
    Retry-After, all in C. Blocking calls release the GVL.
  DESC
  spec.authors = ["customerio-native contributors"]
  spec.required_ruby_version = ">= 3.1"

  spec.files = Dir.chdir(__dir__) do
    Dir["lib/**/*.rb", "ext/customerio_native/*.{rb,h}",
        "ext/customerio_native/vendor/**/*.{c,h}", "tools/*.rb", "customerio-native.gemspec"]
      .sort
  end
  spec.extensions = ["ext/customerio_native/extconf.rb"]
  spec.require_paths = ["lib"]
end

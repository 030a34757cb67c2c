# frozen_string_literal: true

# Differential tests: the same call through an official client (loaded from its published
# source in ../shared/peers, never installed) and through ours, against one emulator over TLS,
# comparing what reached the wire (method, path, query, parsed JSON body, auth, content type),
# what the call returned and what it raised. scripts/test.sh runs them after the Ruby suite.
#
# CIO_PEERS_DIR names the peers folder (default: ../shared/peers beside the repository); when
# it is missing every example is skipped with one line saying why.
require_relative "../../ruby/spec_helper"
require "fileutils"
require "open3"
require "tmpdir"

PEERS_DIR = ENV.fetch("CIO_PEERS_DIR", File.expand_path("../shared/peers", REPO))
PEERS_MISSING = File.directory?(PEERS_DIR) ? nil : "#{PEERS_DIR} not found (the official gems' sources are not beside this clone)"

# Generated calls per example (CIO_COMPAT_ROUNDS).
COMPAT_ROUNDS = Integer(ENV.fetch("CIO_COMPAT_ROUNDS", "20"))
# Time#to_s, which the official clients send for a Time they do not convert.
TIME_TEXT = /\A\d{4}-\d\d-\d\d \d\d:\d\d:\d\d (UTC|[+-]\d{4})\z/

# Puts a peer's lib/ on the load path (the -I of `ruby -I ../shared/peers/<peer>/lib`).
def load_peer(name)
  $LOAD_PATH.unshift(File.join(PEERS_DIR, name, "lib"))
end

# A throw-away certificate authority and a server certificate for 127.0.0.1 signed by it,
# made with openssl; the official clients verify the emulator through SSL_CERT_FILE (Net::HTTP's
# default store reads it), ours through ca_file:.
class ThrowAwayCA
  attr_reader :dir, :ca_file, :cert, :key

  def initialize
    @dir = Dir.mktmpdir("cio-compat-ca")
    @ca_file = File.join(@dir, "ca.pem")
    @cert = File.join(@dir, "server.pem")
    @key = File.join(@dir, "server.key")
    ca_key = File.join(@dir, "ca.key")
    csr = File.join(@dir, "server.csr")
    ext = File.join(@dir, "server.ext")
    File.write(ext, "subjectAltName=IP:127.0.0.1\nbasicConstraints=CA:FALSE\n")
    openssl("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2", "-subj",
            "/CN=cio compat test CA", "-keyout", ca_key, "-out", @ca_file)
    openssl("req", "-newkey", "rsa:2048", "-nodes", "-subj", "/CN=127.0.0.1", "-keyout", @key,
            "-out", csr)
    openssl("x509", "-req", "-in", csr, "-CA", @ca_file, "-CAkey", ca_key, "-CAcreateserial",
            "-days", "2", "-extfile", ext, "-out", @cert)
  end

  def remove
    FileUtils.rm_rf(@dir)
  end

  private

  def openssl(*args)
    _out, err, status = Open3.capture3("openssl", *args)
    raise "openssl #{args.first}: #{err}" unless status.success?
  end
end

# The CA is made and put in SSL_CERT_FILE before any peer is loaded, as a user behind a
# TLS-inspecting proxy has it set before the process starts: OpenSSL's default store reads it
# once, when it is first built (analytics-ruby builds its connection at Client.new).
unless PEERS_MISSING
  $cio_compat_ca = ThrowAwayCA.new
  ENV["SSL_CERT_FILE"] = $cio_compat_ca.ca_file
  # the store may already exist if something loaded openssl before this file
  OpenSSL::SSL::SSLContext::DEFAULT_CERT_STORE.add_file($cio_compat_ca.ca_file) if
    defined?(OpenSSL::SSL::SSLContext::DEFAULT_CERT_STORE)
end

module CompatHelpers
  # The TLS emulator both clients talk to.
  def tls_mock
    $cio_tls_mock
  end

  def tls_url
    tls_mock.url
  end

  def ca_file
    $cio_compat_ca.ca_file
  end

  # Runs the block; [its value, nil] or [nil, the exception]. SystemStackError is caught
  # too, so that a difference there is a failed comparison, not a dead run.
  def outcome
    [yield, nil]
  rescue StandardError, SystemStackError => e
    [nil, e]
  end

  # The requests the emulator logged while the block ran ([outcome, requests]).
  def logged
    tls_mock.clear
    result = outcome { yield }
    [result, tls_mock.requests]
  end

  # An exception's class without the gem's namespace ("Client::ParamError"), and its message.
  def error_of(exc)
    return nil if exc.nil?

    [exc.class.name.sub(/\A(Customerio(Native)?|Segment)::/, ""), exc.message]
  end

  # What a request carries, for comparison: the JSON body parsed (a body that does not parse
  # is kept as text), the auth and content type headers.
  def wire(req)
    text = req["body"].to_s
    body = begin
      text.empty? ? nil : JSON.parse(text)
    rescue JSON::ParserError
      text
    end
    { "method" => req["method"], "path" => req["path"], "query" => req["query"], "body" => body,
      "authorization" => req.dig("headers", "authorization"),
      "content_type" => req.dig("headers", "content-type") }
  end
end

RSpec.configure do |config|
  config.include CompatHelpers
  config.before(:suite) do
    next if PEERS_MISSING

    $cio_tls_mock = MockServer.new(extra_args: ["--tls-cert", $cio_compat_ca.cert,
                                                "--tls-key", $cio_compat_ca.key],
                                   tls_ca: $cio_compat_ca.ca_file)
  end
  config.after(:suite) do
    $cio_tls_mock&.stop
    $cio_compat_ca&.remove
  end
  config.before do
    skip(PEERS_MISSING) if PEERS_MISSING
    tls_mock.clear
  end
end

# frozen_string_literal: true

# The RSpec suite of the gem customerio-native, run against the cio-mock emulator on 127.0.0.1.
# scripts/test.sh installs the gem into build/gems and runs `rspec tests/ruby` with GEM_HOME
# and GEM_PATH pointing there; CIO_MOCK_BIN names the emulator (default build/mock/cio-mock).
require "fileutils"
require "json"
require "net/http"
require "rbconfig"
require "socket"
require "tmpdir"
require "customerio_native"

REPO = File.expand_path("../..", __dir__)
SITE_ID = "rb-site"
API_KEY = "rb-key"
APP_API_KEY = "rb-app-key"
CDP_API_KEY = "rb-cdp-key"

# One running emulator and its control endpoints (/_mock/...).
class MockServer
  attr_reader :port, :url

  def self.binary
    ENV.fetch("CIO_MOCK_BIN", File.join(REPO, "build", "mock", "cio-mock"))
  end

  # extra_args: more cio-mock arguments (e.g. --tls-cert/--tls-key to serve HTTPS). tls_ca: the
  # CA file that verifies a TLS emulator: then #url is https and the control requests go over
  # TLS too.
  def initialize(site_id: SITE_ID, api_key: API_KEY, app_api_key: APP_API_KEY,
                 cdp_api_key: CDP_API_KEY, extra_args: [], tls_ca: nil)
    bin = MockServer.binary
    raise "emulator not found at #{bin} (run `make build` or set CIO_MOCK_BIN)" unless
      File.executable?(bin)

    @dir = Dir.mktmpdir("cio-mock-rb")
    port_file = File.join(@dir, "port")
    @pid = Process.spawn(bin, "--port", "0", "--port-file", port_file, "--site-id", site_id,
                         "--api-key", api_key, "--app-api-key", app_api_key,
                         "--cdp-api-key", cdp_api_key, *extra_args,
                         %i[out err] => File.join(@dir, "mock.log"))
    deadline = Process.clock_gettime(Process::CLOCK_MONOTONIC) + 10
    until File.file?(port_file) && !File.read(port_file).strip.empty?
      if Process.clock_gettime(Process::CLOCK_MONOTONIC) > deadline ||
         Process.waitpid(@pid, Process::WNOHANG)
        raise "cio-mock did not start: #{File.read(File.join(@dir, 'mock.log')) rescue ''}"
      end
      sleep 0.02
    end
    @port = Integer(File.read(port_file).strip)
    @tls_ca = tls_ca
    @url = "#{tls_ca ? 'https' : 'http'}://127.0.0.1:#{@port}"
  end

  def stop
    Process.kill("TERM", @pid)
    Process.wait(@pid)
  rescue Errno::ESRCH, Errno::ECHILD
    nil
  ensure
    FileUtils.rm_rf(@dir)
  end

  # Every request received since the last clear, oldest first.
  def requests
    control(:get, "requests")
  end

  # The one request received (fails when there is not exactly one).
  def only
    reqs = requests
    raise "expected exactly one request, got #{reqs.size}: #{reqs.inspect}" unless reqs.size == 1

    reqs.first
  end

  def clear
    control(:delete, "requests")
    control(:delete, "faults")
  end

  # Makes the next requests fail: count, status, body, delay_ms, retry_after, action.
  def fault(**spec)
    control(:post, "faults", spec)
  end

  # Has the emulator sign and POST a webhook to url (see mock/README.md).
  def webhook(**spec)
    control(:post, "webhooks", spec)
  end

  def control(method, path, body = nil)
    http = Net::HTTP.new("127.0.0.1", @port)
    http.read_timeout = 30
    if @tls_ca
      http.use_ssl = true
      http.ca_file = @tls_ca
    end
    req = { get: Net::HTTP::Get, post: Net::HTTP::Post,
            delete: Net::HTTP::Delete }.fetch(method).new("/_mock/#{path}")
    if body
      req["Content-Type"] = "application/json"
      req.body = JSON.generate(body)
    end
    res = http.request(req)
    raise "/_mock/#{path}: HTTP #{res.code} #{res.body}" unless res.code.start_with?("2")

    res.body.nil? || res.body.empty? ? nil : JSON.parse(res.body)
  end
end

module SpecHelpers
  def mock
    $cio_mock
  end

  # A client on the emulator; closed after the example.
  def new_client(**options)
    client = CustomerioNative::Client.new(SITE_ID, API_KEY, url: mock.url, backoff: 0.001,
                                                            **options)
    (@clients ||= []) << client
    client
  end

  # A logged request's body parsed as JSON (nil when empty).
  def body_of(request)
    text = request["body"].to_s
    text.empty? ? nil : JSON.parse(text)
  end

  # [method, path] of every logged request.
  def calls
    mock.requests.map { |r| [r["method"], r["path"]] }
  end

  # Runs the block while another thread counts ticks every 10 ms (started settle seconds
  # before it); returns [ticks counted while the block ran, the block's seconds]. A call that
  # held the GVL would freeze the counting thread (0 or 1 ticks).
  def ticks_while(settle: 0.05)
    ticks = 0
    done = false
    ticker = Thread.new do
      until done
        ticks += 1
        sleep 0.01
      end
    end
    sleep settle
    before = ticks
    started = Process.clock_gettime(Process::CLOCK_MONOTONIC)
    yield
    [ticks - before, Process.clock_gettime(Process::CLOCK_MONOTONIC) - started]
  ensure
    done = true
    ticker&.join
  end
end

RSpec.configure do |config|
  config.include SpecHelpers
  config.disable_monkey_patching!
  config.order = :defined
  config.expect_with(:rspec) { |c| c.syntax = :expect }

  config.before(:suite) do
    $cio_mock = MockServer.new
  end
  config.after(:suite) do
    $cio_mock&.stop
  end
  config.before do
    mock.clear
  end
  config.after do
    (@clients || []).each(&:close)
  end
end

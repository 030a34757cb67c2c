# frozen_string_literal: true

require_relative "spec_helper"
require "base64"
require "date"
require "open3"

# CustomerioNative::Analytics, the Pipelines API in the shape of Segment's analytics-ruby,
# against the emulator: the bytes of every call, validation before anything is queued,
# on_error(status, message) once per failed batch, delivery under injected faults, the full
# queue, sync/test/stub modes, flush, close and the process's exit.

# What every message on the wire looks like.
module AnalyticsWire
  ULID_RE = /\A[0-7][0-9A-HJKMNP-TV-Z]{25}\z/
  ISO_MS_Z = /\A\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z\z/
  BASIC = "Basic #{Base64.strict_encode64("#{CDP_API_KEY}:")}".freeze
  LIBRARY = { "name" => "customerio-native", "version" => CustomerioNative::VERSION }.freeze
end

RSpec.describe CustomerioNative::Analytics do
  # An Analytics on the emulator; closed after the example.
  def analytics(**options)
    client = described_class.new(write_key: CDP_API_KEY, host: mock.url, backoff: 0.001,
                                 linger: 0.01, **options)
    (@made ||= []) << client
    client
  end

  after { (@made || []).each(&:close) }

  # Every message of every /v1/batch request the emulator accepted, in order.
  def delivered
    mock.requests.flat_map do |r|
      expect([r["method"], r["path"]]).to eq(["POST", "/v1/batch"])
      r["status"] == 200 ? body_of(r)["batch"] : []
    end
  end

  # msg without what libcustomerio fills in, after checking it.
  def strip_completed(msg)
    msg = msg.dup
    expect(msg.delete("messageId")).to match(AnalyticsWire::ULID_RE)
    expect(msg.delete("timestamp")).to match(AnalyticsWire::ISO_MS_Z)
    context = msg.delete("context").dup
    expect(context.delete("library")).to eq(AnalyticsWire::LIBRARY)
    msg["context"] = context unless context.empty?
    msg
  end

  # An on_error that records (status, message, messages).
  def recorder
    calls = []
    lock = Mutex.new
    handler = proc do |status, message, messages|
      lock.synchronize { calls << [status, message, messages] }
    end
    [calls, handler]
  end

  def lib_dir
    File.expand_path(
      "..", File.dirname(described_class.instance_method(:track).source_location[0])
    )
  end

  def clock
    Process.clock_gettime(Process::CLOCK_MONOTONIC)
  end

  # ---- the wire ------------------------------------------------------------------------------

  it "sends every call as one /v1/batch request with Basic auth and the Segment message shape" do
    a = analytics
    results = [
      a.identify(user_id: "u1", traits: { email: "ada@example.com", ltv: 23.45 }),
      a.track(user_id: "u1", event: "purchased", properties: { price: 9.5 },
              context: { ip: "10.0.0.1" }),
      a.page(user_id: "u1", category: "docs", name: "Install", properties: { path: "/install" }),
      a.screen(anonymous_id: "a1", name: "Home"),
      a.group(user_id: "u1", group_id: "acme", traits: { plan: "pro" }),
      a.alias(previous_id: "a1", user_id: "u1")
    ]
    expect(results).to all(be(true))
    expect(a.flush).to be(true)

    req = mock.only
    expect([req["method"], req["path"], req["status"]]).to eq(["POST", "/v1/batch", 200])
    expect(req["headers"]["authorization"]).to eq(AnalyticsWire::BASIC)
    expect(req["headers"]["content-type"]).to eq("application/json")
    sent = body_of(req)
    expect(sent.keys).to contain_exactly("batch", "sentAt")
    expect(sent["sentAt"]).to match(AnalyticsWire::ISO_MS_Z)
    expect(sent["batch"].map { |m| m["messageId"] }.uniq.size).to eq(6)
    expect(sent["batch"].map { |m| strip_completed(m) }).to eq([
      { "type" => "identify", "userId" => "u1",
        "traits" => { "email" => "ada@example.com", "ltv" => 23.45 } },
      { "type" => "track", "userId" => "u1", "event" => "purchased",
        "properties" => { "price" => 9.5 }, "context" => { "ip" => "10.0.0.1" } },
      { "type" => "page", "userId" => "u1", "category" => "docs", "name" => "Install",
        "properties" => { "path" => "/install" } },
      { "type" => "screen", "anonymousId" => "a1", "name" => "Home", "properties" => {} },
      { "type" => "group", "userId" => "u1", "groupId" => "acme", "traits" => { "plan" => "pro" } },
      { "type" => "alias", "previousId" => "a1", "userId" => "u1" }
    ])
    expect(req["body"]).to include("23.45")
    # Each message's members: the completed ones first, then the caller's in the call's order.
    expect(sent["batch"][1].keys).to eq(%w[messageId timestamp type userId event properties
                                         context])
    expect(sent["batch"][1]["context"])
      .to eq("library" => AnalyticsWire::LIBRARY, "ip" => "10.0.0.1")
  end

  it "takes analytics-ruby's Hash arguments with String or Symbol keys" do
    a = described_class.new({ "write_key" => CDP_API_KEY, "host" => mock.url, "linger" => 0.01 })
    @made = [a]
    a.identify({ "user_id" => 42, "traits" => { "email" => "foo@example.com" } })
    a.track({ user_id: 42, event: "Created Account" })
    a.alias({ "previous_id" => 41, "user_id" => 42 })
    a.flush
    expect(delivered.map { |m| [m["type"], m["userId"]] })
      .to eq([%w[identify 42], %w[track 42], %w[alias 42]])
    expect { a.track("42") }.to raise_error(ArgumentError, /Hash or keywords/)
    # analytics-ruby ignores fields it does not know; so do we (logged at debug)
    expect { a.track(user: 42) }.to raise_error(ArgumentError, /userId or anonymousId/)
  end

  it "writes times as ISO-8601 with milliseconds, ids as Strings, and keeps what is given" do
    a = analytics
    berlin = Time.new(2024, 5, 1, 12, 0, 0.123456r, "+02:00")
    a.identify(user_id: 157_963_456_373_623_802, anonymous_id: :anon, message_id: "my-id",
               timestamp: Time.utc(2014, 9, 3),
               traits: { born: Date.new(1981, 2, 2), seen: berlin,
                         at: DateTime.new(2020, 1, 2, 3, 4, 5),
                         nested: { list: [Time.utc(2021, 1, 1, 0, 0, 0.5r)] } },
               integrations: { "Amplitude" => true }, context: { library: { name: "mine" } })
    a.track(user_id: "u", event: :clicked, timestamp: berlin)
    a.track(user_id: "u", event: "e", timestamp: "2024-05-01T10:00:00.000Z")
    a.page(user_id: "u", name: "", category: "")
    a.flush
    ident, local, text, page = delivered
    expect(ident).to eq(
      "type" => "identify", "userId" => "157963456373623802", "anonymousId" => "anon",
      "traits" => { "born" => "1981-02-02", "seen" => "2024-05-01T12:00:00.123+02:00",
                    "at" => "2020-01-02T03:04:05.000+00:00",
                    "nested" => { "list" => ["2021-01-01T00:00:00.500Z"] } },
      "context" => { "library" => { "name" => "mine" } },
      "integrations" => { "Amplitude" => true },
      "timestamp" => "2014-09-03T00:00:00.000Z", "messageId" => "my-id"
    )
    expect(local["timestamp"]).to eq("2024-05-01T12:00:00.123+02:00")
    expect(local["event"]).to eq("clicked")
    expect(text["timestamp"]).to eq("2024-05-01T10:00:00.000Z")
    expect(page.keys).not_to include("name", "category") # empty is none, as analytics-ruby's nil
  end

  # ---- validation ----------------------------------------------------------------------------

  [
    ["identify without user_id or anonymous_id", ->(a) { a.identify(traits: { a: 1 }) },
     "userId or anonymousId is required"],
    ["track without user_id or anonymous_id", ->(a) { a.track(event: "e") },
     "userId or anonymousId is required"],
    ["page without user_id or anonymous_id", ->(a) { a.page(name: "p") },
     "userId or anonymousId is required"],
    ["screen without user_id or anonymous_id", ->(a) { a.screen(name: "s") },
     "userId or anonymousId is required"],
    ["group without user_id or anonymous_id", ->(a) { a.group(group_id: "g") },
     "userId or anonymousId is required"],
    ["an empty user_id", ->(a) { a.identify(user_id: "") }, "userId must be a non-empty string"],
    ["track without event", ->(a) { a.track(user_id: "u") }, "event is required"],
    ["alias without previous_id", ->(a) { a.alias(user_id: "u") }, "previousId"],
    ["alias without user_id", ->(a) { a.alias(previous_id: "p") }, "previousId and userId"],
    ["group without group_id", ->(a) { a.group(user_id: "u") }, "groupId is required"],
    ["traits that are not a Hash", ->(a) { a.identify(user_id: "u", traits: %w[not a hash]) },
     "traits must be a JSON object (got array)"],
    ["group traits that are not a Hash",
     ->(a) { a.group(user_id: "u", group_id: "g", traits: "x") }, "traits must be a JSON object"],
    ["properties that are not a Hash", ->(a) { a.track(user_id: "u", event: "e", properties: 5) },
     "properties must be a JSON object"],
    ["context that is not a Hash", ->(a) { a.identify(user_id: "u", context: ["x"]) },
     "context must be a JSON object"],
    ["integrations that are not a Hash", ->(a) { a.identify(user_id: "u", integrations: true) },
     "integrations must be a JSON object"],
    ["a timestamp that is not a Time", ->(a) { a.identify(user_id: "u", timestamp: 1_700_000_000) },
     "timestamp must be a Time"],
    ["an id over 150 bytes", ->(a) { a.identify(user_id: "u" * 200) }, "userId is longer than"],
    ["a control character in an id", ->(a) { a.identify(user_id: "bad\nid") }, "control character"],
    ["a value JSON cannot carry", ->(a) { a.identify(user_id: "u", traits: { f: Float::NAN }) },
     "cannot be encoded as JSON"]
  ].each do |what, call, text|
    it "refuses #{what} with ValidationError (an ArgumentError) and sends nothing" do
      a = analytics
      expect { call.call(a) }.to raise_error(described_class::ValidationError) { |e|
        expect(e).to be_a(ArgumentError)
        expect(e.message).to include(text)
        expect(e.error_code).to eq(:invalid_argument)
      }
      a.flush
      expect(mock.requests).to eq([])
      expect(a.stats[:enqueued]).to eq(0)
    end
  end

  it "refuses a message over 32 KB with MessageTooLargeError, and takes one under" do
    a = analytics
    expect { a.identify(user_id: "u", traits: { blob: "x" * (33 * 1024) }) }
      .to raise_error(described_class::MessageTooLargeError, /32768/) { |e|
        expect(e).to be_a(described_class::ValidationError)
        expect(e.error_code).to eq(:payload_too_large)
      }
    expect(a.identify(user_id: "u", traits: { blob: "x" * (31 * 1024) })).to be(true)
    a.flush
    expect(delivered.size).to eq(1)
  end

  it "needs a write key, from write_key: or CUSTOMERIO_CDP_API_KEY, and strips it" do
    saved = ENV.delete("CUSTOMERIO_CDP_API_KEY")
    expect { described_class.new(host: mock.url) }
      .to raise_error(described_class::ValidationError, /write_key/)
    expect { described_class.new(write_key: "  ", test: true) }
      .to raise_error(ArgumentError, /write_key/)
    ENV["CUSTOMERIO_CDP_API_KEY"] = "#{CDP_API_KEY}\n"
    a = described_class.new(host: mock.url, sync: true)
    a.track(user_id: "u", event: "e")
    expect(mock.only["headers"]["authorization"]).to eq(AnalyticsWire::BASIC)
    a.close
  ensure
    saved.nil? ? ENV.delete("CUSTOMERIO_CDP_API_KEY") : ENV["CUSTOMERIO_CDP_API_KEY"] = saved
  end

  it "sends X-Strict-Mode: 1 by default and none with strict_mode: false (ours)" do
    [[{}, "1"], [{ strict_mode: true }, "1"], [{ strict_mode: false }, nil]].each do |opts, want|
      mock.clear
      queued = analytics(**opts)
      queued.track(user_id: "u", event: "e")
      queued.flush
      analytics(sync: true, **opts).track(user_id: "u", event: "e")
      reqs = mock.requests
      expect(reqs.size).to eq(2)
      expect(reqs.map { |r| r["headers"]["x-strict-mode"] }).to eq([want, want]), opts.inspect
    end
  end

  it "builds the base URL from analytics-ruby's host:, port: and ssl:, or takes url:" do
    a = described_class.new(write_key: CDP_API_KEY, host: "127.0.0.1", port: mock.port,
                            ssl: false, sync: true)
    a.track(user_id: "u", event: "e")
    b = described_class.new(write_key: CDP_API_KEY, url: "#{mock.url}/", sync: true)
    b.track(user_id: "u", event: "e")
    expect(mock.requests.map { |r| [r["path"], r["status"]] }).to eq([["/v1/batch", 200]] * 2)
    [a, b].each(&:close)
    expect { described_class.new(write_key: "k", host: "h", url: "http://h") }
      .to raise_error(ArgumentError, /not both/)
    expect { described_class.new(write_key: "k", url: "http://h", port: 1) }
      .to raise_error(ArgumentError, /port/)
    elsewhere = CustomerioNative::Regions::Region.new("https://a", "https://b")
    expect { described_class.new(write_key: "k", region: elsewhere) }
      .to raise_error(ArgumentError, /region/)
    expect { described_class.new(write_key: "k", flush_at: 5) }
      .to raise_error(ArgumentError, /unknown option\(s\): flush_at/)
    expect { described_class.new(write_key: "k", url: "cdp.customer.io") }
      .to raise_error(described_class::ValidationError, /cdp_url/)
  end

  it "sends a region key (sk_us_...) as a Bearer token" do
    key = "sk_us_#{'a' * 32}_abcdef"
    server = MockServer.new(cdp_api_key: key)
    begin
      a = described_class.new(write_key: key, host: server.url, sync: true)
      a.track(user_id: "u", event: "e")
      req = server.only
      expect(req["headers"]["authorization"]).to eq("Bearer #{key}")
      expect(req["status"]).to eq(200)
      a.close
    ensure
      server.stop
    end
  end

  # ---- failures ------------------------------------------------------------------------------

  # A batch refused with 400 is split in halves until each refused message stands alone
  # (libcustomerio's pipeline: one bad message never takes its neighbours with it): 2n - 1
  # requests for n messages, each refused message reported by itself, none retried.
  it "calls on_error(status, message) once per refused message on a 400, without retrying it" do
    calls, on_error = recorder
    a = analytics(on_error: on_error)
    mock.fault(count: 5, status: 400, body: { code: "invalid_request", message: "nope" })
    3.times { |i| a.track(user_id: "u#{i}", event: "e", properties: { n: i }) }
    a.flush
    expect(calls.size).to eq(3)
    calls.each do |status, message, messages|
      expect(status).to eq(400)
      expect(message).to include("HTTP 400").and include("nope")
      expect(messages.size).to eq(1)
      expect(messages.first["messageId"]).to match(AnalyticsWire::ULID_RE)
    end
    expect(calls.map { |c| c[2].first["userId"] }.sort).to eq(%w[u0 u1 u2])
    expect(mock.requests.size).to eq(5)
  end

  it "gives a two-argument lambda analytics-ruby's two arguments" do
    got = []
    a = analytics(on_error: ->(status, message) { got << [status, message] })
    mock.fault(count: 1, status: 400, body: { code: "invalid_request", message: "nope" })
    a.track(user_id: "u", event: "e")
    a.flush
    expect(got.size).to eq(1)
    expect(got.first[0]).to eq(400)
  end

  it "delivers N messages as N distinct messageIds under 500s, 429s and resets" do
    calls, on_error = recorder
    a = analytics(on_error: on_error, batch_size: 50)
    mock.fault(count: 3, status: 500)
    mock.fault(count: 2, status: 429, retry_after: "0")
    mock.fault(count: 2, action: "reset")
    300.times { |i| a.track(user_id: "u#{i % 7}", event: "e", properties: { n: i }) }
    expect(a.flush(timeout: 60)).to be(true)
    expect(calls).to eq([])
    out = delivered
    expect(out.size).to eq(300)
    expect(out.map { |m| m["messageId"] }.uniq.size).to eq(300)
    expect(out.map { |m| m["properties"]["n"] }.sort).to eq((0...300).to_a)
    statuses = mock.requests.map { |r| r["status"] }
    expect(statuses.count(500)).to eq(3)
    expect(statuses.count(429)).to eq(2)
    expect(statuses.count(0)).to eq(2)
    expect(a.stats).to include(enqueued: 300, delivered: 300, failed: 0)
  end

  it "waits as long as a 429's Retry-After says, then delivers" do
    calls, on_error = recorder
    a = analytics(on_error: on_error)
    mock.fault(count: 1, status: 429, retry_after: "1")
    mock.fault(count: 1, action: "reset")
    start = clock
    5.times { |i| a.track(user_id: "u#{i}", event: "e") }
    a.flush
    expect(clock - start).to be >= 0.9
    expect(calls).to eq([])
    expect(delivered.map { |m| m["userId"] }).to eq(%w[u0 u1 u2 u3 u4])
    expect(mock.requests.first["status"]).to eq(429)
  end

  it "gives up after retries: and reports it to on_error" do
    calls, on_error = recorder
    a = analytics(on_error: on_error, retries: 1)
    mock.fault(count: 10, status: 503)
    a.track(user_id: "u", event: "e")
    a.flush
    expect(mock.requests.size).to eq(2)
    expect(calls.size).to eq(1)
    expect(calls.first[0]).to eq(503)
    expect(calls.first[2].map { |m| m["userId"] }).to eq(["u"])
  end

  it "reports -1 when there was no answer" do
    calls, on_error = recorder
    a = described_class.new(write_key: CDP_API_KEY, url: "http://127.0.0.1:1", retries: 0,
                            on_error: on_error)
    @made = [a]
    a.track(user_id: "u", event: "e")
    a.flush
    expect(calls.size).to eq(1)
    expect(calls.first[0]).to eq(-1)
    expect(calls.first[1]).to match(/connect/i)
  end

  it "prints failures without on_error, and survives an on_error that raises" do
    a = analytics
    mock.fault(count: 1, status: 400, body: { code: "invalid_request", message: "nope" })
    expect do
      a.track(user_id: "u", event: "e")
      a.flush
    end.to output(/analytics: 1 message\(s\) not delivered \(400\)/).to_stderr
    b = analytics(on_error: proc { raise "boom" })
    mock.fault(count: 1, status: 400, body: { code: "invalid_request", message: "nope" })
    expect do
      b.track(user_id: "u", event: "e")
      b.flush
    end.to output(/on_error raised RuntimeError: boom/).to_stderr
    b.track(user_id: "u", event: "again")
    b.flush
    expect(delivered.map { |m| m["event"] }).to eq(["again"])
  end

  it "raises QueueFullError at max_queue_size instead of dropping" do
    a = analytics(max_queue_size: 2, linger: 60)
    a.track(user_id: "u1", event: "e")
    a.track(user_id: "u2", event: "e")
    expect(a.queued_messages).to eq(2)
    expect { a.track(user_id: "u3", event: "e") }
      .to raise_error(CustomerioNative::QueueFullError)
    a.flush
    expect(a.track(user_id: "u3", event: "e")).to be(true)
    a.flush
    expect(delivered.map { |m| m["userId"] }).to eq(%w[u1 u2 u3])
  end

  it "caps messages per request at batch_size" do
    a = analytics(batch_size: 10, linger: 60)
    25.times { |i| a.identify(user_id: "u#{i}") }
    a.flush
    expect(mock.requests.map { |r| body_of(r)["batch"].size }).to eq([10, 10, 5])
  end

  it "takes calls from many threads at once" do
    a = analytics
    threads = Array.new(8) do |t|
      Thread.new { 250.times { |i| a.track(user_id: "t#{t}", event: "e", properties: { i: i }) } }
    end
    threads.each(&:join)
    a.flush
    expect(delivered.size).to eq(2000)
  end

  # ---- flush, close, exit --------------------------------------------------------------------

  it "flush(timeout:) returns false when the timeout passes first" do
    a = analytics
    mock.fault(count: 1, delay_ms: 1500)
    a.track(user_id: "u", event: "e")
    expect(a.flush(timeout: 0.2)).to be(false)
    expect(a.flush).to be(true)
    expect(delivered.size).to eq(1)
  end

  it "close delivers what is queued, then refuses calls; shutdown is the same" do
    a = analytics(linger: 60)
    100.times { |i| a.track(user_id: "u#{i}", event: "e") }
    expect(a.close).to be(true)
    expect(delivered.size).to eq(100)
    expect(a).to be_closed
    expect { a.track(user_id: "u", event: "e") }
      .to raise_error(CustomerioNative::PipelineError, /closed/) { |e|
        expect(e.error_code).to eq(:closed)
      }
    expect(a.close).to be(true)
    expect(a.flush).to be(true)
    b = analytics
    b.identify(user_id: "u")
    b.shutdown
    expect(b).to be_closed
    expect(delivered.size).to eq(101)
  end

  it "runs analytics-ruby's usage with only the require line changed" do
    code = <<~RUBY
      require "customerio_native/segment"
      analytics = Segment::Analytics.new({
        write_key: ARGV[0], host: ARGV[1],
        on_error: Proc.new { |status, msg| print msg }
      })
      analytics.identify(user_id: 1, traits: { email: "ann@example.com" })
      analytics.track(user_id: 1, event: "Signed Up", properties: { plan: "Enterprise" })
      analytics.flush
      print Segment::Analytics.equal?(CustomerioNative::Analytics)
    RUBY
    out, status = Open3.capture2(RbConfig.ruby, "-I", lib_dir, "-e", code, CDP_API_KEY, mock.url)
    expect(status).to be_success
    expect(out).to eq("true")
    expect(delivered.map { |m| [m["type"], m["userId"], m["event"]] })
      .to eq([["identify", "1", nil], ["track", "1", "Signed Up"]])
  end

  it "delivers what is queued when the process exits without flush" do
    # analytics-ruby stops its worker at exit and loses what is still queued.
    code = <<~RUBY
      require "customerio_native"
      a = CustomerioNative::Analytics.new(write_key: ARGV[0], host: ARGV[1], linger: 60)
      20.times { |i| a.track(user_id: "u\#{i}", event: "bye") }
    RUBY
    _out, status = Open3.capture2(RbConfig.ruby, "-I", lib_dir, "-e", code, CDP_API_KEY, mock.url)
    expect(status).to be_success
    expect(delivered.map { |m| m["userId"] }.sort).to eq(Array.new(20) { |i| "u#{i}" }.sort)
  end

  it "reports to on_error what still cannot be delivered when exit_timeout runs out" do
    mock.fault(count: 1000, status: 503)
    code = <<~RUBY
      require "customerio_native"
      $stdout.sync = true
      a = CustomerioNative::Analytics.new(
        write_key: ARGV[0], host: ARGV[1], exit_timeout: 0.5, backoff: 0.05,
        on_error: ->(status, message, messages) { puts "lost \#{messages.size}: \#{message}" }
      )
      3.times { |i| a.track(user_id: "u\#{i}", event: "bye") }
    RUBY
    start = clock
    out, status = Open3.capture2(RbConfig.ruby, "-I", lib_dir, "-e", code, CDP_API_KEY, mock.url)
    expect(status).to be_success
    expect(clock - start).to be < 10
    expect(out).to match(/\Alost 3: /)
  end

  it "runs the README's example (the host pointed at the emulator)" do
    readme = File.read(File.join(REPO, "README.md"))
    section = readme.split("\n## Ruby\n", 2)[1].split("- **Pipelines API.**", 2)[1]
    example = section[/```ruby\n(.*?)```/m, 1].gsub(/^  /, "")
    key_line = 'write_key: ENV.fetch("CUSTOMERIO_CDP_API_KEY"),'
    expect(example).to include(key_line)
    code = example.sub(key_line, "#{key_line} host: #{mock.url.inspect},")
    out, err, status = Open3.capture3({ "CUSTOMERIO_CDP_API_KEY" => CDP_API_KEY },
                                      RbConfig.ruby, "-I", lib_dir, "-e", code)
    expect(status).to be_success, err
    expect(out + err).to eq("")
    expect(delivered.map { |m| [m["type"], m["userId"]] }).to eq([%w[identify 42], %w[track 42]])
  end

  # ---- modes ---------------------------------------------------------------------------------

  it "sync: true sends each call at once and raises the gem's errors" do
    a = analytics(sync: true, retries: 0)
    expect(a.identify(user_id: "u1", traits: { a: 1 })).to be(true)
    req = mock.only
    expect([req["path"], req["status"]]).to eq(["/v1/batch", 200])
    expect(strip_completed(body_of(req)["batch"].first))
      .to eq("type" => "identify", "userId" => "u1", "traits" => { "a" => 1 })
    mock.clear
    mock.fault(count: 1, status: 400, body: { code: "invalid_request", message: "nope" })
    expect { a.track(user_id: "u1", event: "e") }
      .to raise_error(CustomerioNative::InvalidResponse) { |e|
        expect(e.code).to eq("400")
        expect(e.http_status).to eq(400)
        expect(JSON.parse(e.message)).to eq("code" => "invalid_request", "message" => "nope")
      }
    expect { a.track(user_id: "u1") }.to raise_error(described_class::ValidationError, /event/)
    expect { a.identify(user_id: "u", traits: { b: "x" * 40_000 }) }
      .to raise_error(described_class::MessageTooLargeError)
    expect(a.stats).to eq({})
    expect(a.flush).to be(true)
    nowhere = described_class.new(write_key: CDP_API_KEY, url: "http://127.0.0.1:1", sync: true,
                                  retries: 0)
    expect { nowhere.track(user_id: "u", event: "e") }
      .to raise_error(CustomerioNative::NetworkError)
    nowhere.close
  end

  it "sync: true retries 5xx" do
    a = analytics(sync: true, retries: 2)
    mock.fault(count: 2, status: 502)
    expect(a.track(user_id: "u", event: "e")).to be(true)
    expect(mock.requests.map { |r| r["status"] }).to eq([502, 502, 200])
  end

  it "test: true keeps the completed messages in test_queue and sends nothing" do
    a = described_class.new(write_key: "any", test: true)
    a.track(user_id: 1, event: "Signed Up", properties: { plan: "pro" })
    a.identify(user_id: 1, traits: { email: "a@example.com" })
    a.alias(previous_id: 0, user_id: 1)
    q = a.test_queue
    expect(q.count).to eq(3)
    expect(q.track.size).to eq(1)
    msg = q[0]
    expect(msg).to equal(q.track.first)
    expect(msg).to include(type: "track", userId: "1", event: "Signed Up",
                           properties: { plan: "pro" })
    expect(msg[:messageId]).to match(AnalyticsWire::ULID_RE)
    expect(msg[:timestamp]).to match(AnalyticsWire::ISO_MS_Z)
    expect(msg[:context][:library]).to eq(name: "customerio-native",
                                          version: CustomerioNative::VERSION)
    expect(q.identify.first[:traits]).to eq(email: "a@example.com")
    expect(q.alias.first[:previousId]).to eq("0")
    expect { a.track(user_id: 1) }.to raise_error(described_class::ValidationError)
    expect(q.count).to eq(3)
    q.reset!
    expect(q.count).to eq(0)
    a.close
    expect(mock.requests).to eq([])
  end

  it "stub: true validates and sends nothing; test_queue needs test: true" do
    a = described_class.new(write_key: "any", stub: true)
    expect(a.track(user_id: "u", event: "e")).to be(true)
    expect { a.track(event: "e") }.to raise_error(described_class::ValidationError)
    expect { a.test_queue }.to raise_error(RuntimeError, /only available when setting :test/)
    expect(a.flush).to be(true)
    expect(a.queued_messages).to eq(0)
    a.close
    expect(mock.requests).to eq([])
  end

  # ---- the parts handed to libcustomerio (issue 17: the gem spells no member of a message) ----

  it "sends analytics-ruby's options: as a member, queued, with test: and with sync:" do
    a = analytics
    at = Time.utc(2024, 1, 2, 3, 4, 5)
    expect(a.track(user_id: "u", event: "e", message_id: "m-1", options: { "seen" => at })).to be(true)
    a.identify(user_id: "u", options: { plain: 1 })
    a.flush
    track, ident = delivered
    expect(track).to include("type" => "track", "messageId" => "m-1",
                             "options" => { "seen" => "2024-01-02T03:04:05.000Z" })
    expect(strip_completed(ident))
      .to eq("type" => "identify", "userId" => "u", "traits" => {}, "options" => { "plain" => 1 })

    q = described_class.new(write_key: "any", test: true)
    q.page(user_id: "u", name: "Home", options: { a: [1] })
    expect(q.test_queue.page.last).to include(type: "page", name: "Home", options: { a: [1] })
    expect(q.test_queue.page.last[:messageId]).to match(AnalyticsWire::ULID_RE)

    mock.clear
    s = analytics(sync: true)
    s.group(user_id: "u", group_id: "g", options: { b: true })
    expect(body_of(mock.only)["batch"].map { |m| strip_completed(m) })
      .to eq([{ "type" => "group", "userId" => "u", "groupId" => "g", "traits" => {},
                "options" => { "b" => true } }])
    expect { a.track(user_id: "u", event: "e", options: { f: Float::NAN }) }
      .to raise_error(described_class::ValidationError, /cannot be encoded as JSON/)
  end

  it "refuses options: that are not a Hash, naming options (libcustomerio writes the member)" do
    a = analytics
    [[1], "x", 5].each do |bad|
      expect { a.track(user_id: "u", event: "e", options: bad) }
        .to raise_error(described_class::ValidationError, /options must be a JSON object/)
    end
    q = described_class.new(write_key: "any", test: true)
    expect { q.identify(user_id: "u", options: [1]) }
      .to raise_error(described_class::ValidationError, /options must be a JSON object \(got array\)/)
    a.flush
    expect(delivered).to be_empty
  end

  it "refuses a NUL byte anywhere (no C string carries one), naming the part, and sends nothing" do
    a = analytics
    [[->(c) { c.identify(user_id: "a\0b") }, "user_id contains a NUL byte"],
     [->(c) { c.track(user_id: "u", event: "e\0") }, "event contains a NUL byte"],
     [->(c) { c.page(user_id: "u", name: "n", properties: { "k" => "v\0" }) },
      "properties is not valid JSON"]] # the core's rule for JSON text
      .each do |call, text|
        expect { call.call(a) }.to raise_error(described_class::ValidationError) { |e|
          expect(e.message).to include(text)
          expect(e.error_code).to eq(:invalid_argument)
        }
      end
    a.flush
    expect(mock.requests).to eq([])
    expect(a.stats[:enqueued]).to eq(0)
  end

  it "refuses an id that is not UTF-8 with ValidationError" do
    a = analytics
    expect { a.identify(user_id: "\xff".dup.force_encoding(Encoding::UTF_8)) }
      .to raise_error(described_class::ValidationError, /UTF-8/)
    expect { a.identify(user_id: "\xff".b) }
      .to raise_error(described_class::ValidationError, /UTF-8/)
    a.flush
    expect(mock.requests).to eq([])
  end

  it "builds and queues without the GVL when every call waits for the disk (spool_sync: :always)" do
    Dir.mktmpdir("cio-analytics-spool") do |dir|
      a = analytics(spool_path: File.join(dir, "spool"), spool_sync: :always)
      threads = Array.new(4) do |t|
        Thread.new { 25.times { |i| a.track(user_id: "u#{t}", event: "e#{i}") } }
      end
      threads.each(&:join)
      expect(a.flush).to be(true)
      expect(delivered.map { |m| [m["userId"], m["event"]] })
        .to match_array(Array.new(4) { |t| Array.new(25) { |i| ["u#{t}", "e#{i}"] } }.flatten(1))
      a.close
    end
  end

  it "takes a Hash it must convert (Times, nesting) and one it sends as given alike" do
    a = described_class.new(write_key: "any", test: true)
    flat = { "a" => 1, b: "x", c: nil, d: 2.5, e: true }
    a.track(user_id: "u", event: "e", properties: flat)
    a.track(user_id: "u", event: "e", properties: flat.merge(t: Time.utc(2024, 1, 1), n: { x: [1] }))
    first, second = a.test_queue.track
    expect(first[:properties]).to eq(a: 1, b: "x", c: nil, d: 2.5, e: true)
    expect(second[:properties]).to eq(a: 1, b: "x", c: nil, d: 2.5, e: true,
                                      t: "2024-01-01T00:00:00.000Z", n: { x: [1] })
    loop = { k: 1 }
    loop[:self] = loop
    expect { a.track(user_id: "u", event: "e", properties: loop) }
      .to raise_error(described_class::ValidationError, /cycle/)
  end
end

# frozen_string_literal: true

require_relative "spec_helper"
require "logger"
require "open3"
require "rbconfig"
require "stringio"

# Switching from the official customerio gem 6.x (and code written for 5.x) or Segment's
# analytics-ruby 2.x is an import line: the calls, return values and errors those gems' users
# rely on (issue 15's Ruby items), checked on the wire against the emulator. The side-by-side
# comparison with the official gems themselves is tests/compat/ruby.
RSpec.describe "drop-in for the official gems" do
  let(:client) { new_client }
  let(:param_error) { CustomerioNative::Client::ParamError }

  def one_request
    mock.only
  end

  # Runs code in a fresh Ruby with only the installed gem (and the default gems) visible;
  # [stdout + stderr, status].
  def ruby_run(code, timeout: 30)
    Open3.capture2e(RbConfig.ruby, "-e", "Timeout.timeout(#{timeout}) do\n#{code}\nend",
                    "-rtimeout")
  end

  describe "Client methods return the answer as a Net::HTTPResponse, as the official gem" do
    it "a 200 is a Net::HTTPOK with code, message, body and headers" do
      res = client.identify(id: 5, email: "a@example.com")
      expect(res).to be_a(Net::HTTPOK)
      expect(res).to be_a(Net::HTTPSuccess)
      expect(Net::HTTPSuccess === res).to be(true) # rubocop:disable Style/CaseEquality
      expect(res.code).to eq("200")
      expect(res.message).to eq("OK")
      expect(res.body).to be_a(String)
      expect(res["Content-Type"]).to eq("application/json")
      expect(res.to_hash).to include("content-type" => ["application/json"])
      expect(res.value).to be_nil # Net::HTTPResponse#value raises only for a non-2xx
    end

    it "the status, body and class follow what the server answered" do
      mock.fault(count: 1, status: 201, body: { created: true })
      res = client.track(5, "purchase", { price: 1 })
      expect(res).to be_a(Net::HTTPCreated)
      expect([res.code, res.message, JSON.parse(res.body)]).to eq(["201", "Created",
                                                                   { "created" => true }])
      mock.fault(count: 1, status: 204)
      res = client.delete(5)
      expect([res.class, res.code, res.body]).to eq([Net::HTTPNoContent, "204", ""])
    end

    it "every Track method returns one" do
      results = [
        client.identify(id: 5), client.delete(5), client.suppress(5), client.unsuppress(5),
        client.track(5, "e"), client.pageview(5, "/p"), client.screen(5, "s"),
        client.track_anonymous("a", "e"), client.add_device(5, "d", "ios"),
        client.delete_device(5, "d"),
        client.merge_customers("id", "1", "email", "a@example.com"),
        client.track_push_notification_event("opened", delivery_id: "d", device_id: "x",
                                                       timestamp: 1_700_000_000),
        client.track_delivery_metric("clicked", delivery_id: "d"),
        client.batch([{ type: "person", action: "identify", identifiers: { id: 5 } }])
      ]
      expect(results.map(&:code).uniq).to eq(["200"])
    end

    it "InvalidResponse#response is a Net::HTTPResponse of the error status" do
      mock.fault(count: 1, status: 404, body: { meta: { error: "nope" } })
      expect { client.delete(5) }.to raise_error(CustomerioNative::InvalidResponse) { |e|
        expect(e.response).to be_a(Net::HTTPNotFound)
        expect(e.response.code).to eq("404")
        expect(JSON.parse(e.response.body)).to eq("meta" => { "error" => "nope" })
      }
    end

    it "a background client returns nil (nothing was answered yet)" do
      bg = new_client(background: true)
      expect(bg.identify(id: 5)).to be_nil
      bg.flush
    end
  end

  it "Client::PUSH_OPENED, PUSH_CONVERTED and PUSH_DELIVERED are 5.x's names (kept by 6.x)" do
    expect([CustomerioNative::Client::PUSH_OPENED, CustomerioNative::Client::PUSH_CONVERTED,
            CustomerioNative::Client::PUSH_DELIVERED]).to eq(%w[opened converted delivered])
  end

  describe "add_device sends any device field, as the official gem" do
    it "fields beside last_used and attributes go into the device as given" do
      client.add_device(5, "tok", "ios", { last_used: Time.at(1_700_000_000), push_enabled: true,
                                           "app_version" => "2.1", attributes: { a: 1 } })
      expect(body_of(one_request)).to eq(
        "device" => { "id" => "tok", "platform" => "ios", "last_used" => 1_700_000_000,
                      "push_enabled" => true, "app_version" => "2.1",
                      "attributes" => { "a" => 1 } }
      )
    end

    it "id and platform are the arguments' (the official gem's merge lets them win)" do
      client.add_device(5, "tok", "android", id: "other", platform: "ios", color: "red")
      expect(body_of(one_request)).to eq(
        "device" => { "id" => "tok", "platform" => "android", "color" => "red" }
      )
    end

    it "a background client sends them in the Track v2 device" do
      bg = new_client(background: true)
      bg.add_device(5, "tok", "ios", last_used: 1_700_000_000, push_enabled: true)
      bg.flush
      op = body_of(one_request)["batch"].first
      expect(op["device"]).to eq("token" => "tok", "platform" => "ios",
                                 "last_used" => 1_700_000_000, "push_enabled" => true)
    end
  end

  describe "6.x signatures" do
    it "track(customer_id, event_name, attributes = {}, id:, timestamp:)" do
      client.track(5, "purchase", { "type" => "socks" }, id: "my-id", timestamp: 1_700_000_000)
      expect(one_request["body"]).to eq('{"name":"purchase","data":{"type":"socks"},' \
                                        '"timestamp":1700000000,"id":"my-id"}')
    end

    it "track with only id:/timestamp: keywords sends them as the event's fields, data {}" do
      client.track(5, "purchase", timestamp: 1_700_000_000)
      body = body_of(one_request)
      expect(body.slice("name", "data", "timestamp"))
        .to eq("name" => "purchase", "data" => {}, "timestamp" => 1_700_000_000)
    end

    it "5.x's data as keywords keeps working" do
      client.track(5, "purchase", type: "socks", timestamp: 1_700_000_000)
      body = body_of(one_request)
      expect(body.slice("data", "timestamp"))
        .to eq("data" => { "type" => "socks", "timestamp" => 1_700_000_000 },
               "timestamp" => 1_700_000_000)
    end

    it "track_anonymous takes id: and timestamp: too" do
      client.track_anonymous("anon-1", "signup", { plan: "pro" }, id: "e-1",
                                                                  timestamp: 1_700_000_000)
      expect(body_of(one_request)).to eq("name" => "signup", "anonymous_id" => "anon-1",
                                         "data" => { "plan" => "pro" },
                                         "timestamp" => 1_700_000_000, "id" => "e-1")
    end

    it "batch posts the operations to /api/v2/batch" do
      ops = [{ type: "person", action: "identify", identifiers: { id: "5" },
               attributes: { plan: "pro" } },
             { type: "person", action: "event", identifiers: { id: "5" }, name: "purchase",
               id: "ev-1" }]
      expect(client.batch(ops).code).to eq("200")
      req = one_request
      expect([req["method"], req["path"]]).to eq(["POST", "/api/v2/batch"])
      expect(body_of(req)["batch"]).to eq(JSON.parse(JSON.generate(ops)))
    end

    it "batch refuses what the official gem refuses, with its message" do
      [nil, [], {}, "x"].each do |bad|
        expect { client.batch(bad) }
          .to raise_error(param_error, "operations must be a non-empty array")
      end
      expect(mock.requests).to be_empty
    end

    it "Client.new takes String-keyed options, with or without braces" do
      c = CustomerioNative::Client.new(SITE_ID, API_KEY, "url" => mock.url, "retries" => 0)
      c.delete(1)
      c.close
      c = CustomerioNative::Client.new(SITE_ID, API_KEY, { "url" => mock.url })
      c.delete(2)
      c.close
      expect(calls.map(&:last)).to eq(%w[/api/v1/customers/1 /api/v1/customers/2])
    end
  end

  describe "analytics-ruby's calls and options" do
    let(:log) { StringIO.new }

    around do |example|
      saved = CustomerioNative::Analytics.logger
      CustomerioNative::Analytics.logger = Logger.new(log, level: Logger::DEBUG)
      example.run
    ensure
      CustomerioNative::Analytics.logger = saved
    end

    def analytics(**options)
      a = CustomerioNative::Analytics.new(write_key: CDP_API_KEY, host: mock.url,
                                          linger: 0.01, **options)
      (@made ||= []) << a
      a
    end

    after { (@made || []).each(&:close) }

    def messages
      mock.requests.flat_map { |r| body_of(r)["batch"] }
    end

    it "track(\"user_id\" => 1, \"event\" => \"x\"): String keys without braces" do
      a = analytics
      a.track("user_id" => 1, "event" => "x", "properties" => { "a" => 1 })
      a.identify("user_id" => 1, traits: { plan: "pro" })
      a.flush
      expect(messages.map { |m| [m["type"], m["userId"], m["event"]] })
        .to eq([["track", "1", "x"], ["identify", "1", nil]])
    end

    it "Analytics.new takes String-keyed options without braces" do
      a = CustomerioNative::Analytics.new("write_key" => CDP_API_KEY, "host" => mock.url,
                                          "linger" => 0.01)
      (@made ||= []) << a
      a.track(user_id: 1, event: "x")
      a.flush
      expect(messages.size).to eq(1)
    end

    it "alias takes anonymous_id:" do
      a = analytics
      a.alias(previous_id: "old", user_id: "new", anonymous_id: "anon")
      a.flush
      expect(messages.first.slice("type", "previousId", "userId", "anonymousId"))
        .to eq("type" => "alias", "previousId" => "old", "userId" => "new",
               "anonymousId" => "anon")
    end

    it "an unknown field is logged at debug and ignored, as analytics-ruby ignores it" do
      a = analytics
      a.track(user_id: 1, event: "x", colour: "red", "size" => 2)
      a.flush
      expect(messages.first).not_to include("colour", "size")
      expect(log.string).to include("track: ignoring unknown field(s) :colour, :size")
    end

    it "path: is where batches go; headers: and backoff_policy: are accepted" do
      policy = CustomerioNative::Analytics::BackoffPolicy.new(min_timeout_ms: 1)
      a = analytics(headers: { "X-Extra" => "1" }, backoff_policy: policy, retries: 2)
      mock.fault(count: 1, status: 500)
      a.track(user_id: 1, event: "x")
      expect(a.flush(timeout: 5)).to be(true)
      expect(mock.requests.map { |r| [r["path"], r["status"]] })
        .to eq([["/v1/batch", 500], ["/v1/batch", 200]])
      mock.clear
      errors = []
      b = analytics(path: "/v1/import", retries: 0, on_error: proc { |s, _| errors << s })
      b.track(user_id: 1, event: "x")
      b.flush(timeout: 5)
      # the emulator serves /v1/batch only: it refuses the request, reported once
      expect(mock.requests.map { |r| r["path"] }).to eq(["/v1/import"])
      expect(errors.size).to eq(1)
      expect { analytics(path: "v1 import") }
        .to raise_error(CustomerioNative::Analytics::ValidationError, /cdp_batch_path/)
    end

    it "Segment::Analytics::Client is defined by require \"customerio_native/segment\"" do
      out, status = ruby_run(<<~RUBY)
        require "customerio_native/segment"
        c = Segment::Analytics::Client.new(write_key: "k", test: true)
        c.track(user_id: 1, event: "x")
        p [Segment::Analytics::Client == Segment::Analytics, c.test_queue.track.size,
           Segment::Analytics::BackoffPolicy.new.min_timeout_ms]
      RUBY
      expect([out, status.success?]).to eq(["[true, 1, 100]\n", true])
    end
  end

  describe "a cyclic Hash or Array raises the gem's error naming the cycle (not SystemStackError)" do
    it "Client: ParamError" do
      data = { a: { list: [] } }
      data[:a][:list] << data
      expect { client.track(5, "x", data) }
        .to raise_error(param_error, "track: data: cannot be encoded as JSON (a cycle: " \
                                     "data[:a][:list][0] is data again)")
      attrs = { id: 5, self: [] }
      attrs[:self] << attrs[:self]
      expect { client.identify(attrs) }.to raise_error(param_error, /attributes\[:self\]\[0\]/)
      expect(mock.requests).to be_empty
    end

    it "Analytics: ValidationError (an ArgumentError)" do
      a = CustomerioNative::Analytics.new(write_key: CDP_API_KEY, test: true)
      traits = { "t" => {} }
      traits["t"]["up"] = traits
      expect { a.identify(user_id: 1, traits: traits) }
        .to raise_error(CustomerioNative::Analytics::ValidationError,
                        /traits cannot be encoded as JSON \(a cycle: traits\["t"\]\["up"\] is traits again\)/)
    end

    it "nesting past JSON's 100 levels is ParamError too, even 100,000 deep" do
      deep = (1..100_000).reduce([]) { |inner, _| [inner] }
      expect { client.track(5, "x", { deep: deep }) }
        .to raise_error(param_error, /data is nested deeper than 100 levels/)
      expect(mock.requests).to be_empty
    end

    it "the same Hash twice, not nested in itself, is no cycle" do
      shared = { k: 1 }
      client.track(5, "x", { a: shared, b: [shared, shared] })
      expect(body_of(one_request)["data"]).to eq("a" => { "k" => 1 },
                                                 "b" => [{ "k" => 1 }, { "k" => 1 }])
    end
  end

  it "close() in a child forked while other threads were inside calls returns (no Deadlock?)" do
    mock.fault(count: 3, delay_ms: 1500)
    c = new_client
    busy = Array.new(3) { |i| Thread.new { c.delete(i) } }
    sleep 0.3 # the threads are inside their calls
    pid = fork do
      c.close
      exit!(c.closed? ? 0 : 1)
    rescue Exception # rubocop:disable Lint/RescueException -- never run the parent's suite here
      exit!(2)
    end
    _, status = Timeout.timeout(10) { Process.wait2(pid) }
    busy.each(&:join)
    expect(status.exitstatus).to eq(0)
  end
end

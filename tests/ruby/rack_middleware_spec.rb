# frozen_string_literal: true

require_relative "spec_helper"
require "rack"
require "rack/mock"
require "rack/lint"

# CustomerioNative::Webhooks::Middleware with real Rack requests: signed by the emulator
# (POST /_mock/webhooks, delivered over HTTP to a receiver here) or by Webhooks.sign.
RSpec.describe CustomerioNative::Webhooks::Middleware do
  let(:key) { "whsec-test-key" }
  let(:path) { "/webhooks/customerio" }
  let(:event) do
    { event_id: "01E2EMRMM6TZ12TF9WGZN0WJQT", object_type: "email", metric: "opened",
      timestamp: 1_700_000_000, data: { delivery_id: "d1", customer_id: "42" } }
  end

  let(:seen) { [] }
  let(:app) do
    log = seen
    inner = lambda do |env|
      log << env
      [200, { "content-type" => "text/plain" }, ["ok #{env.fetch('customerio.events', []).size}"]]
    end
    Rack::Lint.new(described_class.new(Rack::Lint.new(inner), signing_key: key, path: path))
  end
  let(:request) { Rack::MockRequest.new(app) }

  def post(body, timestamp:, signature:, to: "/webhooks/customerio")
    headers = { "CONTENT_TYPE" => "application/json", :input => body }
    headers["HTTP_X_CIO_TIMESTAMP"] = timestamp.to_s if timestamp
    headers["HTTP_X_CIO_SIGNATURE"] = signature if signature
    request.post(to, headers)
  end

  def signed(body, timestamp: Time.now.to_i)
    { timestamp: timestamp, signature: CustomerioNative::Webhooks.sign(key, timestamp, body) }
  end

  it "accepts a signed request and hands the parsed events to the app" do
    body = JSON.generate(event)
    res = post(body, **signed(body))
    expect(res.status).to eq(200)
    expect(res.body).to eq("ok 1")
    env = seen.first
    events = env["customerio.events"]
    expect(events.map(&:metric)).to eq(["opened"])
    expect(events.first.data).to eq("delivery_id" => "d1", "customer_id" => "42")
    expect(env["rack.input"].read).to eq(body) # the raw body is still there for the app
  end

  it "answers 401 for a bad signature, without calling the app" do
    body = JSON.generate(event)
    res = post(body, timestamp: Time.now.to_i, signature: "0" * 64)
    expect(res.status).to eq(401)
    expect(res.content_type).to eq("application/json")
    expect(JSON.parse(res.body)["error"]).to match(/signature/)
    expect(res.body).not_to include(key)
    expect(seen).to be_empty
  end

  it "answers 401 for a body changed after signing" do
    body = JSON.generate(event)
    res = post(body.sub("opened", "clicked"), **signed(body))
    expect(res.status).to eq(401)
  end

  it "answers 401 for a stale timestamp (a replay)" do
    body = JSON.generate(event)
    res = post(body, **signed(body, timestamp: Time.now.to_i - 3600))
    expect(res.status).to eq(401)
    expect(JSON.parse(res.body)["error"]).to match(/timestamp/)
    expect(seen).to be_empty
  end

  it "answers 401 when the headers are missing" do
    res = post(JSON.generate(event), timestamp: nil, signature: nil)
    expect(res.status).to eq(401)
  end

  it "answers 400 for a genuine request whose body is not a webhook" do
    body = '{"hello": "world"}'
    res = post(body, **signed(body))
    expect(res.status).to eq(400)
    expect(JSON.parse(res.body)["error"]).to match(/event_id/)
    garbage = "not json"
    expect(post(garbage, **signed(garbage)).status).to eq(400)
    expect(seen).to be_empty
  end

  it "leaves other paths and methods to the app" do
    expect(request.post("/elsewhere", input: "x").status).to eq(200)
    expect(request.get(path).status).to eq(200)
    expect(seen.map { |env| env.key?("customerio.events") }).to eq([false, false])
  end

  it "drops redeliveries when given a Deduplicator" do
    dedup = CustomerioNative::Webhooks::Deduplicator.new
    mw = described_class.new(->(env) { seen << env; [200, {}, []] }, signing_key: key,
                                                                     path: path, dedup: dedup)
    req = Rack::MockRequest.new(mw)
    body = JSON.generate(events: [event, event.merge(event_id: "other")])
    2.times do
      req.post(path, input: body, "HTTP_X_CIO_TIMESTAMP" => signed(body)[:timestamp].to_s,
                                  "HTTP_X_CIO_SIGNATURE" => signed(body)[:signature])
    end
    expect(seen[0]["customerio.events"].size).to eq(2)
    expect(seen[1]["customerio.events"]).to be_empty
    expect(seen[1]["customerio.duplicates"].size).to eq(2)
    dedup.close
  end

  describe "with webhooks signed and sent by the emulator" do
    # A one-request-at-a-time HTTP receiver that turns what it reads into a Rack request.
    def receive_with(app)
      server = TCPServer.new("127.0.0.1", 0)
      thread = Thread.new do
        sock = server.accept
        head = +""
        head << sock.readpartial(4096) until head.include?("\r\n\r\n")
        head, rest = head.split("\r\n\r\n", 2)
        lines = head.split("\r\n")
        method, target = lines.shift.split(" ")
        headers = lines.to_h { |l| l.split(": ", 2) }.transform_keys(&:downcase)
        body = rest.b
        body << sock.readpartial(4096) while body.bytesize < headers["content-length"].to_i
        env = { input: body }
        headers.each do |k, v|
          name = k.upcase.tr("-", "_")
          env[%w[CONTENT_TYPE CONTENT_LENGTH].include?(name) ? name : "HTTP_#{name}"] = v
        end
        res = begin
          Rack::MockRequest.new(app).request(method, target, env)
        rescue StandardError => e
          Rack::MockResponse.new(599, {}, [e.message])
        end
        sock.write("HTTP/1.1 #{res.status} X\r\nContent-Length: #{res.body.bytesize}\r\n" \
                   "Connection: close\r\n\r\n#{res.body}")
        sock.close
      end
      yield "http://127.0.0.1:#{server.addr[1]}#{path}"
    ensure
      thread&.join(10)
      server&.close
    end

    it "accepts what Customer.io would send" do
      answer = receive_with(app) do |url|
        mock.webhook(url: url, signing_key: key, events: [event, event.merge(event_id: "e2")])
      end
      expect(answer["status"]).to eq(200)
      expect(seen.first["customerio.events"].map(&:event_id))
        .to eq(["01E2EMRMM6TZ12TF9WGZN0WJQT", "e2"])
    end

    it "refuses a forged signature and a replayed timestamp" do
      forged = receive_with(app) do |url|
        mock.webhook(url: url, signing_key: key, event: event, signature: "ab" * 32)
      end
      replayed = receive_with(app) do |url|
        mock.webhook(url: url, signing_key: key, event: event, timestamp: 1_600_000_000)
      end
      expect([forged["status"], replayed["status"]]).to eq([401, 401])
      expect(seen).to be_empty
    end
  end
end

# frozen_string_literal: true

require_relative "spec_helper"
require "open3"
require "timeout"

# CustomerioNative::Pipeline (libcustomerio's delivery pipeline) and Client.new(background:
# true), against the emulator: every event delivered once under injected failures, the full
# queue in both modes, delivery reports on a Ruby thread, flush and close draining them, the
# GVL released while waiting, a spool surviving kill -9, at_exit.
RSpec.describe CustomerioNative::Pipeline do
  let(:ulid) { /\A[0-9A-HJKMNP-TV-Z]{26}\z/ }

  # Where this gem's lib/ is (the installed gem's, or the checkout's with -I), for children.
  def lib_dir
    File.expand_path(
      "..", File.dirname(CustomerioNative::Pipeline.instance_method(:flush).source_location[0])
    )
  end

  # A pipeline on the emulator; closed after the example.
  def pipeline(**options)
    pipe = CustomerioNative::Pipeline.new(SITE_ID, API_KEY, url: mock.url, backoff: 0.001,
                                                            **options)
    (@pipelines ||= []) << pipe
    pipe
  end

  after { (@pipelines || []).each(&:close) }

  # The operations of every batch the emulator accepted (status 200), in order.
  def delivered_ops
    mock.requests.select { |r| r["path"] == "/api/v2/batch" && r["status"] == 200 }
        .flat_map { |r| body_of(r)["batch"] }
  end

  def clock
    Process.clock_gettime(Process::CLOCK_MONOTONIC)
  end

  # The next batch request is answered only after seconds.
  def stall(seconds)
    mock.fault(count: 1, delay_ms: (seconds * 1000).to_i)
  end

  # Runs Ruby code in a child process with this gem on its load path; [stdout, status].
  def ruby_child(code, *args)
    Open3.capture2(RbConfig.ruby, "-I", lib_dir, "-e", code, *args)
  end

  it "delivers N events as N distinct operations under 500s, 429s and reset connections" do
    reports = []
    mock.fault(count: 2, status: 500)
    mock.fault(count: 2, status: 429, retry_after: "0")
    mock.fault(count: 2, action: "reset")
    mock.fault(count: 1, status: 503, body: "busy")
    pipe = pipeline(batch_bytes: 20_000, linger: 0.01, on_error: ->(r) { reports << r })
    seqs = Array.new(3000) { |i| pipe.track("user-#{i % 97}", "purchased", n: i, sku: "SKU-#{i}") }
    expect(pipe.flush(timeout: 60)).to be(true)
    stats = pipe.stats
    expect(reports).to be_empty
    expect(seqs).to eq((1..3000).to_a)

    ops = delivered_ops
    ids = ops.map { |op| op["id"] }.tally
    expect(ids.size).to eq(3000)
    expect(ids.values.uniq).to eq([1])
    expect(ids.keys).to all(match(ulid))
    expect(ops.map { |op| op["attributes"]["n"] }.sort).to eq((0...3000).to_a)
    # under faults a later batch can be accepted before the first one's retry: find event 0
    first = ops.find { |op| op["attributes"]["n"].zero? }
    expect(first).to include("type" => "person", "action" => "event", "name" => "purchased",
                             "identifiers" => { "id" => "user-0" })
    expect(first["attributes"]).to eq("n" => 0, "sku" => "SKU-0")

    expect(stats).to include(enqueued: 3000, delivered: 3000, failed: 0, queue_depth: 0,
                             queue_bytes: 0, in_flight: 0)
    expect(stats[:retried]).to be_positive
    statuses = mock.requests.map { |r| r["status"] }
    expect(statuses.count(500)).to eq(2)
    expect(statuses.count(429)).to eq(2)
    expect(statuses.count(503)).to eq(1)
    expect(statuses.count(0)).to eq(2) # the two resets
  end

  it "honours Retry-After on a 429" do
    mock.fault(count: 1, status: 429, retry_after: "1")
    pipe = pipeline(linger: 0.01)
    started = clock
    pipe.track(1, "paced")
    expect(pipe.flush(timeout: 20)).to be(true)
    expect(clock - started).to be >= 0.9
    expect(mock.requests.map { |r| r["status"] }).to eq([429, 200])
    expect(delivered_ops.map { |op| op["name"] }).to eq(["paced"])
  end

  it "many threads enqueue at once, each operation delivered once" do
    pipe = pipeline(linger: 0.01)
    8.times.map do |t|
      Thread.new { 250.times { |i| pipe.track("t#{t}", "threaded", t: t, i: i) } }
    end.each(&:join)
    expect(pipe.flush(timeout: 60)).to be(true)
    expect(pipe.stats[:delivered]).to eq(2000)
    ops = delivered_ops
    expect(ops.map { |op| op["id"] }.uniq.size).to eq(2000)
    expect(ops.map { |op| [op["attributes"]["t"], op["attributes"]["i"]] }.uniq.size).to eq(2000)
  end

  it "builds every operation as Client and Client#v2 name them" do
    pipe = pipeline
    obj = { object_type_id: "1", object_id: "acme" }
    pipe.identify(id: 5, email: "ann@example.com", created_at: Time.at(1_700_000_000))
    pipe.identify(cio_id: "f00", plan: "pro")
    pipe.track(5, "bought", price: 9.5)
    pipe.track(5, "old", { a: 1 }, id: "01HZZZZZZZZZZZZZZZZZZZZZZZ", timestamp: 1_600_000_000)
    pipe.pageview(5, "https://example.com/", ref: "x")
    pipe.screen(5, "Home")
    pipe.add_device(5, "tok", "ios", last_used: 1_700_000_001, attributes: { m: "x" })
    pipe.delete_device(5, "tok")
    pipe.suppress(5)
    pipe.unsuppress(5)
    pipe.merge_customers(CustomerioNative::IdentifierType::ID, 5,
                         CustomerioNative::IdentifierType::EMAIL, "old@example.com")
    pipe.track_person_event({ email: "a@example.com" }, "signed_up", source: "ad")
    pipe.add_person_relationships({ id: 5 }, [{ identifiers: obj }])
    pipe.identify_object(obj, name: "Acme")
    pipe.track_object_event(obj, "renewed", seats: 10)
    pipe.track_delivery_event("dlv-1", "opened")
    pipe.enqueue('{"type":"person","action":"delete","identifiers":{"cio_id":"c9"}}')
    pipe.send_entity(type: "object", action: "delete", identifiers: obj)
    last = pipe.delete(5)
    expect(last).to eq(19)
    expect(pipe.flush).to be(true)
    expect(pipe.stats).to include(enqueued: 19, delivered: 19, failed: 0, requests: 1)

    req = mock.only
    expect(req["headers"]["authorization"]).to start_with("Basic ")
    ops = body_of(req)["batch"]
    events = ops.values_at(2, 3, 4, 5, 11, 14)
    expect(events.map { |op| op["id"] }).to all(match(ulid))
    expect(ops.map { |op| op.except("id") }).to eq(
      [
        { "type" => "person", "action" => "identify", "identifiers" => { "id" => "5" },
          "attributes" => { "id" => 5, "email" => "ann@example.com",
                            "created_at" => 1_700_000_000 } },
        { "type" => "person", "action" => "identify", "identifiers" => { "cio_id" => "f00" },
          "attributes" => { "cio_id" => "f00", "plan" => "pro" } },
        { "type" => "person", "action" => "event", "identifiers" => { "id" => "5" },
          "name" => "bought", "attributes" => { "price" => 9.5 } },
        { "type" => "person", "action" => "event", "identifiers" => { "id" => "5" },
          "name" => "old", "attributes" => { "a" => 1 }, "timestamp" => 1_600_000_000 },
        { "type" => "person", "action" => "page", "identifiers" => { "id" => "5" },
          "name" => "https://example.com/", "attributes" => { "ref" => "x" } },
        { "type" => "person", "action" => "screen", "identifiers" => { "id" => "5" },
          "name" => "Home", "attributes" => {} },
        { "type" => "person", "action" => "add_device", "identifiers" => { "id" => "5" },
          "device" => { "token" => "tok", "platform" => "ios", "last_used" => 1_700_000_001,
                        "attributes" => { "m" => "x" } } },
        { "type" => "person", "action" => "delete_device", "identifiers" => { "id" => "5" },
          "device" => { "token" => "tok" } },
        { "type" => "person", "action" => "suppress", "identifiers" => { "id" => "5" } },
        { "type" => "person", "action" => "unsuppress", "identifiers" => { "id" => "5" } },
        { "type" => "person", "action" => "merge", "primary" => { "id" => "5" },
          "secondary" => { "email" => "old@example.com" } },
        { "type" => "person", "action" => "event", "identifiers" => { "email" => "a@example.com" },
          "name" => "signed_up", "attributes" => { "source" => "ad" } },
        { "type" => "person", "action" => "add_relationships", "identifiers" => { "id" => 5 },
          "cio_relationships" => [{ "identifiers" => { "object_type_id" => "1",
                                                       "object_id" => "acme" } }] },
        { "type" => "object", "action" => "identify",
          "identifiers" => { "object_type_id" => "1", "object_id" => "acme" },
          "attributes" => { "name" => "Acme" } },
        { "type" => "object", "action" => "event",
          "identifiers" => { "object_type_id" => "1", "object_id" => "acme" },
          "name" => "renewed", "attributes" => { "seats" => 10 } },
        { "type" => "delivery", "action" => "event", "identifiers" => { "id" => "dlv-1" },
          "name" => "opened" },
        { "type" => "person", "action" => "delete", "identifiers" => { "cio_id" => "c9" } },
        { "type" => "object", "action" => "delete",
          "identifiers" => { "object_type_id" => "1", "object_id" => "acme" } },
        { "type" => "person", "action" => "delete", "identifiers" => { "id" => "5" } }
      ]
    )
    expect(ops[3]["id"]).to eq("01HZZZZZZZZZZZZZZZZZZZZZZZ")
  end

  it "queues the v2 helpers through libcustomerio's builders: Integer ids stay numbers" do
    pipe = pipeline
    pipe.identify_person({ id: 5 }, plan: "pro")
    pipe.delete_person({ id: -7 })
    pipe.suppress_person({ id: 2**64 }) # beyond int64: sent as text
    pipe.merge_persons({ id: 9 }, { cio_id: "c1" })
    pipe.identify_object({ cio_object_id: "o1" }, name: "Acme")
    pipe.add_person_device({ email: "a@example.com" }, "tok", "android",
                           last_used: Time.at(1_700_000_000))
    expect(pipe.flush).to be(true)
    ops = delivered_ops
    expect(ops).to eq(
      [
        { "type" => "person", "action" => "identify", "identifiers" => { "id" => 5 },
          "attributes" => { "plan" => "pro" } },
        { "type" => "person", "action" => "delete", "identifiers" => { "id" => -7 } },
        { "type" => "person", "action" => "suppress",
          "identifiers" => { "id" => "18446744073709551616" } },
        { "type" => "person", "action" => "merge", "primary" => { "id" => 9 },
          "secondary" => { "cio_id" => "c1" } },
        { "type" => "object", "action" => "identify", "identifiers" => { "cio_object_id" => "o1" },
          "attributes" => { "name" => "Acme" } },
        { "type" => "person", "action" => "add_device",
          "identifiers" => { "email" => "a@example.com" },
          "device" => { "token" => "tok", "platform" => "android", "last_used" => 1_700_000_000 } }
      ]
    )
  end

  it "refuses identifiers that name no person or object before libcustomerio builds anything" do
    pipe = pipeline
    [
      -> { pipe.identify_person({ id: "1", email: "a@b.c" }) },
      -> { pipe.delete_person({ phone: "1" }) },
      -> { pipe.merge_persons({ id: "1" }, "x") },
      -> { pipe.delete_object({ object_type_id: "1" }) },
      -> { pipe.add_object_relationships({ object_id: "a", cio_object_id: "b" }, [{}]) }
    ].each do |call|
      expect(&call).to raise_error(CustomerioNative::PipelineError, /identifiers|secondary/) { |e|
        expect(e.error_code).to eq(:invalid_argument)
        expect(e.detail).to eq(e.message)
      }
    end
    expect { pipe.add_person_device({ id: 1 }, "tok", "ios", last_used: "soon") }
      .to raise_error(CustomerioNative::PipelineError, /last_used/)
    expect { pipe.track_person_event({ id: 1 }, "") }
      .to raise_error(CustomerioNative::PipelineError, /name/) { |e|
        expect(e.error_code).to eq(:invalid_argument)
      }
    expect(pipe.stats[:enqueued]).to eq(0)
  end

  it "refuses a bad operation with libcustomerio's message, and queues nothing" do
    pipe = pipeline
    expect { pipe.identify_person({ id: "1", email: "a@b.c" }) }
      .to raise_error(CustomerioNative::PipelineError, /identifiers/) { |e|
        expect(e.error_code).to eq(:invalid_argument)
        expect(e.detail).to eq(e.message)
        expect(e.message).not_to include(API_KEY)
      }
    expect { pipe.track("x" * 151, "e") }
      .to raise_error(CustomerioNative::PipelineError, /identifiers\.id is longer than 150/)
    expect { pipe.track(1, "big", blob: "x" * 40_000) }
      .to raise_error(CustomerioNative::PipelineError) { |e|
        expect(e.error_code).to eq(:payload_too_large)
      }
    expect { pipe.enqueue("not json") }.to raise_error(CustomerioNative::PipelineError, /JSON/)
    expect { pipe.enqueue(42) }.to raise_error(CustomerioNative::PipelineError)
    # the official gem's own checks, with its messages
    expect { pipe.track("", "e") }
      .to raise_error(CustomerioNative::PipelineError, "customer_id must be a non-empty string")
    expect { pipe.identify(email: "no-id@example.com") }
      .to raise_error(CustomerioNative::Client::MissingIdAttributeError)
    expect { pipe.merge_customers("phone", 1, "id", 2) }
      .to raise_error(CustomerioNative::PipelineError, "invalid primary_id_type")
    expect(pipe.stats[:enqueued]).to eq(0)
    pipe.close
    expect(mock.requests).to be_empty
  end

  it "with when_full: :fail raises QueueFullError at once" do
    stall(1.5)
    pipe = pipeline(max_queue_bytes: 4000, when_full: :fail, linger: 0.01, max_in_flight: 1)
    pipe.track(1, "first")
    sleep 0.2 # the first batch is now in flight, stalled
    accepted = 0
    started = clock
    expect do
      1000.times do |i|
        pipe.track(1, "e", i: i)
        accepted += 1
      end
    end.to raise_error(CustomerioNative::QueueFullError) { |e|
      expect(e).to be_a(CustomerioNative::PipelineError)
      expect(e.error_code).to eq(:queue_full)
      expect(e.message).to match(/queue is full/)
      expect(e.message).not_to match(/after waiting/)
    }
    expect(clock - started).to be < 0.5
    expect(accepted).to be_between(5, 100)
    expect(pipe.flush(timeout: 30)).to be(true)
    expect(pipe.stats).to include(delivered: accepted + 1, failed: 0)
    expect(delivered_ops.size).to eq(accepted + 1)
  end

  it "with when_full: :block waits block_timeout, then raises QueueFullError" do
    stall(1.5)
    pipe = pipeline(max_queue_bytes: 4000, when_full: :block, block_timeout: 0.3, linger: 0.01,
                    max_in_flight: 1)
    pipe.track(1, "first")
    sleep 0.2
    started = clock
    expect { 1000.times { |i| pipe.track(1, "e", i: i) } }
      .to raise_error(CustomerioNative::QueueFullError, /after waiting/)
    expect(clock - started).to be_between(0.25, 0.9)
  end

  it "with when_full: :block a full queue waits for room, without the GVL" do
    stall(0.8)
    pipe = pipeline(max_queue_bytes: 4000, when_full: :block, block_timeout: 10, linger: 0.01,
                    max_in_flight: 1)
    pipe.track(1, "first")
    sleep 0.2
    ticks, waited = ticks_while(settle: 0) do
      300.times { |i| pipe.track(1, "e", i: i) } # far more than fits: waits, never fails
    end
    expect(waited).to be > 0.4
    expect(ticks).to be >= (waited * 100 * 0.4).to_i
    expect(pipe.flush(timeout: 30)).to be(true)
    expect(pipe.stats[:delivered]).to eq(301)
  end

  it "reports an item rejected in a 207 to on_error, with Customer.io's reason and field" do
    errors = []
    everything = []
    mock.fault(count: 1, status: 207, body: {
                 errors: [{ batch_index: 0, reason: "invalid", field: "identifiers",
                            message: "bad id" }]
               })
    pipe = pipeline(on_error: ->(r) { errors << r }, on_report: ->(r) { everything << r },
                    report_successes: true)
    first = pipe.track(1, "rejected-one")
    pipe.track(2, "fine")
    pipe.track(3, "fine")
    expect(pipe.flush).to be(true)
    expect(errors.size).to eq(1)
    report = errors.first
    expect(report).to be_frozen
    expect(report.seq).to eq(first)
    expect(report.ok?).to be(false)
    expect(report.code).to eq(CustomerioNative::Native::CIO_E_BAD_REQUEST)
    expect(report.code_name).to eq("bad request")
    expect(report.error_code).to eq(:bad_request)
    expect(report.http_status).to eq(207)
    expect(report.status).to eq(207)
    expect(report.reason).to eq("invalid")
    expect(report.field).to eq("identifiers")
    expect(report.message).to eq("bad id")
    expect(report.operation["name"]).to eq("rejected-one")
    expect(report.operation["id"]).to match(ulid)
    expect(JSON.parse(report.operation_json)).to eq(report.operation)
    expect(everything.map(&:seq).sort).to eq([1, 2, 3])
    expect(everything.sort_by(&:seq).map(&:ok?)).to eq([false, true, true])
    ok = everything.find(&:ok?)
    expect([ok.code, ok.code_name, ok.message, ok.reason]).to eq([0, "ok", nil, nil])
    expect(pipe.stats).to include(delivered: 2, failed: 1)
  end

  it "runs on_error on the reporter thread without a flush, for a 4xx too" do
    seen = Queue.new
    mock.fault(count: 1, status: 400, body: '{"errors":[{"reason":"malformed"}]}')
    pipe = pipeline(linger: 0.01, on_error: ->(r) { seen << [r, Thread.current.name] })
    pipe.track(1, "e")
    report, thread = Timeout.timeout(10) { seen.pop }
    expect(thread).to eq("customerio-reports")
    expect(report.code_name).to eq("bad request")
    expect(report.http_status).to eq(400)
  end

  it "flush returns once every callback for what was queued has run" do
    done = []
    lock = Mutex.new
    mock.fault(count: 1, status: 207, body: {
                 errors: Array.new(20) { |i| { batch_index: i, reason: "invalid" } }
               })
    pipe = pipeline(linger: 0.01, on_error: lambda do |r|
      sleep 0.01 # slow callbacks: the reporter thread is still busy when flush's C part ends
      lock.synchronize { done << r.seq }
    end)
    20.times { |i| pipe.track(1, "e", i: i) }
    expect(pipe.flush).to be(true)
    expect(done.sort).to eq((1..20).to_a)
  end

  it "close reports what could not be delivered, and returns false on timeout" do
    errors = []
    pipe = CustomerioNative::Pipeline.new(SITE_ID, API_KEY, url: "http://127.0.0.1:9",
                                                            linger: 0.01, backoff: 0.001,
                                                            on_error: ->(r) { errors << r })
    pipe.track(1, "a")
    pipe.track(2, "b")
    expect(pipe.close(timeout: 0.3)).to be(false)
    expect(pipe).to be_closed
    expect(errors.map(&:seq).sort).to eq([1, 2])
    expect(errors.map(&:code_name).uniq).to eq(["client closed"])
    expect(pipe.close).to be(true) # idempotent
    expect { pipe.track(1, "late") }.to raise_error(CustomerioNative::PipelineError, /closed/)
    expect { pipe.flush }.to raise_error(CustomerioNative::PipelineError, /closed/)
  end

  it "a callback that raises is reported with warn, and the pipeline goes on" do
    mock.fault(count: 1, status: 400)
    pipe = pipeline(on_error: ->(_r) { raise "callback bug" })
    expect do
      pipe.track(1, "e")
      expect(pipe.flush).to be(true)
    end.to output(/callback failed for operation 1: RuntimeError: callback bug/).to_stderr
    pipe.track(1, "after")
    expect(pipe.flush).to be(true)
    expect(pipe.stats[:delivered]).to eq(1)
  end

  it "without callbacks, failures are printed with warn" do
    mock.fault(count: 1, status: 400)
    pipe = pipeline
    expect do
      pipe.track(1, "e")
      pipe.flush
    end.to output(/pipeline operation 1 failed \(bad request\)/).to_stderr
  end

  it "releases the GVL during flush: another thread keeps running" do
    stall(0.5)
    pipe = pipeline(linger: 0.01)
    pipe.track(1, "slow")
    ticks, elapsed = ticks_while { expect(pipe.flush).to be(true) }
    expect(elapsed).to be >= 0.3
    expect(ticks).to be >= 15 # a held GVL would freeze the ticker (0 or 1 ticks)
  end

  it "keeps the GVL for a call that returns at once, so a busy thread does not slow it" do
    pipe = pipeline
    stop = false
    busy = Thread.new do
      x = 0
      x += 1 until stop
    end
    started = clock
    200.times { |i| pipe.track(1, "e", i: i) }
    elapsed = clock - started
    stop = true
    busy.join
    # Releasing the GVL for each call would queue it behind the busy thread's time slice
    # (100 ms) on the way back: 200 calls would take many seconds.
    expect(elapsed).to be < 2
  end

  it "a flush waiting on a dead server can be interrupted" do
    pipe = CustomerioNative::Pipeline.new(SITE_ID, API_KEY, url: "http://127.0.0.1:9",
                                                            linger: 0.01, backoff: 0.001,
                                                            on_error: ->(_r) {})
    pipe.track(1, "a")
    started = clock
    expect { Timeout.timeout(0.3) { pipe.flush } }.to raise_error(Timeout::Error)
    expect(clock - started).to be < 1.5
    expect(pipe.flush(timeout: 0.1)).to be(false)
    expect(pipe.close(timeout: 0)).to be(false)
  end

  it "takes its options as the Client does, and checks them" do
    expect { pipeline(when_full: :drop) }.to raise_error(ArgumentError, /when_full/)
    expect { pipeline(spool_sync: "sometimes") }.to raise_error(ArgumentError, /spool_sync/)
    expect { pipeline(colour: "red") }.to raise_error(ArgumentError, /unknown option/)
    pipe = pipeline(when_full: "fail", spool_sync: "none", max_requests_per_second: 0,
                    retry_deadline: 60, exit_timeout: 1)
    expect(pipe.exit_timeout).to eq(1)
    pipe.track(1, "x")
    expect(pipe.flush).to be(true)
    old = ENV.to_h.slice("CUSTOMERIO_SITE_ID", "CUSTOMERIO_API_KEY")
    begin
      ENV.delete("CUSTOMERIO_SITE_ID")
      ENV.delete("CUSTOMERIO_API_KEY")
      expect { CustomerioNative::Pipeline.new(nil, nil, url: mock.url) }
        .to raise_error(CustomerioNative::ConfigurationError)
    ensure
      ENV.update(old)
    end
  end

  it "open with a block closes the pipeline at the end" do
    kept = nil
    CustomerioNative::Pipeline.open(SITE_ID, API_KEY, url: mock.url, linger: 5) do |pipe|
      kept = pipe
      pipe.track(1, "in-block")
    end
    expect(kept).to be_closed
    expect(delivered_ops.map { |op| op["name"] }).to eq(["in-block"])
  end

  it "runs on a Client's connections; Client#close closes it first" do
    client = new_client
    pipe = CustomerioNative::Pipeline.new(client, linger: 5)
    pipe.identify(id: 7, a: 1)
    client.close
    expect(pipe).to be_closed
    expect(delivered_ops.map { |op| op["identifiers"] }).to eq([{ "id" => "7" }])
    expect { CustomerioNative::Pipeline.new(client) }
      .to raise_error(CustomerioNative::InvalidRequest, /closed/)
  end

  describe "Client.new(background: true)" do
    it "sends the person and event methods through a pipeline and returns at once" do
      errors = []
      client = new_client(background: true, pipeline_options: { on_error: ->(r) { errors << r } })
      expect(client.pipeline).to be_a(CustomerioNative::Pipeline)
      stall(1.0) # a slow server...
      started = clock
      expect(client.identify(id: 5, email: "customer@example.com")).to be_nil
      client.track(5, "product.purchased", price: 23.45)
      client.pageview(5, "https://example.com/")
      client.screen(5, "Home")
      client.add_device(5, "tok", "android")
      client.delete_device(5, "tok")
      client.suppress(5)
      client.unsuppress(5)
      client.merge_customers("id", 5, "email", "x@example.com")
      client.delete(6)
      expect(clock - started).to be < 0.5 # ...does not slow the caller
      client.track_anonymous("anon-1", "visited") # no Track v2 form: stays synchronous
      expect(client.flush(timeout: 20)).to be(true)
      expect(errors).to be_empty
      expect(calls).to include(["POST", "/api/v1/events"])
      ops = delivered_ops
      expect(ops.map { |op| [op["action"], op["name"]] }).to eq(
        [["identify", nil], ["event", "product.purchased"], ["page", "https://example.com/"],
         ["screen", "Home"], ["add_device", nil], ["delete_device", nil], ["suppress", nil],
         ["unsuppress", nil], ["merge", nil], ["delete", nil]]
      )
      expect(ops[1]["attributes"]).to eq("price" => 23.45)
      client.close
      expect(client.pipeline).to be_closed
    end

    it "raises the Client's ParamError for arguments refused before queueing" do
      client = new_client(background: true)
      expect { client.track("", "e") }
        .to raise_error(CustomerioNative::Client::ParamError,
                        "customer_id must be a non-empty string")
      expect { client.track("x" * 151, "e") }
        .to raise_error(CustomerioNative::Client::ParamError, /longer than 150 bytes/)
      expect { client.merge_customers("phone", "5", "id", "6") }
        .to raise_error(CustomerioNative::Client::ParamError, "invalid primary_id_type")
      expect(client.pipeline.stats[:enqueued]).to eq(0)
      expect(client.flush).to be(true)
      expect(new_client.flush).to be(true) # not background: nothing to wait for
    end

    it "refuses pipeline options it does not know" do
      expect { new_client(background: true, pipeline_options: { colour: 1 }) }
        .to raise_error(ArgumentError, /unknown option/)
      expect { CustomerioNative::APIClient.new("k", background: true) }
        .to raise_error(ArgumentError, /unknown option/)
    end
  end

  describe "processes" do
    it "a spool survives kill -9: the next pipeline delivers everything exactly once" do
      Dir.mktmpdir("cio-spool") do |dir|
        spool = File.join(dir, "events.spool")
        child = <<~RUBY
          require "customerio_native"
          require "net/http"
          url, spool = ARGV
          pipe = CustomerioNative::Pipeline.new(#{SITE_ID.inspect}, #{API_KEY.inspect}, url: url,
                                                spool_path: spool, linger: 0.01, backoff: 0.001)
          500.times { |i| pipe.track("u\#{i % 10}", "first-half", i: i) }
          exit 3 unless pipe.flush(timeout: 30)
          uri = URI("\#{url}/_mock/faults")
          Net::HTTP.post(uri, '{"count":1000000,"action":"reset"}',
                         "Content-Type" => "application/json")
          (500...1000).each { |i| pipe.track("u\#{i % 10}", "second-half", i: i) }
          puts "queued"
          $stdout.flush
          sleep 60
        RUBY
        input, out, wait = Open3.popen2(RbConfig.ruby, "-I", lib_dir, "-e", child, mock.url,
                                        spool)
        input.close
        begin
          line = Timeout.timeout(30) { out.gets }
          expect(line&.strip).to eq("queued")
          sleep 0.3 # a few failed attempts, mid-retry
        ensure
          Process.kill("KILL", wait.pid)
          status = wait.value
          out.close
        end
        expect(status.termsig).to eq(Signal.list["KILL"])
        mock.control(:delete, "faults")
        expect(delivered_ops.size).to eq(500)

        pipe = pipeline(spool_path: spool, linger: 0.01)
        expect(pipe.flush(timeout: 30)).to be(true)
        expect(pipe.stats).to include(failed: 0, delivered: 500)
        pipe.close
        ops = delivered_ops
        counts = ops.map { |op| op["id"] }.tally
        expect(counts.size).to eq(1000)
        expect(counts.values.uniq).to eq([1])
        expect(ops.map { |op| op["attributes"]["i"] }.sort).to eq((0...1000).to_a)

        # A third pipeline on the same spool has nothing left to send.
        mock.clear
        third = pipeline(spool_path: spool)
        expect(third.flush(timeout: 10)).to be(true)
        expect(third.stats[:enqueued]).to eq(0)
        third.close
        expect(mock.requests).to be_empty
      end
    end

    it "exit flushes what is queued (at_exit), running the callbacks" do
      code = <<~RUBY
        require "customerio_native"
        pipe = CustomerioNative::Pipeline.new(#{SITE_ID.inspect}, #{API_KEY.inspect},
                                              url: ARGV[0], linger: 5, report_successes: true,
                                              on_report: ->(r) { puts "report \#{r.seq}" })
        20.times { |i| pipe.track(1, "at-exit", i: i) }
        # no flush, no close: the process's exit delivers them
      RUBY
      out, status = ruby_child(code, mock.url)
      expect(status).to be_success
      expect(out.lines.map(&:strip)).to eq((1..20).map { |i| "report #{i}" })
      expect(delivered_ops.map { |op| op["attributes"]["i"] }.sort).to eq((0...20).to_a)
    end

    it "a background client left open is flushed at exit too" do
      code = <<~RUBY
        require "customerio_native"
        client = CustomerioNative::Client.new(#{SITE_ID.inspect}, #{API_KEY.inspect},
                                              url: ARGV[0], background: true,
                                              pipeline_options: { linger: 5 })
        client.track(1, "from-background")
      RUBY
      _out, status = ruby_child(code, mock.url)
      expect(status).to be_success
      expect(delivered_ops.map { |op| op["name"] }).to eq(["from-background"])
    end

    it "a forked child cannot use its parent's pipeline, and its exit leaves it alone" do
      pipe = pipeline
      pid = fork do
        code = 0
        begin
          pipe.track(1, "from-child")
          code = 1
        rescue CustomerioNative::PipelineError => e
          code = e.message.include?("another process") ? 0 : 2
        end
        exit(code) # runs the at_exit close, which must skip the parent's pipeline
      end
      status = begin
        Timeout.timeout(20) { Process.wait2(pid)[1] }
      rescue Timeout::Error
        Process.kill("KILL", pid)
        Process.wait2(pid)[1]
      end
      expect(status.exitstatus).to eq(0)
      pipe.track(1, "from-parent")
      expect(pipe.flush).to be(true)
      expect(delivered_ops.map { |op| op["name"] }).to eq(["from-parent"])
    end
  end
end

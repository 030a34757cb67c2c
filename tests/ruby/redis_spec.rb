# frozen_string_literal: true

# The shared Redis queue (issue 18) from Ruby: Pipeline.new(..., redis_url:),
# Analytics.new(..., redis_url:) and Client.new(..., background: true, redis_url:) put their
# operations in the workspace's Redis stream; nothing reaches the emulator until a worker runs
# (`cio-native worker`, or CustomerioNative::Worker in this process); then every event arrives
# once. A real redis-server on a random loopback port (AOF always, a temporary directory,
# stopped by its PID); the stream is read with a raw RESP socket. Skipped without redis-server.

require "digest"
require "fileutils"
require "json"
require "socket"
require "tmpdir"
require_relative "spec_helper"

REDIS_SERVER = ENV.fetch("PATH", "").split(File::PATH_SEPARATOR)
                  .map { |d| File.join(d, "redis-server") }.find { |f| File.executable?(f) }

# redis-server on a random loopback port, stopped by its PID.
class TestRedis
  attr_reader :port, :dir

  def initialize(*extra)
    @dir = Dir.mktmpdir("cio-redis-rb")
    20.times do
      @port = rand(20_000..49_999)
      @pid = Process.spawn("redis-server", "--port", @port.to_s, "--bind", "127.0.0.1", "--dir",
                           @dir, "--appendonly", "yes", "--appendfsync", "always", "--save", "",
                           "--daemonize", "no", "--logfile", "redis.log", *extra,
                           %i[out err] => File::NULL)
      return if wait_up

      stop
    end
    raise "redis-server did not start"
  end

  def url
    "redis://127.0.0.1:#{@port}"
  end

  def stop
    return unless @pid

    Process.kill("TERM", @pid)
    Process.wait(@pid)
  rescue Errno::ESRCH, Errno::ECHILD
    nil
  ensure
    @pid = nil
  end

  def destroy
    stop
    FileUtils.rm_rf(@dir)
  end

  def command(*args)
    Socket.tcp("127.0.0.1", @port, connect_timeout: 5) do |s|
      s.write("*#{args.size}\r\n" + args.map { |a| "$#{a.to_s.bytesize}\r\n#{a}\r\n" }.join)
      read_reply(s)
    end
  end

  def xlen(key)
    command("XLEN", key)
  end

  # The operations in a stream: every field value that is a JSON object.
  def ops(key)
    (command("XRANGE", key, "-", "+") || []).flat_map do |_id, fields|
      fields.each_slice(2).map { |_k, v| JSON.parse(v) rescue nil }.grep(Hash)
    end
  end

  private

  def wait_up
    200.times do
      return false if Process.waitpid(@pid, Process::WNOHANG)

      begin
        command("PING")
        return true
      rescue Errno::ECONNREFUSED, Errno::ECONNRESET, Errno::ETIMEDOUT
        sleep 0.02
      rescue RuntimeError # NOAUTH: it answers
        return true
      end
    end
    false
  end

  def read_reply(s)
    line = s.gets("\r\n")
    raise Errno::ECONNRESET if line.nil?

    kind = line[0]
    rest = line[1..-3]
    case kind
    when "+" then rest
    when "-" then raise "redis: #{rest}"
    when ":" then Integer(rest)
    when "$"
      n = Integer(rest)
      n.negative? ? nil : s.read(n + 2)[0, n]
    when "*"
      n = Integer(rest)
      n.negative? ? nil : Array.new(n) { read_reply(s) }
    else raise "redis: unexpected reply #{line.inspect}"
    end
  end
end

REDIS_TRACK_STREAM = "{cio:#{SITE_ID}}:q"
REDIS_CDP_STREAM = "{cio:cdp-#{Digest::SHA256.hexdigest(CDP_API_KEY)[0, 16]}}:q"

RSpec.describe "the shared Redis queue", if: !REDIS_SERVER.nil? do

  before(:all) { @redis = TestRedis.new }
  after(:all) { @redis&.destroy }
  before { @redis.command("FLUSHALL") }

  let(:redis) { @redis }

  def cio_native
    File.join(File.dirname(File.dirname(MockServer.binary)), "cli", "cio-native")
  end

  def wait_for(what, timeout: 30)
    deadline = Process.clock_gettime(Process::CLOCK_MONOTONIC) + timeout
    loop do
      value = yield
      return value if value
      raise "timed out waiting for #{what}" if Process.clock_gettime(Process::CLOCK_MONOTONIC) > deadline

      sleep 0.05
    end
  end

  def track_ops
    mock.requests.select { |r| r["path"] == "/api/v2/batch" && r["status"] == 200 }
        .flat_map { |r| body_of(r)["batch"] }
  end

  def cdp_messages
    mock.requests.select { |r| r["path"] == "/v1/batch" && r["status"] == 200 }
        .flat_map { |r| body_of(r)["batch"] }
  end

  # `cio-native worker` until the stream is empty and count operations arrived.
  def drain_with_cli(stream, count, *args)
    env = { "CUSTOMERIO_SITE_ID" => SITE_ID, "CUSTOMERIO_API_KEY" => API_KEY,
            "CUSTOMERIO_TRACK_URL" => mock.url, "CUSTOMERIO_CDP_API_KEY" => CDP_API_KEY,
            "CUSTOMERIO_CDP_URL" => mock.url, "CIO_REDIS_URL" => redis.url }
    err_r, err_w = IO.pipe
    pid = Process.spawn(env, cio_native, "worker", *args, err: err_w, out: File::NULL)
    err_w.close
    begin
      collect = stream == REDIS_TRACK_STREAM ? method(:track_ops) : method(:cdp_messages)
      wait_for("#{count} operations") { collect.call.size >= count }
      wait_for("the stream emptied") { redis.xlen(stream).zero? }
    ensure
      Process.kill("TERM", pid)
      Process.wait(pid)
    end
    expect($?.exitstatus).to eq(0)
    expect(err_r.read).to include("\"acked\":#{count}")
    sleep 0.2 # nothing more arrives
    collect.call
  end

  it "Pipeline.new(redis_url:) queues in Redis until a worker runs, then each event once" do
    pipeline = CustomerioNative::Pipeline.new(SITE_ID, API_KEY, url: mock.url,
                                                                redis_url: redis.url)
    4.times { |i| pipeline.track("42", "evt-#{i}", n: i) }
    expect(pipeline.flush(timeout: 10)).to be(true)
    pipeline.close
    expect(redis.xlen(REDIS_TRACK_STREAM)).to eq(4)
    queued = redis.ops(REDIS_TRACK_STREAM)
    expect(queued.map { |o| o["name"] }.sort).to eq(%w[evt-0 evt-1 evt-2 evt-3])
    expect(mock.requests).to eq([])
    got = drain_with_cli(REDIS_TRACK_STREAM, 4)
    expect(got.map { |o| o["id"] }.sort).to eq(queued.map { |o| o["id"] }.sort)
    got.each do |o|
      expect(o["identifiers"]).to eq("id" => "42")
      expect(o["attributes"]).to eq("n" => Integer(o["name"][-1]))
    end
  end

  it "Client.new(background: true, redis_url:) sends its background calls through Redis" do
    client = new_client(background: true, redis_url: redis.url)
    client.identify(id: "7", email: "seven@example.com")
    client.track("7", "signed_up", plan: "pro")
    expect(client.flush).to be(true)
    client.close
    expect(redis.xlen(REDIS_TRACK_STREAM)).to eq(2)
    expect(mock.requests).to eq([])
    got = drain_with_cli(REDIS_TRACK_STREAM, 2)
    expect(got.map { |o| o["action"] }.sort).to eq(%w[event identify])
    event = got.find { |o| o["action"] == "event" }
    expect([event["name"], event["attributes"]]).to eq(["signed_up", { "plan" => "pro" }])
  end

  it "refuses redis_url without background: true, and given twice" do
    expect { CustomerioNative::Client.new(SITE_ID, API_KEY, url: mock.url, redis_url: redis.url) }
      .to raise_error(ArgumentError, /redis_url: pipeline options, for background: true/)
    expect do
      CustomerioNative::Client.new(SITE_ID, API_KEY, url: mock.url, background: true,
                                                     redis_url: redis.url,
                                                     pipeline_options: { redis_url: redis.url })
    end.to raise_error(ArgumentError, /redis_url given twice/)
  end

  it "Analytics.new(redis_url:) queues Pipelines API messages in the workspace's stream" do
    analytics = CustomerioNative::Analytics.new(write_key: CDP_API_KEY, host: mock.url,
                                                redis_url: redis.url)
    3.times { |i| analytics.track(user_id: "u#{i}", event: "clicked", properties: { n: i }) }
    analytics.flush
    analytics.close
    expect(redis.xlen(REDIS_CDP_STREAM)).to eq(3)
    queued = redis.ops(REDIS_CDP_STREAM)
    expect(mock.requests).to eq([])
    got = drain_with_cli(REDIS_CDP_STREAM, 3, "--pipelines")
    expect(got.map { |m| m["messageId"] }.sort).to eq(queued.map { |m| m["messageId"] }.sort)
    expect(got.map { |m| [m["userId"], m["properties"]["n"]] }.sort)
      .to eq([["u0", 0], ["u1", 1], ["u2", 2]])
  end

  it "Worker drains in a thread without the GVL, stops, and reads the dead letters" do
    mock.fault(count: 1000, status: 400, match: "REFUSE-ME",
               body: { errors: [{ reason: "invalid", message: "refused by the test" }] })
    pipeline = CustomerioNative::Pipeline.new(SITE_ID, API_KEY, url: mock.url,
                                                                redis_url: redis.url)
    pipeline.track("1", "good")
    pipeline.track("1", "bad", marker: "REFUSE-ME")
    pipeline.flush(timeout: 10)
    pipeline.close
    worker = CustomerioNative::Worker.new(SITE_ID, API_KEY, url: mock.url, redis_url: redis.url,
                                                            consumer: "rb-worker")
    expect(worker.queue_stats).to include(length: 2, pending: 0, dead_letters: 0)
    ticks = 0
    worker.start
    wait_for("one dead letter") do
      ticks += 1
      worker.queue_stats[:dead_letters] == 1
    end
    wait_for("the good one") { track_ops.map { |o| o["name"] } == ["good"] }
    worker.stop
    expect(ticks).to be > 1
    expect(worker.stats).to include(read: 2, acked: 1, dead_lettered: 1, held: 0)
    dead = worker.dead_letters
    expect(dead.size).to eq(1)
    expect(dead[0][:http_status]).to eq(400)
    op = dead[0][:operation]
    expect(op.is_a?(String) ? JSON.parse(op)["name"] : op[:name]).to eq("bad")
    expect(worker.retry_dead_letters(id: dead[0][:id])).to eq(1)
    expect(redis.xlen(REDIS_TRACK_STREAM)).to eq(1)
    worker.close
    worker.close
    expect { worker.run }.to raise_error(CustomerioNative::WorkerError, /closed/)
  end

  it "an interrupt of the thread in Worker#run stops the worker, then is raised" do
    worker = CustomerioNative::Worker.new(SITE_ID, API_KEY, url: mock.url, redis_url: redis.url)
    thread = Thread.new { worker.run }
    sleep 0.3
    expect(thread).to be_alive
    started = Process.clock_gettime(Process::CLOCK_MONOTONIC)
    thread.raise(RuntimeError, "stop now")
    expect { thread.join }.to raise_error(RuntimeError, "stop now")
    expect(Process.clock_gettime(Process::CLOCK_MONOTONIC) - started).to be < 5
    worker.close
    expect(worker).to be_closed
  end

  it "a wrong password is a clear error without the password" do
    secured = TestRedis.new("--requirepass", "right-secret")
    begin
      url = "redis://:wrong-secret-789@127.0.0.1:#{secured.port}"
      expect { CustomerioNative::Worker.new(SITE_ID, API_KEY, url: mock.url, redis_url: url) }
        .to raise_error(CustomerioNative::WorkerError) { |e|
          expect(e.message).to include("refused AUTH", "127.0.0.1:#{secured.port}")
          expect(e.message).not_to include("wrong-secret-789")
        }
    ensure
      secured.destroy
    end
  end
end

RSpec.describe "the shared Redis queue without redis-server", if: REDIS_SERVER.nil? do
  it("is skipped: redis-server is not installed") { skip "redis-server is not installed" }
end

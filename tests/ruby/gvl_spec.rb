# frozen_string_literal: true

require_relative "spec_helper"

# Blocking calls release the GVL: while one thread waits on a slow request, others run Ruby
# code and make their own calls on the same client.
RSpec.describe "the GVL" do
  let(:client) { new_client }

  it "another thread keeps running Ruby code during a slow request" do
    mock.fault(count: 1, delay_ms: 500)
    ticks, elapsed = ticks_while { client.track(5, "slow") }
    expect(elapsed).to be >= 0.45
    # Held GVL: the ticker would be frozen for the whole 500 ms (0 or 1 ticks).
    expect(ticks).to be >= 20
  end

  it "a CPU-bound thread progresses too, all through the request" do
    mock.fault(count: 1, delay_ms: 500)
    clock = -> { Process.clock_gettime(Process::CLOCK_MONOTONIC) }
    samples = []
    done = false
    worker = Thread.new do
      n = 0
      until done
        n += 1
        samples << clock.call if (n % 10_000).zero?
      end
    end
    sleep 0.05
    started = clock.call
    client.delete(5)
    finished = clock.call
    done = true
    worker.join
    # With the GVL held the worker could only run in a time slice (100 ms) before the C call
    # began or after it returned: nothing in the middle of the 500 ms request.
    inside = samples.count { |t| t > started + 0.2 && t < started + 0.4 }
    expect(finished - started).to be >= 0.45
    expect(inside).to be > 10
  end

  it "slow calls from several threads overlap on one client" do
    mock.fault(count: 4, delay_ms: 500)
    started = Process.clock_gettime(Process::CLOCK_MONOTONIC)
    4.times.map { |i| Thread.new { client.track(i + 1, "parallel") } }.each(&:join)
    elapsed = Process.clock_gettime(Process::CLOCK_MONOTONIC) - started
    expect(elapsed).to be < 1.5 # serialised they would take 2 s
    expect(mock.requests.size).to eq(4)
  end

  it "one client serves many threads at once" do
    8.times.map do |t|
      Thread.new { 20.times { |i| client.track("t#{t}", "e#{i}", n: i) } }
    end.each(&:join)
    reqs = mock.requests
    expect(reqs.size).to eq(160)
    expect(reqs.map { |r| r["status"] }).to all(eq(200))
    expect(reqs.map { |r| body_of(r)["id"] }.uniq.size).to eq(160)
  end

  it "close waits for the calls in progress" do
    mock.fault(count: 1, delay_ms: 300)
    caller = Thread.new { client.delete(5) }
    sleep 0.1
    client.close
    expect { caller.value }.not_to raise_error
    expect(mock.requests.map { |r| r["status"] }).to eq([200])
  end

  it "a String mutated by another thread during the call is sent as it was" do
    mock.fault(count: 1, delay_ms: 300)
    id = +"customer-1"
    caller = Thread.new { client.delete(id) }
    sleep 0.1
    id.replace("x" * 1000)
    caller.join
    expect(mock.only["path"]).to eq("/api/v1/customers/customer-1")
  end
end

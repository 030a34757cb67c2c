# frozen_string_literal: true

# The customerio-native gem from Ruby against the emulator.
#
#   ruby rb_bench.rb sync URL N       Client#track N times, one request each
#   ruby rb_bench.rb pipeline URL N   Pipeline#track N times, then flush (end to end)
#
# Prints one line like c_bench (cpu_us: this process's CPU time per event, all threads). The run
# fails unless the pipeline delivered every event.
require "customerio_native"

mode, url, n = ARGV[0], ARGV[1], Integer(ARGV[2] || 0)
abort "usage: rb_bench.rb sync|pipeline URL N" unless %w[sync pipeline].include?(mode) && n.positive?

def cpu_seconds
  Process.clock_gettime(Process::CLOCK_PROCESS_CPUTIME_ID)
end

started = Process.clock_gettime(Process::CLOCK_MONOTONIC)
cpu_started = cpu_seconds
requests = nil
if mode == "sync"
  client = CustomerioNative::Client.new("bench-site", "bench-key", url: url)
  n.times do |i|
    client.track("user-1", "purchased", price: (i % 100) + 0.5, sku: "SKU-#{i % 977}")
  end
  client.close
else
  failures = []
  pipe = CustomerioNative::Pipeline.new("bench-site", "bench-key", url: url,
                                        max_requests_per_second: -1, # the emulator has no limit
                                        max_queue_bytes: 4 << 30,
                                        on_error: ->(report) { failures << report })
  n.times do |i|
    pipe.track("user-#{i % 10_000}", "purchased", price: (i % 100) + 0.5, sku: "SKU-#{i % 977}")
  end
  abort "rb_pipeline: flush did not finish" unless pipe.flush
  stats = pipe.stats
  requests = stats[:requests]
  pipe.close
  if stats[:delivered] != n || !failures.empty?
    abort "rb_pipeline: #{stats[:delivered]} delivered, #{failures.size} failed"
  end
end
seconds = Process.clock_gettime(Process::CLOCK_MONOTONIC) - started
cpu = cpu_seconds - cpu_started
rss_kb = File.read("/proc/self/status")[/VmHWM:\s+(\d+)/, 1].to_i
line = format("rb_%<mode>s events=%<n>d seconds=%<s>.3f events_per_second=%<eps>.0f cpu_us=%<cpu>.2f",
              mode: mode, n: n, s: seconds, eps: n / seconds, cpu: cpu / n * 1e6)
line += " requests=#{requests}" if requests
puts "#{line} rss_kb=#{rss_kb}"

# frozen_string_literal: true

# The official Ruby gem 6.2 against ours, the same calls, one request per event.
#
#   ruby -I PEERS/customerio-ruby-6.2.0/lib rb_peers.rb official URL N   Customerio::Client#track
#   ruby rb_peers.rb native URL N                CustomerioNative::Client#track
#
# URL is http:// or https:// on 127.0.0.1. Over https the official gem trusts the emulator's
# throw-away CA through SSL_CERT_FILE (Net::HTTP's default store reads it), ours through ca_file:
# with the same file. The run fails unless the emulator logged N track requests. Prints one line
# like c_bench (cpu_us: this process's CPU time per event, all threads).
require "json"
require "net/http"

which, url, n = ARGV[0], ARGV[1], Integer(ARGV[2] || 0)
abort "usage: rb_peers.rb official|native URL N" unless %w[official native].include?(which) && n.positive?

client =
  if which == "official"
    require "customerio"
    Customerio::Client.new("bench-site", "bench-key", url: url)
  else
    require "customerio_native"
    opts = { url: url }
    opts[:ca_file] = ENV.fetch("SSL_CERT_FILE") if url.start_with?("https:")
    CustomerioNative::Client.new("bench-site", "bench-key", **opts)
  end

def cpu_seconds
  Process.clock_gettime(Process::CLOCK_PROCESS_CPUTIME_ID)
end

started = Process.clock_gettime(Process::CLOCK_MONOTONIC)
cpu_started = cpu_seconds
n.times do |i|
  # the gem's shape: the event's attributes as a hash argument (ours takes the same)
  client.track("user-1", "purchased", { price: (i % 100) + 0.5, sku: "SKU-#{i % 977}" })
end
seconds = Process.clock_gettime(Process::CLOCK_MONOTONIC) - started
cpu = cpu_seconds - cpu_started
client.close if client.respond_to?(:close)

log = JSON.parse(Net::HTTP.get(URI("#{url}/_mock/requests")))
got = log.count { |e| e["path"].to_s.end_with?("/events") }
abort "rb_sync_#{which}: #{got} track requests arrived of #{n}" unless got == n
rss_kb = File.read("/proc/self/status")[/VmHWM:\s+(\d+)/, 1].to_i
puts format("rb_sync_%<w>s events=%<n>d seconds=%<s>.3f events_per_second=%<eps>.0f " \
            "cpu_us=%<cpu>.2f rss_kb=%<rss>d",
            w: which, n: n, s: seconds, eps: n / seconds, cpu: cpu / n * 1e6, rss: rss_kb)

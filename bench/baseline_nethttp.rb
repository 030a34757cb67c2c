# frozen_string_literal: true

# The Ruby baseline: one Net::HTTP connection per request, as the official customerio gem does
# (Customerio::BaseClient opens a new Net::HTTP for every call).
#
#   ruby baseline_nethttp.rb URL N
require "json"
require "net/http"
require "uri"

url, n = ARGV[0], Integer(ARGV[1] || 0)
uri = URI("#{url}/api/v1/customers/user-1/events")
cpu_seconds = -> { Process.clock_gettime(Process::CLOCK_PROCESS_CPUTIME_ID) }
started = Process.clock_gettime(Process::CLOCK_MONOTONIC)
cpu_started = cpu_seconds.call
n.times do |i|
  request = Net::HTTP::Post.new(uri.path, "Content-Type" => "application/json")
  request.basic_auth("bench-site", "bench-key")
  request.body = JSON.generate(name: "purchased", data: { price: (i % 100) + 0.5, sku: "SKU-#{i % 977}" })
  response = Net::HTTP.start(uri.host, uri.port) { |http| http.request(request) }
  abort "nethttp: #{response.code}" unless response.is_a?(Net::HTTPSuccess)
end
seconds = Process.clock_gettime(Process::CLOCK_MONOTONIC) - started
cpu = cpu_seconds.call - cpu_started
rss_kb = File.read("/proc/self/status")[/VmHWM:\s+(\d+)/, 1].to_i
puts format("rb_nethttp_baseline events=%<n>d seconds=%<s>.3f events_per_second=%<eps>.0f " \
            "cpu_us=%<cpu>.2f rss_kb=%<rss>d", n: n, s: seconds, eps: n / seconds,
                                               cpu: cpu / n * 1e6, rss: rss_kb)

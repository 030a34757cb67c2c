# frozen_string_literal: true

# Run by check_gem.sh inside bare.sh, with GEM_HOME holding only the installed platform gem:
# the gem activates from there as the x86_64-linux build, the native libraries the process maps
# are the gem's own copies (not the system's, not the build tree's), and a few calls (a blocking
# client, a queued pipeline) put the exact requests on the emulator. Argument: the emulator's
# port.
require "base64"
require "fiddle"
require "json"
require "net/http"
require "customerio_native"

PORT = Integer(ARGV.fetch(0))
URL = "http://127.0.0.1:#{PORT}"
SITE_ID = "pk-site"
API_KEY = "pk-key"

def check(cond, what)
  raise "gem smoke: #{what}" unless cond
end

def control(method, path)
  http = Net::HTTP.new("127.0.0.1", PORT)
  req = method == :get ? Net::HTTP::Get.new("/_mock/#{path}") : Net::HTTP::Delete.new("/_mock/#{path}")
  body = http.request(req).body.to_s
  body.empty? ? nil : JSON.parse(body)
end

spec = Gem.loaded_specs.fetch("customerio-native")
gem_home = File.realpath(ENV.fetch("GEM_HOME"))
check(spec.platform.to_s == "x86_64-linux", "activated #{spec.full_name}, not the platform gem")
check(File.realpath(spec.full_gem_path).start_with?("#{gem_home}/"),
      "loaded from #{spec.full_gem_path}, not #{gem_home}")
check(spec.extensions.empty?, "the platform gem declares extensions #{spec.extensions}")
%w[LD_LIBRARY_PATH RUBYLIB].each { |v| check(!ENV.key?(v), "#{v} is set") }
%w[cc gcc make ld].each do |tool|
  found = ENV.fetch("PATH").split(":").map { |d| File.join(d, tool) }.find { |f| File.executable?(f) }
  check(found.nil?, "#{tool} is on PATH: #{found}")
end

libs_dir = File.join(File.realpath(spec.full_gem_path), "lib", "customerio_native.libs")
maps = File.readlines("/proc/self/maps").map { |l| l.split.last }
           .select { |p| p&.start_with?("/") && File.basename(p).include?(".so") }.uniq
%w[libcurl libjansson libssl libcrypto].each do |name|
  check(maps.any? { |p| File.dirname(p) == libs_dir && File.basename(p).start_with?("#{name}-") },
        "#{name} not mapped from #{libs_dir}: #{maps}")
end
%w[libcurl libjansson].each do |name|
  others = maps.select { |p| File.basename(p).start_with?(name) && File.dirname(p) != libs_dir }
  check(others.empty?, "system #{name} mapped: #{others}")
end
if ENV["CIO_BARE_HIDDEN"] == "1"
  %w[libcurl.so.4 libjansson.so.4].each do |soname|
    hidden = begin
      Fiddle.dlopen(soname)
      false
    rescue Fiddle::DLError
      true
    end
    check(hidden, "#{soname} is loadable: the sandbox did not hide it")
  end
end

control(:delete, "requests")
client = CustomerioNative::Client.new(SITE_ID, API_KEY, url: URL)
client.identify(id: 5, email: "gem@example.com", plan: "pro")
client.track(5, "installed", source: "gem")
client.close

pipe = CustomerioNative::Pipeline.new(SITE_ID, API_KEY, url: URL)
3.times { |i| pipe.track(i.to_s, "queued", n: i) }
check(pipe.flush == true, "flush")
stats = pipe.stats
pipe.close
check(stats[:enqueued] == 3 && stats[:delivered] == 3 && stats[:failed].zero?,
      "stats #{stats}")

reqs = control(:get, "requests")
auth = "Basic #{Base64.strict_encode64("#{SITE_ID}:#{API_KEY}")}"
check(reqs.map { |r| [r["method"], r["path"], r["status"]] } ==
        [["PUT", "/api/v1/customers/5", 200], ["POST", "/api/v1/customers/5/events", 200],
         ["POST", "/api/v2/batch", 200]], "requests #{reqs}")
check(reqs.all? { |r| r["headers"]["authorization"] == auth }, "authorization")
check(JSON.parse(reqs[0]["body"]) == { "id" => 5, "email" => "gem@example.com", "plan" => "pro" },
      "identify body #{reqs[0]['body']}")
event = JSON.parse(reqs[1]["body"])
check(event.delete("id").to_s.size == 26, "event id")
check(event == { "name" => "installed", "data" => { "source" => "gem" } }, "event #{event}")
ops = JSON.parse(reqs[2]["body"])["batch"].map { |op| op.reject { |k, _| k == "id" } }
check(ops == Array.new(3) do |i|
  { "type" => "person", "action" => "event", "identifiers" => { "id" => i.to_s }, "name" => "queued",
    "attributes" => { "n" => i } }
end, "batch #{ops}")
hidden = ENV["CIO_BARE_HIDDEN"] == "1" ? ", system libcurl/jansson hidden" : ""
puts "gem smoke: Ruby #{RUBY_VERSION} loaded #{spec.full_name} from #{spec.full_gem_path}, " \
     "#{reqs.size} requests as expected#{hidden}"

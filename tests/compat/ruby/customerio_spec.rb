# frozen_string_literal: true

require_relative "spec_helper"
require_relative "arg_gen"
require "time"

# CIO_COMPAT_CUSTOMERIO=5.6 runs the same comparisons against the last 5.x (code written for it
# keeps working where 5.x and 6.x agree); the 6.x-only examples (six: true) are left out then.
# One process holds one of them: both define Customerio.
FIVE = ENV.fetch("CIO_COMPAT_CUSTOMERIO", "6.2") == "5.6"
unless PEERS_MISSING
  # 6.2's client.rb needs addressable (Debian ruby-addressable), 5.6's multi_json
  # (ruby-multi-json)
  load_peer(FIVE ? "customerio-ruby-5.6.0" : "customerio-ruby-6.2.0")
  require "customerio"
end
RSpec.configure { |c| c.filter_run_excluding(six: true) if FIVE }

# The official customerio gem 6.2 (Customerio::) and ours (CustomerioNative::), the same calls
# with generated arguments against one TLS emulator. Every difference that remains is in this
# table (and in the README's Ruby section); the comparison accepts exactly these.
#
# | #  | where                        | official 6.2                          | ours                                  | why                                                                                  |
# |----|------------------------------|---------------------------------------|---------------------------------------|--------------------------------------------------------------------------------------|
# | D1 | event bodies (v1 and v2)     | "id" only when id: is given           | "id" always (a ULID when not given)   | a retried request must not count twice at Customer.io (de-duplication by id)        |
# | D2 | a Time in attributes/data    | Time#to_s ("2024-05-01 12:00:00 UTC") | unix seconds                          | Customer.io reads dates as unix seconds; the official gem sends a string it cannot   |
# | D3 | merge_customers ids, track_  | as given (an Integer stays a number)  | Strings                               | libcustomerio's C API takes ids as strings; Customer.io accepts both                 |
# |    | anonymous's anonymous_id     |                                       |                                       |                                                                                      |
# | (D4, track_push_notification_event posting /api/v1/push/events, is gone: both post /push/events.)                                                                                |
# | D5 | NaN / Infinity in data       | JSON::GeneratorError                  | Client::ParamError naming the field   | the gem's own class, as callers rescue it                                            |
# | D6 | input Customer.io refuses    | sent; the API answers 400             | ParamError before sending, naming it  | libcustomerio checks ids (150 bytes, no control characters), platform ios/android,   |
# |    |                              |                                       |                                       | UTF-8, "\u0000", the 32 KB body limit: nothing half-valid leaves the process;        |
# |    |                              |                                       |                                       | App API requests it parses (attachments) with integers past 64 bits, which the API  |
# |    |                              |                                       |                                       | refuses too (400 "too big integer")                                                  |
# | D7 | a Time as timestamp:/last_used| ParamError / Time#to_s               | unix seconds                          | a superset: Times are what Ruby callers have                                          |
# | D8 | SendEmail/SMS/WhatsApp       | "attachments":{} (and email "headers":{}) always | left out when empty        | an empty member says nothing; libcustomerio writes attachments from #attach           |
# | D10| body-less POST (suppress,    | Content-Type: application/x-www-     | no Content-Type                       | there is no body; the form type is Net::HTTP's default for a POST, not the gem's      |
# |    | unsuppress)                  | form-urlencoded                       |                                       |                                                                                      |
# | D11| member order in bodies       | the caller's order                    | libcustomerio's (name, data, ...)     | the same JSON object; only an error text citing a column shows it (masked)            |
# | D9 | APIClient answers            | delivery_id / queued_at / id          | another value                         | the emulator makes a new id per request (masked, compared by presence)               |
#
# Generated arguments come from ArgGen (seeded: CIO_COMPAT_SEED replays a run).
RSpec.describe "customerio gem #{FIVE ? '5.6' : '6.2'} and CustomerioNative, side by side" do
  ULID = /\A[0-7][0-9A-HJKMNP-TV-Z]{25}\z/
  # libcustomerio's refusals that D6 covers.
  D6_REASONS = Regexp.union("longer than 150 bytes", "control character", "platform must be",
                            "not valid UTF-8", "\\u0000", "over the Track API limit", "NUL byte")

  let(:gen) { ArgGen.new }
  let(:official) { Customerio::Client.new(SITE_ID, API_KEY, url: tls_url) }
  let(:ours) do
    c = CustomerioNative::Client.new(SITE_ID, API_KEY, url: tls_url, ca_file: ca_file,
                                                       retries: 0)
    (@ours ||= []) << c
    c
  end
  after { (@ours || []).each(&:close) }

  def copy(value)
    Marshal.load(Marshal.dump(value))
  end

  # D2: the official gem's Time#to_s strings as the unix seconds ours sends.
  def unix_times(value)
    case value
    when Hash then value.transform_values { |v| unix_times(v) }
    when Array then value.map { |v| unix_times(v) }
    when TIME_TEXT then Time.parse(value).to_i
    else value
    end
  end

  def official_wire(req)
    w = wire(req)
    w["body"] = unix_times(w["body"])
    if w["body"].nil? && w["content_type"] == "application/x-www-form-urlencoded" # D10
      w["content_type"] = nil
    end
    if w["path"] == "/api/v1/merge_customers" && w["body"].is_a?(Hash) # D3
      %w[primary secondary].each { |k| w["body"][k] = w["body"][k]&.transform_values(&:to_s) }
    end
    if w["body"].is_a?(Hash) && w["body"]["anonymous_id"].is_a?(Integer) # D3
      w["body"]["anonymous_id"] = w["body"]["anonymous_id"].to_s
    end
    w
  end

  # D1 (an id the official call did not send), on ours.
  def our_wire(req, official)
    w = wire(req)
    drop_generated_ids(w["body"], official && official["body"])
    w
  end

  def drop_generated_ids(ours, theirs)
    return unless ours.is_a?(Hash) && theirs.is_a?(Hash)

    ours.delete("id") if ours["id"].is_a?(String) && ours["id"].match?(ULID) &&
                         !theirs.key?("id")
    return unless ours["batch"].is_a?(Array) && theirs["batch"].is_a?(Array)

    ours["batch"].zip(theirs["batch"]).each { |o, t| drop_generated_ids(o, t) }
  end

  def result(value)
    value.is_a?(Net::HTTPResponse) ? [value.class, value.code, value.body] : value
  end

  def error(exc)
    return nil if exc.nil?

    msg = exc.message.gsub(/\(line \d+, column \d+\)/, "(line L, column C)") # D11
    code = exc.respond_to?(:code) ? exc.code : nil
    [*error_of(exc), code].tap { |e| e[1] = msg }
  end

  # Makes the call through both clients and compares; returns :same, or the known difference
  # that explains why it is not (:d5, :d6).
  def same_call(name, *args, **kwargs)
    (ret_o, err_o), reqs_o = logged { official.public_send(name, *copy(args), **copy(kwargs)) }
    (ret_n, err_n), reqs_n = logged { ours.public_send(name, *copy(args), **copy(kwargs)) }
    context = "#{name}(#{args.inspect[0, 300]}, #{kwargs.inspect}) seed #{gen.seed}: " \
              "official #{error(err_o).inspect} / #{result(ret_o).inspect}, " \
              "ours #{error(err_n).inspect} / #{result(ret_n).inspect}"
    if err_o.is_a?(JSON::GeneratorError) && err_n.is_a?(CustomerioNative::Client::ParamError)
      expect(reqs_o + reqs_n).to be_empty, context
      return :d5
    end
    if err_n.is_a?(CustomerioNative::Client::ParamError) && reqs_n.empty? && !reqs_o.empty? &&
       err_n.message.match?(D6_REASONS)
      return :d6
    end

    theirs = reqs_o.map { |r| official_wire(r) }
    mine = reqs_n.each_with_index.map { |r, i| our_wire(r, theirs[i]) }
    expect(mine).to eq(theirs), context

    expect(result(ret_n)).to eq(result(ret_o)), context
    expect(error(err_n)).to eq(error(err_o)), context
    :same
  end

  # Runs COMPAT_ROUNDS generated calls; most must be compared (not all be explained away by D5/D6).
  def rounds
    outcomes = Array.new(COMPAT_ROUNDS) { yield }
    expect(outcomes.count(:same)).to be >= COMPAT_ROUNDS / 2, outcomes.tally.inspect
  end

  it "identify: attributes with every kind of id and value" do
    rounds do
      attrs = gen.hash(3)
      key = gen.pick(%i[id email cio_id customer_id])
      # 5.x raises TypeError for an Integer cio_id ("cio_" + id); 6.x and ours take it
      attrs[key] = FIVE && key == :cio_id ? gen.id.to_s : gen.id
      same_call(:identify, attrs)
    end
  end

  it "delete, suppress and unsuppress" do
    rounds { same_call(gen.pick(%i[delete suppress unsuppress]), gen.id) }
  end

  it "track(customer_id, name, attributes, id:, timestamp:)" do
    rounds do
      kwargs = {}
      kwargs[:id] = "ev-#{gen.int(10**6)}" if !FIVE && gen.chance(0.5)
      kwargs[:timestamp] = gen.timestamp if !FIVE && gen.chance(0.5)
      same_call(:track, gen.id, gen.pick(ArgGen::STRINGS[1..]), gen.hash(3), **kwargs)
    end
  end

  it "track and pageview with a timestamp among the attributes" do
    rounds do
      # an invalid one: 5.x drops it, 6.x raises (ours follows 6.x)
      valid = FIVE || gen.chance(0.8)
      attrs = gen.hash(2).merge(timestamp: valid ? gen.timestamp : gen.int(0..10**6))
      same_call(gen.pick(%i[track pageview]), gen.id, "event-#{gen.int(100)}", attrs)
    end
  end

  it "pageview(customer_id, page, attributes)" do
    rounds { same_call(:pageview, gen.id, "https://example.com/#{gen.pick(ArgGen::STRINGS)}", gen.hash) }
  end

  it "track_anonymous(anonymous_id, name, attributes, id:, timestamp:)" do
    rounds do
      kwargs = !FIVE && gen.chance(0.5) ? { id: "a-#{gen.int(1000)}", timestamp: gen.timestamp } : {}
      anon = gen.pick([nil, "", gen.id])
      same_call(:track_anonymous, anon, "event-#{gen.int(100)}", gen.hash, **kwargs)
    end
  end

  it "add_device with any device field, and delete_device" do
    rounds do
      data = gen.hash(2)
      data[:last_used] = gen.timestamp if gen.chance(0.5)
      data[:attributes] = gen.hash(1) if gen.chance(0.5)
      platform = gen.chance(0.9) ? gen.pick(%w[ios android]) : "web"
      if gen.chance(0.2)
        same_call(:delete_device, gen.id, gen.id)
      else
        same_call(:add_device, gen.id, "tok-#{gen.id}", platform, data)
      end
    end
  end

  it "track_push_notification_event and track_delivery_metric" do
    rounds do
      if FIVE || gen.chance(0.5) # track_delivery_metric is 6.x's
        same_call(:track_push_notification_event, gen.pick(%w[opened converted delivered]),
                  { delivery_id: gen.id.to_s, device_id: "dev-#{gen.int(100)}",
                    timestamp: gen.timestamp })
      else
        attrs = { delivery_id: gen.id.to_s }
        attrs[:timestamp] = gen.timestamp if gen.chance(0.5)
        attrs[:recipient] = "ann@example.com" if gen.chance(0.3)
        attrs[:reason] = gen.pick(ArgGen::STRINGS) if gen.chance(0.3)
        attrs[:href] = "https://example.com/x?y=#{gen.int(9)}" if gen.chance(0.3)
        same_call(:track_delivery_metric,
                  gen.pick(CustomerioNative::Client::VALID_DELIVERY_METRICS), attrs)
      end
    end
  end

  it "merge_customers" do
    rounds do
      same_call(:merge_customers, gen.pick(%w[id email cio_id]), gen.id,
                gen.pick(%w[id email cio_id]), gen.id)
    end
  end

  it "batch(operations)", six: true do
    rounds do
      ops = Array.new(gen.int(1..3)) do
        if gen.chance(0.5)
          { type: "person", action: "identify", identifiers: { id: gen.id.to_s },
            attributes: gen.hash(2) }
        else
          { type: "person", action: "event", identifiers: { id: gen.id.to_s },
            name: "event-#{gen.int(100)}", attributes: gen.hash(1) }
        end
      end
      same_call(:batch, ops)
    end
  end

  it "refuses the same arguments with the same ParamError messages" do
    six_only = [
      [:track, 5, "x", { timestamp: 12 }],
      [:track_push_notification_event, "opened", { delivery_id: " ", device_id: "d" }],
      [:track_delivery_metric, "sent", { delivery_id: "d" }],
      [:track_delivery_metric, "opened", { delivery_id: "   " }],
      [:track_delivery_metric, "opened", { delivery_id: "d", timestamp: 5 }],
      [:batch, []], [:batch, nil]
    ]
    [
      [:identify, {}], [:identify, { email: "" }], [:delete, ""], [:delete, "  "],
      [:suppress, nil], [:track, "", "x"], [:track, 5, ""], [:track, 5, "x", { timestamp: 12 }],
      [:pageview, 5, nil], [:track_anonymous, "a", " "],
      [:add_device, 5, "", "ios"], [:add_device, 5, "d", nil], [:add_device, 5, "d", "ios", "x"],
      [:delete_device, 5, ""], [:track_push_notification_event, "clicked", {}],
      [:track_push_notification_event, "opened", { delivery_id: " ", device_id: "d" }],
      [:track_push_notification_event, "opened", { delivery_id: "d", device_id: "x" }],
      [:track_delivery_metric, "sent", { delivery_id: "d" }],
      [:track_delivery_metric, "opened", { delivery_id: "   " }],
      [:track_delivery_metric, "opened", { delivery_id: "d", timestamp: 5 }],
      [:merge_customers, "phone", "1", "id", "2"], [:merge_customers, "id", "", "id", "2"],
      [:batch, []], [:batch, nil]
    ].each do |call|
      next if FIVE && six_only.include?(call)

      name, *args = call
      expect(same_call(name, *args)).to eq(:same)
    end
  end

  it "an error status raises InvalidResponse with the same code and message" do
    [401, 404, 429, 500, 503].each do |status|
      2.times { tls_mock.fault(count: 1, status: status, body: { meta: { error: "no #{status}" } }) }
      _, err_o = outcome { official.delete(5) }
      _, err_n = outcome { ours.delete(5) }
      expect(error(err_n)).to eq(error(err_o))
      expect(err_n.response.code).to eq(err_o.response.code)
      expect(err_n.response.body).to eq(err_o.response.body)
      tls_mock.control(:delete, "faults")
    end
  end

  it "D7: ours takes a Time where the official gem needs unix seconds", six: true do
    t = Time.at(1_700_000_000)
    expect { official.track(5, "x", {}, timestamp: t) }
      .to raise_error(Customerio::Client::ParamError)
    expect(ours.track(5, "x", {}, timestamp: t).code).to eq("200")
  end

  describe "APIClient (transactional sends and broadcast triggers)" do
    let(:api_official) { Customerio::APIClient.new(APP_API_KEY, url: tls_url) }
    let(:api_ours) do
      c = CustomerioNative::APIClient.new(APP_API_KEY, url: tls_url, ca_file: ca_file, retries: 0)
      (@ours ||= []) << c
      c
    end

    # D9: the ids the emulator makes per request.
    def masked(answer)
      return answer unless answer.is_a?(Hash)

      answer.to_h { |k, v| [k, %w[delivery_id queued_at id].include?(k) ? v.class : v] }
    end

    # The same request built with each gem's class, sent through each gem's APIClient.
    def same_api_call(name, klass, fields, files = [])
      build = lambda do |mod|
        req = mod.const_get(klass).new(copy(fields))
        files.each { |file, data| req.attach(file, data) }
        req
      end
      (ret_o, err_o), reqs_o = logged { api_official.public_send(name, build.call(Customerio)) }
      (ret_n, err_n), reqs_n = logged do
        api_ours.public_send(name, build.call(CustomerioNative))
      end
      context = "#{name}(#{fields.inspect[0, 300]}) seed #{gen.seed}: official " \
                "#{error(err_o).inspect} / #{ret_o.inspect}, ours #{error(err_n).inspect} / " \
                "#{ret_n.inspect}"
      # D6: refused before sending what the server refuses too
      return :d6 if err_n.is_a?(CustomerioNative::Client::ParamError) && reqs_n.empty? &&
                    err_o.is_a?(Customerio::InvalidResponse) && err_o.code.start_with?("4")

      theirs = reqs_o.map do |r|
        w = official_wire(r)
        %w[attachments headers].each { |k| w["body"].delete(k) if w["body"][k] == {} } # D8
        w
      end
      expect(reqs_n.map { |r| wire(r) }).to eq(theirs), context
      expect(masked(ret_n)).to eq(masked(ret_o)), context
      expect(error(err_n)).to eq(error(err_o)), context
      :same
    end

    def message_fields(to: true)
      f = { identifiers: { id: gen.id.to_s }, transactional_message_id: gen.pick([1, "2"]),
            message_data: gen.hash(2) }
      f[:to] = "ann@example.com" if to
      f[:language] = "fr" if gen.chance(0.2)
      f[:send_to_unsubscribed] = gen.pick([true, false]) if gen.chance(0.3)
      f
    end

    it "send_email, with cc, subject, headers and attachments" do
      COMPAT_ROUNDS.times do
        f = message_fields
        f[:cc] = "cc@example.com" if !FIVE && gen.chance(0.4) # 5.x drops cc
        f[:subject] = gen.pick(ArgGen::STRINGS[1..]) if gen.chance(0.5)
        f[:headers] = { "X-Tag" => "t#{gen.int(9)}" } if !FIVE && gen.chance(0.3) # 5.x: {}
        files = gen.chance(0.4) ? [["note #{gen.int(9)}.txt", gen.pick(ArgGen::STRINGS)]] : []
        same_api_call(:send_email, :SendEmailRequest, f, files)
      end
    end

    it "send_push, send_sms, send_whatsapp, send_inbox_message and send_in_app" do
      COMPAT_ROUNDS.times do
        kinds = [%i[send_push SendPushRequest], %i[send_sms SendSMSRequest],
                 %i[send_inbox_message SendInboxMessageRequest], %i[send_in_app SendInAppRequest]]
        kinds << %i[send_whatsapp SendWhatsAppRequest] unless FIVE # 6.x's
        name, klass = gen.pick(kinds)
        f = message_fields(to: name != :send_in_app && name != :send_inbox_message)
        f[:title] = "Hi" if name == :send_push && gen.chance(0.5)
        same_api_call(name, klass, f)
      end
    end

    it "trigger_broadcast with one Hash (6.x)", six: true do
      COMPAT_ROUNDS.times do
        f = { broadcast_id: gen.int(1..50), data: gen.hash(2) }
        audience = gen.pick([nil, [:ids, [1, 2]], [:emails, ["ann@example.com"]],
                             [:per_user_data, [{ id: "1", data: { a: 1 } }]]])
        f[audience[0]] = audience[1] if audience
        f[:id_ignore_missing] = true if gen.chance(0.3)
        same_api_call(:trigger_broadcast, :TriggerBroadcastRequest, f)
      end
    end

    it "refuses a request of the wrong class, or two audiences, alike", six: true do
      [[:send_email, {}], [:trigger_broadcast, "x"]].each do |name, req|
        _, err_o = outcome { api_official.public_send(name, req) }
        _, err_n = outcome { api_ours.public_send(name, req) }
        expect(err_n.class).to eq(err_o.class)
      end
      args = { broadcast_id: 1, ids: [1], emails: ["a"] }
      _, err_o = outcome { Customerio::TriggerBroadcastRequest.new(args) }
      _, err_n = outcome { CustomerioNative::TriggerBroadcastRequest.new(args) }
      expect(error(err_n)).to eq(error(err_o))
    end
  end
end

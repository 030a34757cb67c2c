# frozen_string_literal: true

require_relative "spec_helper"
require_relative "arg_gen"
require "time"

unless PEERS_MISSING
  load_peer("analytics-ruby-2.5.0") # the standard library only
  require "segment/analytics"
end

# Segment's analytics-ruby 2.5 (Segment::Analytics) and CustomerioNative::Analytics, made with
# the same options (host:, port:, ssl:, path:) and called the same way against one TLS emulator;
# each message both put on the wire is compared. Every difference that remains is here (and in
# the README's Ruby section); the comparison accepts exactly these.
#
# | #   | where                      | analytics-ruby 2.5                      | ours                                    | why                                                                 |
# |-----|----------------------------|-----------------------------------------|-----------------------------------------|---------------------------------------------------------------------|
# | A1  | where batches go without   | POST /v1/import (Segment's)             | POST /v1/batch                          | /v1/batch is the Pipelines API's batch endpoint; a given path: is   |
# |     | path:                      |                                         |                                         | honoured by both (compared here with path: "/v1/batch")             |
# | A2  | context.library            | {"name":"analytics-ruby",...}           | {"name":"customerio-native",...}        | says who sent it                                                    |
# | A3  | messageId                  | a random UUID                           | a ULID                                  | sortable, made by libcustomerio (compared by presence)              |
# | A4  | timestamp when none given  | Time.new, local offset ("+01:00")       | now in UTC ("Z")                        | made by libcustomerio (compared by presence)                        |
# | A5  | userId/anonymousId/groupId | as given (an Integer stays a number)    | Strings                                 | the Pipelines API's ids are strings; libcustomerio checks them      |
# | A6  | a Time below the top level | Time#to_s ("2024-05-01 12:00:00 UTC")   | ISO-8601 with milliseconds              | every Time the same way, at any depth                               |
# |     | (and any Time in context)  |                                         |                                         |                                                                     |
# | A7  | page without name          | "name": ""                              | no name                                 | an empty name says nothing                                          |
# | A8  | screen without name        | ArgumentError "name must be given"      | sent (the API does not require it)      | the API's rule, checked by libcustomerio                            |
# | A9  | rejected message           | ArgumentError                           | ValidationError (an ArgumentError)      | the same rescue catches both; ours carries libcustomerio's details  |
# | A10 | ids libcustomerio refuses  | sent                                    | ValidationError before queueing         | blank or over-long ids, control characters: refused by the API too  |
# | A11 | timestamp: a String        | ArgumentError "Timestamp must be a Time"| taken as ISO-8601 text                  | a superset                                                          |
# | A13 | page category              | dropped (its parser keeps it for screen | sent                                    | the Pipelines API's page message has a category; dropping what the |
# |     |                            | only)                                   |                                         | caller gave would lose it silently                                  |
# | A12 | sentAt                     | the send time                           | the send time                           | not compared (a clock reading)                                      |
RSpec.describe "analytics-ruby 2.5 and CustomerioNative::Analytics, side by side" do

  let(:gen) { ArgGen.new }
  let(:options) do
    { write_key: CDP_API_KEY, host: "127.0.0.1", port: tls_mock.port, ssl: true,
      path: "/v1/batch" }
  end
  let(:official) { Segment::Analytics.new(copy(options)) }
  let(:ours) do
    # one request at a time, as analytics-ruby's worker sends, so that arrival order is call order
    a = CustomerioNative::Analytics.new(copy(options).merge(ca_file: ca_file, linger: 0.01,
                                                            max_in_flight: 1))
    (@ours ||= []) << a
    a
  end
  after { (@ours || []).each(&:close) }

  def copy(value)
    Marshal.load(Marshal.dump(value))
  end

  # A6 on analytics-ruby's side: Time#to_s below the top level as ours writes it.
  def iso_times(value)
    case value
    when Hash then value.transform_values { |v| iso_times(v) }
    when Array then value.map { |v| iso_times(v) }
    when TIME_TEXT then CustomerioNative::Analytics.iso8601(Time.parse(value))
    else value
    end
  end

  # A message with A2-A7 taken out, so that what is left must be equal. timed: whether the
  # call gave a timestamp (else A4: compared by presence).
  def comparable(msg, official:, timed: true)
    msg = msg.dup
    expect(msg.delete("messageId")).to be_a(String)
    expect(msg.delete("timestamp")).to be_a(String) unless timed
    msg["context"] = msg["context"].reject { |k, _| k == "library" }
    msg.delete("context") if msg["context"].empty?
    %w[userId anonymousId groupId previousId].each { |k| msg[k] = msg[k].to_s if msg.key?(k) }
    %w[traits properties context].each { |k| msg[k] = iso_times(msg[k]) if msg.key?(k) }
    msg.delete("name") if official && msg["name"] == "" # A7
    msg.delete("category") if !official && msg["type"] == "page" # A13
    msg
  end

  # The messages each client put on the wire, told apart by context.library (A2); waits (up
  # to 5 s) until analytics-ruby's count is there: its flush can return while its worker still
  # holds a batch it took off the queue.
  def sent(count = nil)
    deadline = Process.clock_gettime(Process::CLOCK_MONOTONIC) + 5
    loop do
      theirs, mine = sent_now
      return [theirs, mine] if count.nil? || theirs.size >= count ||
                               Process.clock_gettime(Process::CLOCK_MONOTONIC) > deadline

      sleep 0.05
    end
  end

  def sent_now
    batches = tls_mock.requests.map do |r|
      expect([r["method"], r["path"]]).to eq(["POST", "/v1/batch"])
      expect(r.dig("headers", "authorization"))
        .to eq("Basic #{["#{CDP_API_KEY}:"].pack('m0')}")
      expect(r.dig("headers", "content-type")).to eq("application/json")
      JSON.parse(r["body"])["batch"]
    end
    batches.flatten.partition { |m| m.dig("context", "library", "name") == "analytics-ruby" }
  end

  def common_fields
    f = {}
    if gen.chance(0.7) then f[:user_id] = gen.id
    else f[:anonymous_id] = gen.id
    end
    f[:context] = gen.hash(1) if gen.chance(0.4)
    f[:integrations] = { "All" => true, "Amplitude" => gen.pick([true, false]) } if gen.chance(0.3)
    f[:timestamp] = gen.time if gen.chance(0.5)
    f[:message_id] = "m-#{gen.int(10**6)}" if gen.chance(0.3)
    f
  end

  # One call with generated fields for every kind of message.
  def call_fields(kind)
    f = common_fields
    case kind
    when :identify then f[:traits] = gen.hash(2)
    when :track
      f[:event] = gen.pick(ArgGen::STRINGS[1..])
      f[:properties] = gen.hash(2)
    when :page, :screen
      f[:name] = "Home #{gen.int(9)}" if kind == :screen || gen.chance(0.7)
      f[:category] = "docs" if gen.chance(0.3)
      f[:properties] = gen.hash(2)
    when :group
      f[:group_id] = gen.id
      f[:traits] = gen.hash(1)
    when :alias
      f = { previous_id: gen.id, user_id: gen.id }.merge(f.except(:user_id, :anonymous_id))
    end
    f
  end

  it "identify, track, page, screen, group and alias put the same messages on the wire" do
    returns = []
    timed = []
    kinds = %i[identify track page screen group alias]
    COMPAT_ROUNDS.times do
      kind = gen.pick(kinds)
      fields = call_fields(kind)
      timed << fields.key?(:timestamp)
      ret_o, err_o = outcome { official.public_send(kind, copy(fields)) }
      ret_n, err_n = outcome { ours.public_send(kind, **copy(fields)) }
      expect(err_n).to be_nil, "#{kind}(#{fields.inspect}): ours raised #{err_n.inspect}"
      expect(err_o).to be_nil, "#{kind}(#{fields.inspect}): analytics-ruby raised #{err_o.inspect}"
      returns << [ret_o, ret_n]
    end
    official.flush
    ours.flush
    theirs, mine = sent(COMPAT_ROUNDS)
    expect(mine.size).to eq(COMPAT_ROUNDS)
    expect(mine.zip(timed).map { |m, t| comparable(m, official: false, timed: t) })
      .to eq(theirs.zip(timed).map { |m, t| comparable(m, official: true, timed: t) })
    expect(returns.uniq).to eq([[true, true]])
  end

  it "a given timestamp and message_id are sent the same" do
    t = Time.utc(2024, 5, 1, 12, 0, 0.123r)
    official.track(user_id: "1", event: "x", timestamp: t, message_id: "m-1")
    ours.track(user_id: "1", event: "x", timestamp: t, message_id: "m-1")
    official.flush
    ours.flush
    theirs, mine = sent(1)
    expect(mine.map { |m| m.values_at("timestamp", "messageId") })
      .to eq(theirs.map { |m| m.values_at("timestamp", "messageId") })
  end

  it "String keys, with or without braces, and unknown fields, are taken alike" do
    official.track({ "user_id" => "1", "event" => "x", "colour" => "red" })
    ours.track("user_id" => "1", "event" => "x", "colour" => "red")
    official.flush
    ours.flush
    theirs, mine = sent(1)
    expect(mine.map { |m| comparable(m, official: false, timed: false) })
      .to eq(theirs.map { |m| comparable(m, official: true, timed: false) })
  end

  it "refuses the same calls, ours with ValidationError (an ArgumentError, A9)" do
    [[:track, { event: "x" }], [:track, { user_id: "1" }], [:identify, { user_id: "" }],
     [:group, { user_id: "1" }], [:alias, { user_id: "1" }],
     [:track, { user_id: "1", event: "x", properties: "no" }],
     [:identify, { user_id: "1", traits: [1] }],
     [:track, { user_id: "1", event: "x", timestamp: 5 }]].each do |kind, fields|
      _, err_o = outcome { official.public_send(kind, copy(fields)) }
      _, err_n = outcome { ours.public_send(kind, copy(fields)) }
      expect(err_o).to be_a(ArgumentError), "#{kind}(#{fields})"
      expect(err_n).to be_a(err_o.class), "#{kind}(#{fields}): #{err_n.inspect}"
    end
    official.flush
    ours.flush
    expect(tls_mock.requests).to be_empty
  end

  it "Segment::Analytics::Client and test: true queue alike" do
    theirs = Segment::Analytics::Client.new(write_key: "k", test: true)
    mine = CustomerioNative::Analytics::Client.new(write_key: "k", test: true)
    [theirs, mine].each { |c| c.track(user_id: "1", event: "Signed Up", properties: { a: 1 }) }
    expect(mine.test_queue.track.last.slice(:type, :event, :userId, :properties))
      .to eq(theirs.test_queue.track.last.slice(:type, :event, :userId, :properties))
  end
end

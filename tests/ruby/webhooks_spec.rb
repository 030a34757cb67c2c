# frozen_string_literal: true

require_relative "spec_helper"

# Reporting webhooks: CustomerioNative::Webhooks.valid_signature?, verify, sign, parse and
# Deduplicator, all from libcustomerio.
RSpec.describe CustomerioNative::Webhooks do
  key = "755781b5e03a973f3405a85474d5a032a60fd56fabaad66039b12eadd83955fa"
  ts = 1_692_633_432
  body = '{"key": "value"}'
  sig = "d7c655389bb364d3e8bdbb6ec18a7f1b6cf91f39bba647554ada78aa61de37b9"
  webhooks = described_class

  it "verifies the documented test vector (v0= prefix and upper case accepted)" do
    expect(webhooks.valid_signature?(key, ts, body, sig)).to be(true)
    expect(webhooks.valid_signature?(key, ts.to_s, body, "v0=#{sig}")).to be(true)
    expect(webhooks.valid_signature?(key, ts, body, sig.upcase)).to be(true)
    expect(webhooks.sign(key, ts, body)).to eq(sig)
  end

  %w[key timestamp body signature].each do |what|
    it "fails when any byte of the #{what} changes" do
      0.step(63, 7) do |i|
        k, t, b, s = key.dup, ts.to_s, body.b, sig.dup
        case what
        when "key" then k[i] = k[i] == "0" ? "1" : "0"
        when "timestamp" then t[i % t.size] = t[i % t.size] == "0" ? "1" : "0"
        when "body" then b.setbyte(i % b.bytesize, b.getbyte(i % b.bytesize) ^ 1)
        else s[i] = s[i] == "0" ? "1" : "0"
        end
        expect(webhooks.valid_signature?(k, t, b, s)).to be(false)
      end
    end
  end

  it "malformed headers are false, not errors" do
    expect(webhooks.valid_signature?(key, "not-a-time", body, sig)).to be(false)
    expect(webhooks.valid_signature?(key, ts, body, "zz")).to be(false)
    expect(webhooks.valid_signature?("", ts, body, sig)).to be(false)
    expect(webhooks.valid_signature?(key, nil, body, nil)).to be(false)
  end

  it "verify raises per failure and checks the replay window" do
    expect(webhooks.verify(key, ts, body, sig, tolerance: 0)).to be_nil
    expect { webhooks.verify(key, ts, body, sig) }
      .to raise_error(webhooks::StaleTimestamp) { |e| expect(e.error_code).to eq(:stale) }
    expect(webhooks.verify(key, ts, body, sig, now: Time.at(ts + 299))).to be_nil
    expect { webhooks.verify(key, ts, "#{body} ", sig, tolerance: 0) }
      .to raise_error(webhooks::InvalidSignature) { |e| expect(e.message).not_to include(key) }
    expect { webhooks.verify(key, "yesterday", body, sig) }
      .to raise_error(webhooks::MalformedRequest, /timestamp/i)
    now = Time.now.to_i
    expect(webhooks.verify(key, now, body, webhooks.sign(key, now, body))).to be_nil
  end

  it "signs and verifies bodies with NUL bytes and any encoding" do
    raw = "a\x00b\xFF".b
    expect(webhooks.valid_signature?(key, ts, raw, webhooks.sign(key, ts, raw))).to be(true)
    expect(webhooks.sign(key, ts, body.encode("UTF-16LE").force_encoding("BINARY")))
      .not_to eq(sig)
  end

  it "parses one event or many; unknown metrics and fields pass through" do
    events = webhooks.parse('{"events":[{"event_id":"e1","object_type":"email",' \
                            '"metric":"opened","timestamp":1700000000,' \
                            '"data":{"delivery_id":"d1","customer_id":"42"}},' \
                            '{"event_id":"e2","object_type":"carrier_pigeon",' \
                            '"metric":"landed","timestamp":1,"extra":true}]}')
    first, second = events
    expect(first).to be_a(webhooks::Event)
    expect([first.event_id, first.object_type, first.metric, first.timestamp])
      .to eq(["e1", "email", "opened", 1_700_000_000])
    expect(first.delivery_id).to eq("d1")
    expect(first.data).to eq("delivery_id" => "d1", "customer_id" => "42")
    expect([second.object_type, second.metric, second.data]).to eq(["carrier_pigeon", "landed", {}])
    expect(second.raw["extra"]).to be(true)
    single = webhooks.parse('{"event_id":"e3","object_type":"sms","metric":"sent","timestamp":5}')
    expect(single.map(&:event_id)).to eq(["e3"])
  end

  it "parse errors name what is wrong" do
    expect { webhooks.parse("{") }.to raise_error(webhooks::MalformedRequest, /not JSON/)
    expect { webhooks.parse('{"events":[{"object_type":"email"}]}') }
      .to raise_error(webhooks::MalformedRequest, /event_id/)
  end

  it "Deduplicator drops redeliveries within its window" do
    dedup = webhooks::Deduplicator.new(capacity: 2, ttl: 60)
    expect(dedup.seen?("e1", now: 1000)).to be(false)
    expect(dedup.seen?("e1", now: 1001)).to be(true)
    expect(dedup.seen?("e1", now: Time.at(1061))).to be(false) # expired, recorded again
    dedup.seen?("e2", now: 1062)
    dedup.seen?("e3", now: 1063) # evicts the oldest
    expect(dedup.size).to eq(2)
    dedup.close
    dedup.close
    expect { dedup.seen?("e4") }.to raise_error(webhooks::Error, /closed/)
  end
end

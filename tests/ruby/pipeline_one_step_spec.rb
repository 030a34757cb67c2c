# frozen_string_literal: true

require_relative "spec_helper"

# Pipeline#track / pageview / screen / identify go through one call into C
# (Native.cio_rb_v2_person, bindings/rb_v2.i), which writes the attributes as JSON itself, and
# Payload.json / Analytics write plain values with the same writer (Native.cio_rb_json): the
# bytes must be JSON.generate's, the operations those of the way through Ruby
# (@fast = false), and what the one step leaves (nil) must behave as before. Against the
# emulator: the operations compared are the ones it received.
RSpec.describe "the one-step calls" do
  ULID_MEMBER = /"id":"[0-9A-HJKMNP-TV-Z]{26}"/.freeze

  def pipeline(**options)
    pipe = CustomerioNative::Pipeline.new(SITE_ID, API_KEY, url: mock.url, **options)
    (@pipelines ||= []) << pipe
    pipe
  end

  after { (@pipelines || []).each(&:close) }

  # What each call does, with the one step on and then off: [[outcome, ...] x 2], an outcome
  # being :no_error or [exception class, message].
  def outcomes_both_ways(pipe, calls)
    [true, false].map do |fast|
      pipe.instance_variable_set(:@fast, fast)
      calls.map do |call|
        call.call
        :no_error
      rescue StandardError => e
        [e.class, e.message]
      end
    end
  end

  # The operations of the batches the emulator accepted, as the exact text received.
  def raw_ops
    mock.requests.select { |r| r["path"] == "/api/v2/batch" && r["status"] == 200 }.flat_map do |r|
      text = r["body"].delete_prefix('{"batch":[').delete_suffix("]}")
      ops = []
      depth = 0
      start = 0
      in_str = false
      esc = false
      text.each_char.with_index do |ch, i|
        if in_str
          if esc then esc = false
          elsif ch == "\\" then esc = true
          elsif ch == '"' then in_str = false
          end
        elsif ch == '"' then in_str = true
        elsif "{[".include?(ch) then depth += 1
        elsif "}]".include?(ch) then depth -= 1
        elsif ch == "," && depth.zero?
          ops << text[start...i]
          start = i + 1
        end
      end
      ops << text[start..]
    end
  end

  ATTRIBUTES = [
    {},
    { price: 23.45, sku: "SKU-1" },
    { who: "Zoë", "quote" => "say \"hi\"\\ \n\t\u0001\u001f\u007f/<", emoji: "😀", sep: "\u2028" },
    { f: [0.1, 1.5, -2.25, 1e16, 1e-7, 0.30000000000000004, -0.0, 3.0, 1e300, 123_456_789.123,
          1e15, 999_999_999_999_999.9, 0.0001, 0.00015, 12.34, 99.99, 1e-5] },
    { i: [0, -1, 2**63, -(2**70), 10**30], b: [true, false, nil] },
    { nested: { a: [{ b: { c: [] } }, {}], "é" => { "ü" => "ß" } } },
    { "ü-key" => 1, "" => "empty key" }
  ].freeze

  %i[track pageview screen identify].each do |method|
    it "writes what JSON.generate writes (#{method})" do
      pipe = pipeline
      ATTRIBUTES.each do |attrs|
        [true, false].each do |fast|
          pipe.instance_variable_set(:@fast, fast)
          if method == :identify
            pipe.identify(**attrs.transform_keys(&:to_sym), id: "5")
          else
            pipe.public_send(method, "5", "purchased", attrs)
          end
        end
      end
      expect(pipe.flush(timeout: 10)).to be(true)
      ops = raw_ops.map { |op| op.sub(ULID_MEMBER, '"id":"X"') }
      expect(ops.size).to eq(2 * ATTRIBUTES.size)
      ops.each_slice(2) { |fast, slow| expect(fast).to eq(slow) }
    end
  end

  it "takes Client#track's argument styles as the way through Ruby does" do
    pipe = pipeline
    calls = [
      -> { pipe.track("5", "e") }, -> { pipe.track("5", "e", price: 1.5) },
      -> { pipe.track("5", "e", { price: 1.5 }) }, -> { pipe.track("5", "e", {}) },
      -> { pipe.track("5", "e", price: 1.5, timestamp: 1_700_000_000) },
      -> { pipe.track("5", "e", { timestamp: 1_700_000_000, a: 1 }) },
      -> { pipe.track("5", "e", { a: 1 }, id: "ev-1") },
      -> { pipe.track("5", "e", id: "ev-2") }, -> { pipe.track("5", "e", id: "", price: 2) },
      -> { pipe.track("cio_abc", "e", a: 1) }, -> { pipe.track(5, :e, a: 1) },
      -> { pipe.track("é".encode("ISO-8859-1"), "e") }
    ]
    [true, false].each do |fast|
      pipe.instance_variable_set(:@fast, fast)
      calls.each(&:call)
    end
    expect(pipe.flush(timeout: 10)).to be(true)
    ops = raw_ops.map { |op| op.sub(ULID_MEMBER, '"id":"X"') }
    expect(ops.size).to eq(2 * calls.size)
    expect(ops.first(calls.size)).to eq(ops.last(calls.size))
    expect(ops.first(calls.size)).to include(a_string_including('"id":"ev-1"'))
    refusals = outcomes_both_ways(
      pipe, [-> { pipe.track(" ", "e") }, -> { pipe.track("5", nil) },
             -> { pipe.track("5", "e", 1) }, -> { pipe.track("5", "e", { a: 1 }, bogus: 2) },
             -> { pipe.track("5", "e", timestamp: "soon") }]
    )
    expect(refusals[0]).to eq(refusals[1])
    expect(refusals[0]).not_to include(:no_error)
  end

  it "queues the usual call itself, with the exact bytes" do
    pipe = pipeline
    guard = pipe.instance_variable_get(:@guard)
    seq = CustomerioNative::Native.cio_rb_v2_person(
      guard, 1, "cio_abc", "purchased", { price: 23.45, who: "Zoë", q: 'a"b', n: nil, ok: true }
    )
    expect(seq).to be_a(Integer)
    expect(CustomerioNative::Native.cio_rb_v2_person(guard, 1, 5, "e", {})).to be_nil
    expect(CustomerioNative::Native.cio_rb_v2_person(guard, 1, "5", "e", { t: Time.now })).to be_nil
    pipe.flush(timeout: 10)
    expect(raw_ops.map { |op| op.sub(ULID_MEMBER, '"id":"X"') }).to eq([
      '{"id":"X","type":"person","action":"event","identifiers":{"cio_id":"abc"},' \
      '"name":"purchased","attributes":{"price":23.45,"who":"Zoë","q":"a\\"b","n":null,"ok":true}}'
    ])
  end

  it "leaves Times, Symbol values, other encodings and invalid bytes to the way through Ruby" do
    pipe = pipeline
    pipe.track(5, "e", { at: Time.at(1_714_564_800) })
    pipe.track("5", "e", { plan: :pro })
    pipe.track("5", "e", { latin: "é".encode("ISO-8859-1") })
    pipe.identify(id: 7, a: 1)
    pipe.flush(timeout: 10)
    ops = raw_ops.map { |op| JSON.parse(op) }
    expect(ops.map { |op| op["attributes"] }).to eq(
      [{ "at" => 1_714_564_800 }, { "plan" => "pro" }, { "latin" => "é" }, { "a" => 1, "id" => 7 }]
    )
    expect { pipe.track("5", "e", { bad: "\xff".dup.force_encoding("UTF-8") }) }
      .to raise_error(CustomerioNative::PipelineError, /cannot be encoded as JSON/)
  end

  it "refuses what the way through Ruby refuses, in the same words" do
    pipe = pipeline
    calls = [
      -> { pipe.track("x" * 151, "e") }, -> { pipe.track("5", "e", { s: "\u0000" }) },
      -> { pipe.track("a\u0000b", "e") }, -> { pipe.track("5", "e", { n: Float::NAN }) },
      -> { pipe.track(" ", "e") }
    ]
    got = outcomes_both_ways(pipe, calls)
    expect(got[0]).to eq(got[1])
    expect(got[0][0][1]).to include("identifiers.id is longer than 150 bytes")
    pipe.close
    [true, false].each do |fast|
      pipe.instance_variable_set(:@fast, fast)
      expect { pipe.track("5", "e") }.to raise_error(CustomerioNative::PipelineError, /closed/)
    end
    expect(raw_ops).to eq([])
  end

  it "writes plain values for Payload.json as JSON.generate does" do
    values = ATTRIBUTES + [[1, "a"], "text", nil, 1.5, { a: { b: [1.0e+20, -0.0] } }]
    values.each do |value|
      expect(CustomerioNative::Native.cio_rb_json(value)).to eq(JSON.generate(value))
    end
    expect(CustomerioNative::Native.cio_rb_json({ t: Time.now })).to be_nil
    expect(CustomerioNative::Native.cio_rb_json({ 1 => 2 })).to be_nil
    expect(CustomerioNative::Native.cio_rb_json(Float::INFINITY)).to be_nil
  end
end

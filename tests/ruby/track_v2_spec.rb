# frozen_string_literal: true

require_relative "spec_helper"

# Track API v2 through Client#v2: send_entity, send_batch with per-item results, and the
# helpers for people, objects and deliveries.
RSpec.describe CustomerioNative::TrackV2 do
  let(:client) { new_client }
  let(:v2) { client.v2 }
  let(:ulid) { /\A[0-9A-HJKMNP-TV-Z]{26}\z/ }

  def sent
    mock.requests.map do |r|
      expect(r["status"]).to eq(200)
      [r["path"], body_of(r)]
    end
  end

  it "send_entity posts one operation as given" do
    v2.send_entity(type: "person", action: "identify", identifiers: { email: "a@example.com" },
                   attributes: { plan: "pro", since: Time.at(1_700_000_000) })
    expect(sent).to eq([["/api/v2/entity",
                         { "type" => "person", "action" => "identify",
                           "identifiers" => { "email" => "a@example.com" },
                           "attributes" => { "plan" => "pro", "since" => 1_700_000_000 } }]])
  end

  it "send_batch returns {} when every item was accepted" do
    ops = [{ type: "person", action: "identify", identifiers: { id: 1 } },
           { type: "person", action: "event", identifiers: { id: 1 }, name: "signed_up" }]
    expect(v2.send_batch(ops)).to eq({})
    path, body = sent.first
    expect(path).to eq("/api/v2/batch")
    expect(body["batch"].size).to eq(2)
    expect(body["batch"][1]["id"]).to match(ulid)
  end

  it "send_batch reports the items Customer.io rejected, by index" do
    mock.fault(count: 1, status: 207, body: {
                 errors: [{ batch_index: 1, reason: "invalid", field: "identifiers",
                            message: "bad id" }]
               })
    ops = Array.new(3) { |i| { type: "person", action: "identify", identifiers: { id: i } } }
    expect(v2.send_batch(ops)).to eq(
      "errors" => [{ "batch_index" => 1, "reason" => "invalid", "field" => "identifiers",
                     "message" => "bad id" }]
    )
  end

  it "send_batch splits a batch over 500 KB into several requests without losing items" do
    ops = Array.new(40) do |i|
      { type: "person", action: "identify", identifiers: { id: i },
        attributes: { blob: "x" * 20_000 } }
    end
    expect(v2.send_batch(ops)).to eq({})
    batches = sent.map { |_, body| body["batch"] }
    expect(batches.size).to be >= 2
    # The requests go out concurrently: any arrival order, every item once.
    expect(batches.flatten.map { |op| op["identifiers"]["id"] }.sort).to eq((0...40).to_a)
  end

  it "send_batch validates every operation first and returns the bad one by index" do
    # (with valid items alongside: tests/ruby/dropin_batch_flags_spec.rb)
    ops = [{ type: "person", action: "fly", identifiers: { id: 2 } }]
    expect(v2.send_batch(ops)["errors"].map { |e| e.slice("batch_index", "reason", "field") })
      .to eq([{ "batch_index" => 0, "reason" => "invalid", "field" => "action" }])
    expect { v2.send_batch("nope") }.to raise_error(CustomerioNative::Client::ParamError)
    expect(mock.requests).to be_empty
  end

  it "person helpers build the operations" do
    v2.identify_person({ email: "a@example.com" }, plan: "pro")
    v2.track_person_event({ id: 5 }, "purchase", { total: 9.5 }, id: "01HZZZZZZZZZZZZZZZZZZZZZZZ",
                                                                 timestamp: Time.at(1_700_000_000))
    v2.person_pageview({ cio_id: "f00" }, "https://example.com/", referrer: "x")
    v2.person_screen({ id: 5 }, "Settings")
    v2.add_person_device({ id: 5 }, "tok", "ios", last_used: 1_700_000_000, attributes: { v: 1 })
    v2.delete_person_device({ id: 5 }, "tok")
    v2.suppress_person({ id: 5 })
    v2.unsuppress_person({ id: 5 })
    v2.merge_persons({ email: "keep@example.com" }, { id: 6 })
    v2.add_person_relationships({ id: 5 }, [{ identifiers: { object_type_id: "1", object_id: "acme" } }])
    v2.delete_person({ id: 5 })
    ops = sent.map(&:last)
    expect(sent.map(&:first)).to all(eq("/api/v2/entity"))
    expect(ops.map { |op| [op["type"], op["action"]] }).to eq(
      [%w[person identify], %w[person event], %w[person page], %w[person screen],
       %w[person add_device], %w[person delete_device], %w[person suppress],
       %w[person unsuppress], %w[person merge], %w[person add_relationships],
       %w[person delete]]
    )
    expect(ops[0]).to include("identifiers" => { "email" => "a@example.com" },
                              "attributes" => { "plan" => "pro" })
    expect(ops[1]).to include("name" => "purchase", "attributes" => { "total" => 9.5 },
                              "timestamp" => 1_700_000_000, "id" => "01HZZZZZZZZZZZZZZZZZZZZZZZ")
    expect(ops[2]).to include("name" => "https://example.com/", "identifiers" => { "cio_id" => "f00" })
    expect(ops[3]["id"]).to match(ulid)
    expect(ops[4]["device"]).to include("token" => "tok", "platform" => "ios",
                                        "last_used" => 1_700_000_000)
    expect(ops[8]).to include("primary" => { "email" => "keep@example.com" },
                              "secondary" => { "id" => "6" })
    expect(ops[9]["cio_relationships"]).to eq(
      [{ "identifiers" => { "object_type_id" => "1", "object_id" => "acme" } }]
    )
  end

  it "object and delivery helpers build the operations" do
    obj = { object_type_id: "1", object_id: "acme" }
    v2.identify_object(obj, name: "Acme")
    v2.track_object_event(obj, "renewed", seats: 10)
    v2.add_object_relationships(obj, [{ identifiers: { id: "5" } }])
    v2.delete_object_relationships(obj, [{ identifiers: { id: "5" } }])
    v2.delete_object(obj)
    v2.track_delivery_event("dlv-1", "clicked", href: "https://example.com")
    ops = sent.map(&:last)
    expect(ops.map { |op| [op["type"], op["action"]] }).to eq(
      [%w[object identify], %w[object event], %w[object add_relationships],
       %w[object delete_relationships], %w[object delete], %w[delivery event]]
    )
    expect(ops[0]["identifiers"]).to eq("object_type_id" => "1", "object_id" => "acme")
    expect(ops[5]).to include("identifiers" => { "id" => "dlv-1" }, "name" => "clicked",
                              "attributes" => { "href" => "https://example.com" })
  end

  it "identifiers of another shape go to /entity as given, and the C library judges them" do
    expect { v2.identify_person({ id: 1, email: "two@example.com" }) }
      .to raise_error(CustomerioNative::Client::ParamError, /identifiers/)
    expect(mock.requests).to be_empty
  end

  it "sends what libcustomerio's builders make: ids as text, objects by cio_object_id" do
    v2.identify_person({ id: 5 }, plan: "pro")
    v2.identify_object({ cio_object_id: "o1" })
    v2.delete_object({ "object_type_id" => 1, "object_id" => 2 })
    expect(sent).to eq(
      [["/api/v2/entity", { "type" => "person", "action" => "identify",
                            "identifiers" => { "id" => "5" },
                            "attributes" => { "plan" => "pro" } }],
       ["/api/v2/entity", { "type" => "object", "action" => "identify",
                            "identifiers" => { "cio_object_id" => "o1" }, "attributes" => {} }],
       ["/api/v2/entity", { "type" => "object", "action" => "delete",
                            "identifiers" => { "object_type_id" => "1", "object_id" => "2" } }]]
    )
  end

  it "a builder's refusal raises ParamError naming the call, and sends nothing" do
    expect { v2.track_person_event({ id: 1 }, "") }
      .to raise_error(CustomerioNative::Client::ParamError, /\Av2_person_event: .*name/)
    expect { v2.delete_object({ object_type_id: "1" }) }
      .to raise_error(CustomerioNative::Client::ParamError, /identifiers must name an object/)
    expect(mock.requests).to be_empty
  end

  it "an HTTP failure raises InvalidResponse" do
    mock.fault(count: 1, status: 400, body: { errors: [{ reason: "invalid" }] })
    expect { v2.delete_person({ id: 1 }) }.to raise_error(CustomerioNative::InvalidResponse) { |e|
      expect(e.code).to eq("400")
    }
  end
end

# frozen_string_literal: true

require_relative "spec_helper"

# Issue 15, items 9 and 10, on the wire: Client#v2.send_batch sends the valid operations and
# returns the invalid ones by index, in the shape of Customer.io's 207 answer (the same as the
# Python package's); App API reads send false flags as =false instead of dropping them.
RSpec.describe "send_batch with invalid items, and false query flags" do
  let(:v2) { new_client.v2 }
  let(:api) do
    CustomerioNative::APIClient.new(APP_API_KEY, url: mock.url, backoff: 0.001).tap do |c|
      (@clients ||= []) << c
    end
  end

  def op(i)
    { "type" => "person", "action" => "identify", "identifiers" => { "id" => i.to_s } }
  end

  let(:no_name) { { "type" => "person", "action" => "event", "identifiers" => { "id" => "9" } } }
  let(:bad_action) { { "type" => "person", "action" => "fly", "identifiers" => { "id" => "8" } } }

  def sent_batches
    mock.requests.map do |r|
      expect([r["method"], r["path"]]).to eq(["POST", "/api/v2/batch"])
      body_of(r)["batch"]
    end
  end

  def expect_item(item, index, reason, field)
    expect(item.slice("batch_index", "reason", "field"))
      .to eq("batch_index" => index, "reason" => reason, "field" => field)
    expect(item["message"]).to include("operations[#{index}]")
  end

  it "sends the valid operations and returns the invalid ones by their index" do
    result = v2.send_batch([op(0), no_name, op(2), bad_action])
    expect(result.keys).to eq(["errors"])
    expect(result["errors"].size).to eq(2)
    expect_item(result["errors"][0], 1, "required", "name")
    expect_item(result["errors"][1], 3, "invalid", "action")
    expect(sent_batches).to eq([[op(0), op(2)]])
  end

  it "lists invalid items and Customer.io's 207 rejections with the caller's indexes" do
    # sent: items 0, 2, 3; the server's batch_index 2 is the caller's item 3
    mock.fault(count: 1, status: 207, body: {
                 errors: [{ batch_index: 2, reason: "invalid", field: "identifiers",
                            message: "unknown person" }]
               })
    result = v2.send_batch([op(0), "not an operation", op(2), op(3)])
    first, second = result["errors"]
    expect(first.keys).to eq(%w[batch_index reason message]) # no field: left out
    expect(first["batch_index"]).to eq(1)
    expect(first["message"]).to include("operations[1]", "must be a JSON object")
    expect(second).to eq("batch_index" => 3, "reason" => "invalid", "field" => "identifiers",
                         "message" => "unknown person")
    expect(sent_batches).to eq([[op(0), op(2), op(3)]])
  end

  it "sends nothing when every operation is invalid, and returns each of them" do
    result = v2.send_batch([bad_action, no_name])
    expect_item(result["errors"][0], 0, "invalid", "action")
    expect_item(result["errors"][1], 1, "required", "name")
    expect(mock.requests).to be_empty
  end

  it "still raises when a request fails as a whole" do
    mock.fault(count: 1, status: 400, body: { errors: [{ reason: "invalid", message: "bad" }] })
    expect { v2.send_batch([op(0), no_name]) }.to raise_error(CustomerioNative::InvalidResponse)
  end

  it "sends unique: false and get_tracked_responses: false as =false, nil as nothing" do
    api.transactional.get_link_metrics(1, unique: false)
    api.transactional.get_link_metrics(1, unique: true)
    api.transactional.get_link_metrics(1)
    api.transactional.get_deliveries(1, get_tracked_responses: false)
    api.transactional.get_deliveries(1, state: "sent", get_tracked_responses: true)
    api.transactional.get_deliveries(1)
    expect(mock.requests.map { |r| r["query"] })
      .to eq(["unique=false", "unique=true", "", "get_tracked_responses=false",
              "state=sent&get_tracked_responses=true", ""])
  end
end

# frozen_string_literal: true

require_relative "spec_helper"

# Track v2 identifiers are libcustomerio's to judge (issue 17, item 5): { id: | email: |
# cio_id: value } goes to the builders as (id type, value); any other shape goes as the caller's
# identifiers in JSON (CIO_ID_TYPE_IDENTIFIERS), written as given and accepted or refused as an
# operation written by hand; an object's parts go as they are. Through Client#v2 (sent at once)
# and Pipeline (queued), against the emulator.
RSpec.describe "Track v2 identifiers" do
  let(:client) { new_client }
  let(:v2) { client.v2 }

  def pipeline
    pipe = CustomerioNative::Pipeline.new(SITE_ID, API_KEY, url: mock.url, backoff: 0.001)
    (@pipelines ||= []) << pipe
    pipe
  end

  after { (@pipelines || []).each(&:close) }

  def sent_ops
    mock.requests.map do |r|
      expect(r["status"]).to eq(200)
      body_of(r)
    end
  end

  def delivered_ops
    mock.requests.select { |r| r["path"] == "/api/v2/batch" && r["status"] == 200 }
                 .flat_map { |r| body_of(r)["batch"] }
  end

  # [call, libcustomerio's message] for identifiers it refuses, with the field it names.
  def refused(target)
    [
      [-> { target.identify_person({ id: "1", email: "a@b.c" }) },
       "v2_person_identify: operation: identifiers must have exactly one of id, email, cio_id"],
      [-> { target.delete_person({ phone: "1" }) },
       "v2_person_delete: operation: identifiers must have exactly one of id, email, cio_id"],
      [-> { target.delete_person({}) },
       "v2_person_delete: operation: identifiers must have exactly one of id, email, cio_id"],
      [-> { target.suppress_person({ id: 1.5 }) },
       "v2_person_suppress: operation: identifiers.id must be a string"],
      [-> { target.track_person_event({ email: nil }, "e") },
       "v2_person_event: operation: identifiers.email must be a string"],
      [-> { target.delete_person(nil) },
       "v2_person_delete: identifiers must be a JSON object (got null)"],
      [-> { target.merge_persons({ id: "1" }, "x") },
       "v2_person_merge: secondary must be a JSON object (got string)"],
      [-> { target.merge_persons({ id: "1", cio_id: "c" }, { id: "2" }) },
       "v2_person_merge: operation: primary must have exactly one of id, email, cio_id"],
      [-> { target.delete_person_device([1], "tok") },
       "v2_person_delete_device: identifiers must be a JSON object (got array)"],
      [-> { target.delete_object({ object_type_id: "1", object_id: nil }) },
       "v2_object_delete: identifiers.object_id must be a string"],
      [-> { target.delete_object({ object_type_id: nil, object_id: "a" }) },
       "v2_object_delete: identifiers.object_type_id is empty"],
      [-> { target.identify_object({ cio_object_id: nil }) },
       "v2_object_identify: identifiers.cio_object_id must be a string"],
      [-> { target.delete_object({ object_type_id: "1", cio_object_id: 1.5 }) },
       "v2_object_delete: identifiers.cio_object_id must be a string"],
      [-> { target.delete_object("acme") },
       "v2_object_delete: identifiers.cio_object_id must be a string"],
      [-> { target.add_object_relationships({ cio_object_id: "o1" }, [{}]) },
       "v2_object_add_relationships: operation: cio_relationships: every item needs an " \
       "identifiers object"]
    ]
  end

  it "Client#v2 raises libcustomerio's refusal as ParamError (:invalid_argument), sends nothing" do
    refused(v2).each do |call, message|
      expect(&call).to raise_error(CustomerioNative::Client::ParamError) { |e|
        expect(e.message).to eq(message)
        expect(e.error_code).to eq(:invalid_argument)
        expect(e.detail).to eq(message)
      }
    end
    expect(mock.requests).to be_empty
  end

  it "Pipeline raises libcustomerio's refusal as PipelineError (:invalid_argument), queues none" do
    pipe = pipeline
    refused(pipe).each do |call, message|
      expect(&call).to raise_error(CustomerioNative::PipelineError) { |e|
        expect(e.message).to eq(message)
        expect(e.error_code).to eq(:invalid_argument)
        expect(e.detail).to eq(message)
      }
    end
    expect(pipe.stats[:enqueued]).to eq(0)
  end

  it "identifiers of another shape that libcustomerio accepts are written as given" do
    v2.identify_person({ "id" => :ann }, plan: "pro")       # not a String: goes as JSON
    v2.delete_person({ email: "a@example.com" })            # the (id type, value) path
    v2.merge_persons({ cio_id: :c1 }, { id: 7 })
    v2.identify_object({ object_id: "a", cio_object_id: "o1" }) # cio_object_id wins
    v2.delete_object({ object_type_id: 1, object_id: "b", extra: "x" }) # the parts it has
    expect(sent_ops).to eq(
      [{ "type" => "person", "action" => "identify", "identifiers" => { "id" => "ann" },
         "attributes" => { "plan" => "pro" } },
       { "type" => "person", "action" => "delete",
         "identifiers" => { "email" => "a@example.com" } },
       { "type" => "person", "action" => "merge", "primary" => { "cio_id" => "c1" },
         "secondary" => { "id" => "7" } },
       { "type" => "object", "action" => "identify", "identifiers" => { "cio_object_id" => "o1" },
         "attributes" => {} },
       { "type" => "object", "action" => "delete",
         "identifiers" => { "object_type_id" => "1", "object_id" => "b" } }]
    )
  end

  it "Pipeline writes a caller's identifiers as given, Integer ids as numbers" do
    pipe = pipeline
    pipe.identify_person({ id: :ann })
    pipe.delete_person({ "cio_id" => "c9" })
    pipe.merge_persons({ email: :"a@example.com" }, { id: 12 })
    pipe.add_person_device({ id: 2**64 }, "tok", "ios")
    pipe.delete_object({ "object_type_id" => 3, "object_id" => 4 })
    expect(pipe.flush).to be(true)
    expect(delivered_ops).to eq(
      [{ "type" => "person", "action" => "identify", "identifiers" => { "id" => "ann" },
         "attributes" => {} },
       { "type" => "person", "action" => "delete", "identifiers" => { "cio_id" => "c9" } },
       { "type" => "person", "action" => "merge", "primary" => { "email" => "a@example.com" },
         "secondary" => { "id" => 12 } },
       { "type" => "person", "action" => "add_device",
         "identifiers" => { "id" => "18446744073709551616" },
         "device" => { "token" => "tok", "platform" => "ios" } },
       { "type" => "object", "action" => "delete",
         "identifiers" => { "object_type_id" => "3", "object_id" => "4" } }]
    )
  end

  it "identifiers with no JSON form raise the binding's error, naming the argument" do
    ids = { id: "1" }
    ids[:self] = ids
    expect { v2.delete_person(ids) }
      .to raise_error(CustomerioNative::Client::ParamError, /\Aidentifiers: cannot be encoded/)
    expect { pipeline.merge_persons({ id: "1" }, ids) }
      .to raise_error(CustomerioNative::PipelineError, /\Asecondary: cannot be encoded/)
    expect(mock.requests).to be_empty
  end
end

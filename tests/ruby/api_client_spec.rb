# frozen_string_literal: true

require_relative "spec_helper"
require "stringio"

# The App API client: the official gem's APIClient and request classes (sends, broadcast
# triggers), and the reads of customers, segments and transactional templates.
RSpec.describe CustomerioNative::APIClient do
  let(:api) do
    CustomerioNative::APIClient.new(APP_API_KEY, url: mock.url, backoff: 0.001).tap do |c|
      (@clients ||= []) << c
    end
  end
  let(:identifiers) { { id: "2" } }

  def sent
    mock.requests.map { |r| [r["method"], r["path"], body_of(r)] }
  end

  describe "transactional sends" do
    it "send_email posts the request, with attachments base64-encoded by the C library" do
      req = CustomerioNative::SendEmailRequest.new(
        to: "person@example.com", transactional_message_id: "3",
        message_data: { name: "Person", items: { name: "shoes", price: "59.99" }, products: [] },
        identifiers: identifiers, not_an_api_field: "dropped"
      )
      req.attach("invoice.pdf", "%PDF\x00\xFF".b)
      req.attach("notes.txt", StringIO.new("hello"))
      req.attach("pre.txt", "aGk=", encode: false)
      answer = api.send_email(req)
      expect(answer).to include("delivery_id", "queued_at")
      req_log = mock.only
      expect([req_log["method"], req_log["path"]]).to eq(["POST", "/v1/send/email"])
      expect(req_log["headers"]["authorization"]).to eq("Bearer #{APP_API_KEY}")
      body = body_of(req_log)
      expect(body).not_to have_key("not_an_api_field")
      expect(body["identifiers"]).to eq("id" => "2")
      expect(body["message_data"]["items"]).to eq("name" => "shoes", "price" => "59.99")
      expect(body["attachments"]).to eq("pre.txt" => "aGk=",
                                        "invoice.pdf" => ["%PDF\x00\xFF".b].pack("m0"),
                                        "notes.txt" => ["hello"].pack("m0"))
    end

    it "attach refuses a name used twice" do
      req = CustomerioNative::SendEmailRequest.new(to: "a@example.com", identifiers: identifiers)
      req.attach("a.txt", "x")
      expect { req.attach("a.txt", "y") }.to raise_error(ArgumentError, /already exists/)
      expect { req.attach("b.txt", 42) }.to raise_error(ArgumentError, /Unknown attachment type/)
    end

    {
      send_push: [CustomerioNative::SendPushRequest, "/v1/send/push"],
      send_sms: [CustomerioNative::SendSMSRequest, "/v1/send/sms"],
      send_whatsapp: [CustomerioNative::SendWhatsAppRequest, "/v1/send/whatsapp"],
      send_inbox_message: [CustomerioNative::SendInboxMessageRequest, "/v1/send/inbox_message"],
      send_in_app: [CustomerioNative::SendInAppRequest, "/v1/send/in_app"]
    }.each do |method, (klass, path)|
      it "#{method} posts a #{klass.name.split('::').last} to #{path}" do
        req = klass.new(transactional_message_id: 7, identifiers: { email: "a@example.com" },
                        message_data: { at: Time.at(1_700_000_000) })
        expect(api.public_send(method, req)).to include("delivery_id")
        expect(sent).to eq([["POST", path, { "transactional_message_id" => 7,
                                             "identifiers" => { "email" => "a@example.com" },
                                             "message_data" => { "at" => 1_700_000_000 } }]])
      end
    end

    it "send_push sends device: as custom_device, as the official gem" do
      req = CustomerioNative::SendPushRequest.new(transactional_message_id: 1, identifiers: identifiers,
                                                  title: "Hi", device: { token: "t", platform: "ios" })
      api.send_push(req)
      expect(sent.first[2]).to include("title" => "Hi",
                                       "custom_device" => { "token" => "t", "platform" => "ios" })
      expect(sent.first[2]).not_to have_key("device")
    end

    it "send_sms carries attachments too" do
      req = CustomerioNative::SendSMSRequest.new(transactional_message_id: 1, identifiers: identifiers)
      req.attach("card.vcf", "BEGIN:VCARD")
      api.send_sms(req)
      expect(sent.first[2]["attachments"]).to eq("card.vcf" => ["BEGIN:VCARD"].pack("m0"))
    end

    it "a request of the wrong class is refused as in the official gem" do
      expect { api.send_email(CustomerioNative::SendPushRequest.new(identifiers: identifiers)) }
        .to raise_error(ArgumentError, "request must be an instance of CustomerioNative::SendEmailRequest")
      expect { api.send_sms({}) }.to raise_error(ArgumentError, /SendSMSRequest/)
      expect(mock.requests).to be_empty
    end

    it "a request the C library refuses raises ParamError naming the field; nothing is sent" do
      req = CustomerioNative::SendEmailRequest.new(to: "a@example.com", identifiers: identifiers)
      expect { api.send_email(req) }
        .to raise_error(CustomerioNative::Client::ParamError, /send_email: transactional_message_id/)
      bad = CustomerioNative::SendEmailRequest.new(transactional_message_id: 1, to: "a@example.com",
                                                   identifiers: { id: "1", email: "a@example.com" })
      expect { api.send_email(bad) }.to raise_error(CustomerioNative::Client::ParamError, /identifiers/)
      expect(mock.requests).to be_empty
    end

    it "a 400 raises InvalidResponse whose message is the server's meta.error" do
      mock.fault(count: 1, status: 400, body: { meta: { error: "transactional message not found" } })
      req = CustomerioNative::SendEmailRequest.new(transactional_message_id: 99, to: "a@example.com",
                                                   identifiers: identifiers)
      expect { api.send_email(req) }.to raise_error(CustomerioNative::InvalidResponse) { |e|
        expect(e.code).to eq("400")
        expect(e.message).to eq("transactional message not found")
        expect(e.response.body).to include("meta")
      }
    end

    it "a wrong app key gets 401" do
      bad = CustomerioNative::APIClient.new("wrong", url: mock.url)
      req = CustomerioNative::SendInAppRequest.new(transactional_message_id: 1, identifiers: identifiers)
      expect { bad.send_in_app(req) }.to raise_error(CustomerioNative::InvalidResponse) { |e|
        expect(e.code).to eq("401")
      }
      bad.close
    end
  end

  describe "broadcast triggers" do
    it "trigger_broadcast posts the payload to the broadcast's triggers" do
      req = CustomerioNative::TriggerBroadcastRequest.new(
        broadcast_id: 12, payload: { data: { headline: "Sale" }, emails: ["a@example.com"],
                                     id_ignore_missing: true, unknown: 1 }
      )
      expect(api.trigger_broadcast(req)).to have_key("id")
      expect(sent).to eq([["POST", "/v1/campaigns/12/triggers",
                           { "data" => { "headline" => "Sale" }, "emails" => ["a@example.com"],
                             "id_ignore_missing" => true }]])
    end

    it "TriggerBroadcastRequest checks its arguments as the official gem 6.x" do
      expect { CustomerioNative::TriggerBroadcastRequest.new({}) }
        .to raise_error(ArgumentError, "broadcast_id is required")
      expect { CustomerioNative::TriggerBroadcastRequest.new(broadcast_id: nil) }
        .to raise_error(ArgumentError, "broadcast_id must be an integer")
      expect { CustomerioNative::TriggerBroadcastRequest.new(broadcast_id: "12") }
        .to raise_error(ArgumentError, "broadcast_id must be an integer")
      expect do
        CustomerioNative::TriggerBroadcastRequest.new(broadcast_id: 1, payload: { ids: [1], emails: ["a"] })
      end.to raise_error(ArgumentError, "only one of recipients, emails, ids, per_user_data, " \
                                        "data_file_url can be present")
      expect { api.trigger_broadcast(broadcast_id: 1) }
        .to raise_error(ArgumentError, /TriggerBroadcastRequest/)
    end

    it "TriggerBroadcastRequest takes one Hash, as the official gem 6.x, and has #message" do
      req = CustomerioNative::TriggerBroadcastRequest.new(
        { broadcast_id: 12, data: { headline: "Sale" }, ids: [1, 2], "id_ignore_missing" => true,
          unknown: 1 }
      )
      expect(req.broadcast_id).to eq(12)
      expect(req.message).to eq(data: { headline: "Sale" }, ids: [1, 2], id_ignore_missing: true)
      api.trigger_broadcast(req)
      expect(sent).to eq([["POST", "/v1/campaigns/12/triggers",
                           { "data" => { "headline" => "Sale" }, "ids" => [1, 2],
                             "id_ignore_missing" => true }]])
    end
  end

  describe "reads" do
    it "customers, segments and transactional map to their paths" do
      api.segments.list
      api.segments.get(1)
      api.segments.get_customer_count(1)
      api.segments.get_membership(1, limit: 5)
      api.transactional.list
      api.transactional.get(1)
      api.customers.get_by_email("a@example.com")
      paths = mock.requests.map { |r| [r["method"], r["path"], r["query"]] }
      expect(paths).to eq([
        ["GET", "/v1/segments", ""], ["GET", "/v1/segments/1", ""],
        ["GET", "/v1/segments/1/customer_count", ""],
        ["GET", "/v1/segments/1/membership", "limit=5"],
        ["GET", "/v1/transactional", ""], ["GET", "/v1/transactional/1", ""],
        ["GET", "/v1/customers", "email=a%40example.com"]
      ])
    end

    it "answers are Hashes parsed from the server's JSON" do
      segments = api.segments.list
      expect(segments["segments"]).to be_an(Array)
      created = api.segments.create("Beta testers", description: "manual")
      expect(created.dig("segment", "name")).to eq("Beta testers")
    end

    it "an unknown person raises InvalidResponse 404" do
      expect { api.customers.get_attributes("nobody", id_type: "email") }
        .to raise_error(CustomerioNative::InvalidResponse) { |e| expect(e.code).to eq("404") }
      expect(mock.only["query"]).to eq("id_type=email")
    end

    it "an unknown id_type is refused before sending" do
      expect { api.customers.get_segments(1, id_type: "phone") }
        .to raise_error(CustomerioNative::Client::ParamError, /id_type/)
      expect(mock.requests).to be_empty
    end
  end
end

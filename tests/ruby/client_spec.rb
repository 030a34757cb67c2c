# frozen_string_literal: true

require_relative "spec_helper"

# What each Track API v1 method puts on the wire, and which arguments it refuses before
# sending, with the official gem's error classes and messages.
RSpec.describe CustomerioNative::Client do
  let(:client) { new_client }
  let(:ulid) { /\A[0-9A-HJKMNP-TV-Z]{26}\z/ }

  def one_request
    mock.only.tap { |r| expect(r["status"]).to eq(200) }
  end

  describe "the wire" do
    it "identify sends the attributes to PUT /customers/{id}, Times as unix seconds" do
      client.identify(id: 5, email: "bob@example.com", created_at: Time.at(1_700_000_000),
                      first_name: "Bob", plan: "basic")
      req = one_request
      expect([req["method"], req["path"]]).to eq(["PUT", "/api/v1/customers/5"])
      expect(req["body"]).to eq('{"id":5,"email":"bob@example.com","created_at":1700000000,' \
                                '"first_name":"Bob","plan":"basic"}')
      expect(req["headers"]["content-type"]).to eq("application/json")
      expect(req["headers"]["authorization"]).to eq("Basic #{["#{SITE_ID}:#{API_KEY}"].pack('m0')}")
      expect(req["headers"]["user-agent"]).to start_with("customerio-native/")
    end

    it "identify takes a Hash with String keys as well as keywords" do
      client.identify({ "id" => "7", "nested" => { "at" => Time.at(1_700_000_001) } })
      expect(body_of(one_request)).to eq("id" => "7", "nested" => { "at" => 1_700_000_001 })
    end

    it "identify picks the person from customer_id, then cio_id, then id" do
      client.identify(customer_id: "bob@example.com", id: 5, plan: "x")
      client.identify(cio_id: "f000", id: 5)
      client.identify(customer_id: "cio_f000", cio_id: "abc", email: "new@example.com")
      expect(calls).to eq([["PUT", "/api/v1/customers/bob%40example.com"],
                           ["PUT", "/api/v1/customers/cio_f000"],
                           ["PUT", "/api/v1/customers/cio_f000"]])
      expect(mock.requests.map { |r| body_of(r) }).to eq(
        [{ "id" => 5, "plan" => "x" }, { "cio_id" => "f000", "id" => 5 },
         { "cio_id" => "abc", "email" => "new@example.com" }]
      )
    end

    it "ids are percent-encoded in paths with no safe characters" do
      client.delete("a/b@c d")
      expect(one_request["path"]).to eq("/api/v1/customers/a%2Fb%40c%20d")
    end

    it "track sends name, data and a fresh ULID as the event id" do
      client.track(5, "purchase", type: "socks", price: "13.99")
      req = one_request
      expect([req["method"], req["path"]]).to eq(["POST", "/api/v1/customers/5/events"])
      body = body_of(req)
      expect(body.keys).to eq(%w[name data id])
      expect(body["name"]).to eq("purchase")
      expect(body["data"]).to eq("type" => "socks", "price" => "13.99")
      expect(body["id"]).to match(ulid)
    end

    it "track with a timestamp attribute sends it as the event's timestamp, as the official gem" do
      client.track(5, "purchase", type: "socks", price: "13.99", timestamp: 1_365_436_200)
      body = body_of(one_request)
      expect(body["timestamp"]).to eq(1_365_436_200)
      expect(body["data"]).to eq("type" => "socks", "price" => "13.99", "timestamp" => 1_365_436_200)
    end

    it "track refuses a timestamp the official gem 6.x finds invalid (5.x dropped it)" do
      msg = "timestamp must be a valid integer (seconds since epoch, 10-digit range)"
      err = CustomerioNative::Client::ParamError
      expect { client.track(5, "purchase", timestamp: 12) }.to raise_error(err, msg)
      expect { client.track(5, "purchase", { timestamp: 12 }) }.to raise_error(err, msg)
      expect { client.track(5, "purchase", type: "a", timestamp: 12) }.to raise_error(err, msg)
      expect(mock.requests).to be_empty
    end

    it "track takes id: and timestamp: (a Time) as event fields next to a data Hash" do
      client.track(5, "purchase", { type: "socks" }, id: "01HZZZZZZZZZZZZZZZZZZZZZZZ",
                                                     timestamp: Time.at(1_365_436_200))
      expect(one_request["body"]).to eq('{"name":"purchase","data":{"type":"socks"},' \
                                        '"timestamp":1365436200,"id":"01HZZZZZZZZZZZZZZZZZZZZZZZ"}')
    end

    it "track with no attributes sends an empty data object" do
      client.track("5", "signed_in")
      expect(body_of(one_request)["data"]).to eq({})
    end

    it "track_anonymous sends anonymous_id, or none for an invite event" do
      client.track_anonymous("anon-1", "product_view", type: "socks")
      client.track_anonymous(nil, "invite", recipient: "new.person@example.com")
      client.track_anonymous("  ", "invite", recipient: "x@example.com")
      expect(calls).to all(eq(["POST", "/api/v1/events"]))
      first, second, third = mock.requests.map { |r| body_of(r) }
      expect(first).to include("name" => "product_view", "anonymous_id" => "anon-1",
                               "data" => { "type" => "socks" })
      expect(second).not_to have_key("anonymous_id")
      expect(second["data"]).to eq("recipient" => "new.person@example.com")
      expect(third).not_to have_key("anonymous_id")
    end

    it "pageview sends a page event named after the URL" do
      client.pageview(5, "https://example.com/products/1", referrer: "https://example.com")
      body = body_of(one_request)
      expect(body).to include("type" => "page", "name" => "https://example.com/products/1",
                              "data" => { "referrer" => "https://example.com" })
    end

    it "screen sends a screen event" do
      client.screen(5, "Settings", tab: 2)
      expect(body_of(one_request)).to include("type" => "screen", "name" => "Settings")
    end

    it "add_device sends the device with last_used and attributes" do
      client.add_device(5, "my_ios_device_id", "ios")
      client.add_device(5, "tok", "android", { last_used: Time.at(1_700_000_000),
                                               attributes: { app_version: "1.2" } })
      client.add_device(5, "tok", "ios", last_used: 1_700_000_001)
      expect(calls).to all(eq(["PUT", "/api/v1/customers/5/devices"]))
      expect(mock.requests.map { |r| r["body"] }).to eq([
        '{"device":{"id":"my_ios_device_id","platform":"ios"}}',
        '{"device":{"id":"tok","platform":"android","last_used":1700000000,' \
        '"attributes":{"app_version":"1.2"}}}',
        '{"device":{"id":"tok","platform":"ios","last_used":1700000001}}'
      ])
    end

    it "delete, delete_device, suppress and unsuppress have no body" do
      client.delete(5)
      client.delete_device(5, "my_device_token")
      client.suppress(5)
      client.unsuppress(5)
      expect(calls).to eq([["DELETE", "/api/v1/customers/5"],
                           ["DELETE", "/api/v1/customers/5/devices/my_device_token"],
                           ["POST", "/api/v1/customers/5/suppress"],
                           ["POST", "/api/v1/customers/5/unsuppress"]])
      expect(mock.requests.map { |r| r["body"].to_s }).to all(be_empty)
    end

    it "merge_customers sends primary and secondary by identifier type" do
      client.merge_customers(CustomerioNative::IdentifierType::EMAIL, "cool.person@company.com",
                             CustomerioNative::IdentifierType::CIOID, "f000")
      req = one_request
      expect([req["method"], req["path"]]).to eq(["POST", "/api/v1/merge_customers"])
      expect(req["body"]).to eq('{"primary":{"email":"cool.person@company.com"},' \
                                '"secondary":{"cio_id":"f000"}}')
    end

    it "track_push_notification_event sends the push metric" do
      client.track_push_notification_event("opened", delivery_id: "d1", device_id: "dev1",
                                                     timestamp: Time.at(1_700_000_000))
      req = one_request
      expect(req["path"]).to eq("/push/events")
      expect(body_of(req)).to eq("delivery_id" => "d1", "event" => "opened",
                                 "device_id" => "dev1", "timestamp" => 1_700_000_000)
    end

    it "track_delivery_metric sends the metric and only the fields given" do
      client.track_delivery_metric("clicked", delivery_id: "d1", timestamp: 1_700_000_000,
                                              recipient: "r@example.com",
                                              href: "https://example.com/a")
      client.track_delivery_metric("bounced", { "delivery_id" => "d2", "reason" => "full" })
      first, second = mock.requests
      expect(first["path"]).to eq("/api/v1/metrics")
      expect(body_of(first)).to eq("delivery_id" => "d1", "metric" => "clicked",
                                   "timestamp" => 1_700_000_000, "recipient" => "r@example.com",
                                   "href" => "https://example.com/a")
      expect(body_of(second)).to eq("delivery_id" => "d2", "metric" => "bounced",
                                    "reason" => "full")
    end

    it "add_to_segment and remove_from_segment send the ids" do
      client.add_to_segment(3, [1, "2"])
      client.remove_from_segment(3, ["a@example.com"], id_type: "email")
      first, second = mock.requests
      expect([first["path"], first["body"]]).to eq(["/api/v1/segments/3/add_customers",
                                                    '{"ids":["1","2"]}'])
      expect([second["path"], second["query"]]).to eq(["/api/v1/segments/3/remove_customers",
                                                       "id_type=email"])
    end

    it "numbers are sent as written" do
      client.track(5, "purchase", price: 23.45, qty: 10**15, ratio: 0.1)
      expect(body_of(one_request)["data"]).to eq("price" => 23.45, "qty" => 10**15, "ratio" => 0.1)
      expect(mock.requests.first["body"]).to include('"price":23.45')
    end

    it "accepts the official gem's positional options Hash" do
      client = CustomerioNative::Client.new(SITE_ID, API_KEY, { region: CustomerioNative::Regions::US,
                                                               url: "#{mock.url}/" })
      client.delete(1)
      client.close
      expect(one_request["path"]).to eq("/api/v1/customers/1")
    end

    it "reads the credentials from the environment when not given" do
      env = { "CUSTOMERIO_SITE_ID" => SITE_ID, "CUSTOMERIO_API_KEY" => API_KEY }
      old = env.to_h { |k, _| [k, ENV.fetch(k, nil)] }
      env.each { |k, v| ENV[k] = v }
      begin
        client = CustomerioNative::Client.new(nil, nil, url: mock.url)
        client.suppress(9)
        client.close
      ensure
        old.each { |k, v| ENV[k] = v }
      end
      expect(one_request["path"]).to eq("/api/v1/customers/9/suppress")
    end
  end

  describe "parameter errors (nothing is sent)" do
    param_error = CustomerioNative::Client::ParamError

    after { expect(mock.requests).to be_empty }

    it "identify without id, cio_id or customer_id raises MissingIdAttributeError" do
      expect { client.identify(email: "bob@example.com") }
        .to raise_error(CustomerioNative::Client::MissingIdAttributeError,
                        "Must provide a customer id")
      expect { client.identify(id: " ") }
        .to raise_error(CustomerioNative::Client::MissingIdAttributeError)
      expect { client.identify({}) }
        .to raise_error(CustomerioNative::Client::MissingIdAttributeError)
    end

    it "blank ids raise ParamError with the official messages" do
      expect { client.delete(nil) }.to raise_error(param_error, "customer_id must be a non-empty string")
      expect { client.suppress("") }.to raise_error(param_error, "customer_id must be a non-empty string")
      expect { client.unsuppress(" ") }.to raise_error(param_error, "customer_id must be a non-empty string")
      expect { client.track("", "x") }.to raise_error(param_error, "customer_id must be a non-empty string")
      expect { client.track(5, "") }.to raise_error(param_error, "event_name must be a non-empty string")
      expect { client.track_anonymous("a", nil) }
        .to raise_error(param_error, "event_name must be a non-empty string")
      expect { client.pageview(5, " ") }.to raise_error(param_error, "page must be a non-empty string")
      expect { client.add_device(5, "", "ios") }
        .to raise_error(param_error, "device_id must be a non-empty string")
      expect { client.add_device(5, "d", nil) }
        .to raise_error(param_error, "platform must be a non-empty string")
      expect { client.add_device(5, "d", "ios", "x") }
        .to raise_error(param_error, "data parameter must be a hash")
      expect { client.delete_device(5, nil) }
        .to raise_error(param_error, "device_id must be a non-empty string")
    end

    it "merge_customers checks the identifier types and ids" do
      expect { client.merge_customers("phone", "1", "id", "2") }
        .to raise_error(param_error, "invalid primary_id_type")
      expect { client.merge_customers("id", "", "id", "2") }
        .to raise_error(param_error, "primary_id must be a non-empty string")
      expect { client.merge_customers("id", "1", "mail", "2") }
        .to raise_error(param_error, "invalid secondary_id_type")
      expect { client.merge_customers("id", "1", "email", nil) }
        .to raise_error(param_error, "secondary_id must be a non-empty string")
    end

    it "push and delivery metrics check their fields" do
      expect { client.track_push_notification_event("clicked", delivery_id: "d", device_id: "x", timestamp: 1_700_000_000) }
        .to raise_error(param_error, "event_name must be one of opened, converted, or delivered")
      expect { client.track_push_notification_event("opened", device_id: "x", timestamp: 1_700_000_000) }
        .to raise_error(param_error, "delivery_id must be a non-empty string")
      expect { client.track_push_notification_event("opened", delivery_id: "d", timestamp: 1_700_000_000) }
        .to raise_error(param_error, "device_id must be a non-empty string")
      expect { client.track_push_notification_event("opened", delivery_id: "d", device_id: "x") }
        .to raise_error(param_error, "timestamp must be a valid timestamp")
      expect { client.track_delivery_metric("sent", delivery_id: "d") }
        .to raise_error(param_error, "metric_name must be one of: opened, clicked, converted, " \
                                     "delivered, bounced, deferred, dropped, spammed")
      expect { client.track_delivery_metric("opened", {}) }
        .to raise_error(param_error, "delivery_id must be a non-empty string")
      expect { client.track_delivery_metric("opened", delivery_id: "   ") }
        .to raise_error(param_error, "delivery_id must be a non-empty string")
      expect { client.track_push_notification_event("opened", delivery_id: " ", device_id: "x", timestamp: 1_700_000_000) }
        .to raise_error(param_error, "delivery_id must be a non-empty string")
      expect { client.track_delivery_metric("opened", delivery_id: "d", timestamp: 5) }
        .to raise_error(param_error,
                        "timestamp must be a valid integer (seconds since epoch, 10-digit range)")
    end

    it "libcustomerio's checks of ids, UTF-8 and sizes raise ParamError naming the field" do
      expect { client.delete("x" * 151) }.to raise_error(param_error) { |e|
        expect(e.message).to match(/customer_id/)
        expect(e.error_code).to eq(:invalid_argument)
        expect(e.attempts).to eq(0)
      }
      expect { client.track(5, "a\r\nb") }.to raise_error(param_error, /name/)
      expect { client.track("bad\xFF".b, "x") }.to raise_error(param_error, /UTF-8/)
      expect { client.track(5, "big", blob: "x" * 40_000) }.to raise_error(param_error) { |e|
        expect(e.error_code).to eq(:payload_too_large)
        expect(e.http_status).to be_nil
      }
    end

    it "unencodable attributes raise ParamError" do
      expect { client.track(5, "x", ratio: Float::NAN) }.to raise_error(param_error, /JSON/)
    end


    it "an unknown option or region is refused when the client is made" do
      expect { CustomerioNative::Client.new(SITE_ID, API_KEY, base_uri: "x") }
        .to raise_error(ArgumentError, /base_uri/)
      expect { CustomerioNative::Client.new(SITE_ID, API_KEY, region: "eu") }
        .to raise_error(ArgumentError, "region must be an instance of CustomerioNative::Regions::Region")
      expect { CustomerioNative::Client.new(SITE_ID, API_KEY, url: "http://bad\nhost") }
        .to raise_error(CustomerioNative::ConfigurationError)
    end
  end

  describe "lifecycle" do
    it "close is idempotent and a closed client raises InvalidRequest" do
      client.close
      client.close
      expect(client).to be_closed
      expect { client.delete(1) }.to raise_error(CustomerioNative::InvalidRequest, /closed/)
    end

    it "regions map to their hosts" do
      expect(CustomerioNative::Regions::US.track_url).to eq("https://track.customer.io")
      expect(CustomerioNative::Regions::EU.api_url).to eq("https://api-eu.customer.io")
      expect(CustomerioNative::Regions::EU).to be_frozen
      expect(CustomerioNative::Client.new(SITE_ID, API_KEY, region: CustomerioNative::Regions::EU)
               .tap(&:close).region).to eq(CustomerioNative::Regions::EU)
    end

    it "a forked child uses its parent's client (pre-forking servers make it first)" do
      client.delete(1)
      reader, writer = IO.pipe
      pid = fork do
        reader.close
        begin
          client.delete(2)
          writer.write("sent")
        rescue StandardError => e
          writer.write(e.message)
        end
        writer.close
        exit!(0)
      end
      writer.close
      Process.wait(pid)
      expect(reader.read).to eq("sent")
      client.delete(3)
      expect(calls.map(&:last)).to eq(["/api/v1/customers/1", "/api/v1/customers/2",
                                       "/api/v1/customers/3"])
    end

    it "the gem and the C library have one version" do
      expect(CustomerioNative::Native.cio_version).to eq(CustomerioNative::VERSION)
    end
  end
end

# frozen_string_literal: true

require_relative "spec_helper"

# How failures reach Ruby: the official gem's InvalidResponse for an error status (after
# libcustomerio's retries of 408, 429 and 5xx), InvalidRequest and its subclasses when there
# was no answer, each with what libcustomerio reported.
RSpec.describe "errors and retries" do
  let(:client) { new_client(retries: 2) }

  {
    400 => :bad_request, 401 => :auth, 404 => :not_found, 429 => :rate_limited, 500 => :server
  }.each do |status, code|
    it "HTTP #{status} raises InvalidResponse with code, body and response" do
      mock.fault(count: 3, status: status, body: { meta: { error: "nope #{status}" } })
      expect { client.track(5, "purchase") }.to raise_error(CustomerioNative::InvalidResponse) { |e|
        expect(e.code).to eq(status.to_s)
        expect(e.message).to eq(%({"meta":{"error":"nope #{status}"}}))
        expect(e.response.code).to eq(status.to_s)
        expect(e.response.body).to eq(e.message)
        expect(e.http_status).to eq(status)
        expect(e.error_code).to eq(code)
        expect(e.detail).to match(/\Atrack: /)
        expect(e.detail).not_to include(API_KEY)
      }
      retried = [429, 500].include?(status)
      expect(mock.requests.size).to eq(retried ? 3 : 1)
    end
  end

  # libcustomerio reads the error answer once (cio_error_t.server_code / server_message): the
  # gem parses no error body of its own.
  it "Native::Error carries the answer's code and explanation as libcustomerio read them" do
    native = CustomerioNative::Native
    cfg = native.config(native::CIO_CONFIG_CLIENT, site_id: SITE_ID, api_key: API_KEY,
                                                   track_url: mock.url)
    ptr = begin
      native.cio_client_new_from_config(cfg)
    ensure
      native.cio_config_free(cfg)
    end
    begin
      mock.fault(count: 1, status: 400, body: { code: "invalid_request", message: "nope" })
      expect { native.cio_track(ptr, "5", "e", nil, nil) }.to raise_error(native::Error) { |e|
        expect([e.http_status, e.server_code, e.server_message])
          .to eq([400, "invalid_request", "nope"])
        expect(e.body).to eq(%({"code":"invalid_request","message":"nope"}))
      }
      mock.fault(count: 1, status: 400, body: { meta: { error: "bad id" } })
      expect { native.cio_track(ptr, "5", "e", nil, nil) }.to raise_error(native::Error) { |e|
        expect([e.server_code, e.server_message]).to eq([nil, "bad id"])
      }
      expect { native.cio_track(ptr, "", "e", nil, nil) }.to raise_error(native::Error) { |e|
        expect([e.http_status, e.server_code, e.server_message]).to eq([0, nil, nil])
      }
    ensure
      native.cio_client_free(ptr)
    end
  end

  it "is a RuntimeError, as in the official gem" do
    expect(CustomerioNative::InvalidResponse.ancestors).to include(RuntimeError)
    expect(CustomerioNative::InvalidRequest.ancestors).to include(RuntimeError)
    expect(CustomerioNative::Client::ParamError.ancestors).to include(RuntimeError)
    expect(CustomerioNative::InvalidResponse.new("400", "body").code).to eq("400")
  end

  it "wrong credentials give 401 without retries" do
    bad = CustomerioNative::Client.new(SITE_ID, "wrong-key", url: mock.url)
    expect { bad.identify(id: 1) }.to raise_error(CustomerioNative::InvalidResponse) { |e|
      expect(e.code).to eq("401")
      expect(e.attempts).to eq(1)
    }
    bad.close
  end

  it "a 503 then a 200 succeeds after one retry" do
    mock.fault(count: 1, status: 503)
    client.track(5, "purchase")
    expect(mock.requests.map { |r| r["status"] }).to eq([503, 200])
  end

  it "retries keep the event's id, so Customer.io counts it once" do
    mock.fault(count: 2, status: 500)
    client.track(5, "purchase")
    ids = mock.requests.map { |r| body_of(r)["id"] }
    expect(ids.size).to eq(3)
    expect(ids.uniq.size).to eq(1)
  end

  it "honours Retry-After on 429" do
    mock.fault(count: 1, status: 429, retry_after: "1")
    started = Process.clock_gettime(Process::CLOCK_MONOTONIC)
    client.delete(5)
    expect(Process.clock_gettime(Process::CLOCK_MONOTONIC) - started).to be >= 0.9
    expect(mock.requests.map { |r| r["status"] }).to eq([429, 200])
  end

  it "retries: 0 means one attempt" do
    client = new_client(retries: 0)
    mock.fault(count: 1, status: 500)
    expect { client.delete(5) }.to raise_error(CustomerioNative::InvalidResponse) { |e|
      expect(e.attempts).to eq(1)
    }
  end

  it "a dropped connection on every attempt raises NetworkError" do
    mock.fault(count: 3, action: "reset")
    expect { client.delete(5) }.to raise_error(CustomerioNative::NetworkError) { |e|
      expect(e).to be_a(CustomerioNative::InvalidRequest)
      expect(e.error_code).to eq(:network)
      expect(e.attempts).to eq(3)
      expect(e.http_status).to be_nil
    }
  end

  it "nothing listening raises NetworkError" do
    port = TCPServer.new("127.0.0.1", 0).then { |s| s.addr[1].tap { s.close } }
    c = CustomerioNative::Client.new(SITE_ID, API_KEY, url: "http://127.0.0.1:#{port}",
                                                       retries: 0)
    expect { c.delete(1) }.to raise_error(CustomerioNative::NetworkError, /connect/i)
    c.close
  end

  it "a slow answer raises RequestTimeout after the timeout" do
    client = new_client(timeout: 0.2, retries: 0)
    mock.fault(count: 1, delay_ms: 1000)
    expect { client.delete(5) }.to raise_error(CustomerioNative::RequestTimeout) { |e|
      expect(e.error_code).to eq(:timeout)
    }
  end

  it "missing credentials raise ConfigurationError naming them" do
    old = %w[CUSTOMERIO_SITE_ID CUSTOMERIO_API_KEY].to_h { |k| [k, ENV.delete(k)] }
    begin
      c = CustomerioNative::Client.new(nil, nil, url: mock.url)
      expect { c.delete(1) }.to raise_error(CustomerioNative::ConfigurationError, /site_id/)
      c.close
    ensure
      old.each { |k, v| ENV[k] = v if v }
    end
    expect(mock.requests).to be_empty
  end
end

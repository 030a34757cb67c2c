# frozen_string_literal: true

require_relative "spec_helper"

require "open3"

# Security properties of the gem (SECURITY.md): TLS certificates are verified by default, keys
# never appear in errors or #inspect, and CR/LF never reaches a header or URL.
RSpec.describe "security" do
  LEAK_PROBE_KEY = "rb-s3cret-WRONG-8d3e"

  def expect_no_secret(*texts)
    texts.each { |t| expect(t.to_s).not_to include(LEAK_PROBE_KEY) }
  end

  describe "TLS" do
    before(:all) do
      @tls_dir = Dir.mktmpdir("cio-tls-rb")
      cert = File.join(@tls_dir, "cert.pem")
      key = File.join(@tls_dir, "key.pem")
      _out, err, status = Open3.capture3(
        "openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2",
        "-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1",
        "-keyout", key, "-out", cert
      )
      raise "openssl: #{err}" unless status.success?

      @cert = cert
      @tls_mock = MockServer.new(extra_args: ["--tls-cert", cert, "--tls-key", key])
      @https = "https://127.0.0.1:#{@tls_mock.port}"
    end

    after(:all) do
      @tls_mock&.stop
      FileUtils.rm_rf(@tls_dir)
    end

    it "Client refuses a self-signed server by default, once, naming the certificate" do
      c = CustomerioNative::Client.new(SITE_ID, API_KEY, url: @https, retries: 3)
      expect { c.identify(id: 42) }.to raise_error(CustomerioNative::NetworkError) { |e|
        expect(e.error_code).to eq(:network)
        expect(e.attempts).to eq(1)
        expect(e.message).to include("certificate")
      }
      c.close
    end

    it "APIClient refuses a self-signed server by default" do
      api = CustomerioNative::APIClient.new(APP_API_KEY, url: @https, retries: 0)
      expect { api.segments.list }.to raise_error(CustomerioNative::NetworkError, /certificate/)
      api.close
    end

    it "accepts the same server given its certificate as ca_file" do
      c = CustomerioNative::Client.new(SITE_ID, API_KEY, url: @https, ca_file: @cert)
      expect { c.identify(id: 42, plan: "tls") }.not_to raise_error
      c.close
    end
  end

  describe "keys never in errors or #inspect" do
    it "a wrong Track key: the 401 error and the client's #inspect hold no key" do
      c = CustomerioNative::Client.new(SITE_ID, LEAK_PROBE_KEY, url: mock.url)
      expect_no_secret(c.inspect, c.to_s)
      expect { c.identify(id: 1) }.to raise_error(CustomerioNative::InvalidResponse) { |e|
        expect(e.http_status).to eq(401)
        expect(e.detail).to eq("identify: HTTP 401 (check the credentials and the region) " \
                               "after 1 attempt: Unauthorized request")
        expect_no_secret(e.message, e.detail, e.inspect, e.full_message, e.body, e.response)
      }
      c.close
    end

    it "a wrong App key: the 401 error and the client's #inspect hold no key" do
      api = CustomerioNative::APIClient.new(LEAK_PROBE_KEY, url: mock.url)
      expect_no_secret(api.inspect, api.customers.inspect)
      expect { api.customers.get_attributes("42") }
        .to raise_error(CustomerioNative::InvalidResponse) { |e|
          expect(e.http_status).to eq(401)
          expect_no_secret(e.message, e.detail, e.inspect, e.full_message, e.body)
        }
      api.close
    end

    it "the v2 API and a closed client hold no key either" do
      c = CustomerioNative::Client.new(SITE_ID, LEAK_PROBE_KEY, url: mock.url)
      expect_no_secret(c.v2.inspect)
      c.close
      expect_no_secret(c.inspect)
    end

    it "the Rack middleware's #inspect does not show its signing key" do
      app = ->(_env) { [200, {}, ["ok"]] }
      mw = CustomerioNative::Webhooks::Middleware.new(app, signing_key: LEAK_PROBE_KEY, dedup: true)
      expect(mw.inspect).to eq("#<CustomerioNative::Webhooks::Middleware " \
                               "path=\"/customerio/webhooks\" tolerance=300 dedup=on>")
      expect_no_secret(mw.inspect, mw.to_s)
    end
  end

  describe "CR/LF never reaches a header or URL" do
    it "refuses an embedded NUL instead of truncating at it" do
      expect { CustomerioNative::Client.new(SITE_ID, "k\0x", url: mock.url) }
        .to raise_error(ArgumentError, "api_key contains a NUL byte")
      c = new_client
      expect { c.identify(id: "a\0b") }.to raise_error(ArgumentError, "customer_id contains a NUL byte")
      expect { c.delete_device("42", "tok\0x") }.to raise_error(ArgumentError, /NUL byte/)
      expect(mock.requests).to eq([])
    end

    ["x\r\nX-Evil: 1", "x\n", "x\r"].each do |bad|
      it "refuses #{bad.inspect} in keys, URLs, the user agent and ids before sending" do
        expect { CustomerioNative::Client.new(SITE_ID, "k#{bad}", url: mock.url) }
          .to raise_error(CustomerioNative::ConfigurationError) { |e|
            expect(e.message).to include("api_key contains a control character")
            expect(e.message).not_to include(bad)
          }
        expect { CustomerioNative::Client.new("s#{bad}", API_KEY, url: mock.url) }
          .to raise_error(CustomerioNative::ConfigurationError, /site_id/)
        expect { CustomerioNative::Client.new(SITE_ID, API_KEY, url: "#{mock.url}#{bad}") }
          .to raise_error(CustomerioNative::ConfigurationError, /track_url/)
        expect { CustomerioNative::Client.new(SITE_ID, API_KEY, url: mock.url, user_agent: bad) }
          .to raise_error(CustomerioNative::ConfigurationError, /user_agent/)
        expect { CustomerioNative::APIClient.new("k#{bad}", url: mock.url) }
          .to raise_error(CustomerioNative::ConfigurationError, /app_api_key/)
        c = new_client
        expect { c.identify(id: "a#{bad}") }
          .to raise_error(CustomerioNative::Client::ParamError, /control character/)
        expect { c.delete_device("42", "tok#{bad}") }
          .to raise_error(CustomerioNative::Client::ParamError, /control character/)
        expect { c.suppress("a#{bad}") }
          .to raise_error(CustomerioNative::Client::ParamError, /control character/)
        expect(mock.requests).to eq([])
      end
    end
  end
end

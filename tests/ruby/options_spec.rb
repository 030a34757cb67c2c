# frozen_string_literal: true

require_relative "spec_helper"

# Options by name: the gem passes its keyword arguments to libcustomerio's options tables
# (customerio/options.h) by name; names, types, ranges and defaults are checked in C.
RSpec.describe "options by name" do
  native = CustomerioNative::Native

  it "lists every option of both tables with a doc" do
    client = native.options_table(native::CIO_CONFIG_CLIENT)
    pipeline = native.options_table(native::CIO_CONFIG_PIPELINE)
    expect(client.map(&:first).first(4)).to eq(%w[site_id api_key app_api_key region])
    expect(client.map(&:first)).to include("timeout_ms", "cdp_batch_path", "max_connections")
    expect(pipeline.map(&:first)).to include("when_full", "linger_ms", "max_attempts")
    expect(client.to_h { |name, type, _| [name, type] }["api_key"]).to eq("secret")
    expect((client + pipeline).map(&:last)).to all(match(/\A.{11,}\z/))
    expect(native.cio_config_option(native::CIO_CONFIG_CLIENT, client.size)).to be_nil
  end

  it "passes an option only C knows through by name" do
    handle = native::Handle.new(param_error: ArgumentError, site_id: SITE_ID, api_key: API_KEY,
                                track_url: mock.url, backoff_max_ms: 5, user_agent: "opts/1")
    begin
      handle.call(:cio_identify, "u1", '{"a":1}')
    ensure
      handle.close
    end
    req = mock.only
    expect(req["path"]).to eq("/api/v1/customers/u1")
    expect(req["headers"]["user-agent"]).to eq("opts/1")
  end

  it "refuses unknown names and bad values, naming the option" do
    expect { native::Handle.new(param_error: ArgumentError, colour: "red") }
      .to raise_error(ArgumentError, /unknown client option "colour"/)
    expect { native::Handle.new(param_error: ArgumentError, timeout_ms: "soon") }
      .to raise_error(ArgumentError, /timeout_ms must be a whole number/)
    expect { CustomerioNative::Pipeline.new(SITE_ID, API_KEY, max_in_flight: -1) }
      .to raise_error(ArgumentError, /max_in_flight must be a whole number from 0/)
    expect { CustomerioNative::Pipeline.new(SITE_ID, API_KEY, sink: :kafka) }
      .to raise_error(ArgumentError, /sink must be one of track_v2, pipelines/)
  end

  it "never echoes a secret" do
    expect do
      native::Handle.new(param_error: ArgumentError, site_id: SITE_ID, api_key: "TOPSECRET\r\n",
                         track_url: "http://127.0.0.1:9")
    end.to raise_error(StandardError) { |e|
      expect(e.message).to include("api_key")
      expect(e.message).not_to include("TOPSECRET")
    }
  end
end

RSpec.describe "options by name through the gem's classes" do
  it "passes keywords named after libcustomerio options through" do
    client = CustomerioNative::Client.new(SITE_ID, API_KEY, url: mock.url, user_agent: "opts/2",
                                                            backoff_max_ms: 5)
    client.identify(id: "u1", plan: "pro")
    client.close
    expect(mock.only["headers"]["user-agent"]).to eq("opts/2")
    mock.clear
    pipe = CustomerioNative::Pipeline.new(SITE_ID, API_KEY, url: mock.url, linger_ms: 1,
                                                            timeout_ms: 5000)
    pipe.identify(id: "u2")
    expect(pipe.flush(timeout: 10)).to be(true)
    pipe.close
    expect(mock.only["path"]).to eq("/api/v2/batch")
  end

  it "still refuses other keywords" do
    expect { CustomerioNative::Client.new(SITE_ID, API_KEY, colour: "red") }
      .to raise_error(ArgumentError, /unknown option\(s\): colour/)
    expect { CustomerioNative::Client.new(SITE_ID, API_KEY, timeout_ms: "soon") }
      .to raise_error(ArgumentError, /timeout_ms must be a whole number/)
  end
end

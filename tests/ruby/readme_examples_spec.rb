# frozen_string_literal: true

require_relative "spec_helper"
require "open3"

# Code written for the official gem (the examples of its README, 5.x) runs against the
# emulator with only the require line and the module name changed, or, with
# require "customerio_native/compat", with only the require line changed. The one addition is
# the url: option (an option of the official gem too) pointing the client at the emulator,
# which is started with the README's placeholder credentials.
module OfficialReadme
  # The official README's examples, in its order. `customer` and `anonymous_id` are the
  # reader's own variables there; PRELUDE defines them.
  QUICK_START = <<~RUBY
    $customerio = Customerio::Client.new("YOUR SITE ID", "YOUR API SECRET KEY", region: Customerio::Regions::US)

    $customerio.identify(
      :id => 5,
      :email => "bob@example.com",
      :created_at => customer.created_at.to_i,
      :first_name => "Bob",
      :plan => "basic"
    )

    $customerio.track(5, "purchase", :type => "socks", :price => "13.99")
  RUBY

  MORE = <<~RUBY
    $customerio.delete(5)
    $customerio.merge_customers("email", "cool.person@company.com", "email", "cperson@gmail.com")
    $customerio.track(5, "purchase", :type => "socks", :price => "13.99", :timestamp => 1365436200)
    $customerio.track_anonymous(anonymous_id, "product_view", :type => "socks" )
    $customerio.track_anonymous(nil, "invite", :recipient => "new.person@example.com" )
    $customerio.add_device(5, "my_ios_device_id", "ios")
    $customerio.add_device(5, "my_android_device_id", "android")
    $customerio.add_device(5, "my_ios_device_id", "ios", {:last_used=>Time.now.to_i})
    $customerio.delete_device(5, "my_device_token")
    $customerio.suppress(5)
    $customerio.unsuppress(5)
    begin
      $customerio.delete("")
    rescue Customerio::Client::ParamError => e
      puts "ParamError: \#{e.message}"
    end
  RUBY

  PRELUDE = <<~RUBY
    customer = Struct.new(:created_at).new(Time.at(1700000000))
    anonymous_id = "anon-1"
  RUBY

  EXPECTED_CALLS = [
    ["PUT", "/api/v1/customers/5"], ["POST", "/api/v1/customers/5/events"],
    ["DELETE", "/api/v1/customers/5"], ["POST", "/api/v1/merge_customers"],
    ["POST", "/api/v1/customers/5/events"], ["POST", "/api/v1/events"],
    ["POST", "/api/v1/events"], ["PUT", "/api/v1/customers/5/devices"],
    ["PUT", "/api/v1/customers/5/devices"], ["PUT", "/api/v1/customers/5/devices"],
    ["DELETE", "/api/v1/customers/5/devices/my_device_token"],
    ["POST", "/api/v1/customers/5/suppress"], ["POST", "/api/v1/customers/5/unsuppress"]
  ].freeze

  # "Send Transactional Messages". '<file-path>' is the reader's own value.
  TRANSACTIONAL = <<~'RUBY'
    require "customerio"

    client = Customerio::APIClient.new("your API key", region: Customerio::Regions::US)

    request = Customerio::SendEmailRequest.new(
      to: "person@example.com",
      transactional_message_id: "3",
      message_data: {
        name: "Person",
        items: {
          name: "shoes",
          price: "59.99",
        },
        products: [],
      },
      identifiers: {
        id: "2",
      },
    )

    file = File.open('<file-path>', 'r')
    request.attach("filename", file.read)

    begin
      response = client.send_email(request)
      puts response
    rescue Customerio::InvalidResponse => e
      puts e.code, e.message
    end
  RUBY

  def self.script
    PRELUDE + QUICK_START + MORE
  end
end

RSpec.describe "the official gem's README examples" do

  before(:all) do
    @readme_mock = MockServer.new(site_id: "YOUR SITE ID", api_key: "YOUR API SECRET KEY",
                                  app_api_key: "your API key")
  end
  after(:all) { @readme_mock.stop }
  before { @readme_mock.clear }

  def with_emulator(code)
    code.sub("region: Customerio::Regions::US)",
             "region: Customerio::Regions::US, url: #{@readme_mock.url.inspect})")
  end

  # Runs a script in a fresh Ruby (no Customerio defined), with the gem this suite loaded.
  def run_ruby(script)
    lib = File.dirname($LOADED_FEATURES.find { |f| f.end_with?("/customerio_native.rb") })
    out, status = Open3.capture2e(RbConfig.ruby, "-I", lib, "-e", script)
    expect(status).to be_success, out
    out
  end

  def expect_the_readme_requests
    reqs = @readme_mock.requests
    expect(reqs.map { |r| [r["method"], r["path"]] }).to eq(OfficialReadme::EXPECTED_CALLS)
    expect(reqs.map { |r| r["status"] }).to all(eq(200))
    expect(body_of(reqs[0])).to eq("id" => 5, "email" => "bob@example.com",
                                   "created_at" => 1_700_000_000, "first_name" => "Bob",
                                   "plan" => "basic")
    expect(body_of(reqs[1])["data"]).to eq("type" => "socks", "price" => "13.99")
    expect(body_of(reqs[4])["timestamp"]).to eq(1_365_436_200)
    expect(body_of(reqs[6])).not_to have_key("anonymous_id")
  end

  it "run with the module renamed to CustomerioNative" do
    code = with_emulator(OfficialReadme.script).gsub("Customerio::", "CustomerioNative::")
    out = run_ruby(%(require "customerio_native"\n#{code}))
    expect(out).to eq("ParamError: customer_id must be a non-empty string\n")
    expect_the_readme_requests
  end

  it "run unchanged with the compat alias" do
    out = run_ruby(%(require "customerio_native/compat"\n#{with_emulator(OfficialReadme.script)}))
    expect(out).to eq("ParamError: customer_id must be a non-empty string\n")
    expect_the_readme_requests
  end

  describe "Send Transactional Messages" do
    let(:file) do
      path = File.join(Dir.mktmpdir("cio-readme"), "invoice.txt")
      File.binwrite(path, "Invoice\n")
      path
    end

    def transactional(require_line, module_name)
      OfficialReadme::TRANSACTIONAL.sub('require "customerio"', require_line)
                                   .sub("'<file-path>'", file.inspect)
                                   .then { |code| with_emulator(code) }
                                   .gsub("Customerio::", "#{module_name}::")
    end

    def expect_the_email
      req = @readme_mock.requests.last
      expect([req["method"], req["path"], req["status"]]).to eq(["POST", "/v1/send/email", 200])
      expect(body_of(req)).to include("to" => "person@example.com", "transactional_message_id" => "3",
                                      "identifiers" => { "id" => "2" },
                                      "attachments" => { "filename" => ["Invoice\n"].pack("m0") })
    end

    it "runs with the module renamed" do
      out = run_ruby(transactional('require "customerio_native"', "CustomerioNative"))
      expect(out).to start_with('{"delivery_id"=>')
      expect_the_email
    end

    it "runs unchanged with the compat alias" do
      out = run_ruby(transactional('require "customerio_native/compat"', "Customerio"))
      expect(out).to start_with('{"delivery_id"=>')
      expect_the_email
    end

    it "prints the code and message of an InvalidResponse" do
      @readme_mock.fault(count: 1, status: 400, body: { meta: { error: "bad template" } })
      out = run_ruby(transactional('require "customerio_native/compat"', "Customerio"))
      expect(out).to eq("400\nbad template\n")
    end
  end

  it "the compat alias is CustomerioNative itself, and stands aside for the official gem" do
    out = run_ruby(<<~RUBY)
      require "customerio_native/compat"
      p Customerio.equal?(CustomerioNative), Customerio::Regions::EU.track_url,
        Customerio::IdentifierType::CIOID, Customerio::InvalidResponse.instance_method(:code).owner
    RUBY
    expect(out).to eq(%(true\n"https://track-eu.customer.io"\n"cio_id"\nCustomerioNative::InvalidResponse\n))
    out = run_ruby(<<~RUBY)
      module Customerio; end # the official gem, loaded first
      require "customerio_native/compat"
      p Customerio.equal?(CustomerioNative)
    RUBY
    expect(out).to end_with("false\n")
    expect(out).to include("already defined")
  end

  it "the README's Ruby quick start is the official one with the require and module changed" do
    readme = File.read(File.join(REPO, "README.md"))
    section = readme.split("\n## Ruby\n", 2)[1].split("\n## ", 2)[0]
    quick_start = section[/```ruby\n(.*?)```/m, 1]
    expect(quick_start.strip)
      .to eq(%(require "customerio_native"\n\n#{OfficialReadme::QUICK_START}).strip
               .gsub("Customerio::", "CustomerioNative::"))
  end
end

# frozen_string_literal: true

module CustomerioNative
  # The Customer.io data centres, as in the official gem.
  module Regions
    Region = Struct.new(:track_url, :api_url)

    US = Region.new("https://track.customer.io", "https://api.customer.io").freeze
    EU = Region.new("https://track-eu.customer.io", "https://api-eu.customer.io").freeze

    # True for a Region, or an object with the same two readers (the official gem's
    # Customerio::Regions::Region, when both gems are loaded).
    def self.region?(value)
      value.is_a?(Region) || (value.respond_to?(:track_url) && value.respond_to?(:api_url))
    end
  end
end

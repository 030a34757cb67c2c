# frozen_string_literal: true

# customerio-native: a Customer.io client on libcustomerio (C), with the classes and methods of
# the official customerio gem (6.2; 5.x code keeps working) under CustomerioNative:
#
#   require "customerio_native"
#   client = CustomerioNative::Client.new(site_id, api_key, region: CustomerioNative::Regions::US)
#   client.identify(id: 5, email: "bob@example.com", plan: "basic")
#   client.track(5, "purchase", type: "socks", price: "13.99")
#
# or, to keep code written for the official gem unchanged:
#
#   require "customerio_native/compat"   # instead of: require "customerio"
#
# All real work (HTTP with kept-alive connections, validation, payload building, retries with
# backoff and Retry-After, the delivery pipeline, webhook signatures) happens in the C library;
# this gem maps names and types, and blocking calls release the GVL.
require "customerio_native/version"
require "customerio_native/errors"
require "customerio_native/regions"
require "customerio_native/guard"
require "customerio_native/native"
require "customerio_native/client"
require "customerio_native/track_v2"
require "customerio_native/pipeline"
require "customerio_native/worker"
require "customerio_native/analytics"
require "customerio_native/webhooks"
require "customerio_native/requests"
require "customerio_native/api"

# frozen_string_literal: true

# A one-line switch from Segment's analytics-ruby: replace
#
#   require "segment/analytics"
#
# with
#
#   require "customerio_native/segment"
#
# and Segment::Analytics is CustomerioNative::Analytics (the Pipelines API on libcustomerio's
# delivery pipeline; see its documentation for where it differs). When analytics-ruby is already
# loaded (::Segment::Analytics is defined) nothing is aliased and a warning says so.
require "customerio_native"

if defined?(::Segment::Analytics)
  unless ::Segment::Analytics.equal?(CustomerioNative::Analytics)
    warn "customerio_native/segment: Segment::Analytics is already defined (analytics-ruby is " \
         "loaded); use CustomerioNative::Analytics explicitly", uplevel: 1
  end
else
  module Segment
    Analytics = CustomerioNative::Analytics
  end
end

# frozen_string_literal: true

# A one-line switch from the official gem: replace
#
#   require "customerio"
#
# with
#
#   require "customerio_native/compat"
#
# and Customerio::Client, Customerio::Regions, Customerio::IdentifierType,
# Customerio::InvalidResponse, ... are CustomerioNative's. When the official gem is already
# loaded (::Customerio is defined) nothing is aliased and a warning says so: both can then be
# used side by side under their own names.
require "customerio_native"

if defined?(::Customerio)
  unless ::Customerio.equal?(CustomerioNative)
    warn "customerio_native/compat: Customerio is already defined (the official gem is " \
         "loaded); use CustomerioNative explicitly", uplevel: 1
  end
else
  Customerio = CustomerioNative
end

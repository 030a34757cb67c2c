# frozen_string_literal: true

module CustomerioNative
  # The gem's version; the C library it is built on has the same (Native.cio_version).
  VERSION = "0.1.0"
end

# frozen_string_literal: true

require "json"
require "date"

module CustomerioNative
  # Ruby values to the strings and integers the C API takes: attributes to JSON text (Time and
  # DateTime anywhere in them become unix seconds), ids to UTF-8 strings. libcustomerio
  # validates the result (ids, UTF-8, JSON objects, sizes) and names the field when it refuses.
  # @api private
  module Payload
    module_function

    # Unix seconds of a Time or DateTime; anything else is returned as it is.
    def unix(value)
      case value
      when Time then value.to_i
      when DateTime then value.to_time.to_i
      else value
      end
    end

    # A copy of value with every Time and DateTime, at any depth, as unix seconds.
    def plain(value)
      case value
      when Hash then value.each_with_object({}) { |(k, v), out| out[k] = plain(v) }
      when Array then value.map { |v| plain(v) }
      when Time, DateTime then unix(value)
      else value
      end
    end

    # JSON text for the C API, which checks it and sends it byte for byte.
    def json(value, error, what)
      JSON.generate(plain(value))
    rescue JSON::GeneratorError, EncodingError => e
      raise error, "#{what}: cannot be encoded as JSON (#{e.message})"
    end

    # An id (String, Integer, Symbol, ...) as a UTF-8 String; nil stays nil.
    def text(value)
      return nil if value.nil?

      s = value.is_a?(String) ? value : value.to_s
      return s if s.encoding == Encoding::UTF_8 || s.encoding == Encoding::BINARY || s.ascii_only?

      s.encode(Encoding::UTF_8)
    rescue EncodingError
      s.b
    end

    # The official gem's emptiness test: nil, or a String of blanks.
    def blank?(value)
      value.nil? || (value.is_a?(String) && value.strip.empty?)
    end

    def symbolize(hash)
      hash.transform_keys { |k| k.respond_to?(:to_sym) ? k.to_sym : k }
    end
  end
end

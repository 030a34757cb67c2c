# frozen_string_literal: true

require "json"
require "date"
require "customerio_native/native"

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

    # A Hash or Array that contains itself: it has no JSON form. The message names where the
    # cycle closes ("[:a][:b] is [:a] again"), the path from the value handed in.
    class CycleError < ArgumentError; end

    # Nesting past JSON.generate's own limit (100 levels), found before a deep recursion could
    # exhaust the stack.
    class TooDeepError < CycleError; end

    MAX_DEPTH = 100

    # A copy of value with every Time and DateTime, at any depth, as unix seconds.
    def plain(value, root: "value")
      walk(value, root: root) { |leaf| unix(leaf) }
    end

    # A copy of value's Hashes and Arrays (at any depth) with each other value replaced by the
    # block's answer for it; CycleError when a container holds itself (JSON.generate would
    # recurse until SystemStackError, which `rescue => e` does not catch).
    # root names value in that message.
    def walk(value, root: "value", path: [], open: {}.compare_by_identity, &leaf)
      return yield(value) unless value.is_a?(Hash) || value.is_a?(Array)

      if open.key?(value)
        raise CycleError, "a cycle: #{root}#{path.join} is #{root}#{open[value].join} again"
      end
      if path.size >= MAX_DEPTH
        raise TooDeepError, "#{root} is nested deeper than #{MAX_DEPTH} levels"
      end

      open[value] = path
      begin
        if value.is_a?(Hash)
          value.each_with_object({}) do |(k, v), out|
            out[k] = walk(v, root: root, path: path + ["[#{k.inspect}]"], open: open, &leaf)
          end
        else
          value.each_with_index.map do |v, i|
            walk(v, root: root, path: path + ["[#{i}]"], open: open, &leaf)
          end
        end
      ensure
        open.delete(value)
      end
    end

    # JSON text for the C API, which checks it and sends it byte for byte. Plain values
    # (Hashes and Arrays of Strings, Integers, Floats, true, false, nil; Symbol keys) are
    # written in C, as JSON.generate writes them (Native.cio_rb_json); anything else (a Time, a
    # cycle, ...) nil there, and the way below.
    def json(value, error, what)
      Native.cio_rb_json(value) || JSON.generate(plain(value, root: what[/\S+\z/] || "value"))
    rescue JSON::GeneratorError, JSON::NestingError, EncodingError, CycleError => e
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
      return true if value.nil?
      return false unless value.is_a?(String)

      # The usual id needs no copy: strip keeps a first character that is not a blank (ASCII
      # whitespace or NUL) in a valid ASCII-compatible String. Anything else asks strip, which
      # also raises what it raises for invalid bytes.
      first = value.getbyte(0)
      return false if first && !BLANK_BYTES[first] && value.valid_encoding? &&
                      value.encoding.ascii_compatible?

      value.strip.empty?
    end

    # The bytes String#strip removes: NUL and ASCII whitespace.
    BLANK_BYTES = Array.new(256) { |b| b.zero? || b == 32 || (9..13).cover?(b) }.freeze

    def symbolize(hash)
      hash.transform_keys { |k| k.respond_to?(:to_sym) ? k.to_sym : k }
    end
  end
end

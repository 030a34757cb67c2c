# frozen_string_literal: true

require "net/http"

module CustomerioNative
  # The HTTP answers the gem hands back, as the official gem hands them back: real
  # Net::HTTPResponse objects (Net::HTTPOK, Net::HTTPNoContent, ...), so that code written for
  # it works unchanged: response.code ("200", a String), response.message ("OK"),
  # response.body, response["Content-Type"], response.to_hash, response.is_a?(Net::HTTPSuccess),
  # case response when Net::HTTPSuccess. They are built from what libcustomerio kept of the
  # answer (cio_last_response(): status, body, the header lines), after the whole exchange: no
  # socket behind them (read_body with a block raises IOError, as a read one does).
  #
  # A method that returns one has succeeded (an error status raises InvalidResponse), so
  # `response.code.start_with?("2")` is always true there; the object is for the status, the
  # body and the headers.
  module HTTPResponse
    module_function

    # A Net::HTTPResponse for status (Integer), body (String or nil) and headers (the status line
    # and header lines as received, or nil).
    def build(status, body, headers = nil)
      lines = headers.to_s.split(/\r?\n/)
      fields = []
      lines.drop(1).each do |line|
        name, value = line.split(":", 2)
        next if value.nil? || name.strip.empty?

        fields << name.strip << value.strip
      end
      from_parts(status, body, lines.first, fields)
    end

    # #build from the header text already split: the status line (or nil) and the fields as
    # name, value, name, value, ... (Native.cio_rb_last_response splits them so, in C).
    def from_parts(status, body, line, fields)
      code = status.to_s
      version, message = status_line(line, code)
      klass = Net::HTTPResponse::CODE_TO_OBJ[code] ||
              Net::HTTPResponse::CODE_CLASS_TO_OBJ[code[0]] || Net::HTTPUnknownResponse
      response = klass.new(version, code, message)
      i = 0
      while i < fields.size
        response.add_field(fields[i], fields[i + 1])
        i += 2
      end
      # What Net::HTTP sets once it has read a body (as WebMock and Net::HTTP's own tests do):
      # the body is there, nothing is left to read.
      response.instance_variable_set(:@read, true)
      response.body = body
      response
    end

    # [HTTP version, reason phrase] from "HTTP/1.1 200 OK"; HTTP/2 sends no phrase: then one is
    # made from the response class's name (Net::HTTPNoContent: "No Content").
    def status_line(line, code)
      version, _code, phrase = line.to_s.split(" ", 3)
      version = version&.delete_prefix("HTTP/")
      phrase = phrase.to_s.strip
      if phrase.empty?
        klass = Net::HTTPResponse::CODE_TO_OBJ[code]
        phrase = klass ? klass.name.delete_prefix("Net::HTTP").gsub(/(?<=[a-z])(?=[A-Z])/, " ") : ""
      end
      [version.nil? || version.empty? ? "1.1" : version, phrase]
    end
  end
end

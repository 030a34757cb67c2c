# frozen_string_literal: true

require "json"
require "stringio"

module CustomerioNative
  module Webhooks
    # Rack middleware for a Customer.io reporting webhook endpoint. A POST to path is verified
    # (X-CIO-Signature over the raw body and X-CIO-Timestamp, within tolerance seconds of now)
    # and parsed; the app then gets the events as env["customerio.events"] (an Array of
    # Webhooks::Event) with the raw body still readable from rack.input. Every other request
    # goes to the app untouched.
    #
    #   use CustomerioNative::Webhooks::Middleware,
    #       signing_key: ENV.fetch("CUSTOMERIO_WEBHOOK_SIGNING_KEY"), path: "/webhooks/customerio"
    #
    # Answers, without calling the app: 401 for a bad signature, a stale timestamp or missing
    # headers; 400 for a genuine request whose body is not a webhook payload. Errors are JSON
    # {"error": "..."} and never contain the key.
    #
    # dedup: a Deduplicator (or true for a new one) drops events already seen from
    # env["customerio.events"] (they are listed in env["customerio.duplicates"]). An event is
    # recorded when it arrives, so if the app fails on it, Customer.io's retry is dropped too:
    # only use it when the app handles each event once it has it.
    class Middleware
      EVENTS = "customerio.events"
      DUPLICATES = "customerio.duplicates"

      def initialize(app, signing_key:, path: "/customerio/webhooks", tolerance: DEFAULT_TOLERANCE,
                     dedup: nil)
        raise ArgumentError, "signing_key must be a non-empty String" if signing_key.to_s.empty?

        @app = app
        @signing_key = signing_key.to_s
        @path = normalize(path)
        @tolerance = Integer(tolerance)
        @dedup = dedup == true ? Deduplicator.new : dedup
      end

      # Without the signing key (the default #inspect would show it, e.g. in a middleware
      # listing or an error report).
      def inspect
        "#<#{self.class.name} path=#{@path.inspect} tolerance=#{@tolerance} " \
          "dedup=#{@dedup ? 'on' : 'off'}>"
      end

      def call(env)
        return @app.call(env) unless env["REQUEST_METHOD"] == "POST" && path_of(env) == @path

        body = read_body(env)
        begin
          Webhooks.verify(@signing_key, env["HTTP_X_CIO_TIMESTAMP"], body,
                          env["HTTP_X_CIO_SIGNATURE"], tolerance: @tolerance)
        rescue Error => e
          return error(401, e.message)
        end
        begin
          events = Webhooks.parse(body)
        rescue Error => e
          return error(400, e.message)
        end
        env[EVENTS], env[DUPLICATES] = split_duplicates(events)
        @app.call(env)
      end

      private

      def path_of(env)
        normalize("#{env['SCRIPT_NAME']}#{env['PATH_INFO']}")
      end

      # "/a//b/" and "/a/b" are the same path.
      def normalize(path)
        path = "/#{path}".squeeze("/")
        path.length > 1 ? path.chomp("/") : path
      end

      # The raw body, leaving an equivalent rack.input for the app.
      def read_body(env)
        input = env["rack.input"]
        return +"" if input.nil?

        input.rewind if input.respond_to?(:rewind)
        body = input.read.to_s.b
        if input.respond_to?(:rewind)
          input.rewind
        else
          env["rack.input"] = StringIO.new(body)
        end
        body
      end

      def split_duplicates(events)
        return [events, []] if @dedup.nil?

        events.partition { |event| !@dedup.seen?(event.event_id) }
      end

      def error(status, message)
        body = JSON.generate(error: message)
        [status, { "content-type" => "application/json",
                   "content-length" => body.bytesize.to_s }, [body]]
      end
    end
  end
end

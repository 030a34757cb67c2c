# frozen_string_literal: true

require "date"
require "json"
require "logger"
require "customerio_native/native"
require "customerio_native/errors"
require "customerio_native/regions"
require "customerio_native/payload"
require "customerio_native/pipeline"

module CustomerioNative
  # The Pipelines API (Data Pipelines, https://cdp.customer.io/v1) in the shape of Segment's
  # analytics-ruby (Segment::Analytics, 2.x): the same constructor options, the same calls with
  # the same keyword fields, on libcustomerio's delivery pipeline.
  #
  #   analytics = CustomerioNative::Analytics.new(
  #     write_key: ENV.fetch("CUSTOMERIO_CDP_API_KEY"),
  #     on_error: proc { |status, msg| warn "customer.io #{status}: #{msg}" }
  #   )
  #   analytics.identify(user_id: 42, traits: { email: "ada@example.com", plan: "pro" })
  #   analytics.track(user_id: 42, event: "Created Account", properties: { via: "web" })
  #   analytics.flush
  #
  # Each call hands the message's parts to libcustomerio (ids as Strings; traits, properties,
  # context and integrations as JSON text, Time values in them as ISO-8601 with milliseconds),
  # which writes the Segment-shaped message, validates it (ids per message type, objects where
  # objects belong, 32 KB), completes it (a ULID messageId, the timestamp, context.library) and
  # queues it; the pipeline's thread sends batches to /v1/batch under
  # 500 KB, paced, retried with backoff and Retry-After, every message reported once. The call
  # returns true at once. Unlike analytics-ruby, nothing is dropped silently: a bad message
  # raises ValidationError (an ArgumentError, as analytics-ruby raises), one over 32 KB
  # MessageTooLargeError, a full queue QueueFullError; a message Customer.io refuses or that is
  # still undelivered after the retries goes to on_error (or is printed with warn); what is
  # queued at exit is delivered (at_exit, within exit_timeout).
  class Analytics
    OPTIONS = %i[write_key on_error max_queue_size batch_size stub test sync host port ssl url
                 region retries timeout connect_timeout backoff user_agent ca_file linger
                 max_in_flight exit_timeout spool_path path headers backoff_policy
                 strict_mode].freeze
    private_constant :OPTIONS

    # The fields each call takes (analytics-ruby's); others are logged at debug and ignored.
    COMMON_FIELDS = %i[user_id anonymous_id context timestamp integrations message_id
                       options].freeze
    FIELDS = {
      identify: COMMON_FIELDS + %i[traits],
      track: COMMON_FIELDS + %i[event properties],
      page: COMMON_FIELDS + %i[name category properties],
      screen: COMMON_FIELDS + %i[name category properties],
      group: COMMON_FIELDS + %i[group_id traits],
      alias: COMMON_FIELDS + %i[previous_id]
    }.freeze
    KNOWN = FIELDS.transform_values { |names| names.to_h { |name| [name, true] }.freeze }.freeze
    private_constant :COMMON_FIELDS, :FIELDS, :KNOWN

    # Where the client logs (analytics-ruby's Segment::Analytics::Logging): fields a call
    # ignores, at debug. Default: a Logger on $stderr at WARN; set Analytics.logger = ... (or
    # Analytics::Logging.logger = ..., as for analytics-ruby).
    module Logging
      class << self
        attr_writer :logger

        def logger
          @logger ||= Logger.new($stderr, level: Logger::WARN,
                                          progname: "CustomerioNative::Analytics")
        end
      end

      def logger
        Logging.logger
      end
    end

    def self.logger
      Logging.logger
    end

    def self.logger=(logger)
      Logging.logger = logger
    end
    include Logging

    # analytics-ruby's defaults.
    MAX_QUEUE_SIZE = 10_000
    RETRIES = 10

    # What test: true collects instead of sending, as analytics-ruby's TestQueue: every message
    # (completed by libcustomerio: messageId, timestamp, context.library) as a Hash with Symbol
    # keys, in #all and by type.
    #
    #   analytics.track(user_id: 1, event: "Signed Up")
    #   analytics.test_queue.track.last[:event] # => "Signed Up"
    class TestQueue
      TYPES = %i[identify track page screen group alias].freeze

      attr_reader :messages

      def initialize
        @lock = Mutex.new
        reset!
      end

      # The index-th message of #all.
      def [](index)
        all[index]
      end

      def count
        all.count
      end

      def <<(message)
        @lock.synchronize do
          all << message
          (@messages[message[:type].to_sym] ||= []) << message
        end
        self
      end

      def all
        @messages[:all] ||= []
      end

      TYPES.each do |type|
        define_method(type) { @messages[type] ||= [] }
      end

      def reset!
        @messages = {}
      end
    end

    # The delivery pipeline on the Pipelines sink; the reports of one drain are handed to the
    # client together, which groups them by what struck them.
    class MessagePipeline < Pipeline
      def initialize(handler, native, **options)
        @handler = handler
        super(native, sink: :pipelines, param_error: ValidationError, **options)
      end

      # Queues one message given by its parts (Analytics#submit): libcustomerio builds it
      # straight into the queue (cio_pipeline_try_enqueue_message; the waiting form only when
      # the pipeline may wait, as for #enqueue).
      def enqueue_message(parts)
        if @fast # the usual call in one step; nil: closed, full or forked, the way below says
          begin
            return if Native.cio_rb_cdp_try_enqueue_guarded(@guard, parts)
          rescue Native::Error => e
            raise Pipeline.error_for(e, @param_error), cause: nil
          end
        end
        with_pipeline { |ptr| push(ptr, parts, ENQUEUE_MESSAGE) }
      end

      ENQUEUE_MESSAGE = %i[cio_rb_cdp_try_enqueue cio_rb_cdp_enqueue].freeze
      private_constant :ENQUEUE_MESSAGE

      private

      def dispatch_all(reports)
        failed = reports.reject(&:ok?)
        @handler.call(failed) unless failed.empty?
      end
    end
    private_constant :MessagePipeline

    # Options, as keywords or a Hash (String or Symbol keys), analytics-ruby's first:
    # - write_key: the Pipelines API key (nil: CUSTOMERIO_CDP_API_KEY). A key of the form
    #   "sk_us_..." / "pk_eu_..." is sent as a Bearer token and picks its region's host; any
    #   other with HTTP Basic (key as user, empty password).
    # - on_error: called as on_error.call(status, message) for the messages given up, once per
    #   failed batch as in analytics-ruby: status is the HTTP status of the last answer, -1
    #   when there was none (network failure, timeout, the client closed with messages left);
    #   message is libcustomerio's sentence. A callable that takes three arguments (or any
    #   proc) also gets the messages struck, as Hashes. It runs on the client's report thread,
    #   or inside flush/close. Without it failures are printed with warn.
    # - max_queue_size: messages queued or in flight at most (10,000); one more raises
    #   QueueFullError (analytics-ruby drops it with a log line).
    # - batch_size: messages per request at most. nil (ours; analytics-ruby's is 100): as many as
    #   fit under the 500 KB request limit, so a busy process makes far fewer requests under
    #   the workspace's rate limit.
    # - stub: true, or test: true: validate and complete each message, send nothing; with
    #   test: true the messages are kept in #test_queue.
    # - sync: true: send each call at once in its own /v1/batch request (retried) and raise
    #   InvalidResponse (error status), NetworkError/RequestTimeout (no answer).
    # - host: a host name (analytics-ruby's style; with port: and ssl:, default true) or a base
    #   URL ("http://127.0.0.1:8080"); url: a base URL. Either replaces
    #   https://cdp.customer.io; /v1/batch is appended. region: Regions::US (default) or
    #   Regions::EU (https://cdp-eu.customer.io).
    # - retries: retries of a failed request (network errors, timeouts, 408, 429, 5xx; never
    #   other 4xx) before its messages are given up (10).
    # - timeout: seconds one HTTP attempt may take; connect_timeout:, backoff: (seconds, the
    #   base of the exponential backoff), user_agent:, ca_file: as for Client.
    # - linger: seconds the oldest queued message may wait for a fuller batch (0.1);
    #   max_in_flight: requests at once (4); spool_path: a file that makes the queue survive a
    #   crash or kill -9 (see Pipeline); exit_timeout: seconds the process's exit may spend
    #   delivering what is queued (10; nil: no limit), what is left is reported to on_error.
    # - path: where batches are POSTed (default "/v1/batch", the Pipelines API's batch
    #   endpoint; analytics-ruby's default is Segment's "/v1/import": give it to keep posting
    #   there, e.g. to a relay). headers: is accepted and not sent (libcustomerio sets
    #   Content-Type, Accept and User-Agent; give user_agent:). backoff_policy: an
    #   Analytics::BackoffPolicy whose min_timeout_ms becomes backoff: (libcustomerio backs off
    #   exponentially with jitter and honours Retry-After).
    # - strict_mode: (ours; true by default) requests carry "X-Strict-Mode: 1", so Customer.io
    #   answers 400 to a message it cannot accept (reported to on_error, raised with sync:)
    #   instead of 200 while dropping it. false: sent without it, as analytics-ruby does
    #   (Customer.io's permissive mode).
    # Unknown options raise ArgumentError.
    def initialize(options = nil, **kwargs)
      opts = CustomerioNative::Client.symbolized_options(
        options, kwargs, OPTIONS + Native::CLIENT_OPTION_NAMES + Native::PIPELINE_OPTION_NAMES
      )
      @on_error = opts[:on_error]
      @test = opts[:test] ? true : false
      @stub = opts[:stub] ? true : false
      @sync = opts[:sync] ? true : false
      @test_queue = @test ? TestQueue.new : nil
      @closed = false
      @native = nil
      @pipeline = nil
      key = Analytics.write_key(opts[:write_key])
      url = Analytics.base_url(opts)
      region = Analytics.region_code(opts[:region])
      return if @test || @stub

      retries = opts.fetch(:retries, RETRIES)
      retries = retries.nil? ? RETRIES : [Integer(retries), 0].max
      begin
        backoff = opts.fetch(:backoff) { Analytics.backoff_of(opts) }
        @native = Native::Handle.new(
          param_error: ValidationError,
          **{ cdp_api_key: key, cdp_url: url, region: region, cdp_batch_path: opts[:path]&.to_s,
              cdp_permissive: !opts.fetch(:strict_mode, true), user_agent: opts[:user_agent],
              ca_file: opts[:ca_file],
              **Native.timing_options(timeout: opts[:timeout],
                                      connect_timeout: opts[:connect_timeout],
                                      retries: @sync ? retries : nil, backoff: backoff) }
            .merge(CustomerioNative::Client.native_passthrough(opts, OPTIONS))
        )
        unless @sync
          @pipeline = MessagePipeline.new(
            method(:failed), @native,
            max_queue_items: [Integer(opts[:max_queue_size] || MAX_QUEUE_SIZE), 1].max,
            when_full: :fail,
            max_batch_items: opts[:batch_size] && [Integer(opts[:batch_size]), 1].max,
            linger: opts[:linger], max_in_flight: opts[:max_in_flight],
            max_attempts: retries + 1, exit_timeout: opts.fetch(:exit_timeout, 10),
            spool_path: opts[:spool_path],
            **opts.slice(*(Native::PIPELINE_OPTION_NAMES - OPTIONS)) # by C name, as given
          )
        end
      rescue InvalidRequest => e
        @native&.close
        raise e unless e.error_code == :config

        raise ValidationError.new(e.message).cio_details!(error_code: :config, detail: e.detail),
              cause: nil
      rescue StandardError
        @native&.close
        raise
      end
    end

    attr_accessor :on_error

    # Each call takes analytics-ruby's fields as keywords or as one Hash (Symbol or String
    # keys, with or without braces: track("user_id" => 1, "event" => "x") works); a field the
    # call does not know is logged at debug and ignored, as analytics-ruby ignores it.

    # Each call hands libcustomerio the message's parts (the Array of #submit, in the order of
    # cio_cdp_message_t): the core writes, validates and completes the message, so nothing here
    # spells a member of it.

    # Who the person is, and their traits (a Hash).
    def identify(attrs = nil, **fields)
      f = fields_for(:identify, attrs, fields)
      submit(f, ["identify", id(f[:user_id]), id(f[:anonymous_id]), nil, nil, nil, nil, nil,
                 object("identify", f[:traits], :traits), nil])
    end

    # Something the person did: event (a String) and its properties (a Hash).
    def track(attrs = nil, **fields)
      f = fields_for(:track, attrs, fields)
      submit(f, ["track", id(f[:user_id]), id(f[:anonymous_id]), nil, nil, id(f[:event]), nil,
                 nil, nil, object("track", f[:properties], :properties)])
    end

    # A web page view: name and category (optional) and properties.
    def page(attrs = nil, **fields)
      view("page", fields_for(:page, attrs, fields))
    end

    # A mobile screen view: name and category (optional) and properties.
    def screen(attrs = nil, **fields)
      view("screen", fields_for(:screen, attrs, fields))
    end

    # Puts the person in a group (an object, for Customer.io) with the group's traits.
    def group(attrs = nil, **fields)
      f = fields_for(:group, attrs, fields)
      submit(f, ["group", id(f[:user_id]), id(f[:anonymous_id]), nil, id(f[:group_id]), nil, nil,
                 nil, object("group", f[:traits], :traits), nil])
    end

    # Merges the identity previous_id into user_id (anonymous_id is sent too when given; the
    # Pipelines API needs user_id, so libcustomerio refuses an alias without it).
    def alias(attrs = nil, **fields)
      f = fields_for(:alias, attrs, fields)
      submit(f, ["alias", id(f[:user_id]), id(f[:anonymous_id]), id(f[:previous_id]), nil, nil,
                 nil, nil, nil, nil])
    end

    # Sends what is queued without waiting for linger and waits until every message queued so
    # far is delivered or given up, and its on_error has run; timeout: seconds (nil: no limit).
    # true when everything was reported (also at once with test:, stub:, sync: or once closed),
    # false when the timeout passed first.
    def flush(timeout: nil)
      pipeline = @pipeline
      return true if pipeline.nil? || pipeline.closed?

      pipeline.flush(timeout: timeout)
    end

    # Flushes (up to timeout seconds; nil: no limit), then stops the client: what is still
    # undelivered is reported to on_error (status -1), later calls raise PipelineError.
    # Idempotent; true when the flush finished.
    def close(timeout: nil)
      return true if @closed

      @closed = true
      done = @pipeline ? @pipeline.close(timeout: timeout) : true
      @native&.close
      done
    end
    alias_method :shutdown, :close

    def closed?
      @closed
    end

    # Messages waiting to be sent (not counting those in flight), as analytics-ruby's.
    def queued_messages
      pipeline = @pipeline
      pipeline.nil? || pipeline.closed? ? 0 : pipeline.stats[:queue_depth]
    end

    # The pipeline's counters (enqueued, delivered, failed, retried, requests, ...); {} with
    # test:, stub: or sync:.
    def stats
      pipeline = @pipeline
      pipeline.nil? || pipeline.closed? ? {} : pipeline.stats
    end

    # With test: true, the messages of every call (TestQueue).
    def test_queue
      raise "Test queue only available when setting :test to true." unless @test

      @test_queue
    end

    # @api private: a call's fields given as one Hash and/or keywords (String or Symbol keys),
    # as one Hash with Symbol keys.
    def self.fields(attrs, kwargs = {})
      unless attrs.nil? || attrs.is_a?(Hash)
        raise ArgumentError, "the fields must be a Hash or keywords"
      end

      (attrs || {}).merge(kwargs).to_h { |k, v| [k.respond_to?(:to_sym) ? k.to_sym : k, v] }
    end

    # analytics-ruby's BackoffPolicy, to pass as backoff_policy:. Its min_timeout_ms becomes the
    # base of libcustomerio's exponential backoff (unless backoff: is given); the rest is
    # libcustomerio's (doubling with jitter, at most 10 s, Retry-After honoured).
    class BackoffPolicy
      MIN_TIMEOUT_MS = 100
      MAX_TIMEOUT_MS = 10_000
      MULTIPLIER = 1.5
      RANDOMIZATION_FACTOR = 0.5

      attr_reader :min_timeout_ms, :max_timeout_ms, :multiplier, :randomization_factor

      def initialize(opts = {})
        opts = Analytics.fields(opts)
        @min_timeout_ms = opts[:min_timeout_ms] || MIN_TIMEOUT_MS
        @max_timeout_ms = opts[:max_timeout_ms] || MAX_TIMEOUT_MS
        @multiplier = opts[:multiplier] || MULTIPLIER
        @randomization_factor = opts[:randomization_factor] || RANDOMIZATION_FACTOR
      end
    end

    # @api private: backoff: seconds from a backoff_policy: (nil: libcustomerio's default).
    def self.backoff_of(opts)
      policy = opts[:backoff_policy]
      return nil unless policy.respond_to?(:min_timeout_ms) && policy.min_timeout_ms

      Float(policy.min_timeout_ms) / 1000
    end

    # @api private: the write key, or CUSTOMERIO_CDP_API_KEY; stripped (keys read from files
    # end in a newline). None raises ValidationError.
    def self.write_key(value)
      key = value.nil? ? ENV.fetch("CUSTOMERIO_CDP_API_KEY", nil) : value
      key = key.to_s.strip
      return key unless key.empty?

      msg = "write_key must be a non-empty String (or set CUSTOMERIO_CDP_API_KEY)"
      raise ValidationError.new(msg).cio_details!(error_code: :config, detail: msg)
    end

    # @api private: the base URL from host: (a host name, with port: and ssl:, or a URL) or
    # url:, nil for the region's.
    def self.base_url(opts)
      url = opts[:url]
      host = opts[:host]
      bare = !host.nil? && !host.to_s.include?("://")
      raise ArgumentError, "give host: or url:, not both" if url && host
      if (!opts[:port].nil? || opts.key?(:ssl)) && !bare
        raise ArgumentError, "port: and ssl: go with host: given as a host name"
      end
      return (url || host)&.to_s unless bare

      scheme = opts[:ssl] == false ? "http" : "https"
      port = opts[:port].nil? ? "" : ":#{Integer(opts[:port])}"
      "#{scheme}://#{host}#{port}"
    end

    # @api private: Regions::US / Regions::EU as libcustomerio's region code.
    def self.region_code(region)
      return Native::CIO_REGION_US if region.nil?
      return Native::CIO_REGION_EU if region == Regions::EU
      return Native::CIO_REGION_US if region == Regions::US

      raise ArgumentError, "region must be CustomerioNative::Regions::US or ::EU " \
                           "(give url: for any other host)"
    end

    # @api private: a Time as analytics-ruby writes it, ISO-8601 with milliseconds, "Z" for UTC
    # and the offset otherwise ("2024-05-01T12:00:00.123+02:00").
    def self.iso8601(time)
      time.strftime(time.utc? ? "%Y-%m-%dT%H:%M:%S.%LZ" : "%Y-%m-%dT%H:%M:%S.%L%:z")
    end

    # @api private: a copy of value with every Time and DateTime at any depth as iso8601 and
    # every Date as "YYYY-MM-DD" (analytics-ruby converts the top level of traits and
    # properties only; a deeper Time would be sent as Time#to_s there).
    # A cyclic value raises ValidationError naming the cycle under what.
    def self.plain(value, what = "value")
      Payload.walk(value, root: what) { |leaf| plain_leaf(leaf) }
    rescue Payload::CycleError => e
      msg = "#{what} cannot be encoded as JSON (#{e.message})"
      raise ValidationError.new(msg).cio_details!(error_code: :invalid_argument, detail: msg),
            cause: nil
    end

    # @api private
    def self.plain_leaf(value)
      case value
      when Time then iso8601(value)
      when DateTime then iso8601(value.to_time)
      when Date then value.strftime("%F")
      else value
      end
    end

    private

    # The fields of a call (see #identify), the ones it does not know logged and left out.
    def fields_for(call, attrs, kwargs)
      # the usual call: keywords only, each one the call knows (nothing to convert or leave out)
      return kwargs if attrs.nil? && known_keys?(KNOWN.fetch(call), kwargs)

      fields = Analytics.fields(attrs, kwargs)
      known = FIELDS.fetch(call)
      unknown = fields.keys - known
      unless unknown.empty?
        logger.debug("#{call}: ignoring unknown field(s) #{unknown.map(&:inspect).join(', ')}")
      end
      fields.slice(*known)
    end

    def known_keys?(known, kwargs)
      kwargs.each_key { |k| return false unless known.key?(k) }
      true
    end

    def view(type, f)
      submit(f, [type, id(f[:user_id]), id(f[:anonymous_id]), nil, nil, nil, label(f[:name]),
                 label(f[:category]), nil, object(type, f[:properties], :properties)])
    end

    # An id as the API's String (numbers too, as the official clients send them); nil is left
    # out. Blank or over-long ids are libcustomerio's to refuse.
    def id(value)
      value.nil? ? nil : Payload.text(value)
    end

    # A page or screen name or category: an empty one is none (analytics-ruby sends "").
    def label(value)
      text = value.nil? ? nil : Payload.text(value)
      text.nil? || text.empty? ? nil : text
    end

    # traits, properties, context as JSON text: {} when nil; anything else is sent as given,
    # and libcustomerio refuses what is not a JSON object, naming the field.
    def object(type, value, what)
      value.nil? ? EMPTY_OBJECT : json(type, value, what)
    end
    EMPTY_OBJECT = "{}"
    private_constant :EMPTY_OBJECT

    # value (with Times and Dates as analytics-ruby writes them, see Analytics.plain) as JSON
    # text; what cannot be encoded raises ValidationError. Plain values (no Time, Date, Symbol
    # value, object, ...) are written in C as JSON.generate writes them (Native.cio_rb_json); a
    # Hash with nothing to convert (no Time, Date, Hash or Array in it, so no cycle either) is
    # encoded as it is, without a copy.
    def json(type, value, what)
      Native.cio_rb_json(value) ||
        JSON.generate(flat?(value) ? value : Analytics.plain(value, what))
    rescue JSON::GeneratorError, JSON::NestingError, EncodingError => e
      msg = "#{type}: the message cannot be encoded as JSON (#{e.message})"
      raise ValidationError.new(msg).cio_details!(error_code: :invalid_argument, detail: msg),
            cause: nil
    end

    def flat?(value)
      return false unless value.is_a?(Hash)

      value.each_value do |v|
        return false if v.is_a?(Hash) || v.is_a?(Array) || v.is_a?(Time) || v.is_a?(Date)
      end
      true
    end

    def timestamp_text(value)
      case value
      when nil, String then value
      when Time then Analytics.iso8601(value)
      when DateTime then Analytics.iso8601(value.to_time)
      else
        msg = "timestamp must be a Time (or an ISO-8601 String), not #{value.class}"
        raise ValidationError.new(msg).cio_details!(error_code: :invalid_argument, detail: msg)
      end
    end

    # The message to libcustomerio, given by its parts (see Native.cio_rb_cdp_build in
    # bindings/ruby.i): type, user_id, anonymous_id, previous_id, group_id, event, name,
    # category, traits, properties (JSON text), then the members every message may carry,
    # appended here: context, integrations (JSON text), timestamp, message_id, and
    # analytics-ruby's options: (JSON text, sent as a member of the message as analytics-ruby
    # sends it). Queued (the core builds it straight into the pipeline), sent (sync:), or built
    # only (test:, stub:).
    def submit(f, parts)
      raise closed_error if @closed

      type = parts[0]
      parts.push(object(type, f[:context], :context),
                 f[:integrations].nil? ? nil : json(type, f[:integrations], :integrations),
                 timestamp_text(f[:timestamp]), id(f[:message_id]),
                 f[:options].nil? ? nil : json(type, f[:options], :options))
      unless @test || @stub || @sync
        checked { @pipeline.enqueue_message(parts) }
        return true
      end

      text = checked { Native.cio_rb_cdp_build(parts) }
      if @test || @stub
        @test_queue << JSON.parse(text, symbolize_names: true) if @test
      elsif @sync
        send_now(text)
      end
      true
    end

    # sync: one /v1/batch request with this message, retried by libcustomerio.
    def send_now(text)
      result = checked { @native.call(:cio_cdp_batch, [text]) }
      errors = result ? result[1] : []
      return if errors.empty?

      _index, reason, _field, message = errors.first
      text = message || reason || "the message was rejected"
      raise InvalidResponse.new("200", text, HTTPResponse.build(200, nil))
        .cio_details!(http_status: 200, error_code: :partial, detail: text)
    end

    # Runs the block; libcustomerio's refusals become ValidationError (MessageTooLargeError
    # over 32 KB).
    def checked
      yield
    rescue Native::Error => e
      raise too_large(Native.error_for(e, ValidationError)), cause: nil
    rescue ValidationError => e
      raise too_large(e), cause: nil
    end

    def too_large(error)
      return error unless error.is_a?(ValidationError) && error.error_code == :payload_too_large

      MessageTooLargeError.new(error.message)
                          .cio_details!(error_code: error.error_code, detail: error.detail)
    end

    def closed_error
      msg = "the analytics client is closed (close or shutdown was called)"
      PipelineError.new(msg).cio_details!(error_code: :closed, detail: msg)
    end

    # ---- failures ----------------------------------------------------------------------------

    # The messages of one drain given up, grouped by what struck them: one on_error call per
    # group, as analytics-ruby calls it once per failed batch.
    def failed(reports)
      reports.group_by { |r| [r.code, r.http_status, r.reason, r.message] }.each_value do |group|
        first = group.first
        status = first.http_status || -1
        message = first.message || first.code_name
        handler = @on_error
        if handler.nil?
          warn "customerio-native: analytics: #{group.size} message(s) not delivered " \
               "(#{status}): #{message}"
          next
        end
        begin
          call_on_error(handler, status, message, group.map { |r| operation(r) })
        rescue StandardError => e
          warn "customerio-native: analytics: on_error raised #{e.class}: #{e.message}"
        end
      end
    end

    # on_error.call(status, message), plus the messages when it takes a third argument.
    def call_on_error(handler, status, message, messages)
      args = [status, message, messages]
      return handler.call(*args) if handler.is_a?(Proc) && !handler.lambda?

      arity = handler.is_a?(Proc) ? handler.arity : handler.method(:call).arity
      handler.call(*(arity.negative? ? args : args.first(arity)))
    end

    def operation(report)
      JSON.parse(report.operation_json)
    rescue JSON::ParserError
      report.operation_json
    end

    # analytics-ruby's Segment::Analytics::Client, to which Segment::Analytics.new proxies
    # every call: here the same class, so Segment::Analytics::Client.new(write_key: ...) works.
    Client = self
  end
end

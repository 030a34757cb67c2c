# frozen_string_literal: true

require "customerio_native/native"
require "customerio_native/payload"
require "customerio_native/client_helpers"

module CustomerioNative
  # Identifier types for merge_customers and the Track v2 helpers, as in the official gem.
  class IdentifierType
    ID = "id"
    EMAIL = "email"
    CIOID = "cio_id"
  end

  # The Track API v1 client: the official gem's Customerio::Client (6.2, and 5.x's calls where
  # the two agree), method for method and argument for argument, on libcustomerio.
  #
  #   client = CustomerioNative::Client.new(site_id, api_key, region: CustomerioNative::Regions::EU)
  #   client.identify(id: 5, email: "bob@example.com", created_at: Time.now)
  #   client.track(5, "purchase", type: "socks", price: "13.99")
  #   client.close
  #
  # Each call blocks until the request succeeded or finally failed (libcustomerio retries
  # network errors, timeouts, 408, 429 and 5xx with backoff, honouring Retry-After), releases
  # the GVL meanwhile, and returns the answer as a Net::HTTPResponse (see HTTPResponse). One client may be shared by any number of threads; it keeps
  # its connections alive.
  #
  # Errors are the official gem's: ParamError for arguments refused before sending (the
  # official checks with the official messages, then libcustomerio's checks of ids, UTF-8 and
  # sizes, whose message names the call and the field), MissingIdAttributeError,
  # CustomerioNative::InvalidResponse for an error status, CustomerioNative::InvalidRequest
  # (and its subclasses NetworkError, RequestTimeout, ConfigurationError) when there was none.
  #
  # With background: true, identify, delete, suppress, unsuppress, track, pageview, screen,
  # add_device, delete_device and merge_customers go through a Pipeline on this client instead
  # (Track v2 batches, retried, reported to on_error) and return at once; see #pipeline.
  class Client
    DELIVERY_OPENED = "opened"
    DELIVERY_CLICKED = "clicked"
    DELIVERY_CONVERTED = "converted"
    DELIVERY_DELIVERED = "delivered"
    DELIVERY_BOUNCED = "bounced"
    DELIVERY_DEFERRED = "deferred"
    DELIVERY_DROPPED = "dropped"
    DELIVERY_SPAMMED = "spammed"

    # In the official gem's order (its ParamError message lists them so).
    VALID_DELIVERY_METRICS = [DELIVERY_OPENED, DELIVERY_CLICKED, DELIVERY_CONVERTED,
                              DELIVERY_DELIVERED, DELIVERY_BOUNCED, DELIVERY_DEFERRED,
                              DELIVERY_DROPPED, DELIVERY_SPAMMED].freeze
    VALID_PUSH_EVENTS = [DELIVERY_OPENED, DELIVERY_CONVERTED, DELIVERY_DELIVERED].freeze

    # The 5.x names, kept (deprecated) by 6.x.
    PUSH_OPENED = DELIVERY_OPENED
    PUSH_CONVERTED = DELIVERY_CONVERTED
    PUSH_DELIVERED = DELIVERY_DELIVERED

    class MissingIdAttributeError < RuntimeError; end

    class ParamError < RuntimeError
      include ErrorDetails
    end

    CONNECTION_OPTIONS = %i[region url timeout connect_timeout retries backoff user_agent
                            ca_file max_connections json].freeze
    BACKGROUND_OPTIONS = %i[background pipeline_options].freeze
    EVENT_OPTIONS = %i[id timestamp].freeze
    ID_TYPES = {
      IdentifierType::ID => Native::CIO_ID_TYPE_ID,
      IdentifierType::EMAIL => Native::CIO_ID_TYPE_EMAIL,
      IdentifierType::CIOID => Native::CIO_ID_TYPE_CIO_ID
    }.freeze
    private_constant :CONNECTION_OPTIONS, :BACKGROUND_OPTIONS, :EVENT_OPTIONS

    include Helpers

    # site_id, api_key: the workspace's Track API credentials (nil: CUSTOMERIO_SITE_ID and
    # CUSTOMERIO_API_KEY from the environment). Options, as a Hash (the official gem's style) or
    # keywords:
    # - region: Regions::US (default) or Regions::EU;
    # - url: a base URL replacing the region's (a proxy, a relay, the local emulator); the API
    #   paths (/api/v1/...) are appended to it;
    # - timeout: seconds one attempt may take (default 10); connect_timeout: seconds to connect
    #   (default: timeout);
    # - retries: retries after the first attempt (default 3); backoff: seconds, the base of the
    #   exponential backoff between them (default 0.1);
    # - user_agent, ca_file (a PEM bundle to verify the server with), max_connections (per
    #   host, default 8); json: accepted and ignored (bodies are always JSON);
    # - background: true sends the person and event methods through a Pipeline on this client
    #   (fire-and-forget; see #pipeline); pipeline_options: that Pipeline's options (on_error:,
    #   spool_path:, max_queue_bytes:, when_full:, ...). With background: true, keywords named
    #   after libcustomerio pipeline options (redis_url:, ratelimit_url:, ratelimit_senders:,
    #   ...) go to that Pipeline too.
    def initialize(site_id = nil, api_key = nil, options = nil, **kwargs)
      pipe_only = Native::PIPELINE_OPTION_NAMES - Native::CLIENT_OPTION_NAMES
      opts = Client.options(options, kwargs, BACKGROUND_OPTIONS + pipe_only)
      # Keywords only the pipeline knows (redis_url:, ratelimit_url:, ...: the C table's names)
      # go to the background pipeline, as if given in pipeline_options.
      pipe_opts = opts.slice(*pipe_only)
      unless pipe_opts.empty?
        unless opts[:background]
          raise ArgumentError,
                "#{pipe_opts.keys.join(', ')}: pipeline options, for background: true"
        end

        twice = pipe_opts.keys & (opts[:pipeline_options] || {}).keys.map(&:to_sym)
        if twice.any?
          raise ArgumentError, "#{twice.join(', ')} given twice (also in pipeline_options)"
        end

        opts = opts.except(*pipe_only)
      end
      @native = Client.native_handle(site_id, api_key, opts, ParamError)
      @region = opts[:region] || Regions::US
      @param_error = ParamError
      @v2 = nil
      @pipeline = nil
      return unless opts[:background]

      begin
        @pipeline = Pipeline.new(self, **(opts[:pipeline_options] || {}), **pipe_opts,
                                 param_error: ParamError)
      rescue StandardError
        @native.close
        raise
      end
    end

    # @api private: the options as a Hash with Symbol keys: the connection options and extra.
    def self.options(options, kwargs, extra = [])
      symbolized_options(options, kwargs, CONNECTION_OPTIONS + extra + Native::CLIENT_OPTION_NAMES)
    end

    # @api private: the options named after libcustomerio client options (timeout_ms:,
    # backoff_max_ms:, ...) that the gem does not translate itself: passed through by name.
    def self.native_passthrough(opts, translated = CONNECTION_OPTIONS)
      opts.slice(*(Native::CLIENT_OPTION_NAMES - translated))
    end

    # @api private: an options Hash (String or Symbol keys; may be nil) and keywords (String keys
    # too: `Client.new(id, key, "region" => ...)` arrives there) as one Hash with Symbol keys; a
    # key not in allowed raises ArgumentError.
    def self.symbolized_options(options, kwargs, allowed)
      opts = {}
      unless options.nil?
        raise ArgumentError, "options must be a Hash" unless options.is_a?(Hash)

        options.each { |k, v| opts[k.to_sym] = v }
      end
      kwargs.each { |k, v| opts[k.to_sym] = v }
      unknown = opts.keys - allowed
      raise ArgumentError, "unknown option(s): #{unknown.join(', ')}" unless unknown.empty?

      opts
    end

    # @api private: a Native::Handle for Track API calls from the connection options (see
    # #initialize); Pipeline makes its own client with it.
    def self.native_handle(site_id, api_key, opts, param_error)
      region = opts[:region] || Regions::US
      unless Regions.region?(region)
        raise ArgumentError, "region must be an instance of CustomerioNative::Regions::Region"
      end

      code, url = Native.region_options(region, opts[:url], false)
      Native::Handle.new(
        param_error: param_error,
        **{ site_id: site_id, api_key: api_key, region: code, track_url: url,
            user_agent: opts[:user_agent], ca_file: opts[:ca_file],
            max_connections: opts[:max_connections].to_i,
            **Native.timing_options(timeout: opts.fetch(:timeout, 10),
                                    connect_timeout: opts[:connect_timeout],
                                    retries: opts[:retries], backoff: opts[:backoff]) }
          .merge(native_passthrough(opts))
      )
    end

    attr_reader :region

    # With background: true, the Pipeline the person and event methods go through (nil
    # otherwise): its flush, stats and on_error/on_report are the background's.
    attr_reader :pipeline

    # With background: true, waits until everything queued so far is delivered or reported and
    # its callbacks have run (Pipeline#flush); true at once otherwise. timeout: seconds (nil: no
    # limit); false when it passed first.
    def flush(timeout: nil)
      @pipeline ? @pipeline.flush(timeout: timeout) : true
    end

    # Flushes and closes the background pipeline (if any), then stops the client's network
    # engine and frees it, after the calls in progress. Idempotent; later calls raise
    # InvalidRequest (PipelineError for the background methods).
    def close
      @native.close
    end

    # @api private: the client's Native::Handle (a Pipeline on this client borrows it).
    def native_handle
      @native
    end

    def closed?
      @native.closed?
    end

    # Track API v2 (/api/v2/entity and /api/v2/batch) on the same connections and credentials.
    def v2
      @v2 ||= TrackV2.new(@native, ParamError)
    end

    # POST /events: an event for a person not identified yet (anonymous_id), or, with a nil
    # anonymous_id, an invite event (give it a :recipient). Arguments as for #track.
    def track_anonymous(anonymous_id, event_name, attributes = nil, **options)
      require_id(event_name, "event_name")
      data, event = event_args(attributes, options)
      anonymous = blank?(anonymous_id) ? nil : text(anonymous_id)
      call(:cio_track_anonymous, anonymous, text(event_name),
           json(data, "track_anonymous: data"), event)
    end

    # POST /api/v2/batch {"batch": operations} (6.x): Track API v2 operations (Hashes in the
    # API's shape), checked by libcustomerio and sent in as many requests under 500 KB as
    # needed; returns the (last) answer. ParamError "operations must be a non-empty array"
    # otherwise, as in the official gem; an operation libcustomerio refuses raises ParamError
    # naming its index. Client#v2.send_batch returns the per-item errors instead.
    def batch(operations)
      unless operations.is_a?(Array) && !operations.empty?
        raise ParamError, "operations must be a non-empty array"
      end

      ops = operations.each_with_index.map do |op, i|
        raise ParamError, "batch: operations[#{i}] must be a hash" unless op.is_a?(Hash)

        json(op, "batch: operations[#{i}]")
      end
      result, response = @native.call_response(:cio_v2_send_batch, ops)
      errors = result ? result[1] : []
      return response if errors.empty?

      detail = errors.map do |index, reason, field, message|
        "operations[#{index}]: #{message || reason || field}"
      end
      raise ParamError, "batch: #{detail.join('; ')}"
    end

    # POST /push/events: event_name is "opened", "converted" or "delivered"; attributes hold
    # :delivery_id, :device_id and :timestamp (required: unix seconds or a Time).
    def track_push_notification_event(event_name, attributes = nil, **kwargs)
      attrs = Payload.symbolize(hash_arg(attributes, kwargs, "attributes"))
      unless VALID_PUSH_EVENTS.include?(event_name)
        raise ParamError, "event_name must be one of opened, converted, or delivered"
      end
      raise ParamError, "delivery_id must be a non-empty string" if blank?(attrs[:delivery_id])
      raise ParamError, "device_id must be a non-empty string" if blank?(attrs[:device_id])

      timestamp = Payload.unix(attrs[:timestamp])
      raise ParamError, "timestamp must be a valid timestamp" unless valid_timestamp?(timestamp)

      call(:cio_track_push_event, text(attrs[:delivery_id]), event_name,
           text(attrs[:device_id]), timestamp)
    end

    # POST /metrics: metric_name is one of VALID_DELIVERY_METRICS; attributes hold
    # :delivery_id and optionally :timestamp (unix seconds or a Time), :recipient, :reason and
    # :href; blank ones are left out, as in the official gem.
    def track_delivery_metric(metric_name, attributes = nil, **kwargs)
      attrs = Payload.symbolize(hash_arg(attributes, kwargs, "attributes"))
      unless VALID_DELIVERY_METRICS.include?(metric_name)
        raise ParamError, "metric_name must be one of: #{VALID_DELIVERY_METRICS.join(', ')}"
      end
      raise ParamError, "delivery_id must be a non-empty string" if blank?(attrs[:delivery_id])

      timestamp = checked_timestamp(attrs[:timestamp])
      optional = %i[recipient reason href].map { |k| blank?(attrs[k]) ? nil : text(attrs[k]) }
      call(:cio_track_delivery_metric, metric_name, text(attrs[:delivery_id]), timestamp || 0,
           *optional)
    end

    # POST /segments/{segment_id}/add_customers: adds people to a manual segment (not in the
    # official gem). id_type: how the ids identify people.
    def add_to_segment(segment_id, customer_ids, id_type: IdentifierType::ID)
      segment(:cio_segment_add_customers, segment_id, customer_ids, id_type)
    end

    # POST /segments/{segment_id}/remove_customers.
    def remove_from_segment(segment_id, customer_ids, id_type: IdentifierType::ID)
      segment(:cio_segment_remove_customers, segment_id, customer_ids, id_type)
    end

    private

    # A Track API call; returns the answer as a Net::HTTPResponse (see HTTPResponse).
    def call(name, *args)
      @native.call_response(name, *args).last
    end

    def segment(name, segment_id, customer_ids, id_type_name)
      raise ParamError, "customer_ids must be a list of values" unless customer_ids.is_a?(Array)

      kind = id_type(id_type_name)
      raise ParamError, "invalid id_type" if kind.nil?

      call(name, text(segment_id), customer_ids.map { |id| text(id) }, kind)
    end

    def id_type(name)
      ID_TYPES[name.is_a?(Symbol) ? name.to_s : name]
    end

    def json(value, what)
      Payload.json(value, ParamError, what)
    end

    # The hooks of Helpers: Track API v1 calls, or with background: true the pipeline's.

    V1_EVENTS = { event: %i[cio_track track], page: %i[cio_pageview pageview],
                  screen: %i[cio_screen screen] }.freeze
    V1_PERSON = { delete: :cio_delete, suppress: :cio_suppress,
                  unsuppress: :cio_unsuppress }.freeze
    private_constant :V1_EVENTS, :V1_PERSON

    def deliver_identify(customer_id, attributes)
      return background(:deliver_identify, customer_id, attributes) if @pipeline

      call(:cio_identify, customer_id, json(attributes, "identify: attributes"))
    end

    def deliver_event(kind, customer_id, name, data, event)
      return background(:deliver_event, kind, customer_id, name, data, event) if @pipeline

      fn, what = V1_EVENTS.fetch(kind)
      call(fn, customer_id, name, json(data, "#{what}: data"), event)
    end

    def deliver_person(action, customer_id)
      return background(:deliver_person, action, customer_id) if @pipeline

      call(V1_PERSON.fetch(action), customer_id)
    end

    def deliver_add_device(customer_id, device_id, platform, fields)
      return background(:deliver_add_device, customer_id, device_id, platform, fields) if @pipeline

      call(:cio_add_device_fields, customer_id, device_id, platform,
           fields.empty? ? nil : json(fields, "add_device: data"))
    end

    def deliver_delete_device(customer_id, device_id)
      return background(:deliver_delete_device, customer_id, device_id) if @pipeline

      call(:cio_delete_device, customer_id, device_id)
    end

    def deliver_merge(primary_type, primary_id, secondary_type, secondary_id)
      if @pipeline
        return background(:deliver_merge, primary_type, primary_id, secondary_type,
                          secondary_id)
      end

      call(:cio_merge_customers, ID_TYPES.fetch(primary_type), primary_id,
           ID_TYPES.fetch(secondary_type), secondary_id)
    end

    # Queues the call on the background pipeline; returns nil (nothing was answered yet).
    def background(hook, *args)
      @pipeline.__send__(hook, *args)
      nil
    end

  end
end

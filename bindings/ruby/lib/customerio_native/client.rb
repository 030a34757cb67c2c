# frozen_string_literal: true

require "uri"
require "customerio_native/native"
require "customerio_native/payload"

module CustomerioNative
  # Identifier types for merge_customers and the Track v2 helpers, as in the official gem.
  class IdentifierType
    ID = "id"
    EMAIL = "email"
    CIOID = "cio_id"
  end

  # The Track API v1 client: the official gem's Customerio::Client (5.x), method for method and
  # argument for argument, on libcustomerio.
  #
  #   client = CustomerioNative::Client.new(site_id, api_key, region: CustomerioNative::Regions::EU)
  #   client.identify(id: 5, email: "bob@example.com", created_at: Time.now)
  #   client.track(5, "purchase", type: "socks", price: "13.99")
  #   client.close
  #
  # Each call blocks until the request succeeded or finally failed (libcustomerio retries
  # network errors, timeouts, 408, 429 and 5xx with backoff, honouring Retry-After) and
  # releases the GVL meanwhile. One client may be shared by any number of threads; it keeps
  # its connections alive.
  #
  # Errors are the official gem's: ParamError for arguments refused before sending (the
  # official checks with the official messages, then libcustomerio's checks of ids, UTF-8 and
  # sizes, whose message names the call and the field), MissingIdAttributeError,
  # CustomerioNative::InvalidResponse for an error status, CustomerioNative::InvalidRequest
  # (and its subclasses NetworkError, RequestTimeout, ConfigurationError) when there was none.
  class Client
    DELIVERY_OPENED = "opened"
    DELIVERY_CONVERTED = "converted"
    DELIVERY_DELIVERED = "delivered"
    DELIVERY_BOUNCED = "bounced"
    DELIVERY_CLICKED = "clicked"
    DELIVERY_DEFERRED = "deferred"
    DELIVERY_DROPPED = "dropped"
    DELIVERY_SPAMMED = "spammed"

    VALID_PUSH_EVENTS = [DELIVERY_OPENED, DELIVERY_CONVERTED, DELIVERY_DELIVERED].freeze
    VALID_DELIVERY_METRICS = (VALID_PUSH_EVENTS + [DELIVERY_BOUNCED, DELIVERY_CLICKED,
                                                   DELIVERY_DEFERRED, DELIVERY_DROPPED,
                                                   DELIVERY_SPAMMED]).freeze

    class MissingIdAttributeError < RuntimeError; end

    class ParamError < RuntimeError
      include ErrorDetails
    end

    OPTIONS = %i[region url timeout connect_timeout retries backoff user_agent ca_file
                 max_connections json].freeze
    EVENT_OPTIONS = %i[id timestamp].freeze
    DEVICE_FIELDS = %i[last_used attributes].freeze
    ID_TYPES = {
      IdentifierType::ID => Native::CIO_ID_TYPE_ID,
      IdentifierType::EMAIL => Native::CIO_ID_TYPE_EMAIL,
      IdentifierType::CIOID => Native::CIO_ID_TYPE_CIO_ID
    }.freeze
    private_constant :OPTIONS, :EVENT_OPTIONS, :DEVICE_FIELDS

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
    #   host, default 8); json: accepted and ignored (bodies are always JSON).
    def initialize(site_id = nil, api_key = nil, options = nil, **kwargs)
      opts = Client.options(options, kwargs)
      region = opts[:region] || Regions::US
      unless Regions.region?(region)
        raise "region must be an instance of CustomerioNative::Regions::Region"
      end

      code, url = Native.region_options(region, opts[:url], false)
      @native = Native::Handle.new(
        param_error: ParamError, site_id: site_id, api_key: api_key, region: code,
        track_url: url, user_agent: opts[:user_agent], ca_file: opts[:ca_file],
        max_connections: opts[:max_connections].to_i,
        **Native.timing_options(timeout: opts.fetch(:timeout, 10),
                                connect_timeout: opts[:connect_timeout],
                                retries: opts[:retries], backoff: opts[:backoff])
      )
      @region = region
      @v2 = nil
    end

    # @api private
    def self.options(options, kwargs)
      opts = {}
      unless options.nil?
        raise ArgumentError, "options must be a Hash" unless options.is_a?(Hash)

        options.each { |k, v| opts[k.to_sym] = v }
      end
      opts.merge!(kwargs)
      unknown = opts.keys - OPTIONS
      raise ArgumentError, "unknown option(s): #{unknown.join(', ')}" unless unknown.empty?

      opts
    end

    attr_reader :region

    # Stops the client's network engine and frees it, after the calls in progress. Idempotent;
    # later calls raise InvalidRequest.
    def close
      @native.close
    end

    def closed?
      @native.closed?
    end

    # Track API v2 (/api/v2/entity and /api/v2/batch) on the same connections and credentials.
    def v2
      @v2 ||= TrackV2.new(@native, ParamError)
    end

    # PUT /customers/{id}: creates or updates a person. The person is the attributes'
    # customer_id (an id, an email address or "cio_<cio_id>"; not stored as an attribute),
    # else cio_id (as "cio_<cio_id>"), else id; MissingIdAttributeError when none is given.
    # Every other attribute is sent (Time values as unix seconds).
    def identify(attributes = nil, **kwargs)
      attrs = Payload.symbolize(hash_arg(attributes, kwargs, "attributes"))
      if blank?(attrs[:id]) && blank?(attrs[:cio_id]) && blank?(attrs[:customer_id])
        raise MissingIdAttributeError, "Must provide a customer id"
      end

      customer_id = attrs[:id]
      customer_id = "cio_#{attrs[:cio_id]}" unless blank?(attrs[:cio_id])
      customer_id = attrs[:customer_id] unless blank?(attrs[:customer_id])
      attrs.delete(:customer_id)
      call(:cio_identify, text(customer_id), json(attrs, "identify: attributes"))
    end

    # DELETE /customers/{customer_id}.
    def delete(customer_id)
      require_id(customer_id, "customer_id")
      call(:cio_delete, text(customer_id))
    end

    # POST /customers/{customer_id}/suppress.
    def suppress(customer_id)
      require_id(customer_id, "customer_id")
      call(:cio_suppress, text(customer_id))
    end

    # POST /customers/{customer_id}/unsuppress.
    def unsuppress(customer_id)
      require_id(customer_id, "customer_id")
      call(:cio_unsuppress, text(customer_id))
    end

    # POST /customers/{customer_id}/events. As in the official gem, attributes become the
    # event's data and a valid :timestamp among them (unix seconds, or a Time) is also the
    # event's timestamp. With the attributes given as a Hash, the keywords id: (the event's
    # de-duplication id; default: a fresh ULID from libcustomerio) and timestamp: set the
    # event's fields without adding them to its data:
    #
    #   track(5, "purchase", type: "socks", timestamp: 1365436200)      # official style
    #   track(5, "purchase", { type: "socks" }, id: ulid, timestamp: Time.now)
    def track(customer_id, event_name, attributes = nil, **options)
      require_id(customer_id, "customer_id")
      require_id(event_name, "event_name")
      data, event = event_args(attributes, options)
      call(:cio_track, text(customer_id), text(event_name), json(data, "track: data"), event)
    end

    # POST /events: an event for a person not identified yet (anonymous_id), or, with a nil
    # anonymous_id, an invite event (give it a :recipient).
    def track_anonymous(anonymous_id, event_name, attributes = nil, **options)
      require_id(event_name, "event_name")
      data, event = event_args(attributes, options)
      anonymous = blank?(anonymous_id) ? nil : text(anonymous_id)
      call(:cio_track_anonymous, anonymous, text(event_name),
           json(data, "track_anonymous: data"), event)
    end

    # POST /customers/{customer_id}/events {"type": "page", "name": page}.
    def pageview(customer_id, page, attributes = nil, **options)
      require_id(customer_id, "customer_id")
      require_id(page, "page")
      data, event = event_args(attributes, options)
      call(:cio_pageview, text(customer_id), text(page), json(data, "pageview: data"), event)
    end

    # POST /customers/{customer_id}/events {"type": "screen", "name": screen_name} (not in the
    # official gem).
    def screen(customer_id, screen_name, attributes = nil, **options)
      require_id(customer_id, "customer_id")
      require_id(screen_name, "screen_name")
      data, event = event_args(attributes, options)
      call(:cio_screen, text(customer_id), text(screen_name), json(data, "screen: data"), event)
    end

    # PUT /customers/{customer_id}/devices: platform "ios" or "android"; data may hold
    # :last_used (unix seconds or a Time) and :attributes (a Hash).
    def add_device(customer_id, device_id, platform, data = nil, **kwargs)
      require_id(customer_id, "customer_id")
      require_id(device_id, "device_id")
      require_id(platform, "platform")
      data = {} if data.nil? && kwargs.empty?
      raise ParamError, "data parameter must be a hash" unless data.nil? || data.is_a?(Hash)

      fields = Payload.symbolize((data || {}).merge(kwargs)).except(:id, :platform)
      extra = fields.keys - DEVICE_FIELDS
      unless extra.empty?
        raise ParamError, "add_device: unsupported device field(s) #{extra.join(', ')}: " \
                          "pass last_used and attributes"
      end

      last_used = Payload.unix(fields[:last_used])
      unless last_used.nil? || last_used.is_a?(Integer)
        raise ParamError, "last_used must be unix seconds or a Time"
      end

      attrs = fields[:attributes]
      call(:cio_add_device, text(customer_id), text(device_id), text(platform), last_used || 0,
           attrs.nil? ? nil : json(attrs, "add_device: attributes"))
    end

    # DELETE /customers/{customer_id}/devices/{device_id}.
    def delete_device(customer_id, device_id)
      require_id(customer_id, "customer_id")
      require_id(device_id, "device_id")
      call(:cio_delete_device, text(customer_id), text(device_id))
    end

    # POST /push/events: event_name is "opened", "converted" or "delivered"; attributes hold
    # :delivery_id, :device_id and :timestamp (required: unix seconds or a Time).
    def track_push_notification_event(event_name, attributes = nil, **kwargs)
      attrs = Payload.symbolize(hash_arg(attributes, kwargs, "attributes"))
      unless VALID_PUSH_EVENTS.include?(event_name)
        raise ParamError, "event_name must be one of opened, converted, or delivered"
      end
      if attrs[:delivery_id].nil? || attrs[:delivery_id] == ""
        raise ParamError, "delivery_id must be a non-empty string"
      end
      if attrs[:device_id].nil? || attrs[:device_id] == ""
        raise ParamError, "device_id must be a non-empty string"
      end

      timestamp = Payload.unix(attrs[:timestamp])
      raise ParamError, "timestamp must be a valid timestamp" unless valid_timestamp?(timestamp)

      call(:cio_track_push_event, text(attrs[:delivery_id]), event_name,
           text(attrs[:device_id]), timestamp)
    end

    # POST /metrics: metric_name is one of VALID_DELIVERY_METRICS; attributes hold
    # :delivery_id and optionally :timestamp, :recipient, :reason and :href (an http(s) URL).
    def track_delivery_metric(metric_name, attributes = nil, **kwargs)
      attrs = Payload.symbolize(hash_arg(attributes, kwargs, "attributes"))
      unless VALID_DELIVERY_METRICS.include?(metric_name)
        raise ParamError, "metric_name must be one of bounced, clicked, converted, deferred, " \
                          "delivered, dropped, opened, and spammed"
      end
      if attrs[:delivery_id].nil? || attrs[:delivery_id] == ""
        raise ParamError, "delivery_id must be a non-empty string"
      end

      timestamp = Payload.unix(attrs[:timestamp])
      if timestamp && !valid_timestamp?(timestamp)
        raise ParamError, "timestamp must be a valid timestamp"
      end
      raise ParamError, "href must be a valid url" if attrs[:href] && !valid_url?(attrs[:href])

      call(:cio_track_delivery_metric, metric_name, text(attrs[:delivery_id]), timestamp || 0,
           text(attrs[:recipient]), text(attrs[:reason]), text(attrs[:href]))
    end

    # POST /merge_customers: merges the secondary person into the primary one (which stays)
    # and deletes it. Id types are IdentifierType::ID, EMAIL or CIOID.
    def merge_customers(primary_id_type, primary_id, secondary_id_type, secondary_id)
      primary = id_type(primary_id_type)
      raise ParamError, "invalid primary_id_type" if primary.nil?
      raise ParamError, "primary_id must be a non-empty string" if blank?(primary_id)

      secondary = id_type(secondary_id_type)
      raise ParamError, "invalid secondary_id_type" if secondary.nil?
      raise ParamError, "secondary_id must be a non-empty string" if blank?(secondary_id)

      call(:cio_merge_customers, primary, text(primary_id), secondary, text(secondary_id))
    end

    # POST /segments/{segment_id}/add_customers: adds people to a manual segment (not in the
    # official gem 5.x). id_type: how the ids identify people.
    def add_to_segment(segment_id, customer_ids, id_type: IdentifierType::ID)
      segment(:cio_segment_add_customers, segment_id, customer_ids, id_type)
    end

    # POST /segments/{segment_id}/remove_customers.
    def remove_from_segment(segment_id, customer_ids, id_type: IdentifierType::ID)
      segment(:cio_segment_remove_customers, segment_id, customer_ids, id_type)
    end

    private

    def call(name, *args)
      @native.call(name, *args)
    end

    def segment(name, segment_id, customer_ids, id_type_name)
      raise ParamError, "customer_ids must be a list of values" unless customer_ids.is_a?(Array)

      kind = id_type(id_type_name)
      raise ParamError, "invalid id_type" if kind.nil?

      call(name, text(segment_id), customer_ids.map { |id| text(id) }, kind)
    end

    # [data, event options] of an event call; see #track.
    def event_args(attributes, options)
      if attributes.nil?
        data = options
        timestamp = Payload.unix(data[:timestamp])
        id = nil
      else
        raise ParamError, "attributes must be a hash" unless attributes.is_a?(Hash)

        unknown = options.keys - EVENT_OPTIONS
        raise ArgumentError, "unknown keyword(s): #{unknown.join(', ')}" unless unknown.empty?

        data = attributes
        if options.key?(:timestamp)
          timestamp = Payload.unix(options[:timestamp])
          unless timestamp.nil? || valid_timestamp?(timestamp)
            raise ParamError, "timestamp must be a valid timestamp"
          end
        else
          timestamp = Payload.unix(attributes[:timestamp])
        end
        id = options[:id]
      end
      timestamp = nil unless valid_timestamp?(timestamp)
      event = timestamp || id ? [timestamp || 0, text(id)] : nil
      [data, event]
    end

    def hash_arg(hash, kwargs, what)
      return kwargs if hash.nil?
      raise ParamError, "#{what} must be a hash" unless hash.is_a?(Hash)

      kwargs.empty? ? hash : hash.merge(kwargs)
    end

    def require_id(value, name)
      raise ParamError, "#{name} must be a non-empty string" if blank?(value)
    end

    def id_type(name)
      ID_TYPES[name.is_a?(Symbol) ? name.to_s : name]
    end

    def blank?(value)
      Payload.blank?(value)
    end

    def text(value)
      Payload.text(value)
    end

    def json(value, what)
      Payload.json(value, ParamError, what)
    end

    # The official gem's test: unix seconds between 2001 and 5138.
    def valid_timestamp?(timestamp)
      timestamp.is_a?(Integer) && timestamp > 999_999_999 && timestamp < 100_000_000_000
    end

    def valid_url?(url)
      %w[http https].include?(URI.parse(url.to_s).scheme)
    rescue URI::InvalidURIError
      false
    end
  end
end

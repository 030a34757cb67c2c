# frozen_string_literal: true

require "json"
require "customerio_native/native"
require "customerio_native/payload"
require "customerio_native/requests"
require "customerio_native/client"

module CustomerioNative
  # The App API client (Bearer app key): the official gem's Customerio::APIClient, on
  # libcustomerio (customerio/app.h). Each call blocks (without the GVL) until the request
  # succeeded or finally failed, and returns the server's JSON answer as a Hash.
  #
  #   api = CustomerioNative::APIClient.new(app_key, region: CustomerioNative::Regions::US)
  #   request = CustomerioNative::SendEmailRequest.new(to: "ann@example.com",
  #                                                    transactional_message_id: "3",
  #                                                    identifiers: { id: "2" })
  #   request.attach("invoice.pdf", File.binread("invoice.pdf"))
  #   api.send_email(request)   # => {"delivery_id" => "...", "queued_at" => 1700000000}
  #
  # Errors: InvalidResponse for an error status (for a 400, its message is the server's
  # meta.error, as in the official gem), InvalidRequest and subclasses when there was no
  # answer, Client::ParamError for a request libcustomerio refuses before sending, and the
  # official gem's (6.x) ArgumentError for a request of the wrong class or a bad region.
  #
  # Beyond the official gem: send_in_app, send_whatsapp, send_inbox_message, and the reads
  # api.customers, api.segments and api.transactional.
  class APIClient
    REQUESTS = {
      send_email: [SendEmailRequest, :cio_send_email, true],
      send_push: [SendPushRequest, :cio_send_push, false],
      send_sms: [SendSMSRequest, :cio_send_sms, true],
      send_whatsapp: [SendWhatsAppRequest, :cio_send_whatsapp, true],
      send_inbox_message: [SendInboxMessageRequest, :cio_send_inbox_message, true],
      send_in_app: [SendInAppRequest, :cio_send_in_app, false]
    }.freeze
    private_constant :REQUESTS

    # app_key: the App API key (nil: CUSTOMERIO_APP_API_KEY). Options as for Client: region:,
    # url: (replacing the region's https://api.customer.io; /v1/... is appended), timeout:,
    # connect_timeout:, retries:, backoff:, user_agent:, ca_file:, max_connections:.
    def initialize(app_key = nil, options = nil, **kwargs)
      opts = Client.options(options, kwargs)
      region = opts[:region] || Regions::US
      unless Regions.region?(region)
        raise ArgumentError, "region must be an instance of CustomerioNative::Regions::Region"
      end
      unless Native.respond_to?(:cio_send_email)
        raise NotImplementedError, "this build of customerio-native has no App API"
      end

      code, url = Native.region_options(region, opts[:url], true)
      @native = Native::Handle.new(
        param_error: Client::ParamError, app_errors: true,
        **{ app_api_key: app_key, region: code, app_url: url, user_agent: opts[:user_agent],
            ca_file: opts[:ca_file], max_connections: opts[:max_connections].to_i,
            **Native.timing_options(timeout: opts.fetch(:timeout, 10),
                                    connect_timeout: opts[:connect_timeout],
                                    retries: opts[:retries], backoff: opts[:backoff]) }
          .merge(Client.native_passthrough(opts))
      )
      @customers = @segments = @transactional = nil
    end

    def close
      @native.close
    end

    def closed?
      @native.closed?
    end

    REQUESTS.each do |method, (klass, native, with_files)|
      define_method(method) do |req|
        raise ArgumentError, "request must be an instance of #{klass}" unless req.is_a?(klass)

        body = Payload.json(req.message, Client::ParamError, "#{method}: request")
        args = with_files ? [body, req.files.empty? ? nil : req.files] : [body]
        parse(@native.call(native, *args))
      end
    end

    # POST /v1/campaigns/{broadcast_id}/triggers -> {"id" => trigger id}. Customer.io takes
    # one trigger every 10 seconds per broadcast.
    def trigger_broadcast(req)
      unless req.is_a?(TriggerBroadcastRequest)
        raise ArgumentError,
              "request must be an instance of CustomerioNative::TriggerBroadcastRequest"
      end

      body = Payload.json(req.message, Client::ParamError, "trigger_broadcast: message")
      parse(@native.call(:cio_trigger_broadcast, req.broadcast_id.to_s, body))
    end

    # Reads about people: api.customers.get_attributes(5), ...
    def customers
      @customers ||= Customers.new(self)
    end

    # Segments: api.segments.list, ...
    def segments
      @segments ||= Segments.new(self)
    end

    # Transactional message templates: api.transactional.list, ...
    def transactional
      @transactional ||= Transactional.new(self)
    end

    # @api private: one C call whose answer is JSON.
    def read(name, *args)
      parse(@native.call(name, *args))
    end

    private

    def parse(text)
      return {} if text.nil? || text.empty?

      JSON.parse(text)
    rescue JSON::ParserError
      { "body" => text }
    end

    # @api private: arguments shared by the read groups.
    module Args
      ID_TYPES = Client::ID_TYPES

      module_function

      def id_type(name)
        return Native::CIO_ID_TYPE_ID if name.nil?

        ID_TYPES[name.is_a?(Symbol) ? name.to_s : name] or
          raise Client::ParamError, "id_type must be one of id, email, cio_id"
      end

      def page(start, limit)
        start.nil? && limit.nil? ? nil : [Payload.text(start), Integer(limit || 0)]
      end

      def text(value)
        Payload.text(value)
      end

      def json(value, what)
        Payload.json(value, Client::ParamError, what)
      end

      def unix(value)
        value = Payload.unix(value)
        value.nil? ? 0 : Integer(value)
      end

      # nil / truthy / false as the C tri-state (cio_flag_t): not sent, =true, =false.
      def flag(value)
        return Native::CIO_FLAG_UNSET if value.nil?

        value ? Native::CIO_FLAG_TRUE : Native::CIO_FLAG_FALSE
      end
    end

    # api.customers: reads about one person (id_type: "id" (default), "email" or "cio_id") and
    # searches.
    class Customers
      def initialize(api)
        @api = api
      end

      # GET /v1/customers/{id}/attributes.
      def get_attributes(customer_id, id_type: nil)
        @api.read(:cio_customers_get_attributes, Args.id_type(id_type), Args.text(customer_id))
      end

      # GET /v1/customers?email= -> {"results" => [...]}.
      def get_by_email(email)
        @api.read(:cio_customers_get_by_email, Args.text(email))
      end

      # POST /v1/customers/attributes (1 to 100 ids) -> {"customers" => [...]}.
      def get_by_ids(ids, id_type: nil)
        raise Client::ParamError, "ids must be an Array" unless ids.is_a?(Array)

        @api.read(:cio_customers_get_by_ids, Args.id_type(id_type),
                  ids.map { |id| Args.text(id) })
      end

      # POST /v1/customers with an audience filter -> {"identifiers", "ids", "next"}.
      def search(filter, start: nil, limit: nil)
        @api.read(:cio_customers_search, Args.json(filter, "customers.search: filter"),
                  Args.page(start, limit))
      end

      def get_segments(customer_id, id_type: nil)
        @api.read(:cio_customers_get_segments, Args.id_type(id_type), Args.text(customer_id))
      end

      # start_ts, end_ts: unix seconds or Times.
      def get_messages(customer_id, id_type: nil, start: nil, limit: nil, start_ts: nil,
                       end_ts: nil)
        @api.read(:cio_customers_get_messages, Args.id_type(id_type), Args.text(customer_id),
                  Args.page(start, limit), Args.unix(start_ts), Args.unix(end_ts))
      end

      def get_activities(customer_id, id_type: nil, start: nil, limit: nil, type: nil,
                         name: nil)
        @api.read(:cio_customers_get_activities, Args.id_type(id_type), Args.text(customer_id),
                  Args.page(start, limit), Args.text(type), Args.text(name))
      end

      def get_relationships(customer_id, id_type: nil, start: nil, limit: nil)
        @api.read(:cio_customers_get_relationships, Args.id_type(id_type),
                  Args.text(customer_id), Args.page(start, limit))
      end

      def get_subscription_preferences(customer_id, id_type: nil, language: nil)
        @api.read(:cio_customers_get_subscription_preferences, Args.id_type(id_type),
                  Args.text(customer_id), Args.text(language))
      end
    end

    # api.segments.
    class Segments
      def initialize(api)
        @api = api
      end

      def list
        @api.read(:cio_segments_list)
      end

      def get(segment_id)
        @api.read(:cio_segments_get, Args.text(segment_id))
      end

      # Creates a manual segment.
      def create(name, description: nil)
        @api.read(:cio_segments_create, Args.text(name), Args.text(description))
      end

      def delete(segment_id)
        @api.read(:cio_segments_delete, Args.text(segment_id))
      end

      def get_customer_count(segment_id)
        @api.read(:cio_segments_customer_count, Args.text(segment_id))
      end

      def get_membership(segment_id, start: nil, limit: nil)
        @api.read(:cio_segments_membership, Args.text(segment_id), Args.page(start, limit))
      end

      def get_used_by(segment_id)
        @api.read(:cio_segments_used_by, Args.text(segment_id))
      end
    end

    # api.transactional: transactional message templates.
    class Transactional
      CONTENT_FIELDS = %i[body body_amp from_id headers preheader_text recipient reply_to_id
                          subject].freeze

      def initialize(api)
        @api = api
      end

      def list
        @api.read(:cio_transactional_list)
      end

      def get(transactional_id)
        @api.read(:cio_transactional_get, Args.text(transactional_id))
      end

      def list_variants(transactional_id)
        @api.read(:cio_transactional_list_variants, Args.text(transactional_id))
      end

      def get_variant(transactional_id, language)
        @api.read(:cio_transactional_get_variant, Args.text(transactional_id),
                  Args.text(language))
      end

      # Replaces a content variant with the fields given (body:, subject:, ...).
      def update_content(transactional_id, content_id, **fields)
        @api.read(:cio_transactional_update_content, Args.text(transactional_id),
                  Args.text(content_id), content(fields, "update_content"))
      end

      # Replaces one translation with the fields given.
      def update_variant(transactional_id, language, **fields)
        @api.read(:cio_transactional_update_variant, Args.text(transactional_id),
                  Args.text(language), content(fields, "update_variant"))
      end

      def get_metrics(transactional_id, period: nil, steps: nil)
        @api.read(:cio_transactional_metrics, Args.text(transactional_id), Args.text(period),
                  Integer(steps || 0))
      end

      # unique: nil (not sent), true or false (sent as unique=false, not dropped).
      def get_link_metrics(transactional_id, period: nil, steps: nil, unique: nil)
        @api.read(:cio_transactional_link_metrics, Args.text(transactional_id),
                  Args.text(period), Integer(steps || 0), Args.flag(unique))
      end

      # get_tracked_responses: nil (not sent), true or false (sent as =false).
      def get_deliveries(transactional_id, start: nil, limit: nil, metric: nil, state: nil,
                         start_ts: nil, end_ts: nil, get_tracked_responses: nil)
        filter = [Args.text(metric), Args.text(state), Args.unix(start_ts), Args.unix(end_ts),
                  Args.flag(get_tracked_responses)]
        filter = nil if filter == [nil, nil, 0, 0, Native::CIO_FLAG_UNSET]
        @api.read(:cio_transactional_deliveries, Args.text(transactional_id),
                  Args.page(start, limit), filter)
      end

      private

      def content(fields, what)
        unknown = fields.keys - CONTENT_FIELDS
        raise ArgumentError, "unknown field(s): #{unknown.join(', ')}" unless unknown.empty?

        Args.json(fields.compact, "#{what}: content")
      end
    end
  end
end

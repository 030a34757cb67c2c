# frozen_string_literal: true

require "json"
require "customerio_native/customerio_native_ext"
require "customerio_native/version"
require "customerio_native/errors"
require "customerio_native/regions"
require "customerio_native/response"

module CustomerioNative
  # The C library, as SWIG wraps it (bindings/ruby.i): module functions named as in the
  # C API (cio_track, cio_v2_send_batch, ...), and Native::Error for a failed call. This file
  # adds the client handle and the mapping of C statuses to the gem's error classes. Nothing
  # here validates, retries or builds requests: libcustomerio does.
  module Native
    # cio_status_t values by name: 1 => :invalid_argument, 7 => :rate_limited, ...
    STATUS_NAMES = constants.grep(/\ACIO_E_/).to_h do |name|
      [const_get(name), name.to_s.delete_prefix("CIO_E_").downcase.to_sym]
    end.merge(CIO_OK => :ok).freeze

    HTTP_STATUSES = %i[payload_too_large auth bad_request not_found rate_limited server http].freeze
    private_constant :HTTP_STATUSES

    USER_AGENT = "customerio-native/#{cio_version} (Ruby #{RUBY_VERSION})"

    # The gem's exception for a failed C call. param_error is the class for rejected input (the
    # calling client's ParamError). app: an App API call, whose 400 carries the server's
    # explanation (its meta.error, read by libcustomerio: Native::Error#server_message) as its
    # message (as in the official APIClient).
    def self.error_for(err, param_error, app: false)
      code = STATUS_NAMES.fetch(err.status, :unknown)
      http = err.http_status.to_i.positive? ? err.http_status : nil
      exc =
        if http && HTTP_STATUSES.include?(code)
          body = err.body
          text = (app && http == 400 && err.server_message) ||
                 (body.nil? || body.empty? ? err.message : body)
          InvalidResponse.new(http.to_s, text, HTTPResponse.build(http, body))
        else
          klass = case code
                  when :invalid_argument, :payload_too_large then param_error
                  when :config then ConfigurationError
                  when :timeout then RequestTimeout
                  when :network then NetworkError
                  else InvalidRequest
                  end
          klass.new(err.message)
        end
      exc.cio_details!(http_status: http, body: err.body, error_code: code,
                       attempts: err.attempts, detail: err.message)
    end

    # A cio_config_t of kind (CIO_CONFIG_CLIENT / CIO_CONFIG_PIPELINE) with every option set by
    # name (nil keeps libcustomerio's default). Names, types, ranges and defaults are the C
    # table's (customerio/options.h): an unknown name or a bad value raises ArgumentError naming
    # the option. The caller frees it with cio_config_free.
    def self.config(kind, options)
      cfg = cio_config_new(kind)
      begin
        options.each do |name, value|
          next if value.nil?

          text = option_text(value)
          # As the string typemap says it, with the option's name.
          raise ArgumentError, "#{name} contains a NUL byte" if text.include?("\0")

          cio_config_set(cfg, name.to_s, text)
        end
      rescue Native::Error => e
        cio_config_free(cfg)
        raise ArgumentError, e.message, cause: nil
      rescue Exception # rubocop:disable Lint/RescueException -- free, then re-raise anything
        cio_config_free(cfg)
        raise
      end
      cfg
    end

    # A keyword argument's value as the text cio_config_set takes.
    def self.option_text(value)
      case value
      when true then "true"
      when false then "false"
      else value.to_s
      end
    end

    # The [name, type, doc] rows of libcustomerio's options table of kind.
    def self.options_table(kind)
      rows = []
      while (row = cio_config_option(kind, rows.size))
        rows << row
      end
      rows
    end

    # libcustomerio's option names (Symbols): a keyword of one of the gem's classes named after
    # one passes through by name, so a new C option needs no change here.
    CLIENT_OPTION_NAMES = options_table(CIO_CONFIG_CLIENT).map { |name, _, _| name.to_sym }.freeze
    PIPELINE_OPTION_NAMES =
      options_table(CIO_CONFIG_PIPELINE).map { |name, _, _| name.to_sym }.freeze

    # Region or base URLs as the C options: [region code, base URL or nil].
    def self.region_options(region, url, api)
      region ||= Regions::US
      custom = url.to_s.empty? ? nil : url.to_s.chomp("/")
      if region.track_url == Regions::EU.track_url && region.api_url == Regions::EU.api_url
        [CIO_REGION_EU, custom]
      elsif region.track_url == Regions::US.track_url && region.api_url == Regions::US.api_url
        [CIO_REGION_US, custom]
      else
        [CIO_REGION_US, custom || (api ? region.api_url : region.track_url).to_s.chomp("/")]
      end
    end

    # Timeouts and retries as C options. timeout: seconds per attempt (connect + transfer);
    # connect_timeout: seconds to connect; retries: retries after the first attempt; backoff:
    # seconds, the base of the exponential backoff. nil keeps libcustomerio's default.
    def self.timing_options(timeout: nil, connect_timeout: nil, retries: nil, backoff: nil)
      ms = ->(seconds) { seconds.nil? ? 0 : [(Float(seconds) * 1000).round, 1].max }
      {
        timeout_ms: ms.call(timeout),
        connect_timeout_ms: ms.call(connect_timeout || timeout),
        max_attempts: retries.nil? ? 0 : [Integer(retries), 0].max + 1,
        backoff_base_ms: ms.call(backoff)
      }
    end

    # Owns one cio_client_t. Any number of threads may call through it at once (the blocking C
    # calls release the GVL); #close waits for the calls in progress, as the C API requires,
    # then frees it. A client left open is freed when garbage-collected. A client made before
    # fork() works in the child (libcustomerio starts a network thread of its own there, on the
    # first request); the child leaves the freeing to the parent.
    class Handle
      # Thread.handle_interrupt's arguments, made once rather than on every call.
      DEFER = { Object => :never }.freeze
      ALLOW = { Object => :immediate }.freeze
      private_constant :DEFER, :ALLOW

      # The finalizer holds the Guard, not the Handle.
      def self.finalizer(guard)
        proc do
          ptr = guard.ptr
          guard.ptr = nil
          Native.cio_client_free(ptr) if ptr && !guard.forked?
        end
      end

      # options: libcustomerio's client options by name (customerio/options.h: site_id,
      # api_key, region, track_url, timeout_ms, ...), passed through as they are; nil or 0 =
      # libcustomerio's default (nil credentials are read from CUSTOMERIO_* in the environment).
      def initialize(param_error:, app_errors: false, **options)
        @param_error = param_error
        @app_errors = app_errors
        @lock = Mutex.new # guards @dependents
        @dependents = []
        ptr = begin
          cfg = Native.config(CIO_CONFIG_CLIENT,
                              { user_agent: USER_AGENT, **options.compact }.compact)
          begin
            Native.cio_client_new_from_config(cfg)
          ensure
            Native.cio_config_free(cfg)
          end
        rescue Native::Error => e
          raise Native.error_for(e, param_error), cause: nil
        end
        @guard = Guard.new(ptr, lambda { |msg|
          InvalidRequest.new(msg).cio_details!(error_code: :closed, detail: msg)
        }, follows_fork: true)
        ObjectSpace.define_finalizer(self, self.class.finalizer(@guard))
      end

      def closed?
        @guard.ptr.nil?
      end

      # Runs Native.<name>(client, *args); a failure raises the gem's error class.
      def call(name, *args)
        Thread.handle_interrupt(DEFER) do
          ptr = enter
          begin
            Thread.handle_interrupt(ALLOW) do
              Native.public_send(name, ptr, *args)
            end
          rescue Native::Error => e
            raise Native.error_for(e, @param_error, app: @app_errors), cause: nil
          ensure
            leave
          end
        end
      end

      # #call, then the answer libcustomerio kept of the request (cio_last_response(), read on
      # the same thread before anything else can make a call there): [the call's result, a
      # Net::HTTPResponse or nil when the call kept none].
      def call_response(name, *args)
        Thread.handle_interrupt(DEFER) do
          result = call(name, *args)
          status, body, line, fields = Native.cio_rb_last_response
          [result, status && HTTPResponse.from_parts(status, body, line, fields)]
        end
      end

      # Lends the client to dependent (a Pipeline) until it calls #release: the pointer stays
      # valid meanwhile, and #close first closes the dependents (dependent.close).
      def hold(dependent)
        ptr = enter
        @lock.synchronize { @dependents << dependent }
        ptr
      end

      def release(dependent)
        @lock.synchronize { @dependents.delete(dependent) }
        leave
      end

      # Closes the dependents, then frees the client once no call is in progress; requests
      # still in flight in other threads end with CIO_E_CLOSED. Idempotent.
      def close
        @lock.synchronize { @dependents.dup }.each(&:close)
        ptr = @guard.retire
        ObjectSpace.undefine_finalizer(self)
        Native.cio_client_free(ptr) if ptr && !@guard.forked?
        nil
      end

      private

      def enter
        @guard.enter("client")
      end

      def leave
        @guard.leave
      end

      def str(value)
        value&.to_s
      end
    end
  end
end

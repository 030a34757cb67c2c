# frozen_string_literal: true

require "json"
require "customerio_native/native"
require "customerio_native/errors"
require "customerio_native/client"

module CustomerioNative
  # A worker of the shared Redis queue (customerio/redis.h) inside an application: the loop of
  # `cio-native worker`, sending what producers (Pipeline.new(..., redis_url:),
  # Analytics.new(..., redis_url:), Client.new(..., background: true, redis_url:)) put in the
  # workspace's Redis stream to Customer.io, acknowledging each operation after its report.
  #
  #   worker = CustomerioNative::Worker.new(site_id, api_key, redis_url: "redis://redis.internal")
  #   worker.start         # a Thread; or worker.run to drain in this one
  #   ...
  #   worker.stop          # what was sent is answered and acknowledged first
  #   worker.close
  #
  # #run drains without the GVL; an interrupt of its thread (Thread#raise, Ctrl-C) stops the
  # worker, then is raised. #stop, #stats and the queue calls may come from any thread. A worker
  # runs once: after a stop, make another. Errors: WorkerError (Redis unreachable, AUTH
  # refused, ...: messages name Redis by host:port, never with the password).
  class Worker
    OPTIONS = %i[redis_url sink group consumer claim_idle max_pending block
                 max_requests_per_second].freeze
    private_constant :OPTIONS

    # site_id, api_key: the Track API credentials (nil: CUSTOMERIO_SITE_ID and
    # CUSTOMERIO_API_KEY), or a Client (or Native::Handle) whose client the worker uses.
    # Options: redis_url: (required), sink: :track_v2 (default) or :pipelines (with
    # cdp_api_key: and cdp_url:), group:, consumer:, claim_idle: (seconds, default 60),
    # max_pending:, block: (seconds), max_requests_per_second: (the fleet's rate), Client's
    # connection options (url:, timeout:, ...), and libcustomerio pipeline or client options by
    # name (ratelimit_senders:, batch_bytes:, ...).
    def initialize(site_id = nil, api_key = nil, options = nil, **kwargs)
      opts = Client.options(options, kwargs,
                            OPTIONS + Native::PIPELINE_OPTION_NAMES + Native::CLIENT_OPTION_NAMES)
      @redis_url = opts[:redis_url]&.to_s
      raise ArgumentError, "Worker.new needs redis_url:" if @redis_url.nil? || @redis_url.empty?

      @group = opts[:group]&.to_s
      @sink = Native::CIO_SINK_TRACK_V2
      @sink = Native::CIO_SINK_PIPELINES if opts[:sink].to_s == "pipelines"
      pipe_names = Native::PIPELINE_OPTION_NAMES - Native::CLIENT_OPTION_NAMES - OPTIONS
      pipe = { sink: opts[:sink]&.to_s, max_requests_per_second: opts[:max_requests_per_second] }
             .merge(opts.slice(*pipe_names))
      conn = opts.except(*OPTIONS, *pipe_names)
      @lock = Mutex.new
      @running = false
      @thread = nil
      config = Native.config(Native::CIO_CONFIG_PIPELINE, pipe.compact)
      begin
        if site_id.is_a?(Client) || site_id.is_a?(Native::Handle)
          @native = site_id.is_a?(Client) ? site_id.native_handle : site_id
          @own_native = false
        else
          @native = Client.native_handle(site_id, api_key, conn, WorkerError)
          @own_native = true
        end
        client_ptr = @native.hold(self)
        begin
          @ptr = Native.cio_swig_worker_new(client_ptr, @redis_url, config, @group,
                                            opts[:consumer]&.to_s, ms(opts[:claim_idle]),
                                            Integer(opts[:max_pending] || 0), ms(opts[:block]))
        rescue Native::Error => e
          release
          raise WorkerError.new(e.message).cio_details!(
            error_code: Native::STATUS_NAMES.fetch(e.status, :unknown), detail: e.message
          ), cause: nil
        end
      ensure
        Native.cio_config_free(config)
      end
    end

    # Drains the queue until #stop (from another thread) or an interrupt of this thread; then
    # waits up to stop_timeout seconds (nil: no limit) for what was sent to be answered and
    # acknowledged.
    def run(stop_timeout: 10)
      ptr = @lock.synchronize do
        raise WorkerError, "the worker is closed" if @ptr.nil?
        raise WorkerError, "the worker is already running" if @running

        @running = true
        @ptr
      end
      begin
        Native.cio_swig_worker_run(ptr, stop_timeout.nil? ? -1 : (Float(stop_timeout) * 1000).round)
      rescue Native::Error => e
        raise WorkerError, e.message, cause: nil
      ensure
        @lock.synchronize { @running = false }
      end
      nil
    end

    # #run in a new Thread (returned); #stop ends it.
    def start(stop_timeout: 10)
      raise WorkerError, "the worker is closed" if @ptr.nil?

      @thread = Thread.new { run(stop_timeout: stop_timeout) }
      @thread.name = "customerio-worker"
      @thread
    end

    # Asks #run to return; with #start, waits for its thread.
    def stop
      ptr = @ptr
      Native.cio_worker_stop(ptr) if ptr
      @thread.join if @thread && @thread != Thread.current
      nil
    end

    # This worker's counters (Symbol keys): read, claimed, acked, dead_lettered, held.
    def stats
      ptr = @ptr
      raise WorkerError, "the worker is closed" if ptr.nil?

      JSON.parse(Native.cio_swig_worker_stats(ptr), symbolize_names: true)
    end

    # The workspace's queue (Symbol keys): length, pending, oldest_pending_age_ms,
    # dead_letters, rate_limit_waits.
    def queue_stats
      JSON.parse(queue_call(:cio_swig_queue_stats, @group), symbolize_names: true)
    end

    # What Customer.io refused, oldest first (at most count; 0: 100): Hashes (Symbol keys) with
    # id, operation, reason, field, message, http_status.
    def dead_letters(count: 0)
      JSON.parse(queue_call(:cio_swig_dead_letters, Integer(count)), symbolize_names: true)
    end

    # Puts the dead letter with this entry id (nil: all) back in the queue; how many.
    def retry_dead_letters(id: nil)
      queue_call(:cio_swig_dead_letters_retry, id&.to_s)
    end

    # Deletes the dead letter with this entry id (nil: all); how many.
    def drop_dead_letters(id: nil)
      queue_call(:cio_swig_dead_letters_drop, id&.to_s)
    end

    # Stops the worker (waiting for its run to end), frees it and lets the client go.
    # Idempotent.
    def close
      stop
      sleep 0.01 while @lock.synchronize { @running }
      ptr = @lock.synchronize do
        p = @ptr
        @ptr = nil
        p
      end
      return nil if ptr.nil?

      Native.cio_worker_free(ptr)
      release
      nil
    end

    def closed?
      @ptr.nil?
    end

    private

    def ms(seconds)
      seconds.nil? ? 0 : [(Float(seconds) * 1000).round, 1].max
    end

    def queue_call(name, *args)
      raise WorkerError, "the worker is closed" if @ptr.nil?

      @native.call(name, @redis_url, @sink, *args)
    end

    def release
      @native.release(self)
      @native.close if @own_native
    end
  end

  # A Worker call failed (InvalidRequest's details: error_code, detail).
  class WorkerError < InvalidRequest; end
end

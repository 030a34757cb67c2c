# frozen_string_literal: true

require "json"
require "monitor"
require "customerio_native/native"
require "customerio_native/errors"
require "customerio_native/payload"
require "customerio_native/client"
require "customerio_native/track_v2"

module CustomerioNative
  # The final word on one operation queued on a Pipeline.
  #
  # * +seq+: what the queueing call returned;
  # * +ok+ / +ok?+: whether Customer.io accepted it;
  # * +code+ / +code_name+ / +error_code+: libcustomerio's status as an Integer, its name
  #   ("bad request" for an item rejected in a 207, "client closed" for one still queued when the
  #   pipeline closed, "timeout" past the retry deadline, ...) and as a Symbol (:bad_request);
  # * +http_status+ (also +status+): of the last request that carried it, nil if none;
  # * +message+: why it failed (nil when delivered); +reason+ and +field+: Customer.io's reason
  #   for a rejected item and the field at fault, nil when it gave none;
  # * +operation_json+: the operation as sent (with its id); +operation+ parses it.
  DeliveryReport = Struct.new(:seq, :ok, :code, :code_name, :http_status, :message, :reason,
                              :field, :operation_json, keyword_init: true) do
    alias_method :ok?, :ok
    alias_method :status, :http_status

    def error_code
      Native::STATUS_NAMES.fetch(code, :unknown)
    end

    # The operation as a Hash (String keys).
    def operation
      JSON.parse(operation_json)
    end
  end

  # The delivery pipeline (libcustomerio's, customerio/pipeline.h): fire-and-forget Track calls.
  #
  # Each call builds one Track v2 operation and hands it to libcustomerio, which validates it,
  # gives an event a ULID id, queues it (and appends it to the spool file, when there is one)
  # and returns at once: no network on the caller's path. The C library's pipeline thread packs
  # queued operations into /api/v2/batch requests under 500 KB, paces them under the workspace
  # rate limit, retries failures (honouring Retry-After) until retry_deadline, and reports every
  # operation exactly once: delivered, or given up with the reason.
  #
  # Reports arrive on a completion queue whose descriptor one Ruby thread per pipeline
  # ("customerio-reports") waits on with IO.select; it calls on_error with a DeliveryReport for
  # each operation given up (and on_report with every report). #flush and #close drain the queue
  # too, so that when they return every callback for what was queued before has run. No
  # library thread ever calls into Ruby.
  #
  #   pipeline = CustomerioNative::Pipeline.new(site_id, api_key,
  #                                             on_error: ->(r) { warn "#{r.seq}: #{r.message}" })
  #   pipeline.track(5, "purchase", price: 23.45)     # returns at once
  #   pipeline.flush                                   # optional: close and exit flush too
  #
  # The methods are Client's (identify, delete, suppress, unsuppress, track, pageview, screen,
  # add_device, delete_device, merge_customers; a customer id "cio_<x>" is the cio_id x, any
  # other the id) and Client#v2's helpers (identify_person, track_person_event, ...,
  # track_delivery_event), plus #enqueue (alias send_entity) for any Track v2 operation. Each
  # returns the operation's sequence number, the +seq+ of its report. Arguments the official
  # gem refuses raise its messages as PipelineError (Client::ParamError on a background client);
  # libcustomerio's own checks raise PipelineError naming the field; nothing is queued then. A
  # full queue raises QueueFullError.
  #
  # Threads: any number may call at once. A call that waits (for room in a full queue with
  # when_full: :block, for the disk with spool_sync: :always), flush and close release the GVL;
  # the usual call, which returns at once, keeps it. A pipeline not closed is flushed and
  # closed at exit (at_exit, up to exit_timeout seconds). A forked child must make its own.
  class Pipeline
    include Client::Helpers
    include TrackV2::Helpers

    OPTIONS = %i[max_queue_bytes when_full block_timeout linger batch_bytes max_in_flight
                 max_requests_per_second retry_deadline spool_path spool_sync on_error on_report
                 report_successes exit_timeout max_batch_items max_queue_items max_attempts
                 sink].freeze
    # flush waits in slices of this many milliseconds without the GVL, so that Thread#raise and
    # Ctrl-C are handled between them.
    WAIT_SLICE_MS = 200
    private_constant :OPTIONS, :WAIT_SLICE_MS

    # Opens a pipeline, yields it and closes it (flushing) when the block ends; without a
    # block, the same as new.
    def self.open(*args, **kwargs)
      pipeline = new(*args, **kwargs)
      return pipeline unless block_given?

      begin
        yield pipeline
      ensure
        pipeline.close
      end
    end

    # site_id, api_key: the Track API credentials (nil: CUSTOMERIO_SITE_ID and
    # CUSTOMERIO_API_KEY), or a Client as site_id, whose connections and credentials the
    # pipeline then uses (Client#close closes the pipeline first; a Native::Handle works the
    # same way, which is how Analytics lends its own). Options (a Hash or keywords):
    # - Client's connection options: region:, url:, timeout:, connect_timeout:, retries:,
    #   backoff:, user_agent:, ca_file:, max_connections: (not with a Client);
    # - max_queue_bytes: bound on queued + in-flight bytes (default 64 MiB);
    # - when_full: :block (wait up to block_timeout seconds for room, default 10, then raise
    #   QueueFullError) or :fail (raise QueueFullError at once);
    # - linger: seconds the oldest operation may wait for a fuller batch (default 0.1);
    # - batch_bytes: request body limit (default just under 500 KB); max_in_flight: concurrent
    #   batch requests (default 4); max_requests_per_second: pacing (default 100,
    #   Customer.io's limit; 0 or less: none);
    # - retry_deadline: seconds after which an undelivered operation is given up and reported
    #   (default one hour);
    # - spool_path: a file that makes the queue survive a crash or kill -9: operations are
    #   appended before the call returns and marked done once reported; a pipeline opened
    #   later on the same file sends what was not confirmed first. One process at a time.
    #   spool_sync: :none (write only; survives a killed process), :batch or :always (fsync;
    #   survives a machine crash);
    # - on_error: called with a DeliveryReport for every operation given up (without it and
    #   without on_report, failures are printed with warn); on_report: called with every report;
    #   report_successes: true to report deliveries too, not only failures;
    # - exit_timeout: seconds the process's exit may spend flushing (default 10; nil: no
    #   limit); what is left then is reported as failed ("client closed") and stays in the
    #   spool, if any.
    def initialize(site_id = nil, api_key = nil, options = nil, param_error: PipelineError,
                   **kwargs)
      opts = Client.options(options, kwargs, OPTIONS + Native::PIPELINE_OPTION_NAMES)
      pipe_opts = opts.slice(*OPTIONS, *Native::PIPELINE_OPTION_NAMES)
      conn_opts = opts.except(*OPTIONS, *Native::PIPELINE_OPTION_NAMES)
      @param_error = param_error
      @on_error = pipe_opts[:on_error]
      @on_report = pipe_opts[:on_report]
      @exit_timeout = pipe_opts.fetch(:exit_timeout, 10)
      @spool_path = pipe_opts[:spool_path]&.to_s
      # libcustomerio checks the names and values (ArgumentError naming the option).
      config = Native.config(Native::CIO_CONFIG_PIPELINE, native_options(pipe_opts))
      # Once C accepted them: whether enqueue may wait for room or for the disk.
      @may_wait = pipe_opts.fetch(:when_full, :block).to_s.casecmp?("block")
      @sync_always = !@spool_path.nil? &&
                     pipe_opts.fetch(:spool_sync, :none).to_s.casecmp?("always")
      # The one-step path (#deliver_fast) when a call may try without waiting first.
      @fast = !@sync_always
      begin
        if site_id.is_a?(Client) || site_id.is_a?(Native::Handle)
          unless api_key.nil? && conn_opts.empty?
            raise ArgumentError,
                  "with a Client, the credentials and connection options are its own"
          end

          @native = site_id.is_a?(Client) ? site_id.native_handle : site_id
          @own_native = false
        else
          @native = Client.native_handle(site_id, api_key, conn_opts, param_error)
          @own_native = true
        end

        @guard = nil # set by #start
        @drain_lock = Monitor.new
        @stopping = false
        start(config)
      ensure
        Native.cio_config_free(config)
      end
      Pipeline.register(self)
    end

    attr_reader :spool_path
    attr_accessor :on_error, :on_report, :exit_timeout

    # Queues one Track v2 operation (a Hash in the API's shape, or its JSON text) and returns
    # its sequence number. libcustomerio validates it first: a bad one raises PipelineError
    # naming the field and nothing is queued; a full queue raises QueueFullError.
    def enqueue(operation)
      text =
        case operation
        when String then operation
        when Hash then Payload.json(operation, @param_error, "enqueue: operation")
        else raise @param_error, "enqueue: operation must be a Hash or JSON text"
        end
      with_pipeline { |ptr| push(ptr, text) }
    end
    alias send_entity enqueue

    # Sends what is queued without waiting for linger, and waits until every operation queued
    # so far is reported and its callbacks have run, or timeout seconds (nil: no limit) pass.
    # true when everything was reported, false on timeout.
    def flush(timeout: nil)
      deadline = deadline_for(timeout)
      done = with_pipeline { |ptr| wait_drained(ptr, deadline) }
      drain
      done
    end

    # Counters since the pipeline started, a Hash with Symbol keys: enqueued, delivered, failed,
    # retried (tries put back), requests, bytes_sent, queue_depth (operations waiting),
    # queue_bytes (queued + in flight), in_flight (batch requests under way).
    def stats
      text = with_pipeline { |ptr| Native.cio_pipeline_stats_json(ptr) }
      raise PipelineError, "stats: out of memory" if text.nil?

      JSON.parse(text, symbolize_names: true)
    end

    def closed?
      @guard.nil? || @guard.ptr.nil?
    end

    # Flushes (up to timeout seconds; nil: no limit), stops the pipeline and frees it, after the
    # calls in progress. Operations still undelivered are reported as failed (code_name "client
    # closed"); with a spool they also stay in the file for the next pipeline. Every callback
    # has run when it returns. true when the flush finished. Idempotent; later calls raise
    # PipelineError. Interrupted (Thread#raise, Ctrl-C), it still closes, reporting what is left.
    def close(timeout: nil)
      if @guard.forked? # a forked child: the pipeline is the parent's; forget it
        @guard.ptr = nil
        return true
      end

      ptr = @guard.retire
      return true if ptr.nil?

      Pipeline.unregister(self)
      deadline = deadline_for(timeout)
      done = false
      Thread.handle_interrupt(Object => :never) do
        done = Thread.handle_interrupt(Object => :immediate) { wait_drained(ptr, deadline) }
      ensure
        done = shut_down(ptr) && done
      end
      done
    end

    # @api private: the gem's exception for a failed pipeline call.
    def self.error_for(err, param_error)
      code = Native::STATUS_NAMES.fetch(err.status, :unknown)
      klass = case code
              when :queue_full then QueueFullError
              when :invalid_argument, :payload_too_large then param_error
              when :config then ConfigurationError
              else PipelineError
              end
      klass.new(err.message).cio_details!(error_code: code, attempts: err.attempts,
                                          detail: err.message)
    end

    # @api private: closes every pipeline this process opened and has not closed (at_exit).
    def self.close_all
      @live_lock.synchronize { @live.values }.each do |pipeline|
        pipeline.close(timeout: pipeline.exit_timeout)
      rescue StandardError => e
        warn "customerio-native: closing a pipeline at exit failed: #{e.class}: #{e.message}"
      end
    end

    # @api private
    def self.register(pipeline)
      @live_lock.synchronize { @live[pipeline.object_id] = pipeline }
    end

    # @api private
    def self.unregister(pipeline)
      @live_lock.synchronize { @live.delete(pipeline.object_id) }
    end

    # Pipelines open in this process: held until closed, flushed and closed at exit (a forked
    # child skips its parent's: their pipeline thread does not exist there).
    @live = {}
    @live_lock = Mutex.new
    at_exit { Pipeline.close_all }

    private

    # ---- start and stop ----------------------------------------------------------------------

    # The pipeline's C options by name (customerio/options.h), from the Ruby ones: only units
    # are translated here (seconds -> ms; a rate of 0 or less means "no limit", which C spells
    # as a negative rate); nil keeps libcustomerio's default.
    def native_options(opts)
      rps = opts[:max_requests_per_second]
      rps = Float(rps) unless rps.nil?
      {
        sink: opts[:sink], max_queue_bytes: opts[:max_queue_bytes], when_full: opts[:when_full],
        block_timeout_ms: ms(opts[:block_timeout]), linger_ms: ms(opts[:linger]),
        batch_bytes: opts[:batch_bytes], max_in_flight: opts[:max_in_flight],
        max_requests_per_second: rps.nil? || rps.positive? ? rps : -1.0,
        retry_deadline_ms: ms(opts[:retry_deadline]), spool_path: @spool_path,
        spool_sync: opts[:spool_sync], report_successes: opts[:report_successes] ? true : false,
        max_batch_items: opts[:max_batch_items], max_queue_items: opts[:max_queue_items],
        max_attempts: opts[:max_attempts]
      }.merge(opts.slice(*(Native::PIPELINE_OPTION_NAMES - OPTIONS))) # by C name, as given
    end

    def start(config)
      client_ptr = @native.hold(self)
      begin
        @queue = Native.cio_queue_new
        ptr = Native.cio_pipeline_new_from_config(client_ptr, config, @queue)
        @guard = Native::Guard.new(ptr, ->(msg) { closed_error(msg) })
        @queue_io = IO.for_fd(Native.cio_queue_fd(@queue), autoclose: false)
        @wake_r, @wake_w = IO.pipe
      rescue Native::Error => e
        abandon
        raise Pipeline.error_for(e, @param_error), cause: nil
      rescue Exception # undo, then re-raise whatever it was
        abandon
        raise
      end
      @reporter = Thread.new { report_loop }
      @reporter.name = "customerio-reports"
    end

    # Undoes a half-made start.
    def abandon
      ptr = @guard&.retire
      Native.cio_pipeline_close(ptr, 0) if ptr
      @queue_io&.close
      Native.cio_queue_free(@queue) if @queue
      @queue = nil
      @native.release(self)
      @native.close if @own_native
    end

    # After the flush: closes the C pipeline (what is left is reported as not delivered), stops
    # the reporter, runs the last callbacks, frees the queue and lets the client go. false when
    # something was left.
    def shut_down(ptr)
      done = true
      begin
        Native.cio_pipeline_close(ptr, 0)
      rescue Native::Error => e
        done = false
        unless e.status == Native::CIO_E_TIMEOUT
          warn "customerio-native: pipeline close: #{e.message}"
        end
      end
      stop_reporter
      drain
      @drain_lock.synchronize do
        @queue_io.close
        Native.cio_queue_free(@queue)
        @queue = nil
      end
      @native.release(self)
      @native.close if @own_native
      done
    end

    def stop_reporter
      @stopping = true
      @wake_w.write_nonblock("x", exception: false)
      @reporter.join unless @reporter == Thread.current
      @wake_r.close
      @wake_w.close
    end

    # ---- reports -----------------------------------------------------------------------------

    # The reporter thread: sleeps in IO.select (without the GVL) until the queue's descriptor
    # is readable, then runs the callbacks.
    def report_loop
      until @stopping
        IO.select([@queue_io, @wake_r])
        drain unless @stopping
      end
    end

    # Takes every report off the queue and runs the callbacks: one thread at a time, in the
    # order the reports arrived (a callback may itself call flush).
    def drain
      @drain_lock.synchronize do
        next if @queue.nil?

        reports = Native.cio_rb_queue_drain(@queue).map do |seq, code, http, _attempts, message,
                                                            json, reason, field|
          DeliveryReport.new(
            seq: seq, ok: code == Native::CIO_OK, code: code,
            code_name: Native.cio_status_str(code), http_status: http.positive? ? http : nil,
            message: message, reason: reason, field: field, operation_json: json || ""
          ).freeze
        end
        dispatch_all(reports) unless reports.empty?
      end
    end

    # Runs the callbacks for the reports of one drain, in order. A subclass may group them
    # (Analytics reports a failed batch once, as analytics-ruby does).
    def dispatch_all(reports)
      reports.each { |report| dispatch(report) }
    end

    def dispatch(report)
      callbacks = []
      callbacks << @on_report if @on_report
      if !report.ok? && @on_error
        callbacks << @on_error
      elsif !report.ok? && @on_report.nil?
        warn "customerio-native: pipeline operation #{report.seq} failed " \
             "(#{report.code_name}): #{report.message}"
      end
      callbacks.each do |callback|
        callback.call(report)
      rescue StandardError => e
        warn "customerio-native: pipeline report callback failed for operation " \
             "#{report.seq}: #{e.class}: #{e.message}"
      end
    end

    # ---- calls -------------------------------------------------------------------------------

    # Queues the operation's text. It is first offered with the GVL held: the call returns at
    # once (cio_pipeline_try_enqueue never waits for room), and releasing the GVL for it would
    # make the calling thread queue behind any busy Ruby thread on its way back (up to a time
    # slice, 100 ms, per call). Only a full queue with when_full: :block waits for room, without
    # the GVL; with spool_sync: :always every call waits for the disk, without the GVL too.
    # item: an operation's text (ENQUEUE), or a request from a builder (ENQUEUE_REQUEST).
    def push(ptr, item, functions = ENQUEUE)
      try_fn, wait_fn = functions
      return native(wait_fn, ptr, item) if @sync_always

      Native.public_send(try_fn, ptr, item)
    rescue Native::Error => e
      unless e.status == Native::CIO_E_QUEUE_FULL && @may_wait
        raise Pipeline.error_for(e, @param_error), cause: nil
      end

      native(wait_fn, ptr, item)
    end
    ENQUEUE = %i[cio_pipeline_try_enqueue cio_pipeline_enqueue].freeze
    ENQUEUE_REQUEST = %i[cio_pipeline_try_enqueue_request cio_pipeline_enqueue_request].freeze
    # Thread.handle_interrupt's arguments, made once rather than on every call.
    DEFER_INTERRUPTS = { Object => :never }.freeze
    ALLOW_INTERRUPTS = { Object => :immediate }.freeze
    private_constant :ENQUEUE, :ENQUEUE_REQUEST, :DEFER_INTERRUPTS, :ALLOW_INTERRUPTS

    # Runs the block with the C pipeline, which #close does not free meanwhile.
    def with_pipeline
      Thread.handle_interrupt(DEFER_INTERRUPTS) do
        ptr = enter
        begin
          Thread.handle_interrupt(ALLOW_INTERRUPTS) { yield ptr }
        ensure
          leave
        end
      end
    end

    def enter
      @guard.enter("pipeline")
    end

    def leave
      @guard.leave
    end

    def closed_error(message)
      PipelineError.new(message).cio_details!(error_code: :closed, detail: message)
    end

    # Native.<name>(*args); a failure raises the gem's error class.
    def native(name, *args)
      Native.public_send(name, *args)
    rescue Native::Error => e
      raise Pipeline.error_for(e, @param_error), cause: nil
    end

    # Waits for the queue to drain, in slices; true when it did, false at the deadline.
    def wait_drained(ptr, deadline)
      loop do
        slice = WAIT_SLICE_MS
        slice = ((deadline - now) * 1000).ceil.clamp(0, WAIT_SLICE_MS) if deadline
        begin
          Native.cio_pipeline_flush(ptr, slice)
          return true
        rescue Native::Error => e
          raise Pipeline.error_for(e, @param_error), cause: nil unless
            e.status == Native::CIO_E_TIMEOUT
          return false if deadline && now >= deadline
        end
      end
    end

    def deadline_for(timeout)
      timeout.nil? ? nil : now + Float(timeout)
    end

    def now
      Process.clock_gettime(Process::CLOCK_MONOTONIC)
    end

    # Seconds as the C option's milliseconds: nil = 0 (the default); any other value at least
    # 1 ms (0 would mean the default to libcustomerio).
    def ms(seconds)
      seconds.nil? ? 0 : [(Float(seconds) * 1000).round, 1].max
    end

    # ---- the building blocks' ends (Client::Helpers, TrackV2::Helpers) -----------------------

    # One operation from libcustomerio's builder (TrackV2::Helpers), queued as built.
    def submit_request(builder, *args)
      request = Native.public_send(builder, *args)
      with_pipeline { |ptr| push(ptr, request, ENQUEUE_REQUEST) }
    rescue Native::Error => e # the builder refused the arguments
      raise Pipeline.error_for(e, @param_error), cause: nil
    end

    # A refusal in Ruby (TrackV2::Helpers#object_parts!) carries the details of libcustomerio's
    # (error_code :invalid_argument).
    def refuse(message)
      raise @param_error.new(message).cio_details!(error_code: :invalid_argument, detail: message)
    end

    # Integer ids stay JSON numbers, as the operations of enqueue have them.
    def integer_ids?
      true
    end

    def deliver_identify(customer_id, attributes)
      if @fast
        seq = deliver_fast(0, customer_id, nil, attributes)
        return seq if seq
      end
      person(:identify, person_ids(customer_id), attributes: attributes)
    end

    def deliver_event(kind, customer_id, name, data, event)
      if @fast && event.nil?
        seq = deliver_fast(FAST_ACTIONS[kind], customer_id, name, data)
        return seq if seq
      end
      person(kind, person_ids(customer_id), name: name, attributes: data, event: event)
    end

    FAST_ACTIONS = { event: 1, page: 2, screen: 3 }.freeze
    private_constant :FAST_ACTIONS

    public

    # Client::Helpers#track, with the usual call taken in one step first: String id and name
    # that are not blank, the data as keywords (5.x) or one Hash (6.x), and no event id or
    # timestamp (neither id:/timestamp: keywords nor a :timestamp in the data), which is where
    # Helpers#track would call #deliver_event with no event fields. Anything else, or what the
    # one step hands back, goes through Helpers#track as before.
    def track(customer_id, event_name, attributes = nil, **options)
      if @fast && customer_id.is_a?(String) && event_name.is_a?(String) &&
         !Payload.blank?(customer_id) && !Payload.blank?(event_name)
        data =
          if attributes.nil?
            options unless options.key?(:id) || options.key?(:timestamp)
          elsif options.empty? && attributes.instance_of?(Hash) && attributes[:timestamp].nil?
            attributes
          end
        if data
          seq = deliver_fast(1, Payload.text(customer_id), Payload.text(event_name), data)
          return seq if seq
        end
      end
      super
    end

    private

    # The common call in one step (Native.cio_rb_v2_person, bindings/rb_v2.i): the attributes
    # written as JSON, the operation built and queued without waiting, the GVL held. nil when
    # the call must go the way of #person (nothing was queued then), which does it all again.
    def deliver_fast(action, customer_id, name, data)
      Native.cio_rb_v2_person(@guard, action, customer_id, name, data)
    rescue Native::Error => e # the builder refused the arguments
      raise Pipeline.error_for(e, @param_error), cause: nil
    end

    def deliver_person(action, customer_id)
      person(action, person_ids(customer_id))
    end

    def deliver_add_device(customer_id, device_id, platform, fields)
      extra = fields.except(:last_used, :attributes)
      return add_device_fields(customer_id, device_id, platform, fields, extra) unless extra.empty?

      add_device_op(person_ids(customer_id), device_id, platform, fields[:last_used],
                    fields[:attributes])
    end

    # Client#add_device's device fields beyond last_used and attributes (any, sent as given, as
    # the official gem does): cio_v2_person_add_device_fields_request takes them all as one JSON
    # object and writes the operation.
    def add_device_fields(customer_id, device_id, platform, fields, extra)
      device = extra.merge(fields.slice(:last_used, :attributes).compact)
      submit_request(:cio_v2_person_add_device_fields_request,
                     *person_arg(person_ids(customer_id)), device_id, platform,
                     Payload.json(device, @param_error, "add_device: data"))
    end

    def deliver_delete_device(customer_id, device_id)
      delete_device_op(person_ids(customer_id), device_id)
    end

    def deliver_merge(primary_type, primary_id, secondary_type, secondary_id)
      merge_op({ primary_type => primary_id }, { secondary_type => secondary_id })
    end

    # A Track v1 customer id as v2 identifiers: "cio_<x>" is the cio_id x (as in Track v1's
    # paths), anything else the id.
    def person_ids(customer_id)
      if customer_id.start_with?("cio_") && customer_id.size > 4
        { cio_id: customer_id[4..] }
      else
        { id: customer_id }
      end
    end
  end
end

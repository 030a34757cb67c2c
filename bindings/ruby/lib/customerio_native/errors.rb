# frozen_string_literal: true

module CustomerioNative
  # What libcustomerio reported about a failed call. Every error this gem raises for a call
  # that failed in the C library carries it:
  #
  # * +message+: for InvalidResponse the response body (as the official gem has it, or the C
  #   library's sentence when the body is empty); for the others the C library's sentence,
  #   naming the call and the field ("track: customer_id is longer than 150 bytes");
  # * +http_status+: the last HTTP status received (Integer), nil when none was;
  # * +body+: the last response body, nil when none was received;
  # * +error_code+: the C status as a Symbol (:invalid_argument, :auth, :rate_limited, ...);
  # * +attempts+: HTTP attempts made (0 when nothing was sent);
  # * +detail+: the C library's sentence. Never contains an API key.
  module ErrorDetails
    attr_reader :http_status, :body, :error_code, :attempts, :detail

    # @api private
    def cio_details!(http_status: nil, body: nil, error_code: nil, attempts: 0, detail: nil)
      @http_status = http_status
      @body = body
      @error_code = error_code
      @attempts = attempts
      @detail = detail
      self
    end
  end

  # The request could not be made or got no answer: configuration (missing credentials, bad
  # URL), network failures and timeouts (after the client's retries), a closed client.
  class InvalidRequest < RuntimeError
    include ErrorDetails
  end

  # Missing credentials, an unknown region, a malformed base URL.
  class ConfigurationError < InvalidRequest; end

  # The connection failed (refused, reset, DNS, TLS) on every attempt.
  class NetworkError < InvalidRequest; end

  # Every attempt timed out.
  class RequestTimeout < NetworkError; end

  # A call on a Pipeline failed: the pipeline is closed (or belongs to the parent of a forked
  # process), an operation libcustomerio refused (error_code :invalid_argument or
  # :payload_too_large; nothing was queued). The message is libcustomerio's, naming the field.
  class PipelineError < InvalidRequest; end

  # The pipeline's queue is at max_queue_bytes: at once with when_full: :fail, after waiting
  # block_timeout with when_full: :block. Nothing was queued.
  class QueueFullError < PipelineError; end

  # The Pipelines API client (analytics.rb) keeps analytics-ruby's exception for bad input,
  # ArgumentError, so that code written for Segment's gem rescues ours unchanged; the other
  # failures are the classes above (QueueFullError, PipelineError, InvalidResponse, ...).
  class Analytics
    # A message (or the client's configuration) refused before anything was queued or sent:
    # no user_id or anonymous_id, alias without previous_id, group without group_id, traits or
    # properties that are not a Hash, a timestamp that is not a Time, no write key. The message
    # is libcustomerio's, naming the field ("track: message: event is required ...").
    class ValidationError < ArgumentError
      include ErrorDetails
    end

    # A message over the Pipelines API's 32 KB limit (analytics-ruby's worker drops it with a
    # log line; this is raised by the call instead). Nothing was queued.
    class MessageTooLargeError < ValidationError; end
  end

  # Customer.io answered with an error status (after the client's retries for 408, 429 and
  # 5xx), as in the official gem: +code+ is the HTTP status as a String ("401"), +message+ the
  # response body, +response+ the answer as a Net::HTTPResponse (Net::HTTPUnauthorized, ...;
  # status and body, no headers: see HTTPResponse).
  class InvalidResponse < RuntimeError
    include ErrorDetails

    attr_reader :code, :response

    def initialize(code, body, response = nil)
      @code = code
      @response = response
      super(body)
    end
  end
end

# frozen_string_literal: true

require "json"
require "customerio_native/native"

module CustomerioNative
  # Customer.io reporting webhooks, on libcustomerio: signature checks (HMAC-SHA256 over
  # "v0:<timestamp>:<raw body>" in OpenSSL, compared in constant time, "v0=" prefix accepted),
  # the replay window, parsing and redelivery de-duplication.
  #
  #   CustomerioNative::Webhooks.verify(signing_key, env["HTTP_X_CIO_TIMESTAMP"], raw_body,
  #                                     env["HTTP_X_CIO_SIGNATURE"])
  #   CustomerioNative::Webhooks.parse(raw_body).each { |event| ... event.metric ... }
  #
  # Always verify the raw body bytes as received, never a re-serialised copy. For Rack apps,
  # Webhooks::Middleware does all of it.
  module Webhooks
    # The usual replay window: five minutes either side of now.
    DEFAULT_TOLERANCE = Native::CIO_WEBHOOK_DEFAULT_TOLERANCE_SECONDS

    # A webhook that failed verification or parsing (ErrorDetails#error_code says why).
    class Error < StandardError
      include ErrorDetails
    end

    # The signature does not match the body and timestamp under the signing key.
    class InvalidSignature < Error; end

    # Correctly signed, but the timestamp is outside the tolerance window (a replay).
    class StaleTimestamp < Error; end

    # A missing or malformed header, or a body that is not a webhook payload.
    class MalformedRequest < Error; end

    # One reporting event: data is its "data" object and raw the whole event (unknown fields
    # included), both as Hashes with String keys; delivery_id is the top-level one, else
    # data's, else nil.
    Event = Struct.new(:event_id, :object_type, :metric, :timestamp, :delivery_id, :data, :raw,
                       keyword_init: true)

    module_function

    # True when signature (the X-CIO-Signature header) is Customer.io's signature of
    # (timestamp, body) under signing_key. The timestamp's age is not checked: see verify.
    def valid_signature?(signing_key, timestamp, body, signature)
      Native.cio_webhook_verify(str(signing_key), str(timestamp), str(signature), body.to_s, 0, 0)
      true
    rescue Native::Error
      false
    end

    # Raises InvalidSignature, StaleTimestamp (timestamp more than tolerance seconds from now;
    # tolerance 0 turns the check off) or MalformedRequest; returns nil when the request is
    # genuine. now: unix seconds (or a Time) to check against, default the current time.
    def verify(signing_key, timestamp, body, signature, tolerance: DEFAULT_TOLERANCE, now: nil)
      now = now.to_i if now.is_a?(Time)
      native(:cio_webhook_verify, str(signing_key), str(timestamp), str(signature), body.to_s,
             Integer(tolerance), Integer(now || 0))
      nil
    end

    # The signature Customer.io sends for (timestamp, body): 64 lowercase hex characters.
    def sign(signing_key, timestamp, body)
      native(:cio_webhook_sign, str(signing_key), str(timestamp), body.to_s)
    end

    # The events of a webhook body (one event, or {"events": [...]}); unknown metrics, object
    # types and fields pass through. MalformedRequest names what is wrong otherwise.
    def parse(body)
      native(:cio_webhook_parse, body.to_s).map do |event_id, object_type, metric, timestamp,
                                                    delivery_id, data_json, raw_json|
        Event.new(event_id: event_id, object_type: object_type, metric: metric,
                  timestamp: timestamp, delivery_id: delivery_id,
                  data: JSON.parse(data_json), raw: JSON.parse(raw_json))
      end
    end

    # @api private
    def native(name, *args)
      Native.public_send(name, *args)
    rescue Native::Error => e
      raise error_for(e), cause: nil
    end

    # @api private
    def error_for(err)
      code = Native::STATUS_NAMES.fetch(err.status, :unknown)
      klass = case code
              when :signature then InvalidSignature
              when :stale then StaleTimestamp
              else MalformedRequest
              end
      klass.new(err.message).cio_details!(error_code: code, detail: err.message)
    end

    # @api private
    def str(value)
      value.nil? ? nil : value.to_s
    end

    # A bounded set of recently seen event_ids, to drop Customer.io's redeliveries: at most
    # capacity ids, each kept ttl seconds from its first sighting (0: until evicted).
    # Thread-safe (libcustomerio locks it).
    class Deduplicator
      def self.finalizer(holder)
        proc do
          ptr = holder.pop
          Native.cio_webhook_dedup_free(ptr) if ptr
        end
      end

      def initialize(capacity: 10_000, ttl: 86_400)
        ptr = Webhooks.native(:cio_webhook_dedup_new, Integer(capacity), Integer(ttl))
        @lock = Mutex.new
        @holder = [ptr]
        ObjectSpace.define_finalizer(self, self.class.finalizer(@holder))
      end

      # True if event_id was seen within the window (a redelivery); otherwise records it and
      # returns false. now: unix seconds or a Time (default: the current time).
      def seen?(event_id, now: nil)
        now = now.to_i if now.is_a?(Time)
        @lock.synchronize do
          ptr = @holder.first or raise Error, "the deduplicator is closed"
          Webhooks.native(:cio_webhook_dedup_check, ptr, Webhooks.str(event_id),
                          Integer(now || 0))
        end
      end

      # Ids currently held.
      def size
        @lock.synchronize do
          ptr = @holder.first
          ptr ? Native.cio_webhook_dedup_size(ptr) : 0
        end
      end

      # Frees the set. Idempotent.
      def close
        ptr = @lock.synchronize { @holder.pop }
        ObjectSpace.undefine_finalizer(self)
        Native.cio_webhook_dedup_free(ptr) if ptr
        nil
      end
    end
  end
end

require "customerio_native/webhooks/middleware"

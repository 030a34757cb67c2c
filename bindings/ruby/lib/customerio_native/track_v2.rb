# frozen_string_literal: true

require "customerio_native/native"
require "customerio_native/payload"
require "customerio_native/v2_helpers"

module CustomerioNative
  # Track API v2 (/api/v2/entity and /api/v2/batch), reached as Client#v2. The helpers map onto
  # libcustomerio's builder for each type and action (cio_v2_person_event_request, ...), whose
  # request is sent at once (cio_request_send) to /entity. Identifiers are libcustomerio's to
  # judge: a person's of any other shape than { id: | email: | cio_id: value } go as given (in
  # JSON), an object's parts as they are, and what libcustomerio refuses raises ParamError
  # naming the field. The helpers (TrackV2::Helpers) are shared with Pipeline, which queues the
  # same operations.
  #
  # Event helpers take the keywords id: (de-duplication id; default a fresh ULID) and
  # timestamp: (unix seconds or a Time); other keywords are merged into the attributes.
  #
  #   client.v2.identify_person({ id: 5 }, email: "ann@example.com")
  #   client.v2.track_person_event({ email: "ann@example.com" }, "purchase", { total: 9.9 },
  #                                id: ulid)
  #   result = client.v2.send_batch([{ type: "person", action: "identify",
  #                                    identifiers: { id: 5 } }])
  #   result["errors"] # [{"batch_index" => 0, "reason" => ..., "field" => ..., "message" => ...}]
  class TrackV2
    ACTIONS = %w[identify delete event screen page add_relationships delete_relationships
                 add_device delete_device merge suppress unsuppress].freeze

    # @api private (see Client#v2)
    def initialize(native, param_error)
      @native = native
      @param_error = param_error
    end

    # POST /api/v2/entity with one operation (a Hash in the API's shape).
    def send_entity(operation)
      raise @param_error, "send_entity: operation must be a hash" unless operation.is_a?(Hash)

      call(:cio_v2_send_entity, json(operation, "send_entity: operation"))
    end

    # Sends operations through /api/v2/batch and returns the items that failed, in the shape of
    # Customer.io's 207 answer: {} when all were accepted, else
    # {"errors" => [{"batch_index" => i, "reason" => ..., "field" => ..., "message" => ...}]},
    # i the item's index in operations, "field"/"message" left out when there is none.
    # libcustomerio checks every operation first: an invalid one (not a Hash, or not a valid
    # operation) is not sent and is listed there too (reason "invalid", "required" or
    # "too_large", the field at fault, a message naming operations[i]); the valid ones go out,
    # split into as many requests under 500 KB as needed. A batch whose every item is invalid
    # sends nothing and returns them all; a request that fails as a whole raises.
    def send_batch(operations)
      raise @param_error, "send_batch: operations must be an array" unless operations.is_a?(Array)

      ops = operations.each_with_index.map { |op, i| json(op, "send_batch: operations[#{i}]") }
      result = call(:cio_v2_send_batch, ops)
      errors = result ? result[1] : []
      return {} if errors.empty?

      { "errors" => errors.map do |index, reason, field, message|
        { "batch_index" => index, "reason" => reason, "field" => field,
          "message" => message }.compact
      end }
    end

    include Helpers

    private

    # The end of Helpers' building blocks: the operation from libcustomerio's builder, sent at
    # once (cio_request_send); nil, as the sending helpers answer.
    def submit_request(builder, *args)
      request = begin
        Native.public_send(builder, *args)
      rescue Native::Error => e
        raise Native.error_for(e, @param_error), cause: nil
      end
      call(:cio_request_send, request)
      nil
    end

    def call(name, *args)
      @native.call(name, *args)
    end
  end
end

# frozen_string_literal: true

require "customerio_native/native"
require "customerio_native/payload"
require "customerio_native/v2_helpers"

module CustomerioNative
  # Track API v2 (/api/v2/entity and /api/v2/batch), reached as Client#v2. The helpers map onto
  # libcustomerio's helper for each type and action (cio_v2_person_event, ...); identifiers not
  # of the form { id: | email: | cio_id: value } (people) or { object_type_id:, object_id: }
  # (objects) go to /entity as given, and libcustomerio says what is wrong with them. The
  # helpers (TrackV2::Helpers) are shared with Pipeline, which queues the same operations.
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
    PERSON_ID_TYPES = {
      "id" => Native::CIO_ID_TYPE_ID,
      "email" => Native::CIO_ID_TYPE_EMAIL,
      "cio_id" => Native::CIO_ID_TYPE_CIO_ID
    }.freeze
    private_constant :PERSON_ID_TYPES

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

    PERSON_EVENTS = { event: :cio_v2_person_event, page: :cio_v2_person_page,
                      screen: :cio_v2_person_screen }.freeze
    PERSON_SIMPLE = { delete: :cio_v2_person_delete, suppress: :cio_v2_person_suppress,
                      unsuppress: :cio_v2_person_unsuppress }.freeze
    private_constant :PERSON_EVENTS, :PERSON_SIMPLE

    # The building blocks of Helpers, each through libcustomerio's helper for its type and
    # action when the identifiers have the plain shape, else (super) through /entity.

    def person(action, identifiers, name: nil, attributes: nil, event: nil)
      ref = person_ref(identifiers)
      return super if ref.nil?

      what = "#{action}_person: attributes"
      case action
      when :identify
        call(:cio_v2_person_identify, *ref, json(attributes || {}, what))
      when :event, :page, :screen
        call(PERSON_EVENTS.fetch(action), *ref, text(name), json(attributes || {}, what), event)
      else
        call(PERSON_SIMPLE.fetch(action), *ref)
      end
    end

    def object(action, identifiers, name: nil, attributes: nil, event: nil)
      ref = object_ref(identifiers)
      return super if ref.nil?

      what = "#{action}_object: attributes"
      case action
      when :identify then call(:cio_v2_object_identify, *ref, json(attributes || {}, what))
      when :event
        call(:cio_v2_object_event, *ref, text(name), json(attributes || {}, what), event)
      else call(:cio_v2_object_delete, *ref)
      end
    end

    def relationships(type, add, identifiers, relationships)
      action = add ? "add_relationships" : "delete_relationships"
      rel_json = json(relationships, "#{action}: relationships")
      if type == :person
        ref = person_ref(identifiers)
        fn = add ? :cio_v2_person_add_relationships : :cio_v2_person_delete_relationships
      else
        ref = object_ref(identifiers)
        fn = add ? :cio_v2_object_add_relationships : :cio_v2_object_delete_relationships
      end
      return super if ref.nil?

      call(fn, *ref, rel_json)
    end

    def add_device_op(identifiers, device_id, platform, last_used, attributes, extra = nil)
      ref = person_ref(identifiers)
      return super unless ref && (last_used.nil? || last_used.is_a?(Integer)) &&
                          (extra.nil? || extra.empty?)

      call(:cio_v2_person_add_device, *ref, text(device_id), text(platform), last_used || 0,
           attributes.nil? ? nil : json(attributes, "add_person_device: attributes"))
    end

    def delete_device_op(identifiers, device_id)
      ref = person_ref(identifiers)
      return super if ref.nil?

      call(:cio_v2_person_delete_device, *ref, text(device_id))
    end

    def merge_op(primary, secondary)
      p_ref = person_ref(primary)
      s_ref = person_ref(secondary)
      return super unless p_ref && s_ref

      call(:cio_v2_person_merge, *p_ref, *s_ref)
    end

    def delivery_op(delivery_id, metric, attributes, event)
      call(:cio_v2_delivery_event, text(delivery_id), text(metric),
           attributes.empty? ? nil : json(attributes, "track_delivery_event: attributes"), event)
    end

    # What the building blocks send when libcustomerio has no helper for it: /api/v2/entity.
    def submit_operation(operation)
      call(:cio_v2_send_entity, json(operation, "send_entity: operation"))
    end

    # [C id type, value] for { id: | email: | cio_id: String or Integer }, else nil.
    def person_ref(identifiers)
      return nil unless identifiers.is_a?(Hash) && identifiers.size == 1

      key, value = identifiers.first
      kind = PERSON_ID_TYPES[key.to_s]
      return nil unless kind && (value.is_a?(String) || value.is_a?(Integer))

      [kind, text(value)]
    end

    # [object_type_id, object_id] for { object_type_id:, object_id: }, else nil.
    def object_ref(identifiers)
      return nil unless identifiers.is_a?(Hash) && identifiers.size == 2

      ids = Payload.symbolize(identifiers)
      return nil unless ids.key?(:object_type_id) && ids.key?(:object_id)

      [text(ids[:object_type_id]), text(ids[:object_id])]
    end

    def call(name, *args)
      @native.call(name, *args)
    end

    def text(value)
      Payload.text(value)
    end

    def json(value, what)
      Payload.json(value, @param_error, what)
    end
  end
end

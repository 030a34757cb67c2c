# frozen_string_literal: true

require "customerio_native/native"
require "customerio_native/payload"

module CustomerioNative
  # Track API v2 (/api/v2/entity and /api/v2/batch), reached as Client#v2. The helpers map onto
  # libcustomerio's helper for each type and action (cio_v2_person_event, ...); identifiers not
  # of the form { id: | email: | cio_id: value } (people) or { object_type_id:, object_id: }
  # (objects) go to /entity as given, and libcustomerio says what is wrong with them.
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

    # Sends operations through /api/v2/batch: libcustomerio validates every one first (one bad
    # operation fails the call naming its index; nothing is sent), splits them into as many
    # requests under 500 KB as needed, and reports rejected items with their index in
    # operations. Returns {} when all were accepted, else
    # {"errors" => [{"batch_index", "reason", "field", "message"}, ...]}.
    def send_batch(operations)
      raise @param_error, "send_batch: operations must be an array" unless operations.is_a?(Array)

      ops = operations.each_with_index.map do |op, i|
        raise @param_error, "send_batch: operations[#{i}] must be a hash" unless op.is_a?(Hash)

        json(op, "send_batch: operations[#{i}]")
      end
      result = call(:cio_v2_send_batch, ops)
      errors = result ? result[1] : []
      return {} if errors.empty?

      { "errors" => errors.map do |index, reason, field, message|
        { "batch_index" => index, "reason" => reason, "field" => field, "message" => message }
      end }
    end

    # ---- people ----

    def identify_person(identifiers, attributes = nil, **kwargs)
      person(:identify, identifiers, attributes: merge(attributes, kwargs))
    end

    def delete_person(identifiers)
      person(:delete, identifiers)
    end

    def suppress_person(identifiers)
      person(:suppress, identifiers)
    end

    def unsuppress_person(identifiers)
      person(:unsuppress, identifiers)
    end

    def track_person_event(identifiers, name, attributes = nil, id: nil, timestamp: nil, **kw)
      person(:event, identifiers, name: name, attributes: merge(attributes, kw),
                                  event: event(id, timestamp))
    end

    # A page view; url is the page.
    def person_pageview(identifiers, url, attributes = nil, id: nil, timestamp: nil, **kw)
      person(:page, identifiers, name: url, attributes: merge(attributes, kw),
                                 event: event(id, timestamp))
    end

    def person_screen(identifiers, name, attributes = nil, id: nil, timestamp: nil, **kw)
      person(:screen, identifiers, name: name, attributes: merge(attributes, kw),
                                   event: event(id, timestamp))
    end

    # Adds or updates a device: platform "ios" or "android"; last_used: unix seconds or a Time.
    def add_person_device(identifiers, device_id, platform, last_used: nil, attributes: nil)
      last_used = Payload.unix(last_used)
      ref = person_ref(identifiers)
      if ref && (last_used.nil? || last_used.is_a?(Integer))
        call(:cio_v2_person_add_device, *ref, text(device_id), text(platform), last_used || 0,
             attributes.nil? ? nil : json(attributes, "add_person_device: attributes"))
      else
        device = { token: device_id, platform: platform, last_used: last_used,
                   attributes: attributes }.compact
        entity(type: "person", action: "add_device", identifiers: identifiers, device: device)
      end
    end

    def delete_person_device(identifiers, device_id)
      ref = person_ref(identifiers)
      return call(:cio_v2_person_delete_device, *ref, text(device_id)) if ref

      entity(type: "person", action: "delete_device", identifiers: identifiers,
             device: { token: device_id })
    end

    # Merges the secondary person into the primary one (which stays) and deletes it.
    def merge_persons(primary, secondary)
      p_ref = person_ref(primary)
      s_ref = person_ref(secondary)
      return call(:cio_v2_person_merge, *p_ref, *s_ref) if p_ref && s_ref

      entity(type: "person", action: "merge", primary: primary, secondary: secondary)
    end

    # relationships: [{ identifiers: { object_type_id:, object_id: },
    # relationship_attributes: {...} }, ...]
    def add_person_relationships(identifiers, relationships)
      relationships(:person, true, identifiers, relationships)
    end

    def delete_person_relationships(identifiers, relationships)
      relationships(:person, false, identifiers, relationships)
    end

    # ---- objects ----

    def identify_object(identifiers, attributes = nil, **kwargs)
      object(:identify, identifiers, attributes: merge(attributes, kwargs))
    end

    def delete_object(identifiers)
      object(:delete, identifiers)
    end

    def track_object_event(identifiers, name, attributes = nil, id: nil, timestamp: nil, **kw)
      object(:event, identifiers, name: name, attributes: merge(attributes, kw),
                                  event: event(id, timestamp))
    end

    # relationships: [{ identifiers: { id: | email: | cio_id: }, relationship_attributes: }]
    def add_object_relationships(identifiers, relationships)
      relationships(:object, true, identifiers, relationships)
    end

    def delete_object_relationships(identifiers, relationships)
      relationships(:object, false, identifiers, relationships)
    end

    # ---- deliveries ----

    # A delivery metric (opened, clicked, converted, ...) as a v2 delivery event.
    def track_delivery_event(delivery_id, metric, attributes = nil, id: nil, timestamp: nil,
                             **kw)
      attrs = merge(attributes, kw)
      call(:cio_v2_delivery_event, text(delivery_id), text(metric),
           attrs.empty? ? nil : json(attrs, "track_delivery_event: attributes"),
           event(id, timestamp))
    end

    private

    PERSON_EVENTS = { event: :cio_v2_person_event, page: :cio_v2_person_page,
                      screen: :cio_v2_person_screen }.freeze
    PERSON_SIMPLE = { delete: :cio_v2_person_delete, suppress: :cio_v2_person_suppress,
                      unsuppress: :cio_v2_person_unsuppress }.freeze
    private_constant :PERSON_EVENTS, :PERSON_SIMPLE

    def person(action, identifiers, name: nil, attributes: nil, event: nil)
      ref = person_ref(identifiers)
      what = "#{action}_person: attributes"
      if ref.nil?
        op = { type: "person", action: action.to_s, identifiers: identifiers, name: name,
               attributes: attributes }.compact
        return entity(with_event(op, event))
      end

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
      what = "#{action}_object: attributes"
      if ref.nil?
        op = { type: "object", action: action.to_s, identifiers: identifiers, name: name,
               attributes: attributes }.compact
        return entity(with_event(op, event))
      end

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
      return call(fn, *ref, rel_json) if ref

      entity(type: type.to_s, action: action, identifiers: identifiers,
             cio_relationships: relationships)
    end

    def entity(operation)
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

    def with_event(operation, event)
      timestamp, id = event
      operation[:timestamp] = timestamp if timestamp&.positive?
      operation[:id] = id if id
      operation
    end

    def event(id, timestamp)
      timestamp = Payload.unix(timestamp)
      return nil if id.nil? && timestamp.nil?
      unless timestamp.nil? || (timestamp.is_a?(Integer) && timestamp >= 0)
        raise @param_error, "timestamp must be unix seconds or a Time"
      end

      [timestamp || 0, text(id)]
    end

    def merge(attributes, kwargs)
      return kwargs if attributes.nil?
      raise @param_error, "attributes must be a hash" unless attributes.is_a?(Hash)

      kwargs.empty? ? attributes : attributes.merge(kwargs)
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

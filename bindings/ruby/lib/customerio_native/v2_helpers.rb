# frozen_string_literal: true

require "customerio_native/native"
require "customerio_native/payload"

module CustomerioNative
  class TrackV2
    # The Track API v2 helpers (identify_person, track_person_event, ..., track_delivery_event),
    # shared by TrackV2, which sends each operation at once, and Pipeline, which queues it. A
    # helper maps its arguments onto libcustomerio's builder for its type and action
    # (cio_v2_person_event_request, ...: identifiers become the (id type, value) arguments,
    # attributes JSON text) and hands the builder's name and arguments to the including class's
    # #submit_request, which sends the request (TrackV2) or queues it (Pipeline); libcustomerio
    # writes and validates the operation and names the field. This module holds no wire format.
    #
    # Identifiers are not judged here: a person's { id: | email: | cio_id: value } goes as the
    # builders' (id type, value), any other shape as the caller's identifiers in JSON
    # (CIO_ID_TYPE_IDENTIFIERS), which libcustomerio writes as given and validates as an
    # operation written by hand; an object's parts go as they are (nil type id: a cio_object_id).
    #
    # The includer provides #submit_request(builder, *args) and @param_error (the class raised
    # for arguments refused in Ruby: a non-Hash attributes argument, a bad timestamp, a value
    # with no JSON form); it may override #refuse(message) to add details and #integer_ids? to
    # send Integer ids as JSON numbers.
    module Helpers
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

      # Adds or updates a device: platform "ios" or "android"; last_used: unix seconds or a
      # Time.
      def add_person_device(identifiers, device_id, platform, last_used: nil, attributes: nil)
        add_device_op(identifiers, device_id, platform, Payload.unix(last_used), attributes)
      end

      def delete_person_device(identifiers, device_id)
        delete_device_op(identifiers, device_id)
      end

      # Merges the secondary person into the primary one (which stays) and deletes it.
      def merge_persons(primary, secondary)
        merge_op(primary, secondary)
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
        delivery_op(delivery_id, metric, merge(attributes, kw), event(id, timestamp))
      end

      private

      PERSON_ID_TYPES = {
        "id" => Native::CIO_ID_TYPE_ID,
        "email" => Native::CIO_ID_TYPE_EMAIL,
        "cio_id" => Native::CIO_ID_TYPE_CIO_ID
      }.freeze
      PERSON_EVENTS = { event: :cio_v2_person_event_request, page: :cio_v2_person_page_request,
                        screen: :cio_v2_person_screen_request }.freeze
      PERSON_SIMPLE = { identify: :cio_v2_person_identify_request,
                        delete: :cio_v2_person_delete_request,
                        suppress: :cio_v2_person_suppress_request,
                        unsuppress: :cio_v2_person_unsuppress_request }.freeze
      OBJECT_SIMPLE = { identify: :cio_v2_object_identify_request,
                        delete: :cio_v2_object_delete_request }.freeze
      INT64 = (-(2**63))..(2**63 - 1)
      private_constant :PERSON_ID_TYPES, :PERSON_EVENTS, :PERSON_SIMPLE, :OBJECT_SIMPLE, :INT64

      # The building blocks: each calls the builder for its operation through #submit_request.
      # event is nil or [timestamp (0 = none), id (nil = a ULID from libcustomerio)].

      def person(action, identifiers, name: nil, attributes: nil, event: nil)
        ref = person_arg(identifiers)
        data = attributes.nil? ? nil : json(attributes, "#{action}_person: attributes")
        if PERSON_EVENTS.key?(action)
          submit_request(PERSON_EVENTS[action], *ref, text(name), data, event)
        elsif action == :identify
          submit_request(PERSON_SIMPLE[action], *ref, data)
        else
          submit_request(PERSON_SIMPLE.fetch(action), *ref)
        end
      end

      def object(action, identifiers, name: nil, attributes: nil, event: nil)
        ref = object_arg(identifiers)
        data = attributes.nil? ? nil : json(attributes, "#{action}_object: attributes")
        case action
        when :event then submit_request(:cio_v2_object_event_request, *ref, text(name), data, event)
        when :identify then submit_request(OBJECT_SIMPLE[action], *ref, data)
        else submit_request(OBJECT_SIMPLE.fetch(action), *ref)
        end
      end

      def relationships(type, add, identifiers, relationships)
        verb = add ? "add" : "delete"
        rel_json = json(relationships, "#{verb}_relationships: relationships")
        ref = type == :person ? person_arg(identifiers) : object_arg(identifiers)
        submit_request(:"cio_v2_#{type}_#{verb}_relationships_request", *ref, rel_json)
      end

      def add_device_op(identifiers, device_id, platform, last_used, attributes)
        unless last_used.nil? || last_used.is_a?(Integer)
          raise @param_error, "last_used must be unix seconds or a Time"
        end

        submit_request(:cio_v2_person_add_device_request, *person_arg(identifiers),
                       text(device_id), text(platform), last_used || 0,
                       attributes.nil? ? nil : json(attributes, "add_person_device: attributes"))
      end

      def delete_device_op(identifiers, device_id)
        submit_request(:cio_v2_person_delete_device_request, *person_arg(identifiers),
                       text(device_id))
      end

      def merge_op(primary, secondary)
        submit_request(:cio_v2_person_merge_request, *person_arg(primary, "primary"),
                       *person_arg(secondary, "secondary"))
      end

      def delivery_op(delivery_id, metric, attributes, event)
        data = attributes.empty? ? nil : json(attributes, "track_delivery_event: attributes")
        submit_request(:cio_v2_delivery_event_request, text(delivery_id), text(metric), data,
                       event)
      end

      # [C id type, value] for { id: | email: | cio_id: String or Integer }, else nil. An Integer
      # id (within int64) goes on the wire as a JSON number when the includer's
      # #integer_ids? says so (CIO_ID_TYPE_ID_INTEGER), else as text.
      def person_ref(identifiers)
        return nil unless identifiers.is_a?(Hash) && identifiers.size == 1

        key, value = identifiers.first
        kind = PERSON_ID_TYPES[key.to_s]
        return nil unless kind && (value.is_a?(String) || value.is_a?(Integer))
        return [Native::CIO_ID_TYPE_ID_INTEGER, value.to_s] if
          kind == Native::CIO_ID_TYPE_ID && integer_ids? && INT64.cover?(value)

        [kind, text(value)]
      end

      # A person's identifiers as the builders' (id type, value): #person_ref, or, for any other
      # shape, the caller's identifiers as JSON text (CIO_ID_TYPE_IDENTIFIERS), which
      # libcustomerio writes as given and accepts or refuses exactly as an operation written by
      # hand (naming what is wrong). what names the argument when it has no JSON form.
      def person_arg(identifiers, what = "identifiers")
        person_ref(identifiers) ||
          [Native::CIO_ID_TYPE_IDENTIFIERS, json(identifiers, what)]
      end

      # Whether an Integer id is sent as a number (see #person_ref); the includer may override.
      def integer_ids?
        false
      end

      # An object's identifiers as the builders' (object type id, object id): { object_type_id:,
      # object_id: } as their text, { cio_object_id: } as [nil, its text]. Any other shape passes
      # what it has (a cio_object_id winning over the pair, as in libcustomerio's validator; nil
      # for what is not a String or Integer, "" for such a type id) and the builder names what
      # is wrong.
      def object_arg(identifiers)
        return [nil, nil] unless identifiers.is_a?(Hash)

        ids = Payload.symbolize(identifiers)
        if ids.size == 2 && ids.key?(:object_type_id) && ids.key?(:object_id)
          # a nil type id stays one (""): nil would make object_id a cio_object_id
          return [text(ids[:object_type_id]) || "", text(ids[:object_id])]
        end
        return [nil, text(ids[:cio_object_id])] if ids.size == 1 && ids.key?(:cio_object_id)
        return [nil, id_or_nil(ids[:cio_object_id])] if ids.key?(:cio_object_id)

        object_parts!(identifiers, ids)
        [id_or_nil(ids[:object_type_id]) || "", id_or_nil(ids[:object_id])]
      end

      def id_or_nil(value)
        value.is_a?(String) || value.is_a?(Integer) ? text(value) : nil
      end

      # The one refusal left in Ruby: object identifiers without object_type_id or object_id
      # (and no cio_object_id) keep this gem's earlier wording, which tests/ruby/track_v2_spec.rb
      # asserts word for word. libcustomerio refuses them itself ("identifiers.object_id must be
      # a string"): drop this once that spec asserts the library's message.
      def object_parts!(identifiers, ids)
        return if ids.key?(:object_type_id) && ids.key?(:object_id)

        refuse("identifiers must name an object by object_type_id and object_id, or by " \
               "cio_object_id, not #{identifiers.inspect}")
      end

      def refuse(message)
        raise @param_error, message
      end

      def text(value)
        Payload.text(value)
      end

      def json(value, what)
        Payload.json(value, @param_error, what)
      end

      def event(id, timestamp)
        timestamp = Payload.unix(timestamp)
        return nil if id.nil? && timestamp.nil?
        unless timestamp.nil? || (timestamp.is_a?(Integer) && timestamp >= 0)
          raise @param_error, "timestamp must be unix seconds or a Time"
        end

        [timestamp || 0, Payload.text(id)]
      end

      def merge(attributes, kwargs)
        return kwargs if attributes.nil?
        raise @param_error, "attributes must be a hash" unless attributes.is_a?(Hash)

        kwargs.empty? ? attributes : attributes.merge(kwargs)
      end
    end
  end
end

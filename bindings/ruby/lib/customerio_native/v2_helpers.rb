# frozen_string_literal: true

require "customerio_native/payload"

module CustomerioNative
  class TrackV2
    # The Track API v2 helpers (identify_person, track_person_event, ..., track_delivery_event),
    # shared by TrackV2, which sends each operation at once, and Pipeline, which queues it. A
    # helper maps its arguments onto one operation in the API's shape (a Hash) and hands it to
    # the including class's #submit_operation; TrackV2 also overrides the building blocks below
    # to call libcustomerio's helper for the type and action where the identifiers allow it.
    # Nothing here validates ids or payloads: libcustomerio does, and names the field.
    #
    # The includer provides #submit_operation(operation) and @param_error (the class raised for
    # arguments refused in Ruby: a non-Hash attributes argument, a bad timestamp).
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

      # The building blocks: each makes its operation and submits it. event is nil or
      # [timestamp (0 = none), id (nil = a ULID from libcustomerio)].

      def person(action, identifiers, name: nil, attributes: nil, event: nil)
        op = { type: "person", action: action.to_s, identifiers: identifiers, name: name,
               attributes: attributes }.compact
        submit_operation(with_event(op, event))
      end

      def object(action, identifiers, name: nil, attributes: nil, event: nil)
        op = { type: "object", action: action.to_s, identifiers: identifiers, name: name,
               attributes: attributes }.compact
        submit_operation(with_event(op, event))
      end

      def relationships(type, add, identifiers, relationships)
        action = add ? "add_relationships" : "delete_relationships"
        submit_operation(type: type.to_s, action: action, identifiers: identifiers,
                         cio_relationships: relationships)
      end

      # extra: more device members (a Track v1 add_device's other fields), sent as given.
      def add_device_op(identifiers, device_id, platform, last_used, attributes, extra = nil)
        device = (extra || {}).merge({ token: device_id, platform: platform,
                                       last_used: last_used, attributes: attributes }.compact)
        submit_operation(type: "person", action: "add_device", identifiers: identifiers,
                         device: device)
      end

      def delete_device_op(identifiers, device_id)
        submit_operation(type: "person", action: "delete_device", identifiers: identifiers,
                         device: { token: device_id })
      end

      def merge_op(primary, secondary)
        submit_operation(type: "person", action: "merge", primary: primary, secondary: secondary)
      end

      def delivery_op(delivery_id, metric, attributes, event)
        op = { type: "delivery", action: "event", identifiers: { id: Payload.text(delivery_id) },
               name: metric, attributes: attributes.empty? ? nil : attributes }.compact
        submit_operation(with_event(op, event))
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

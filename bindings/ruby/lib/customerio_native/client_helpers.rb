# frozen_string_literal: true

require "customerio_native/payload"

module CustomerioNative
  class Client
    # The official gem's person and event methods (identify, delete, suppress, unsuppress,
    # track, pageview, screen, add_device, delete_device, merge_customers) with its argument
    # handling and checks (ParamError with the official messages), shared by Client, which
    # sends each call to Track API v1 at once, and Pipeline, which queues it as a Track v2
    # operation. Each method ends in one of the deliver_* hooks the including class defines:
    #
    #   deliver_identify(customer_id, attributes)          customer_id: a String, "cio_<id>" for
    #                                                      a cio_id; attributes: a Hash
    #   deliver_event(kind, customer_id, name, data, event) kind: :event, :page or :screen;
    #                                                      event: nil or [timestamp (0 = none),
    #                                                      id (nil = a ULID from libcustomerio)]
    #   deliver_person(action, customer_id)                 action: :delete, :suppress,
    #                                                      :unsuppress
    #   deliver_add_device(customer_id, device_id, platform, fields)  fields: the device's other
    #                                                      members (Symbol keys; last_used as
    #                                                      unix seconds when a Time was given)
    #   deliver_delete_device(customer_id, device_id)
    #   deliver_merge(primary_type, primary_id, secondary_type, secondary_id)  types: "id",
    #                                                      "email" or "cio_id"
    #
    # and @param_error, the class raised for refused arguments.
    module Helpers
      # Creates or updates a person. The person is the attributes' customer_id (an id, an email
      # address or "cio_<cio_id>"; not stored as an attribute), else cio_id (as
      # "cio_<cio_id>"), else id; MissingIdAttributeError when none is given. Every other
      # attribute is sent (Time values as unix seconds).
      def identify(attributes = nil, **kwargs)
        attrs = Payload.symbolize(hash_arg(attributes, kwargs, "attributes"))
        if blank?(attrs[:id]) && blank?(attrs[:cio_id]) && blank?(attrs[:customer_id])
          raise MissingIdAttributeError, "Must provide a customer id"
        end

        customer_id = attrs[:id]
        customer_id = "cio_#{attrs[:cio_id]}" unless blank?(attrs[:cio_id])
        customer_id = attrs[:customer_id] unless blank?(attrs[:customer_id])
        attrs.delete(:customer_id)
        deliver_identify(text(customer_id), attrs)
      end

      # Deletes a person.
      def delete(customer_id)
        require_id(customer_id, "customer_id")
        deliver_person(:delete, text(customer_id))
      end

      # Suppresses a person.
      def suppress(customer_id)
        require_id(customer_id, "customer_id")
        deliver_person(:suppress, text(customer_id))
      end

      # Unsuppresses a person.
      def unsuppress(customer_id)
        require_id(customer_id, "customer_id")
        deliver_person(:unsuppress, text(customer_id))
      end

      # An event for a person, as the official gem 6.x has it: attributes (a Hash) are the
      # event's data; the keywords id: (the event's de-duplication id; default: a fresh ULID
      # from libcustomerio) and timestamp: (unix seconds or a Time; default: a :timestamp among
      # the attributes) are the event's own fields. An invalid timestamp raises ParamError.
      #
      #   track(5, "purchase", { type: "socks" }, id: ulid, timestamp: Time.now)   # 6.x
      #   track(5, "purchase", type: "socks", price: "13.99")                      # 5.x
      #
      # The 5.x style (the data as keywords, no Hash) keeps working: keywords other than id:
      # and timestamp: make all the keywords the data (a :timestamp among them is also the
      # event's). With only id: and/or timestamp: the call is 6.x's: they are the event's fields
      # and the data is empty (5.x would have put them in the data too).
      def track(customer_id, event_name, attributes = nil, **options)
        person_event(:event, customer_id, event_name, "event_name", attributes, options)
      end

      # A page view (an event of type "page" named after the page).
      def pageview(customer_id, page, attributes = nil, **options)
        person_event(:page, customer_id, page, "page", attributes, options)
      end

      # A mobile screen view (an event of type "screen"; not in the official gem).
      def screen(customer_id, screen_name, attributes = nil, **options)
        person_event(:screen, customer_id, screen_name, "screen_name", attributes, options)
      end

      # Adds or updates a device. data (a Hash, or keywords) holds any device field, sent as
      # given beside id and platform, as the official gem sends it: :last_used (unix seconds,
      # or a Time), :attributes (a Hash), and anything else. libcustomerio checks platform ("ios"
      # or "android") and the ids.
      def add_device(customer_id, device_id, platform, data = nil, **kwargs)
        require_id(customer_id, "customer_id")
        require_id(device_id, "device_id")
        require_id(platform, "platform")
        data = {} if data.nil? && kwargs.empty?
        unless data.nil? || data.is_a?(Hash)
          raise @param_error, "data parameter must be a hash"
        end

        # id and platform are the arguments (the official gem's merge lets them win too)
        fields = Payload.symbolize((data || {}).merge(kwargs)).except(:id, :platform)
        fields[:last_used] = Payload.unix(fields[:last_used]) if fields.key?(:last_used)
        deliver_add_device(text(customer_id), text(device_id), text(platform), fields)
      end

      # Removes a device from a person.
      def delete_device(customer_id, device_id)
        require_id(customer_id, "customer_id")
        require_id(device_id, "device_id")
        deliver_delete_device(text(customer_id), text(device_id))
      end

      # Merges the secondary person into the primary one (which stays) and deletes it. Id types
      # are IdentifierType::ID, EMAIL or CIOID.
      def merge_customers(primary_id_type, primary_id, secondary_id_type, secondary_id)
        primary = id_type_name(primary_id_type)
        raise @param_error, "invalid primary_id_type" if primary.nil?
        raise @param_error, "primary_id must be a non-empty string" if blank?(primary_id)

        secondary = id_type_name(secondary_id_type)
        raise @param_error, "invalid secondary_id_type" if secondary.nil?
        raise @param_error, "secondary_id must be a non-empty string" if blank?(secondary_id)

        deliver_merge(primary, text(primary_id), secondary, text(secondary_id))
      end

      private

      # track, pageview and screen: an event of kind for a person, named name (name_label in
      # errors).
      def person_event(kind, customer_id, name, name_label, attributes, options)
        require_id(customer_id, "customer_id")
        require_id(name, name_label)
        data, event = event_args(attributes, options)
        deliver_event(kind, text(customer_id), text(name), data, event)
      end

      # [data, event options] of an event call; see #track.
      def event_args(attributes, options)
        if attributes.nil?
          if only_event_options?(options) # 6.x: only the event's own fields
            data = {}
            timestamp = options[:timestamp]
            id = options[:id]
          else # 5.x: the keywords are the data
            data = options
            timestamp = data[:timestamp]
            id = nil
          end
        else
          raise @param_error, "attributes must be a hash" unless attributes.is_a?(Hash)

          unless only_event_options?(options)
            unknown = options.keys - EVENT_OPTIONS
            raise ArgumentError, "unknown keyword(s): #{unknown.join(', ')}"
          end

          data = attributes
          timestamp = options[:timestamp].nil? ? attributes[:timestamp] : options[:timestamp]
          id = options[:id]
        end
        timestamp = checked_timestamp(timestamp)
        id = nil if blank?(id)
        event = timestamp || id ? [timestamp || 0, text(id)] : nil
        [data, event]
      end

      # Whether every keyword is one of EVENT_OPTIONS (none at all included), without the
      # Arrays of options.keys - EVENT_OPTIONS (a call's hot path).
      def only_event_options?(options)
        options.each_key { |key| return false unless EVENT_OPTIONS.include?(key) }
        true
      end

      # A timestamp (unix seconds or a Time; nil: none) as unix seconds; ParamError with the
      # official gem's message when it is not one.
      def checked_timestamp(value)
        timestamp = Payload.unix(value)
        return timestamp if timestamp.nil? || valid_timestamp?(timestamp)

        raise @param_error,
              "timestamp must be a valid integer (seconds since epoch, 10-digit range)"
      end

      def hash_arg(hash, kwargs, what)
        return kwargs if hash.nil?
        raise @param_error, "#{what} must be a hash" unless hash.is_a?(Hash)

        kwargs.empty? ? hash : hash.merge(kwargs)
      end

      def require_id(value, name)
        raise @param_error, "#{name} must be a non-empty string" if blank?(value)
      end

      # "id", "email" or "cio_id" for an IdentifierType (or its Symbol), else nil.
      def id_type_name(name)
        name = name.to_s if name.is_a?(Symbol)
        ID_TYPES.key?(name) ? name : nil
      end

      def blank?(value)
        Payload.blank?(value)
      end

      def text(value)
        Payload.text(value)
      end

      # The official gem's test: unix seconds between 2001 and 5138.
      def valid_timestamp?(timestamp)
        timestamp.is_a?(Integer) && timestamp > 999_999_999 && timestamp < 100_000_000_000
      end
    end
  end
end

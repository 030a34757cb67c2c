# frozen_string_literal: true

require "base64"

module CustomerioNative
  # The official gem's transactional request classes. Each keeps the fields the API knows
  # (unknown ones are dropped, as there) in +message+; files given to #attach are kept as raw
  # bytes and base64-encoded by libcustomerio when the request is sent (a file attached with
  # encode: false is already base64 text, and goes into message[:attachments] as given).
  # libcustomerio checks the whole request before sending: identifiers, the template or body,
  # each field's type, attachment names.
  #
  # @api private: the shared part.
  class TransactionalRequest
    attr_reader :message

    # [[name, bytes], ...]: the files attach was given, sent as raw bytes.
    attr_reader :files

    def initialize(opts = {}, **kwargs)
      raise ArgumentError, "request fields must be a Hash" unless opts.is_a?(Hash)

      fields = self.class::FIELDS
      @message = opts.merge(kwargs).each_with_object({}) do |(key, value), out|
        key = key.to_sym if key.is_a?(String)
        out[key] = value if fields.include?(key)
      end
      @files = []
    end

    private

    def add_file(name, data, encode)
      name = name.to_s
      if @files.any? { |n, _| n == name } || @message[:attachments]&.key?(name)
        raise ArgumentError, "attachment #{name} already exists"
      end

      if encode
        @files << [name, content_of(data)]
      else
        (@message[:attachments] ||= {})[name] = data.to_s
      end
      self
    end

    # A file's bytes: an IO-like value (File, StringIO, Tempfile...) is read; a String is the
    # content itself.
    def content_of(data)
      data = data.read if data.respond_to?(:read)
      raise ArgumentError, "Unknown attachment type: #{data.class}" unless data.is_a?(String)

      data.b
    end
  end

  # POST /v1/send/email. attach(name, data, encode: true): data is the file's content (a String
  # or an IO-like value, read); with encode: false it is already base64.
  class SendEmailRequest < TransactionalRequest
    FIELDS = %i[to identifiers transactional_message_id message_data headers preheader from
                reply_to bcc subject body body_plain body_amp plaintext_body amp_body fake_bcc
                disable_message_retention send_to_unsubscribed tracked queue_draft
                disable_css_preprocessing send_at language attachments].freeze

    def attach(name, data, encode: true)
      add_file(name, data, encode)
    end
  end

  # POST /v1/send/push; device: is sent as custom_device, as in the official gem.
  class SendPushRequest < TransactionalRequest
    FIELDS = %i[transactional_message_id identifiers to title message disable_message_retention
                send_to_unsubscribed queue_draft message_data send_at language image_url link
                sound custom_data custom_payload device custom_device].freeze

    def initialize(opts = {}, **kwargs)
      super
      device = @message.delete(:device)
      @message[:custom_device] = device if device
    end
  end

  # POST /v1/send/sms.
  class SendSMSRequest < TransactionalRequest
    FIELDS = %i[identifiers transactional_message_id message_data from to
                disable_message_retention send_to_unsubscribed tracked queue_draft send_at
                language attachments].freeze

    def attach(name, data, encode: true)
      add_file(name, data, encode)
    end
  end

  # POST /v1/send/whatsapp.
  class SendWhatsAppRequest < TransactionalRequest
    FIELDS = %i[identifiers transactional_message_id message_data to disable_message_retention
                send_to_unsubscribed tracked queue_draft send_at language attachments].freeze

    def attach(name, data, encode: true)
      add_file(name, data, encode)
    end
  end

  # POST /v1/send/inbox_message.
  class SendInboxMessageRequest < TransactionalRequest
    FIELDS = %i[identifiers transactional_message_id message_data disable_message_retention
                queue_draft send_at language attachments].freeze

    def attach(name, data, encode: true)
      add_file(name, data, encode)
    end
  end

  # POST /v1/send/in_app.
  class SendInAppRequest < TransactionalRequest
    FIELDS = %i[identifiers transactional_message_id message_data disable_message_retention
                queue_draft send_at language].freeze
  end

  # POST /v1/campaigns/{broadcast_id}/triggers, as in the official gem: broadcast_id an
  # Integer, payload with data and the email_/id_ flags, and at most one audience.
  class TriggerBroadcastRequest
    OPTIONAL_FIELDS = %i[data email_add_duplicates email_ignore_missing id_ignore_missing].freeze
    ONLY_ONE_ALLOWED = %i[recipients emails ids per_user_data data_file_url].freeze

    attr_reader :broadcast_id, :payload

    def initialize(broadcast_id:, payload: {})
      @broadcast_id = broadcast_id
      @payload = payload.each_with_object({}) do |(key, value), out|
        key = key.to_sym if key.is_a?(String)
        out[key] = value if OPTIONAL_FIELDS.include?(key) || ONLY_ONE_ALLOWED.include?(key)
      end
      raise "broadcast id is required" unless broadcast_id
      raise "broadcast id must be an integer" unless broadcast_id.is_a?(Integer)

      present = ONLY_ONE_ALLOWED.select { |field| @payload.key?(field) }
      return unless present.length > 1

      raise "Only one of #{ONLY_ONE_ALLOWED.join(', ')} can be present"
    end
  end
end

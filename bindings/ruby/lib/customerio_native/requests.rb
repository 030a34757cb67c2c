# frozen_string_literal: true

require "base64"
require "customerio_native/payload"

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
                reply_to cc bcc subject body body_plain body_amp plaintext_body amp_body fake_bcc
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

  # POST /v1/campaigns/{broadcast_id}/triggers, as in the official gem 6.x: one Hash with
  # :broadcast_id (an Integer) and the trigger's fields (data, the email_/id_ flags, and at most
  # one audience: recipients, emails, ids, per_user_data or data_file_url), kept in +message+
  # (unknown ones dropped). ArgumentError with the official messages otherwise.
  #
  #   CustomerioNative::TriggerBroadcastRequest.new(broadcast_id: 12, data: { promo: "x" },
  #                                                 ids: [1, 2])
  #
  # The fields may also come in payload: (this gem's earlier form); String keys work too.
  class TriggerBroadcastRequest
    AUDIENCE_FIELDS = %i[recipients emails ids per_user_data data_file_url].freeze
    OPTIONAL_FIELDS = %i[data email_add_duplicates email_ignore_missing id_ignore_missing].freeze
    # The earlier name of AUDIENCE_FIELDS.
    ONLY_ONE_ALLOWED = AUDIENCE_FIELDS

    attr_reader :broadcast_id, :message

    def initialize(opts = nil, **kwargs)
      raise ArgumentError, "request fields must be a Hash" unless opts.nil? || opts.is_a?(Hash)

      fields = Payload.symbolize((opts || {}).merge(kwargs))
      payload = fields.delete(:payload)
      fields = Payload.symbolize(payload).merge(fields) if payload.is_a?(Hash)
      raise ArgumentError, "broadcast_id is required" unless fields.key?(:broadcast_id)
      unless fields[:broadcast_id].is_a?(Integer)
        raise ArgumentError, "broadcast_id must be an integer"
      end

      @broadcast_id = fields[:broadcast_id]
      @message = fields.select do |key, _|
        OPTIONAL_FIELDS.include?(key) || AUDIENCE_FIELDS.include?(key)
      end
      return unless AUDIENCE_FIELDS.count { |field| @message.key?(field) } > 1

      raise ArgumentError, "only one of #{AUDIENCE_FIELDS.join(', ')} can be present"
    end

    # The trigger's fields (this gem's earlier name for #message).
    def payload
      @message
    end
  end
end

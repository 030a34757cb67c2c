# frozen_string_literal: true

# Argument shapes for the differential tests, from a seeded generator (CIO_COMPAT_SEED, default
# 1515, so a failure can be replayed): ids of every kind, nested Hashes and Arrays with unicode
# keys and strings, numbers at the edges (32/53/64-bit limits, a bignum, -0.0, the smallest
# subnormal, 1e300), Times in UTC and with an offset, nil, true and false.
class ArgGen
  INTEGERS = [0, 1, -1, 2**31 - 1, -2**31, 2**53, 2**53 + 1, 2**63 - 1, -2**63, 2**64,
              1_700_000_000].freeze
  FLOATS = [0.5, -0.0, 1.0 / 3, 1e300, -1e-300, 5e-324, 123_456.789].freeze
  STRINGS = ["", "plain", "ünïcödé", "日本語テキスト", "emoji 🎉👍🏽", "رسالة", "a\"quote\\slash",
             "tab\tnew\nline", "e\u0301 combining", "x" * 300, "<script>", "1e5"].freeze
  ID_STRINGS = ["user-1", "ann@example.com", "a/b c", "ünï", "🎉", "cio_0300a1", "x+y?z#w",
                "42"].freeze
  KEYS = ["name", "plan", "clé", "ключ", "key with space", "nested.dot", "_update", "k-1",
          "数", "emoji🎉"].freeze

  attr_reader :seed

  def initialize(seed = Integer(ENV.fetch("CIO_COMPAT_SEED", "1515")))
    @seed = seed
    @random = Random.new(seed)
  end

  def pick(list)
    list[@random.rand(list.size)]
  end

  def chance(p)
    @random.rand < p
  end

  def int(range)
    @random.rand(range)
  end

  # A customer, device or delivery id: a String of some kind, or an Integer.
  def id
    chance(0.3) ? int(1..10**12) : pick(ID_STRINGS) + (chance(0.5) ? int(1000).to_s : "")
  end

  def time
    t = Time.at(int(1_000_000_000..4_000_000_000))
    chance(0.5) ? t.utc : t.getlocal(pick(["+05:30", "-08:00", "+00:00"]))
  end

  # Any JSON-able value (and Time), nested up to depth.
  def value(depth = 2)
    case int(depth.positive? ? 9 : 7)
    when 0 then nil
    when 1 then pick([true, false])
    when 2 then pick(INTEGERS)
    when 3 then pick(FLOATS)
    when 4, 5 then pick(STRINGS)
    when 6 then time
    when 7 then Array.new(int(0..3)) { value(depth - 1) }
    else hash(depth - 1)
    end
  end

  # A Hash of values with distinct keys, Symbol or String (never both spellings of one key).
  def hash(depth = 2, size: int(0..4))
    pick_keys(size).to_h { |k| [chance(0.5) ? k.to_sym : k, value(depth)] }
  end

  def pick_keys(size)
    KEYS.shuffle(random: @random).first(size)
  end

  # A valid event timestamp (unix seconds in the official gem's range).
  def timestamp
    int(1_000_000_000..4_000_000_000)
  end
end

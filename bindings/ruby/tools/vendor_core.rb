# frozen_string_literal: true

require "fileutils"

# Copies what the gem compiles into ext/customerio_native/vendor/ so that the .gem is
# self-contained (gem install needs neither the repository nor SWIG):
#
#   vendor/core/*.c, **/*.h             the core's sources, as core/CMakeLists.txt lists them (the
#                                       headers in their folders under core/src: util/buf.h)
#   vendor/include/customerio/*.h       the public headers
#   vendor/customerio_wrap.c            swig -ruby on bindings/ruby.i (+ core.i)
#
# Run by the gemspec (so a plain `gem build` works from a checkout) and by `rake vendor`.
# Files are only rewritten when their content changed, so rebuilds stay incremental.
module CustomerioNativeBuild
  RUBY_DIR = File.expand_path("..", __dir__)
  REPO = File.expand_path("../..", RUBY_DIR)
  EXT_DIR = File.join(RUBY_DIR, "ext", "customerio_native")
  VENDOR = File.join(EXT_DIR, "vendor")
  # Headers that landed after the first binding, wrapped when present (as in
  # bindings/python/CMakeLists.txt).
  OPTIONAL_HEADERS = %w[webhook app].freeze

  module_function

  # True when running from a checkout (the core next to the binding), false inside a .gem.
  def checkout?
    File.file?(File.join(REPO, "core", "CMakeLists.txt")) &&
      File.file?(File.join(REPO, "bindings", "ruby.i"))
  end

  # The core's source files, as core/CMakeLists.txt lists them in CIO_CORE_SOURCES: the gem
  # compiles exactly what the C library is made of.
  def core_sources
    cmake = File.read(File.join(REPO, "core", "CMakeLists.txt"))
    block = cmake[/set\(CIO_CORE_SOURCES\s+(.*?)\)/m, 1] or
      raise "core/CMakeLists.txt: no set(CIO_CORE_SOURCES ...) list"
    block.split.grep(/\.c\z/).map { |path| File.join(REPO, "core", path) }
  end

  def vendor!(log: $stderr)
    raise "not a checkout of customerio-native: #{REPO}" unless checkout?

    wanted = {}
    core_sources.each { |src| wanted[File.join("core", File.basename(src))] = src }
    # Private headers keep their folder under core/src (util/buf.h), as #include lines name it;
    # sources are flat (their basenames are unique).
    src_dir = File.join(REPO, "core", "src")
    Dir[File.join(src_dir, "**", "*.h")].each do |h|
      wanted[File.join("core", h.delete_prefix("#{src_dir}/"))] = h
    end
    Dir[File.join(REPO, "core", "include", "customerio", "*.h")].each do |h|
      wanted[File.join("include", "customerio", File.basename(h))] = h
    end
    wanted.each { |rel, src| install(File.read(src, mode: "rb"), File.join(VENDOR, rel)) }
    # Drop what the core no longer has (renamed or removed files).
    Dir[File.join(VENDOR, "{core,core/*,include/customerio}", "*")].each do |path|
      next unless File.file?(path)
      rel = path.delete_prefix("#{VENDOR}/")
      FileUtils.rm_f(path) unless wanted.key?(rel)
    end
    install(swig_wrapper, File.join(VENDOR, "customerio_wrap.c"))
    # The public interfaces for stores and sinks (customerio/sys/*.h), which the core includes.
    Dir[File.join(REPO, "core", "include", "customerio", "sys", "*.h")].each do |h|
      install(File.read(h, mode: "rb"),
              File.join(VENDOR, "include", "customerio", "sys", File.basename(h)))
    end
    log&.puts("vendored #{wanted.size} core files and the SWIG wrapper into #{VENDOR}")
  end

  # The SWIG wrapper's text: swig -ruby on the Ruby interface file (which includes core.i).
  def swig_wrapper
    require "open3"
    require "tmpdir"
    defines = OPTIONAL_HEADERS.select do |h|
      File.file?(File.join(REPO, "core", "include", "customerio", "#{h}.h"))
    end.map { |h| "-DCIO_SWIG_#{h.upcase}" }
    Dir.mktmpdir("cio-swig") do |tmp|
      out = File.join(tmp, "customerio_wrap.c")
      cmd = ["swig", "-ruby", "-initname", "customerio_native_ext", *defines,
             "-I#{File.join(REPO, 'bindings')}", "-I#{File.join(REPO, 'core', 'include')}",
             "-o", out,
             File.join(REPO, "bindings", "ruby.i")]
      output, status = Open3.capture2e(*cmd)
      raise "#{cmd.join(' ')} failed:\n#{output}" unless status.success?

      File.read(out, mode: "rb")
    end
  rescue Errno::ENOENT
    raise "swig not found: building the gem from a checkout needs SWIG 4 (Debian: swig)"
  end

  def install(content, dest)
    return if File.file?(dest) && File.binread(dest) == content

    FileUtils.mkdir_p(File.dirname(dest))
    File.binwrite(dest, content)
  end
end

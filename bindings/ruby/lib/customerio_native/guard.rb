# frozen_string_literal: true

module CustomerioNative
  module Native
    # A C handle that must not be freed while a call uses it, shared by Handle (a client) and
    # Pipeline: a call takes the pointer with #enter and gives it back with #leave; #retire takes
    # it away from new calls and waits for those in progress, as the C API's close/free
    # require. A handle made before fork() is refused in the child unless it follows forks (a
    # client does: libcustomerio starts its network thread anew in the child; a pipeline's
    # thread stays with the parent). #ptr and #pid are also what a finalizer needs, without a
    # reference to the owner.
    class Guard
      attr_accessor :ptr
      attr_reader :pid

      # on_closed: builds the exception raised by #enter (given a message).
      def initialize(ptr, on_closed, follows_fork: false)
        @ptr = ptr
        @pid = Process.pid
        @on_closed = on_closed
        @follows_fork = follows_fork
        @lock = Mutex.new
        @idle = ConditionVariable.new
        @busy = 0
        @busy_pid = @pid # the process whose threads @busy counts
      end

      # The pointer, counted as in use until #leave. what names the handle in errors.
      def enter(what)
        @lock.synchronize do
          raise @on_closed.call("the #{what} is closed") if @ptr.nil?
          if !@follows_fork && @pid != Process.pid
            raise @on_closed.call("this #{what} was created in another process (before fork); " \
                                  "create a new one")
          end

          own_count
          @busy += 1
          @ptr
        end
      end

      def leave
        @lock.synchronize do
          own_count
          @busy -= 1 if @busy.positive?
          @idle.broadcast if @busy.zero?
        end
      end

      # Takes the pointer away from new calls and returns it once no call uses it (nil when
      # already retired).
      def retire
        @lock.synchronize do
          own_count
          ptr = @ptr
          @ptr = nil
          @idle.wait(@lock) while @busy.positive?
          ptr
        end
      end

      def forked?
        @pid != Process.pid
      end

      private

      # Calls counted in another process (the parent, when fork() was called while its other
      # threads were inside calls) will never leave here: only the forking thread lives on in
      # the child, and it was not inside one. Waiting for them made close() in the child
      # sleep forever (Ruby: a fatal "No live threads left. Deadlock?"). Caller holds @lock.
      def own_count
        return if @busy_pid == Process.pid

        @busy_pid = Process.pid
        @busy = 0
      end
    end
  end
end

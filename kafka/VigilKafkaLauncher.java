import java.lang.reflect.Method;
import java.util.Arrays;

/**
 * Starts a Kafka main class (kafka.Kafka, kafka.tools.StorageTool) tied to its parent process: the parent holds
 * this JVM's stdin open, and when stdin reaches end of file (the parent stopped it, exited or was killed with
 * SIGKILL) the JVM exits through its shutdown hooks, so the broker shuts down cleanly and never outlives Vigil.
 * If the clean shutdown hangs (e.g. a 3-node cluster lost its quorum), the JVM halts after a grace period.
 *
 * Usage: java -cp CLASSPATH VigilKafkaLauncher MAIN_CLASS [ARGS...]
 */
public final class VigilKafkaLauncher {
  private static final long HALT_AFTER_MS = Long.getLong("vigil.haltAfterMs", 20_000L);

  public static void main(String[] args) throws Exception {
    if (args.length == 0) {
      System.err.println("usage: VigilKafkaLauncher MAIN_CLASS [ARGS...]");
      System.exit(2);
    }
    Thread watchdog = new Thread(VigilKafkaLauncher::exitWhenParentIsGone, "vigil-parent-watchdog");
    watchdog.setDaemon(true);
    watchdog.start();
    Method main = Class.forName(args[0]).getMethod("main", String[].class);
    main.invoke(null, (Object) Arrays.copyOfRange(args, 1, args.length));
  }

  private static void exitWhenParentIsGone() {
    try {
      byte[] buf = new byte[256];
      while (System.in.read(buf) != -1) {
        // The parent never writes; anything read is ignored.
      }
    } catch (Exception e) {
      // A broken pipe means the same thing as end of file.
    }
    System.err.println("vigil-launcher: parent process gone (stdin closed): shutting down");
    Thread halt = new Thread(() -> {
      try {
        Thread.sleep(HALT_AFTER_MS);
      } catch (InterruptedException ignored) {
        return;
      }
      System.err.println("vigil-launcher: clean shutdown took over " + HALT_AFTER_MS + " ms: halting");
      Runtime.getRuntime().halt(1);
    }, "vigil-halt-timer");
    halt.setDaemon(true);
    halt.start();
    System.exit(0);
  }
}

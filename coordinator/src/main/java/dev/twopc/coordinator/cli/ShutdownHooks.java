package dev.twopc.coordinator.cli;

/** Where {@code twopc coordinator} registers its SIGTERM hook; the JVM's, or a test's. */
interface ShutdownHooks {
  void add(Thread hook);

  /** Unregisters a hook that is no longer needed; a no-op once the JVM is shutting down. */
  void remove(Thread hook);

  static ShutdownHooks jvm() {
    return new ShutdownHooks() {
      @Override
      public void add(Thread hook) {
        Runtime.getRuntime().addShutdownHook(hook);
      }

      @Override
      public void remove(Thread hook) {
        try {
          Runtime.getRuntime().removeShutdownHook(hook);
        } catch (IllegalStateException shuttingDown) {
          // the hook is running or has run; nothing to undo
        }
      }
    };
  }
}

/**
 * SIGINT/SIGTERM handling of the long-running commands: the first signal asks for a clean stop, a
 * second one (or any signal once `forceNext()` was called) exits 130 at once.
 */
export interface StopSignals {
  /** The first SIGINT/SIGTERM received; undefined until then. */
  readonly signal: NodeJS.Signals | undefined;
  /** Resolves with the first SIGINT/SIGTERM (never rejects). */
  readonly received: Promise<NodeJS.Signals>;
  /** From now on any signal means "now" (exit 130), e.g. while stopping for another reason. */
  forceNext(): void;
  /** Removes the handlers; call it once the command has stopped. */
  dispose(): void;
}

/** Installs the handlers; `onFirst` runs synchronously on the first signal. */
export function stopSignals(onFirst?: (signal: NodeJS.Signals) => void): StopSignals {
  let first: NodeJS.Signals | undefined;
  let force = false;
  let resolve: (signal: NodeJS.Signals) => void = () => undefined;
  const received = new Promise<NodeJS.Signals>((r) => (resolve = r));
  const onSignal = (signal: NodeJS.Signals) => {
    if (first || force) process.exit(130);
    first = signal;
    onFirst?.(signal);
    resolve(signal);
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  return {
    get signal() {
      return first;
    },
    received,
    forceNext: () => void (force = true),
    dispose: () => {
      process.off('SIGINT', onSignal);
      process.off('SIGTERM', onSignal);
    },
  };
}

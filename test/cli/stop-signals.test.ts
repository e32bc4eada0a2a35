import { afterEach, describe, expect, it, vi } from 'vitest';
import { stopSignals, type StopSignals } from '../../src/cli/stop-signals.js';

describe('stopSignals', () => {
  let signals: StopSignals | undefined;
  afterEach(() => {
    signals?.dispose();
    vi.restoreAllMocks();
  });

  it('resolves on the first signal and exits 130 on the second', async () => {
    const exit = vi.spyOn(process, 'exit').mockImplementation(((code: number) => {
      throw new Error(`exit ${code}`);
    }) as never);
    const seen: NodeJS.Signals[] = [];
    signals = stopSignals((s) => seen.push(s));
    expect(signals.signal).toBeUndefined();
    process.emit('SIGTERM', 'SIGTERM');
    expect(await signals.received).toBe('SIGTERM');
    expect(signals.signal).toBe('SIGTERM');
    expect(seen).toEqual(['SIGTERM']);
    expect(exit).not.toHaveBeenCalled();
    expect(() => process.emit('SIGINT', 'SIGINT')).toThrow('exit 130');
    expect(exit).toHaveBeenCalledWith(130);
    expect(seen).toEqual(['SIGTERM']);
  });

  it('exits 130 on the first signal after forceNext', () => {
    const exit = vi.spyOn(process, 'exit').mockImplementation(((code: number) => {
      throw new Error(`exit ${code}`);
    }) as never);
    signals = stopSignals();
    signals.forceNext();
    expect(() => process.emit('SIGINT', 'SIGINT')).toThrow('exit 130');
    expect(exit).toHaveBeenCalledWith(130);
  });

  it('removes its handlers on dispose', () => {
    const before = process.listenerCount('SIGINT');
    signals = stopSignals();
    expect(process.listenerCount('SIGINT')).toBe(before + 1);
    expect(process.listenerCount('SIGTERM')).toBeGreaterThan(0);
    signals.dispose();
    expect(process.listenerCount('SIGINT')).toBe(before);
    signals = undefined;
  });
});

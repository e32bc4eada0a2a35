import { describe, expect, it } from 'vitest';
import { beaconTopic, findBeacon, isBeaconTopic } from '../../src/kafka/embedded-beacon.js';

describe('embedded beacon', () => {
  it('round-trips incarnation and control port through a topic name', () => {
    const name = beaconTopic('0123456789abcdef', 41234);
    expect(name).toBe('__vigil_embedded-0123456789abcdef-41234');
    expect(isBeaconTopic(name)).toBe(true);
    expect(findBeacon(['metrics', name, 'alerts'])).toEqual({ incarnation: '0123456789abcdef', url: 'http://127.0.0.1:41234' });
  });

  it('finds nothing on a cluster without one', () => {
    expect(findBeacon(['metrics', '__consumer_offsets', '__vigil_embedded-xyz-1'])).toBeUndefined();
    expect(isBeaconTopic('metrics')).toBe(false);
  });

  it('refuses to build a malformed beacon', () => {
    expect(() => beaconTopic('nothex', 1)).toThrow(/invalid beacon/);
  });
});

/**
 * The archive for what it holds, the head for the rest: a series' samples before the head's
 * coverage start come from the archive, later ones from the head, so nothing is counted twice.
 * Rollup windows that start before the cut come from the archive, later ones from the head.
 */
import type { Head } from './head.js';
import { RESOLUTION_MS, type RawVisitor, type RollupResolution, type RollupVisitor, type SampleSource, type SeriesMeta } from './sample-source.js';

export class CombinedSource implements SampleSource {
  constructor(
    private readonly archive: SampleSource,
    private readonly head: Head,
  ) {}

  async raw(metric: string, start: number, end: number, visit: RawVisitor): Promise<void> {
    const cut = Math.max(start, Math.min(end, this.head.coverageStart()));
    if (cut > start) await this.archive.raw(metric, start, cut, visit);
    await this.head.raw(metric, cut, end, visit);
  }

  async rollups(resolution: RollupResolution, metric: string, start: number, end: number, visit: RollupVisitor): Promise<void> {
    const res = RESOLUTION_MS[resolution];
    const cover = this.head.coverageStart();
    const cut = Math.max(start, Math.min(end, Number.isFinite(cover) ? Math.floor(cover / res) * res : end));
    if (cut > start) await this.archive.rollups(resolution, metric, start, cut, visit);
    await this.head.rollups(resolution, metric, cut, end, visit);
  }

  async series(start: number, end: number, metrics?: readonly string[]): Promise<SeriesMeta[]> {
    const [a, b] = await Promise.all([this.archive.series(start, end, metrics), this.head.series(start, end, metrics)]);
    const seen = new Map<string, SeriesMeta>();
    for (const s of [...a, ...b]) seen.set(`${s.name}${JSON.stringify(Object.entries(s.labels).sort())}`, s);
    return [...seen.values()];
  }
}

/**
 * An in-process schema registry client (ids per distinct schema text, subjects remembered) for the
 * test driver, `vigil rules test` and benchmarks: topologies that use the registry-aware serdes run
 * without a registry server.
 */
import { SchemaRegistryError, type RegistryClient } from '../model/registry-client.js';

export class MemoryRegistryClient implements RegistryClient {
  private readonly ids = new Map<string, number>();
  private readonly texts = new Map<number, string>();
  readonly subjects = new Map<string, number[]>();

  async register(subject: string, schema: string): Promise<number> {
    let id = this.ids.get(schema);
    if (id === undefined) {
      id = this.ids.size + 1;
      this.ids.set(schema, id);
      this.texts.set(id, schema);
    }
    const versions = this.subjects.get(subject) ?? [];
    if (!versions.includes(id)) versions.push(id);
    this.subjects.set(subject, versions);
    return id;
  }

  async schemaById(id: number): Promise<string> {
    const text = this.texts.get(id);
    if (text === undefined) throw new SchemaRegistryError(`Schema ${id} not found`, 404, 40403, false);
    return text;
  }
}

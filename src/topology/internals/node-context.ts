/**
 * The ProcessorContext a task gives each of its nodes: forwarding to children (processors, sinks), stores,
 * punctuators, side topics. Part of StreamTask (stream-task.ts), which owns the state it reads.
 */
import type { Cancellable, Headers, OutputMessage, PunctuationType, Punctuator, ProcessorContext, RecordMetadata, StateStore, StreamRecord } from '../api.js';
import { OUTPUT_ID_HEADER, TopologyError } from '../api.js';
import type { SinkNode, TopologyNode } from '../topology.js';
import type { StreamTask } from './stream-task.js';

/** The ProcessorContext of one node in one task. */
export class NodeContext implements ProcessorContext {
  private readonly children: TopologyNode[];

  constructor(
    private readonly task: StreamTask,
    private readonly node: TopologyNode,
  ) {
    this.children = [];
  }

  private childNodes(): TopologyNode[] {
    if (this.children.length === 0 && this.node.children.length > 0) {
      for (const c of this.node.children) this.children.push(this.task.topology.nodes.get(c)!);
    }
    return this.children;
  }

  get taskId(): string {
    return this.task.taskId;
  }
  get partition(): number {
    return this.task.partition;
  }
  get streamTime(): number {
    return this.task.streamTime;
  }
  get priorStreamTime(): number {
    return this.task.current ? this.task.priorStreamTime : this.task.streamTime;
  }
  get wallClockTime(): number {
    return this.task.wallClockTime();
  }
  get recordMetadata(): RecordMetadata | null {
    const c = this.task.current;
    return c ? { topic: c.topic, partition: c.partition, offset: c.offset } : null;
  }

  forward(record: StreamRecord, childName?: string): void {
    for (const child of this.childNodes()) {
      if (childName !== undefined && child.name !== childName) continue;
      if (child.kind === 'processor') this.task.processorFor(child.name)!.process(record);
      else if (child.kind === 'sink') this.sink(child, record);
    }
  }

  private sink(node: SinkNode, record: StreamRecord): void {
    const headers: Headers = { ...(record.headers ?? {}) };
    if (node.idOf) headers[OUTPUT_ID_HEADER] = node.idOf(record);
    const message: OutputMessage = {
      key: node.keySerde.serialize(record.key),
      value: node.valueSerde.serialize(record.value),
      ...(node.writeTime ? {} : { timestamp: record.timestamp }),
      ...(Object.keys(headers).length ? { headers } : {}),
      ...(node.toInputPartition ? { partition: this.task.partition } : {}),
    };
    this.task.enqueue(node.topic, message);
  }

  getStateStore<S extends StateStore>(name: string): S {
    if (this.node.kind === 'sink' || !this.node.stores.includes(name)) {
      throw new TopologyError(`Processor "${this.node.name}" is not connected to store "${name}"`, 'STORE_NOT_CONNECTED');
    }
    return this.task.getStore(name) as S;
  }

  schedule(intervalMs: number, type: PunctuationType, punctuator: Punctuator): Cancellable {
    return this.task.schedule(intervalMs, type, punctuator);
  }

  sendToSideTopic(topic: string, reason: string, key: Buffer | null, value: Buffer | null, extraHeaders?: Headers): void {
    this.task.sideRecord(topic, reason, key, value, extraHeaders);
  }

  reportLate(extraHeaders?: Headers): void {
    this.task.reportLate(extraHeaders);
  }
}

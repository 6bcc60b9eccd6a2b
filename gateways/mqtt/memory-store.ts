// In-memory RetainedStore and MqttSessionStore: the single-process default.

import type { MqttMessage } from './message.ts';
import type { MqttSessionStore, RetainedStore, SessionRecord } from './store.ts';
import { topicMatchesFilter } from './topic-mapping.ts';

export class MemoryRetainedStore implements RetainedStore {
  private readonly messages = new Map<string, MqttMessage>();

  async set(message: MqttMessage): Promise<void> {
    if (message.payload.length === 0) this.messages.delete(message.topic);
    else this.messages.set(message.topic, message);
  }

  async match(filter: string): Promise<MqttMessage[]> {
    if (filter.indexOf('+') < 0 && filter.indexOf('#') < 0) {
      const exact = this.messages.get(filter); // no wildcard: one lookup, not a scan
      return exact === undefined ? [] : [exact];
    }
    const out: MqttMessage[] = [];
    for (const [topic, message] of this.messages) if (topicMatchesFilter(filter, topic)) out.push(message);
    return out;
  }

  async close(): Promise<void> {}
}

export class MemorySessionStore implements MqttSessionStore {
  readonly durable = false;
  readonly messageLog = null;
  private readonly records = new Map<string, SessionRecord>();

  async load(clientId: string): Promise<SessionRecord | null> {
    return this.records.get(clientId) ?? null;
  }

  async save(record: SessionRecord): Promise<void> {
    this.records.set(record.clientId, record);
  }

  async delete(clientId: string): Promise<void> {
    this.records.delete(clientId);
  }

  async list(): Promise<SessionRecord[]> {
    return [...this.records.values()];
  }

  async close(): Promise<void> {}
}

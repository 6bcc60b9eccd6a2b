// Topic aliases the server assigns on one network connection to an MQTT 5
// client that announced a Topic Alias Maximum (MQTT 5 §3.3.2.3.4): the first
// PUBLISH of a topic carries the topic and its alias, later ones an empty topic
// and the alias. The table lives and dies with the MqttClient, so nothing is
// carried from one network connection to the next [MQTT-3.3.2-7].
//
// When every alias is taken, the least recently used one is given to the new
// topic (a PUBLISH with a topic and a used alias re-maps it, §3.3.2.3.4): a
// connection whose topics change over time keeps aliasing the current ones.

/** What one PUBLISH carries: `alias` (never 0 [MQTT-3.3.2-8]) and `known`: the client has the mapping, send an empty topic. */
export interface AliasChoice {
  readonly alias: number;
  readonly known: boolean;
}

export class OutboundTopicAliases {
  /** topic -> alias, least recently used first (a Map keeps insertion order). */
  private readonly byTopic = new Map<string, number>();

  /**
   * `maximum`: the client's Topic Alias Maximum [MQTT-3.1.2-26] [MQTT-3.3.2-11],
   * already capped by the server's own (each alias holds a topic string).
   */
  constructor(readonly maximum: number) {
    if (!Number.isInteger(maximum) || maximum < 1 || maximum > 0xffff) throw new RangeError(`topic alias maximum must be 1 to 65535, got ${maximum}`);
  }

  /** The alias `topic` would go with; changes nothing (the PUBLISH may not be sent: see use()). */
  choose(topic: string): AliasChoice {
    const known = this.byTopic.get(topic);
    if (known !== undefined) return { alias: known, known: true };
    if (this.byTopic.size < this.maximum) return { alias: this.byTopic.size + 1, known: false };
    return { alias: this.byTopic.values().next().value as number, known: false };
  }

  /** A PUBLISH with `choice` went out: the client now maps its alias to `topic`. */
  use(topic: string, choice: AliasChoice): void {
    if (choice.known) {
      // Most recently used goes last.
      this.byTopic.delete(topic);
      this.byTopic.set(topic, choice.alias);
      return;
    }
    if (this.byTopic.size >= this.maximum) {
      const oldest = this.byTopic.keys().next().value as string;
      this.byTopic.delete(oldest);
    }
    this.byTopic.set(topic, choice.alias);
  }

  get size(): number {
    return this.byTopic.size;
  }
}

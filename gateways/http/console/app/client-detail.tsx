// One client's page (#client/<cid>): what /connz says of it (any protocol), its
// subscriptions, and for MQTT its session: keep-alive, clean start, expiry,
// in-flight and queued messages, the will (where and how, not its payload).
// Disconnect asks DELETE /v1/connections/{cid}, which needs publish permission
// on nats-server's KICK subject: without it the gateway's 403 is shown.

import { useState } from 'preact/hooks';
import { getJson, send } from './api.ts';
import { usePoll } from './use-poll.ts';

interface Subscription {
  subject: string;
  qgroup?: string;
  sid: string;
  msgs: number;
}

interface MqttSession {
  state: string;
  protocol_version: number;
  clean_session: boolean;
  keep_alive: number;
  session_expiry: number;
  in_flight: number;
  queued: number;
  will?: { topic: string; qos: number; retain: boolean; delay: number };
  subscriptions: Array<{ topic_filter: string; qos: number }>;
}

interface ConnDetail {
  cid: number;
  type?: string;
  ip: string;
  port: number;
  name?: string;
  lang?: string;
  version?: string;
  authorized_user?: string;
  mqtt_client?: string;
  start: string;
  uptime: string;
  idle: string;
  rtt: string;
  pending_bytes: number;
  in_msgs: number;
  out_msgs: number;
  in_bytes: number;
  out_bytes: number;
  tls_version?: string;
  reason?: string;
  stop?: string;
  subscriptions_list_detail?: Subscription[];
  mqtt?: MqttSession;
  http?: { method: string; route: string; url: string; format: string };
  kafka?: Record<string, unknown>;
}

function Facts({ rows, testId }: { rows: Array<[string, string | number | boolean | undefined]>; testId?: string }) {
  return (
    <table class="facts" data-testid={testId}>
      <tbody>
        {rows.filter(([, value]) => value !== undefined).map(([label, value]) => (
          <tr data-fact={label}><th>{label}</th><td>{String(value)}</td></tr>
        ))}
      </tbody>
    </table>
  );
}

function MqttSessionView({ mqtt }: { mqtt: MqttSession }) {
  const will = mqtt.will;
  return (
    <>
      <h3>MQTT session</h3>
      <Facts
        testId="mqtt-session"
        rows={[
          ['Protocol', mqtt.protocol_version === 5 ? 'MQTT 5' : 'MQTT 3.1.1'],
          ['State', mqtt.state],
          ['Keep-alive', `${mqtt.keep_alive} s`],
          ['Clean start', mqtt.clean_session],
          ['Session expiry', `${mqtt.session_expiry} s`],
          ['In flight', mqtt.in_flight],
          ['Queued', mqtt.queued],
          ['Will', will === undefined ? 'none' : `${will.topic} (QoS ${will.qos}${will.retain ? ', retained' : ''}${will.delay > 0 ? `, after ${will.delay} s` : ''})`],
        ]}
      />
      <h3>Subscriptions <small>{mqtt.subscriptions.length}</small></h3>
      <table data-testid="client-subscriptions">
        <thead><tr><th>Topic filter</th><th>QoS</th></tr></thead>
        <tbody>{mqtt.subscriptions.map((s) => <tr><td>{s.topic_filter}</td><td>{s.qos}</td></tr>)}</tbody>
      </table>
    </>
  );
}

export function ClientDetail({ args }: { args: string[] }) {
  const cid = Number(args[0]);
  const polled = usePoll(() => getJson<{ connections: ConnDetail[] }>(`/v1/monitor/connz?cid=${cid}&subs=detail&auth=1&state=any`), 2000, [cid]);
  const [status, setStatus] = useState<{ text: string; failed: boolean }>({ text: '', failed: false });
  const c = polled.value?.connections[0];
  const disconnect = async (): Promise<void> => {
    try {
      await send('DELETE', `/v1/connections/${cid}`);
      setStatus({ text: 'disconnected', failed: false });
    } catch (error) {
      setStatus({ text: (error as Error).message, failed: true });
    }
  };
  return (
    <section>
      <h2><a href="#clients">Clients</a> / {cid} <small>{c?.mqtt_client ?? c?.name ?? ''}</small></h2>
      {polled.error === null ? null : <p class="error">{polled.error}</p>}
      {polled.value !== null && c === undefined ? <p class="hint" data-testid="client-gone">No connection {cid}: it has closed.</p> : null}
      {c === undefined ? null : (
        <>
          <div class="row">
            <button class="danger" onClick={disconnect} disabled={c.reason !== undefined}>Disconnect</button>
            <span data-testid="disconnect-status" class={status.failed ? 'error' : 'state'}>{status.text}</span>
          </div>
          <Facts
            testId="client-facts"
            rows={[
              ['Protocol', c.type ?? 'nats'],
              ['Status', c.reason === undefined ? 'open' : `closed: ${c.reason}`],
              ['Address', `${c.ip}:${c.port}`],
              ['User', c.authorized_user],
              ['Client', c.mqtt_client ?? c.name],
              ['Library', c.lang === undefined ? undefined : `${c.lang} ${c.version ?? ''}`],
              ['TLS', c.tls_version],
              ['Connected', `${c.start} (${c.uptime})`],
              ['Idle', c.idle],
              ['Messages in / out', `${c.in_msgs} / ${c.out_msgs}`],
              ['Bytes in / out', `${c.in_bytes} / ${c.out_bytes}`],
              ['Pending bytes', c.pending_bytes],
              ['HTTP stream', c.http === undefined ? undefined : `${c.http.method} ${c.http.url} (${c.http.format})`],
            ]}
          />
          {c.mqtt === undefined ? (
            <>
              <h3>Subscriptions <small>{c.subscriptions_list_detail?.length ?? 0}</small></h3>
              <table data-testid="client-subscriptions">
                <thead><tr><th>Subject</th><th>Queue group</th><th>SID</th><th>Messages</th></tr></thead>
                <tbody>{(c.subscriptions_list_detail ?? []).map((s) => <tr><td>{s.subject}</td><td>{s.qgroup ?? ''}</td><td>{s.sid}</td><td>{s.msgs}</td></tr>)}</tbody>
              </table>
            </>
          ) : (
            <MqttSessionView mqtt={c.mqtt} />
          )}
          {c.kafka === undefined ? null : <pre class="config">{JSON.stringify(c.kafka, null, 2)}</pre>}
        </>
      )}
    </section>
  );
}

// Closing a client's connection on an operator's request (the console's
// "Disconnect"; nats-server's KICK):
//   DELETE /v1/connections/{cid}     close connection cid, any protocol     200 {cid}
// Allowed to a user with publish permission on the subject nats-server's KICK
// request goes to (`$SYS.REQ.SERVER.<server_id>.KICK`), so one rule covers a
// NATS client and the HTTP API alike. Served only while the core's monitor is
// mounted (not in cluster mode: the cluster's servers hold the clients).

import type { FastifyInstance } from 'fastify';
import { requirePublish } from '../auth.ts';
import type { GatewayContext } from '../context.ts';
import { HttpProblem } from '../errors.ts';
import type { RouteDocSchema } from '../openapi.ts';
import type { ServedRouteConfig } from '../route-table.ts';
import type { MonitoringMount } from './monitoring.ts';

const disconnectSchema: RouteDocSchema = {
  operationId: 'disconnectConnection',
  summary: 'Close a client connection (NATS, MQTT, WebSocket, HTTP stream)',
  description:
    'The cid is the one `/v1/monitor/connz` lists. NATS clients are closed as nats-server closes a kicked one (closed reason `Kicked`); MQTT 5 clients get DISCONNECT with reason 0x98 (Administrative action) first, and a will is sent as for any connection the server ends; an HTTP event stream ends with `event: end`. Needs publish permission on `$SYS.REQ.SERVER.<server_id>.KICK` (403 `permission_denied` otherwise).',
  tags: ['monitoring'],
  params: { type: 'object', required: ['cid'], properties: { cid: { type: 'integer', minimum: 1 } } },
  response: {
    200: { description: 'Closed', type: 'object', required: ['cid'], properties: { cid: { type: 'integer' } } },
  },
};

export async function connectionRoutes(app: FastifyInstance, options: { ctx: GatewayContext; mount: MonitoringMount }): Promise<void> {
  const { mount } = options;
  const mounted: ServedRouteConfig = { served: () => mount.connections !== undefined };
  app.delete('/v1/connections/:cid', { schema: disconnectSchema, config: mounted }, async (request) => {
    const control = mount.connections;
    if (control === undefined) throw new HttpProblem('not_found', 'no connection registry is mounted');
    const { cid } = request.params as { cid: number };
    requirePublish(request.principal, control.kickSubject);
    if (!control.disconnect(cid)) throw new HttpProblem('connection_not_found', `no open connection ${cid} that can be closed`, { cid });
    return { cid };
  });
}

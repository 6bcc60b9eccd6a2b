// HTTP gateway: /openapi.json is valid OpenAPI 3.1, lists every registered route
// (and nothing that is not registered), and /docs is a self-contained page.
// Problem documents follow RFC 9457 with a code from the one error table.

import assert from 'node:assert/strict';
import { after, before, describe, it } from '../helpers/peer-test.ts';
import { Validator } from '@seriousme/openapi-schema-validator';
import { HTTP_ERRORS } from '../../gateways/http/errors.ts';
import { openApiPath } from '../../gateways/http/openapi.ts';
import { httpJetStreamTargets, startHttpFixture, type HttpClusterCapableFixture, type HttpFixture } from './http-fixture.ts';

describe('http openapi', () => {
  let f: HttpFixture;
  let doc: { openapi: string; paths: Record<string, Record<string, { operationId: string; responses: Record<string, unknown> }>> };
  before(async () => {
    f = await startHttpFixture();
    const res = await fetch(`${f.base}/openapi.json`);
    assert.equal(res.status, 200);
    doc = await res.json();
  });
  after(async () => f.stop());

  it('http openapi - the document validates against the OpenAPI 3.1 schema', async () => {
    assert.equal(doc.openapi, '3.1.0');
    const validator = new Validator();
    const result = await validator.validate(doc as unknown as Parameters<Validator["validate"]>[0]);
    assert.ok(result.valid, JSON.stringify(result.errors, null, 2));
    assert.equal(validator.version, '3.1');
  });

  it('http openapi - every registered route is documented, and every documented operation exists', async () => {
    const registered = f.gateway.routes.filter((r) => r.method !== 'HEAD' && r.method !== 'OPTIONS');
    assert.ok(registered.length >= 6, `routes: ${registered.length}`);
    for (const route of registered) {
      const operation = doc.paths[openApiPath(route.url)]?.[route.method.toLowerCase()];
      assert.ok(operation !== undefined, `${route.method} ${route.url} is missing from /openapi.json`);
    }
    // and the other way round, checked against fastify's own router
    const ids = new Set<string>();
    for (const [path, item] of Object.entries(doc.paths)) {
      for (const [method, operation] of Object.entries(item)) {
        const url = path.replace(/\{([^}]+)\}/g, ':$1');
        assert.ok(f.gateway.app.hasRoute({ method: method.toUpperCase() as 'GET', url }), `${method} ${path} is documented but not registered`);
        assert.ok(!ids.has(operation.operationId), `duplicate operationId ${operation.operationId}`);
        ids.add(operation.operationId);
        assert.ok('default' in operation.responses, `${method} ${path} documents its problem responses`);
      }
    }
    // fastify's printed route tree names the same paths
    const printed = f.gateway.app.printRoutes({ commonPrefix: false });
    for (const path of Object.keys(doc.paths)) {
      const last = path.split('/').pop() ?? '';
      assert.ok(printed.includes(last.replace(/\{([^}]+)\}/g, ':$1')), `${path} not in printRoutes`);
    }
  });

  it('http openapi - servers names the gateway as the request reached it; unmounted monitoring routes are neither served nor listed', async () => {
    assert.deepEqual((doc as unknown as { servers: Array<{ url: string }> }).servers.map((server) => server.url), [f.base]);
    for (const path of ['/metrics', '/v1/monitor/{endpoint}']) assert.equal(doc.paths[path], undefined, `${path} is listed`);
    assert.equal((await fetch(`${f.base}/metrics`)).status, 404);
    assert.equal((await fetch(`${f.base}/v1/monitor/varz`)).status, 404);
    assert.ok(doc.paths['/v1/monitor/http'] !== undefined);
    const mounted = await startHttpFixture({ monitoring: { endpoints: { varz: () => ({}) }, metrics: () => 'x 1\n' } });
    try {
      const withMetrics = await (await fetch(`${mounted.base}/openapi.json`)).json();
      assert.ok(withMetrics.paths['/metrics']?.get !== undefined);
      assert.ok(withMetrics.paths['/v1/monitor/{endpoint}']?.get !== undefined);
      assert.equal((await fetch(`${mounted.base}/metrics`)).status, 200);
    } finally {
      await mounted.stop();
    }
  });

  it('http openapi - the problem schema enumerates the whole error table', () => {
    const components = (doc as unknown as { components: { schemas: { Problem: { properties: { code: { enum: string[] } } } } } }).components;
    assert.deepEqual(components.schemas.Problem.properties.code.enum.sort(), Object.keys(HTTP_ERRORS).sort());
  });

  it('http openapi - /docs is an HTML page with no external assets', async () => {
    const res = await fetch(`${f.base}/docs`);
    assert.equal(res.status, 200);
    assert.match(res.headers.get('content-type') ?? '', /^text\/html/);
    const html = await res.text();
    assert.match(html, /openapi\.json/);
    assert.doesNotMatch(html, /(src|href)="https?:/);
    assert.doesNotMatch(html, /@import|url\(http/);
  });

  it('http openapi - unknown routes and bad methods are problem documents', async () => {
    const res = await fetch(`${f.base}/v1/nope`);
    assert.equal(res.status, 404);
    assert.match(res.headers.get('content-type') ?? '', /^application\/problem\+json/);
    const problem = await res.json();
    assert.equal(problem.code, 'not_found');
    assert.equal(problem.type, 'urn:switchboard:problem:not_found');
    assert.equal(problem.status, 404);
    assert.equal(typeof problem.title, 'string');
    // A path that exists under other methods is 405 with Allow (issue 26), still a problem document.
    const put = await fetch(`${f.base}/v1/subjects/a`, { method: 'PUT', body: 'x' });
    assert.equal(put.status, 405);
    assert.equal(put.headers.get('allow'), 'GET, HEAD, POST');
    assert.equal((await put.json()).code, 'method_not_allowed');
  });
});

/** A value for each path parameter: resources that do not exist, except where a stream must open. */
const PROBE_PARAMS: Record<string, string> = { subject: 'probe.x', bucket: 'absent', key: 'k', name: 'ABSENT', seq: '1', consumer: 'c', token: 'tok', endpoint: 'varz' };
const EXISTING_PARAMS: Record<string, string> = { ...PROBE_PARAMS, bucket: 'probe', name: 'PROBE' };

type Operation = { operationId: string; responses: Record<string, { content?: Record<string, unknown> }> };

// The document against the running server's own answers, from outside (so the
// cluster target's gateway processes are checked too): every documented
// operation is routed (never a 404 "no route" or a 405), and for every
// documented path the 405 Allow header, which the server builds from its route
// table, lists exactly the documented methods (plus HEAD for GET).
for (const target of httpJetStreamTargets({ cluster: true }).filter((t) => t.name !== 'nats-server')) {
  describe(`http openapi matches the served routes (${target.name})`, { peers: target.peers }, () => {
    let f: HttpClusterCapableFixture;
    before(async () => {
      f = await target.start();
      const json = { 'content-type': 'application/json' };
      assert.ok([201, 400].includes((await fetch(`${f.base}/v1/buckets`, { method: 'POST', headers: json, body: '{"bucket":"probe","storage":"memory"}' })).status));
      assert.ok([201, 400].includes((await fetch(`${f.base}/v1/streams`, { method: 'POST', headers: json, body: '{"name":"PROBE","subjects":["probe.s.>"],"storage":"memory"}' })).status));
    });
    after(async () => f?.stop());

    it('http openapi - every documented operation is routed, and each path allows exactly the documented methods', async () => {
      const doc = (await (await fetch(`${f.base}/openapi.json`)).json()) as { paths: Record<string, Record<string, Operation>> };
      let probed = 0;
      for (const [path, item] of Object.entries(doc.paths)) {
        for (const [method, operation] of Object.entries(item)) {
          const streaming = operation.responses['200']?.content?.['text/event-stream'] !== undefined;
          // An event stream would stay open: HEAD gets its headers (on resources that exist) and ends.
          const params = streaming ? EXISTING_PARAMS : PROBE_PARAMS;
          const url = f.base + path.replace(/\{([^}]+)\}/g, (_m, name: string) => encodeURIComponent(params[name] ?? 'x'));
          const res = await fetch(url, { method: streaming ? 'HEAD' : method.toUpperCase(), signal: AbortSignal.timeout(10_000) });
          const body = streaming ? '' : await res.text();
          assert.notEqual(res.status, 405, `${method} ${path}: 405`);
          if (streaming) assert.equal(res.status, 200, `HEAD ${path}`);
          else if (res.status === 404) assert.doesNotMatch(body, /"code":"not_found"/, `${method} ${path} is documented but not routed`);
          probed++;
        }
        const documented = Object.keys(item).map((m) => m.toUpperCase());
        if (documented.includes('GET')) documented.push('HEAD');
        const wrong = await fetch(f.base + path.replace(/\{([^}]+)\}/g, (_m, name: string) => encodeURIComponent(PROBE_PARAMS[name] ?? 'x')), { method: 'PATCH' });
        assert.equal(wrong.status, 405, `PATCH ${path}`);
        assert.equal(wrong.headers.get('allow'), documented.sort().join(', '), `${path}: served methods differ from the documented ones`);
      }
      assert.ok(probed >= 40, `probed ${probed} operations`);
    });
  });
}

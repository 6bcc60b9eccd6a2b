// HTTP gateway: /openapi.json is valid OpenAPI 3.1, lists every registered route
// (and nothing that is not registered), and /docs is a self-contained page.
// Problem documents follow RFC 9457 with a code from the one error table.

import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { Validator } from '@seriousme/openapi-schema-validator';
import { HTTP_ERRORS } from '../../gateways/http/errors.ts';
import { openApiPath } from '../../gateways/http/openapi.ts';
import { startHttpFixture, type HttpFixture } from './http-fixture.ts';

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

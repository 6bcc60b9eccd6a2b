// gateways/http/lazy-validators.ts: fastify's own Ajv compiler, run on a
// route's first request instead of at start, with Ajv's errors passed on.

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import AjvCompiler from '@fastify/ajv-compiler';
import { lazyValidators } from '../../gateways/http/lazy-validators.ts';

describe('http lazy validators', () => {
  it('http lazy validators - a route schema compiles on its first validation, once, and reports Ajv errors', () => {
    const real = AjvCompiler();
    let compiled = 0;
    const counting: typeof real = (external, options) => {
      const compile = real(external, options);
      return (route) => {
        compiled++;
        return compile(route);
      };
    };
    const compile = lazyValidators(counting)({}, { customOptions: {}, plugins: [] });
    const schema = { type: 'object', required: ['n'], properties: { n: { type: 'integer' } } };
    const validate = compile({ schema, method: 'POST', url: '/x', httpPart: 'body' });
    assert.equal(compiled, 0, 'nothing compiled at route registration');
    assert.equal(validate({ n: 1 }), true);
    assert.equal(validate({}), false);
    assert.match(JSON.stringify(validate.errors), /must have required property 'n'/);
    assert.equal(validate({ n: 2 }), true);
    assert.equal(validate.errors, null);
    assert.equal(compiled, 1);
  });
});

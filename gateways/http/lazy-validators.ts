// Route schemas compiled on each route's first request instead of at start
// (issue 29 item 6): fastify compiles every route's validators with Ajv when
// the gateway starts, 50-120 ms of a ~300 ms start measured with
// `node --cpu-prof dist/switchboard.mjs` on this box, for routes most
// deployments never call. The compiler is fastify's own (@fastify/ajv-compiler,
// with the options fastify gives it); only the moment changes.
//
// A custom compilersFactory makes fastify pass header schemas as written
// rather than lower-casing their keys: the gateway's header schemas name
// their headers in lower case (as Node delivers them).

import AjvCompiler from '@fastify/ajv-compiler';

type BuildValidator = ReturnType<typeof AjvCompiler>;
type Compile = ReturnType<BuildValidator>;
type Validate = ReturnType<Compile>;

/** fastify's validator factory, each route's validator compiled when it first runs. */
export function lazyValidators(build: BuildValidator = AjvCompiler()): BuildValidator {
  return ((externalSchemas, ajvOptions) => {
    const compile = build(externalSchemas, ajvOptions);
    return (route) => {
      let compiled: Validate | null = null;
      // fastify reads a failed validation's reasons from the function's `errors`, as Ajv leaves them.
      const validate = ((data: unknown) => {
        compiled ??= compile(route);
        const ok = compiled(data);
        validate.errors = compiled.errors;
        return ok;
      }) as Validate;
      return validate;
    };
  }) as BuildValidator;
}
